"""One chat turn, for one-shot chat and the REPL alike.

A turn: build the messages (earlier turns from history with their images, reasoning resent
where the model needs it), shape the request to the model's policy, stream, tell the
caller's :class:`TurnObserver` what arrives, and save what arrived — the user message before
sending, the answer after, marked partial when the stream was cut or interrupted. Nothing
that arrived is ever lost: a failure leaves as :class:`TurnError` (or
:class:`TurnInterrupted`) with the partial :class:`TurnResult` on it.

A turn may take several requests (a tool loop appends the assistant's tool calls and the
tool results and asks again); the observer then hears a ``notice`` between them and the
result sums the usage. Front ends never see the requests.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kimi_cli.conversation.explain import explain
from kimi_cli.conversation.images import Attachment, ImageStore, message_content, stored_text
from kimi_cli.conversation.rules import setting_change
from kimi_cli.errors import HistoryError, KimiError, UsageError

# What a turn needs is imported when a turn runs, so commands that only import the types
# (``kimi --help``) do not pay for the HTTP client or the history store.
if TYPE_CHECKING:
    from collections.abc import Callable

    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.types import Model, Usage
    from kimi_cli.catalog.policy import ChatOptions, ModelPolicy
    from kimi_cli.documents import Document
    from kimi_cli.history import HistoryStore, StoredMessage
    from kimi_cli.pricing import Cost

    Warn = Callable[[str], None]

TITLE_LENGTH = 60


class TurnObserver:
    """What a front end hears while a turn runs; every event does nothing by default."""

    def reasoning(self, text: str) -> None:
        """A piece of the model's reasoning."""

    def content(self, text: str) -> None:
        """A piece of the answer."""

    def notice(self, text: str) -> None:
        """A step of the turn between requests (e.g. "searching the web…")."""

    def usage(self, usage: Usage) -> None:
        """The token counts of one request, as the API reported them."""


@dataclass
class TurnResult:
    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    cost: Cost | None = None
    request_id: str | None = None
    conversation_id: str | None = None
    partial: bool = False
    error: KimiError | None = None
    model: str = ""
    requests: int = 0
    pieces: list[str] = field(default_factory=list, repr=False)


class TurnError(Exception):
    """A turn failed; ``result`` holds what arrived (already saved)."""

    def __init__(self, error: KimiError, result: TurnResult) -> None:
        super().__init__(error.message)
        self.error = error
        self.result = result


class TurnInterrupted(KeyboardInterrupt):
    """Ctrl-C during a turn; ``result`` holds what arrived (already saved)."""

    def __init__(self, result: TurnResult) -> None:
        super().__init__()
        self.result = result


def partial_of(exc: BaseException) -> TurnResult | None:
    """What arrived before ``exc`` ended a turn (SIGTERM, a closed pipe), if it did."""
    result = getattr(exc, "result", None) or getattr(exc, "turn_result", None)
    return result if isinstance(result, TurnResult) else None


