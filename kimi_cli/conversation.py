"""One chat turn, for one-shot chat and the REPL alike.

A turn: build the messages (earlier turns from history, reasoning resent where the model
needs it), shape the request to the model's policy, stream, hand every chunk to the
caller, and save what arrived — the user message before sending, the answer after, marked
partial when the stream was cut or interrupted. Nothing that arrived is ever lost.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimi_cli.errors import (
    APIRequestError,
    HistoryError,
    KimiError,
    ModelNotFoundError,
    NotFoundError,
    UsageError,
)

# What a turn needs is imported when a turn runs: ``chat_input`` (and through it commands
# like ``kimi tokens``, so ``kimi --help``) imports this module for ``compose_text`` alone.
if TYPE_CHECKING:
    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.types import ChatChunk, Model, Usage
    from kimi_cli.catalog.policy import ChatOptions, ModelPolicy
    from kimi_cli.history import HistoryStore, StoredMessage
    from kimi_cli.pricing import Cost

IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}
TITLE_LENGTH = 60

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Attachment:
    """An image to send as an ``image_url`` part."""

    path: Path
    mime: str
    data: bytes

    def part(self) -> dict[str, Any]:
        encoded = base64.b64encode(self.data).decode("ascii")
        return {"type": "image_url", "image_url": {"url": f"data:{self.mime};base64,{encoded}"}}


def image_type(path: Path) -> str | None:
    mime, _ = mimetypes.guess_type(path.name)
    return mime if mime in IMAGE_TYPES else None


def compose_text(files: Sequence[tuple[str, str]], stdin_text: str | None, prompt: str) -> str:
    """One user message: each file fenced under its path, then stdin, a blank line, PROMPT."""
    parts = [_fenced(name, text) for name, text in files]
    if stdin_text:
        parts.append(stdin_text)
    if prompt:
        parts.append(prompt)
    return "\n\n".join(parts)


def _fenced(name: str, text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    body = text if text.endswith("\n") else text + "\n"
    return f"{name}\n{fence}\n{body}{fence}"


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
    pieces: list[str] = field(default_factory=list, repr=False)


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
    #: The turn in progress or just ended, also when ``send`` raised: what arrived is here.
    last: TurnResult | None = None

    @classmethod
    def resume(cls, conversation_id: str, history: HistoryStore, **kw: Any) -> Conversation:
        """Continue a stored conversation: its messages become the context."""
        messages = history.messages(conversation_id)
        system = next((m.content for m in messages if m.role == "system"), None)
        earlier = [m for m in messages if m.role in ("user", "assistant")]
        return cls(
            history=history, conversation_id=conversation_id, system=system, earlier=earlier, **kw
        )

    def messages_for(self, user_content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        for stored in self.earlier:
            if not stored.content and stored.role == "assistant":
                continue  # an empty (cut) answer is not valid input for the API
            message: dict[str, Any] = {"role": stored.role, "content": stored.content}
            if stored.role == "assistant" and self.policy.keep_reasoning and stored.reasoning:
                message["reasoning_content"] = stored.reasoning
            messages.append(message)
        messages.append({"role": "user", "content": user_content})
        return messages

    def send(
        self,
        text: str,
        options: ChatOptions,
        on_chunk: Callable[[ChatChunk], None],
        *,
        images: Sequence[Attachment] = (),
        stream: bool = True,
        input_tokens: int | None = None,
    ) -> TurnResult:
        """Run one turn. Raises the turn's KimiError (or KeyboardInterrupt…) *after* saving."""
        if images and self.policy.image_in is False:
            raise UsageError(
                f"{self.model.id} does not take images",
                hint="drop the image -f, or pick a vision model ('kimi models')",
            )
        content: str | list[dict[str, Any]] = text
        if images:
            content = [{"type": "text", "text": text}, *(a.part() for a in images)]
        from kimi_cli.catalog.policy import build_body

        body = build_body(
            self.policy, self.messages_for(content), options, input_tokens=input_tokens
        )
        stored_text = text + "".join(f"\n[image: {a.path.name}]" for a in images)
        self._save_user(stored_text)
        result = TurnResult(model=self.model.id, conversation_id=self.conversation_id)
        self.last = result
        try:
            if stream:
                self._stream(body, result, on_chunk)
            else:
                self._complete(body, result, on_chunk)
        except KimiError as exc:
            result.error = self._explain(exc)
            result.partial = True
            self._save_answer(result)
            raise result.error from exc
        except BaseException:  # Ctrl-C, SIGTERM, a closed pipe: keep what arrived
            result.partial = True
            self._save_answer(result)
            raise
        self._save_answer(result)
        self.remember(stored_text, result)
        return result

    def remember(self, text: str, result: TurnResult) -> None:
        """Make a turn (finished, or a kept partial answer) context for the next one."""
        model = self.model.id
        self.earlier.append(_context_message("user", text, None, model, partial=False))
        self.earlier.append(
            _context_message(
                "assistant", result.content, result.reasoning, model, partial=result.partial
            )
        )

    def _stream(
        self, body: dict[str, Any], result: TurnResult, on_chunk: Callable[[ChatChunk], None]
    ) -> None:
        reasoning: list[str] = []
        with self.client.stream_chat(body) as chat_stream:
            result.request_id = chat_stream.request_id
            try:
                for chunk in chat_stream:
                    if chunk.content:
                        result.pieces.append(chunk.content)
                    if chunk.reasoning:
                        reasoning.append(chunk.reasoning)
                    if chunk.finish_reason:
                        result.finish_reason = chunk.finish_reason
                    if chunk.usage is not None:
                        result.usage = chunk.usage
                    on_chunk(chunk)
            finally:
                result.content = "".join(result.pieces)
                result.reasoning = "".join(reasoning)
        self._price(result)

    def _complete(
        self, body: dict[str, Any], result: TurnResult, on_chunk: Callable[[ChatChunk], None]
    ) -> None:
        from kimi_cli.api.types import ChatChunk

        completion = self.client.chat(body)
        result.content = completion.content
        result.reasoning = completion.reasoning
        result.finish_reason = completion.finish_reason
        result.usage = completion.usage
        result.request_id = completion.request_id
        self._price(result)
        on_chunk(
            ChatChunk(
                content=completion.content,
                reasoning=completion.reasoning,
                finish_reason=completion.finish_reason,
                usage=completion.usage,
            )
        )

    def _price(self, result: TurnResult) -> None:
        if result.usage is not None:
            from kimi_cli.pricing import cost_of

            result.cost = cost_of(result.usage, self.model.id, self.currency)

    def _explain(self, exc: KimiError) -> KimiError:
        """What an API refusal means for this turn: a flag to drop, a model gone."""
        if isinstance(exc, NotFoundError):
            return ModelNotFoundError(
                f"{self.model.id} is no longer served ({exc.message})",
                hint="see the live list with 'kimi models', then 'kimi models use ID'",
                request_id=exc.request_id,
            )
        if isinstance(exc, APIRequestError) and exc.status_code == 400:
            if exc.error_type == "content_filter":
                return exc
            message = exc.message
            if "input token length too long" in message.lower():
                return UsageError(
                    f"the input is too long for {self.model.id}'s context",
                    hint="shorten it, or start a new conversation",
                    request_id=exc.request_id,
                )
            from kimi_cli.catalog.policy import flag_for_message

            flag = flag_for_message(message)
            if flag:
                return UsageError(message, hint=f"drop or change {flag}", request_id=exc.request_id)
        return exc

    # -- history: failures warn and never change the outcome ----------------------

    def _save_user(self, text: str) -> None:
        if self.history is None:
            return
        try:
            if self.conversation_id is None:
                title = " ".join(text.split())[:TITLE_LENGTH] or "(untitled)"
                self.conversation_id = self.history.new_conversation(
                    model=self.model.id, title=title, system=self.system
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
