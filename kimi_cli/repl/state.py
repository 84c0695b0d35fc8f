"""The session state of the REPL: the conversation, the settings, what has been used.

Also the figures shown by ``/usage`` and the toolbar. No terminal here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kimi_cli.api.types import Usage
from kimi_cli.catalog import ChatOptions
from kimi_cli.conversation.images import Attachment
from kimi_cli.conversation.rules import money
from kimi_cli.conversation.turn import Conversation, TurnResult
from kimi_cli.documents import Document
from kimi_cli.history import StoredMessage
from kimi_cli.pricing import Cost


@dataclass(frozen=True)
class Message:
    """A user message to send."""

    text: str
    images: tuple[Attachment, ...] = ()
    #: Documents (``/file``, ``-f``) sent before it as system messages.
    documents: tuple[Document, ...] = ()


@dataclass
class Totals:
    """Tokens and cost of the answers in this session."""

    turns: int = 0
    failed: int = 0  # turns that failed after some of them was billed
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost: float = 0.0
    currency: str | None = None
    cost_known: bool = True  # False once an answer had no known price

    def add(self, usage: Usage, cost: Cost | None, *, answered: bool = True) -> None:
        if answered:
            self.turns += 1
        else:
            self.failed += 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cached_tokens += usage.cached_tokens
        if cost is None:
            self.cost_known = False
        else:
            self.cost += cost.amount
            self.currency = cost.currency

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class ReplState:
    conversation: Conversation
    options: ChatOptions
    totals: Totals = field(default_factory=Totals)
    #: Tokens the conversation fills as of its last answer (input + output), if known.
    context_used: int | None = None
    last_message: Message | None = None
    last_reasoning: str = ""
    last_result: TurnResult | None = None
    #: Whether the last exchange is in the conversation's context (for /retry).
    last_in_context: bool = False

    def __post_init__(self) -> None:
        if self.context_used is None:
            self.context_used = context_from_history(self.conversation.earlier)

    def record(self, result: TurnResult) -> None:
        """Count a finished (or cut) answer."""
        self.last_result = result
        self.last_reasoning = result.reasoning
        self.last_in_context = True
        if result.usage is not None:
            self.totals.add(result.usage, result.cost)
            self.context_used = result.usage.input_tokens + result.usage.output_tokens

    def failed(self, result: TurnResult) -> None:
        """A turn the API refused or cut: its reasoning stays readable (/thinking), and what
        its finished requests and searches cost counts (they were billed)."""
        self.last_reasoning = result.reasoning
        self.last_in_context = False
        if result.usage is not None:
            self.totals.add(result.usage, result.cost, answered=False)

    def keep_partial(
        self, text: str, result: TurnResult, documents: Sequence[Document] = ()
    ) -> None:
        """An interrupted answer stays in the context, as it stays in history (``-c``), and
        is counted (roughly: the API reports no usage for a stream stopped early)."""
        self.last_reasoning = result.reasoning
        self.last_in_context = bool(result.content)
        if not result.content:
            return
        self.conversation.remember(text, result, documents)
        arrived = rough_tokens(result.content) + rough_tokens(result.reasoning)
        self.totals.output_tokens += arrived
        self.context_used = (self.context_used or 0) + rough_tokens(text) + arrived

    def forget_last_exchange(self) -> None:
        """/retry: the last question and its answer leave the context before it is asked
        again (history keeps both attempts)."""
        earlier = self.conversation.earlier
        if self.last_in_context and len(earlier) >= 2:
            del earlier[-2:]
            while earlier and earlier[-1].role == "system":  # its documents go with it
                earlier.pop()
        self.last_in_context = False


def rough_tokens(text: str) -> int:
    """About how many tokens a text is, when the API did not count it (4 bytes a token)."""
    return (len(text.encode()) + 3) // 4


def context_from_history(messages: Sequence[StoredMessage]) -> int | None:
    """The context filled by a resumed conversation: its last answer's input + output."""
    for message in reversed(messages):
        if message.role == "assistant" and message.input_tokens is not None:
            return message.input_tokens + (message.output_tokens or 0)
    return None


def stored_count(conversation: Conversation) -> int:
    """The messages of a resumed conversation as ``history list`` and /history count them:
    every stored one (the system prompt and documents included)."""
    if conversation.history is not None and conversation.conversation_id is not None:
        summary = conversation.history.get(conversation.conversation_id)
        if summary is not None:
            return summary.messages
    # History off (--no-log): what was read from it, which holds all but the system prompt.
    return len(conversation.earlier) + (conversation.system is not None)


def cost_text(totals: Totals) -> str:
    if totals.turns == 0 and totals.failed == 0:
        return "no cost yet"
    if not totals.cost_known or totals.currency is None:
        return "cost unknown"
    return money(totals.cost, totals.currency)


def context_left(state: ReplState) -> tuple[int, int] | None:
    """(tokens left, context length) of the conversation, when the model says its context."""
    length = state.conversation.model.context_length
    if not length:
        return None
    return max(0, length - (state.context_used or 0)), length