@dataclass
class Conversation:
    """A conversation with one model; ``send`` runs one turn."""

    client: KimiClient
    model: Model
    policy: ModelPolicy
    history: HistoryStore | None
    currency: str | None
    warn: Warn
    conversation_id: str | None = None
    system: str | None = None
    earlier: list[StoredMessage] = field(default_factory=list)
    images: ImageStore | None = None
    #: The prompt-cache key when no conversation ID exists (history off).
    session_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: (model, effort) of the last request, to say once when a turn changes them.
    last_setting: tuple[str, str | None] | None = None
    #: The model that answered last in a resumed conversation (its effort is not stored).
    resumed_model: str | None = None

    def __post_init__(self) -> None:
        if self.images is None:
            self.images = ImageStore(None, self.warn)

    @classmethod
    def resume(cls, conversation_id: str, history: HistoryStore, **kw: Any) -> Conversation:
        """Continue a stored conversation: its messages become the context."""
        messages = history.messages(conversation_id)
        # Documents are system messages too; they are resent in their place, not as the prompt.
        documents = {d.message_id for d in history.documents(conversation_id)}
        system = next(
            (m.content for m in messages if m.role == "system" and m.id not in documents), None
        )
        earlier = [m for m in messages if m.role in ("user", "assistant") or m.id in documents]
        last = next((m for m in reversed(earlier) if m.role == "assistant" and m.model), None)
        conversation = cls(
            history=history, conversation_id=conversation_id, system=system, earlier=earlier, **kw
        )
        if last is not None:
            conversation.resumed_model = last.model
        return conversation

    @property
    def cache_key(self) -> str:
        """``prompt_cache_key``: one per conversation, the same on every request of it."""
        return f"kimi-{self.conversation_id or self.session_key}"

    def messages_for(
        self,
        text: str,
        images: tuple[Attachment, ...] = (),
        documents: Sequence[Document] = (),
    ) -> list[dict[str, Any]]:
        store = self.images
        assert store is not None
        messages: list[dict[str, Any]] = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        for stored in self.earlier:
            if not stored.content and stored.role == "assistant":
                continue  # an empty (cut) answer is not valid input for the API
            if stored.role == "user":
                messages.append({"role": "user", "content": store.content(stored.content)})
                continue
            message: dict[str, Any] = {"role": stored.role, "content": stored.content}
            if self.policy.keep_reasoning and stored.reasoning:
                message["reasoning_content"] = stored.reasoning
            messages.append(message)
        messages.extend(document.message() for document in documents)
        messages.append({"role": "user", "content": message_content(text, images)})
        return messages

    def send(
        self,
        text: str,
        options: ChatOptions,
        observer: TurnObserver,
        *,
        images: Sequence[Attachment] = (),
        documents: Sequence[Document] = (),
        stream: bool = True,
        input_tokens: int | None = None,
    ) -> TurnResult:
        """Run one turn; each document goes before the message as a system message.
        Failures are raised *after* saving, with what arrived on them:
        :class:`TurnError`, :class:`TurnInterrupted`, or the exception itself (SIGTERM, a
        closed pipe) with ``partial_of(exc)``."""
        pictures = tuple(images)
        if pictures and self.policy.image_in is False:
            raise UsageError(
                f"{self.model.id} does not take images",
                hint="drop the image -f, or pick a vision model ('kimi models')",
            )
        from kimi_cli.catalog.policy import build_body

        body = build_body(
            self.policy,
            self.messages_for(text, pictures, documents),
            options,
            input_tokens=input_tokens,
        )
        assert self.images is not None
        saved = stored_text(text, pictures)
        named = ", ".join([*(f"[{i.name}]" for i in pictures), *(d.name for d in documents)])
        self._save_user(saved, documents, title=text or named)
        for image in pictures:  # after the save: history may just have turned itself off
            self.images.keep(image, persist=self.history is not None)
        body["prompt_cache_key"] = self.cache_key
        self._say_setting_change(options)
        result = TurnResult(model=self.model.id, conversation_id=self.conversation_id)
        try:
            self._run(body, result, observer, stream)
        except KimiError as exc:
            result.error = explain(exc, self.model.id)
            result.partial = True
            self._save_answer(result)
            raise TurnError(result.error, result) from exc
        except KeyboardInterrupt:
            result.partial = True
            self._save_answer(result)
            raise TurnInterrupted(result) from None
        except BaseException as exc:  # SIGTERM, a closed pipe: keep what arrived
            result.partial = True
            self._save_answer(result)
            exc.turn_result = result  # type: ignore[attr-defined]
            raise
        self._save_answer(result)
        self.remember(saved, result, documents)
        return result

    def remember(self, text: str, result: TurnResult, documents: Sequence[Document] = ()) -> None:
        """Make a turn (finished, or a kept partial answer) context for the next one."""
        model = self.model.id
        for document in documents:
            self.earlier.append(
                _context_message("system", document.content, None, model, partial=False)
            )
        self.earlier.append(_context_message("user", text, None, model, partial=False))
        self.earlier.append(
            _context_message(
                "assistant", result.content, result.reasoning, model, partial=result.partial
            )
        )

    def _say_setting_change(self, options: ChatOptions) -> None:
        setting = (self.model.id, options.effort)
        before = self.last_setting
        if before is None and self.resumed_model is not None:
            before = (self.resumed_model, options.effort)  # only the model can be compared
        if before is not None and self.earlier:
            line = setting_change(before, setting)
            if line:
                self.warn(line)
        self.last_setting = setting

    # -- requests -------------------------------------------------------------------------

    def _run(
        self, body: dict[str, Any], result: TurnResult, observer: TurnObserver, stream: bool
    ) -> None:
        """The requests of one turn. Today one; a tool loop goes here: when an answer asks
        for tools, append its message and the tools' results to ``body["messages"]``, tell
        the observer (``notice``), and request again. Usage and cost add up over requests."""
        self._request(body, result, observer, stream)

    def _request(
        self, body: dict[str, Any], result: TurnResult, observer: TurnObserver, stream: bool
    ) -> None:
        before = result.usage
        result.usage = None
        if stream:
            self._stream(body, result, observer)
        else:
            self._complete(body, result, observer)
        result.requests += 1
        if result.usage is not None:
            observer.usage(result.usage)
        result.usage = _added(before, result.usage)
        self._price(result)

    def _stream(self, body: dict[str, Any], result: TurnResult, observer: TurnObserver) -> None:
        reasoning: list[str] = []
        on_content = observer.content
        on_reasoning = observer.reasoning
        with self.client.stream_chat(body) as chat_stream:
            result.request_id = chat_stream.request_id
            try:
                for chunk in chat_stream:
                    if chunk.reasoning:
                        reasoning.append(chunk.reasoning)
                        on_reasoning(chunk.reasoning)
                    if chunk.content:
                        result.pieces.append(chunk.content)
                        on_content(chunk.content)
                    if chunk.finish_reason:
                        result.finish_reason = chunk.finish_reason
                    if chunk.usage is not None:
                        result.usage = chunk.usage
            finally:
                result.content = "".join(result.pieces)
                result.reasoning = "".join(reasoning)

    def _complete(self, body: dict[str, Any], result: TurnResult, observer: TurnObserver) -> None:
        completion = self.client.chat(body)
        result.content = completion.content
        result.pieces.append(completion.content)
        result.reasoning = completion.reasoning
        result.finish_reason = completion.finish_reason
        result.usage = completion.usage
        result.request_id = completion.request_id
        if completion.reasoning:
            observer.reasoning(completion.reasoning)
        if completion.content:
            observer.content(completion.content)

    def _price(self, result: TurnResult) -> None:
        if result.usage is not None:
            from kimi_cli.pricing import cost_of

            result.cost = cost_of(result.usage, self.model.id, self.currency)

    # -- history: failures warn and never change the outcome ----------------------

    def _save_user(self, text: str, documents: Sequence[Document] = (), *, title: str) -> None:
        if self.history is None:
            return
        try:
            if self.conversation_id is None:
                title = " ".join(title.split())[:TITLE_LENGTH] or "(untitled)"
                self.conversation_id = self.history.new_conversation(
                    model=self.model.id, title=title, system=self.system
                )
            for document in documents:
                self.history.add_document(
                    self.conversation_id,
                    content=document.content,
                    name=document.name,
                    size=document.bytes,
                    sha256=document.sha256,
                    file_id=document.file_id,
                )
            self.history.add_message(self.conversation_id, "user", text, model=self.model.id)
        except HistoryError as exc:
            self.warn(f"history not saved: {exc.line()}")
            self.history = None

    def _save_answer(self, result: TurnResult) -> None:
        result.conversation_id = self.conversation_id
        if self.history is None or self.conversation_id is None:
            return
        try:
            self.history.add_message(
                self.conversation_id,
                "assistant",
                result.content or "".join(result.pieces),
                reasoning=result.reasoning or None,
                model=self.model.id,
                usage=result.usage,
                cost=result.cost.amount if result.cost else None,
                currency=result.cost.currency if result.cost else None,
                partial=result.partial,
                finish_reason=result.finish_reason,
            )
        except HistoryError as exc:
            self.warn(f"history not saved: {exc.line()}")


def _added(before: Usage | None, usage: Usage | None) -> Usage | None:
    if before is None or usage is None:
        return usage or before
    from kimi_cli.api.types import Usage

    return Usage(
        input_tokens=before.input_tokens + usage.input_tokens,
        output_tokens=before.output_tokens + usage.output_tokens,
        cached_tokens=before.cached_tokens + usage.cached_tokens,
    )


def _context_message(
    role: str, content: str, reasoning: str | None, model: str, *, partial: bool
) -> StoredMessage:
    """A message held in memory only (it is already in history, or history is off)."""
    from kimi_cli.history import StoredMessage

    return StoredMessage(
        id=0,
        role=role,
        content=content,
        reasoning=reasoning or None,
        model=model,
        created_at="",
        partial=partial,
        finish_reason=None,
        input_tokens=None,
        output_tokens=None,
        cached_tokens=None,
        cost=None,
        currency=None,
    )
