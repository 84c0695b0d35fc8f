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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kimi_cli.conversation.exchange import one_request
from kimi_cli.conversation.outcome import (
    TurnError,
    TurnInterrupted,
    TurnObserver,
    TurnResult,
    context_message,
    partial_of,
    price_turn,
    steps_json,
)
from kimi_cli.conversation.rules import setting_change
from kimi_cli.errors import HistoryError, KimiError, NotFoundError, UsageError

# What a turn needs is imported when a turn runs, so commands that only import the types
# (``kimi --help``) do not pay for the HTTP client or the history store; images and web
# search are imported by the turns that have them.
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.types import Model
    from kimi_cli.catalog.policy import ChatOptions, ModelPolicy
    from kimi_cli.conversation.budgets import BudgetGuard
    from kimi_cli.conversation.images import Attachment, ImageStore
    from kimi_cli.conversation.lifecycle import ModelWatch
    from kimi_cli.conversation.search import WebSearch
    from kimi_cli.documents import Document
    from kimi_cli.history import HistoryStore, StoredMessage

    Warn = Callable[[str], None]

__all__ = [
    "Conversation",
    "TurnError",
    "TurnInterrupted",
    "TurnObserver",
    "TurnResult",
    "partial_of",
]

TITLE_LENGTH = 60


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
    #: Where the images of a saved conversation are kept (None: in memory only).
    image_dir: Path | None = None
    #: The prompt-cache key when no conversation ID exists (history off), made on first use.
    session_key: str | None = None
    #: (model, effort) of the last request, to say once when a turn changes them.
    last_setting: tuple[str, str | None] | None = None
    #: The model that answered last in a resumed conversation (its effort is not stored).
    resumed_model: str | None = None
    #: Where the search Formula's tool list is cached (None: asked on every turn).
    cache_dir: Path | None = None
    #: What the answers are billed as in the history's usage rows: "chat" or "repl".
    kind: str = "chat"
    #: Budgets checked before each request (None: no check).
    budget: BudgetGuard | None = None
    #: The model's end of life: refused after a 404, warned about before it retires.
    watch: ModelWatch | None = None
    #: A refusal's hint by flag, for a value that came from elsewhere (the config file).
    fixes: dict[str, str] = field(default_factory=dict)
    #: Turns sent so far (the budget's 80 % warning is said once per turn).
    turns: int = field(default=0, init=False)
    #: Messages stored in the conversation as this process last saw them (None: not known),
    #: so a turn sees what another process added since (``claims.claim``).
    stored: int | None = field(default=None, init=False, repr=False)
    #: The images of this conversation, made when the first one is sent or resent.
    _images: ImageStore | None = field(default=None, init=False, repr=False)
    #: The search Formula, made when a turn first asks for web search.
    _web_search: WebSearch | None = field(default=None, init=False, repr=False)

    def resume(self, conversation_id: str, stored: HistoryStore) -> None:
        """Continue a conversation from ``stored``: its messages become the context, and
        the turns go on in it (saved to ``history``, which may be None: --no-log)."""
        messages = stored.messages(conversation_id)
        # Documents are system messages too; they are resent in their place, not as the prompt.
        documents = {d.message_id for d in stored.documents(conversation_id)}
        self.system = next(
            (m.content for m in messages if m.role == "system" and m.id not in documents), None
        )
        self.earlier = [m for m in messages if m.role in ("user", "assistant") or m.id in documents]
        self.conversation_id = conversation_id
        self.stored = len(messages)
        last = next((m for m in reversed(self.earlier) if m.role == "assistant" and m.model), None)
        if last is not None:
            self.resumed_model = last.model

    @property
    def images(self) -> ImageStore:
        """Image bytes by hash: what this conversation sent, and what its history refers to."""
        if self._images is None:
            from kimi_cli.conversation.images import ImageStore

            self._images = ImageStore(self.image_dir, self.warn)
        return self._images

    @property
    def cache_key(self) -> str:
        """``prompt_cache_key``: one per conversation, the same on every request of it."""
        if self.conversation_id is not None:
            return f"kimi-{self.conversation_id}"
        if self.session_key is None:
            import uuid

            self.session_key = uuid.uuid4().hex
        return f"kimi-{self.session_key}"

    def messages_for(
        self,
        text: str,
        images: tuple[Attachment, ...] = (),
        documents: Sequence[Document] = (),
    ) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        for stored in self.earlier:
            if not stored.content and stored.role == "assistant":
                continue  # an empty (cut) answer is not valid input for the API
            if stored.role == "user":
                messages.append({"role": "user", "content": self.images.content(stored.content)})
                continue
            if stored.tool_steps:  # searches are context only when an answer followed
                from kimi_cli.conversation.search import complete_steps

                messages.extend(complete_steps(stored.steps))
            message: dict[str, Any] = {"role": stored.role, "content": stored.content}
            if self.policy.keep_reasoning and stored.reasoning:
                message["reasoning_content"] = stored.reasoning
            messages.append(message)
        if documents:
            messages.extend(document.message() for document in documents)
        if images:
            from kimi_cli.conversation.images import message_content

            messages.append({"role": "user", "content": message_content(text, images)})
        else:
            messages.append({"role": "user", "content": text})
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

        if self.watch is not None:
            self.watch.before_turn(self.client.base_url, self.model.id, self.warn)
        held = None
        if self.conversation_id is not None and self.history is not None:
            from kimi_cli.conversation.claims import claim

            held = claim(self)  # before anything is saved or sent; catches up first
        try:
            body = build_body(
                self.policy,
                self.messages_for(text, pictures, documents),
                options,
                input_tokens=input_tokens,
            )
            if options.web_search:
                body["tools"] = self._search().tools()
            self.turns += 1
            self._check_budget(body, None, input_tokens)  # before the question is even saved
            saved, title = text, text
            if pictures or documents:
                from kimi_cli.conversation.images import stored_text

                saved = stored_text(text, pictures)
                named = [*(f"[{i.name}]" for i in pictures), *(d.name for d in documents)]
                title = text or ", ".join(named)
            self._save_user(saved, documents, title=title)
            for image in pictures:  # after the save: history may just have turned itself off
                self.images.keep(image, persist=self.history is not None)
            body["prompt_cache_key"] = self.cache_key
            self._say_setting_change(options)
            result = TurnResult(model=self.model.id, conversation_id=self.conversation_id)
            try:
                self._run(body, result, observer, stream, options.max_searches)
            except KimiError as exc:
                result.error = self._explain(exc)
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
        finally:
            if held is not None:
                from kimi_cli.conversation.claims import release

                release(self, held)

    def remember(self, text: str, result: TurnResult, documents: Sequence[Document] = ()) -> None:
        """Make a turn (finished, or a kept partial answer) context for the next one."""
        model = self.model.id
        for document in documents:
            self.earlier.append(
                context_message("system", document.content, None, model, partial=False)
            )
        self.earlier.append(context_message("user", text, None, model, partial=False))
        answer = context_message(
            "assistant", result.content, result.reasoning, model, partial=result.partial
        )
        if result.steps:
            answer = replace(answer, tool_steps=steps_json(result.steps))
        self.earlier.append(answer)

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

    # -- requests: one, or a tool loop that appends calls and results and asks again --

    def _search(self) -> WebSearch:
        if self._web_search is None:
            from kimi_cli.conversation.search import WebSearch

            self._web_search = WebSearch(self.client, self.cache_dir)
        return self._web_search

    def _run(
        self,
        body: dict[str, Any],
        result: TurnResult,
        observer: TurnObserver,
        stream: bool,
        max_searches: int = 0,
    ) -> None:
        while True:
            if result.requests:  # the first request was checked before the question was saved
                self._check_budget(body, result)
            calls = one_request(self.client, body, result, observer, stream)
            self._price(result)
            if not calls or "tools" not in body:
                return
            from kimi_cli.conversation.search import assistant_step

            step = assistant_step(
                result.content, result.reasoning, calls, thinks=self.policy.reasons
            )
            result.steps.append(step)
            body["messages"].append(step)
            result.content, result.reasoning, result.pieces = "", "", []
            search = self._search()
            if self.budget is not None:  # the searches' fee, before any of them runs
                runs = min(len(calls), max_searches - len(result.searches))
                self.budget.before_searches(
                    self.currency, runs, turn=self.turns, pending=result.cost
                )
            search.answer(calls, body, result, observer, max_searches, self._price)

    def _check_budget(
        self, body: dict[str, Any], result: TurnResult | None, measured: int | None = None
    ) -> None:
        if self.budget is None:
            return
        self.budget.before_request(
            self.client,
            self.model,
            self.currency,
            body,
            turn=self.turns,
            measured=measured,
            pending=result.cost if result is not None else None,
            first=result is None,
        )

    def _explain(self, exc: KimiError) -> KimiError:
        if isinstance(exc, NotFoundError) and self.watch is not None:
            return self.watch.explain_404(self.client, self.model.id, exc)
        from kimi_cli.conversation.explain import explain  # failures only

        return explain(exc, self.model.id, self.fixes)

    def _price(self, result: TurnResult) -> None:
        price_turn(result, self.model.id, self.currency)

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
        cost = result.cost.amount if result.cost else None
        fee = result.search_cost
        if result.cost is not None and fee is not None:
            cost = result.cost.minus(fee).amount  # the searches are a usage row of their own
        try:
            self.history.add_message(
                self.conversation_id,
                "assistant",
                result.content or "".join(result.pieces),
                reasoning=result.reasoning or None,
                model=self.model.id,
                usage=result.usage,
                cost=cost,
                currency=result.cost.currency if result.cost else None,
                partial=result.partial,
                finish_reason=result.finish_reason,
                requests=max(result.requests, 1),
                tool_steps=steps_json(result.steps),
                kind=self.kind,
            )
            if result.searches:
                self.history.record_usage(
                    kind="search",
                    model=self.model.id,
                    requests=0,
                    searches=len(result.searches),
                    cost=fee.amount if fee else None,
                    currency=fee.currency if fee else None,
                    conversation_id=self.conversation_id,
                )
        except HistoryError as exc:
            self.warn(f"history not saved: {exc.line()}")
