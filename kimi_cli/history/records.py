"""What the history hands out: plain, frozen values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ConversationSummary", "SearchHit", "StoredMessage", "UsageTotals"]


@dataclass(frozen=True)
class StoredMessage:
    id: int
    role: str  # "system" | "user" | "assistant"
    content: str
    reasoning: str | None
    model: str | None
    created_at: str  # ISO 8601, UTC, microseconds
    partial: bool
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    cost: float | None
    currency: str | None


def stored_message(row: Any) -> StoredMessage:
    values = list(row)
    values[6] = bool(values[6])  # partial
    return StoredMessage(*values)


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    model: str  # the model used last
    created_at: str
    updated_at: str
    messages: int  # every stored message, the system prompt included


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    message_id: int
    role: str
    created_at: str
    title: str
    snippet: str  # the matched words between « and »


@dataclass(frozen=True)
class UsageTotals:
    """Sums over ``usage`` rows sharing a group, a model, a currency, a kind, and
    whether their price was known: ``cost`` is None for the rows without one (their
    requests and tokens are counted, their money is not guessed)."""

    group: str  # the day, the model or the conversation id, by what was asked
    model: str | None
    currency: str | None
    kind: str  # "chat" | "repl" | "batch" | "search"
    requests: int
    searches: int
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    cost: float | None
