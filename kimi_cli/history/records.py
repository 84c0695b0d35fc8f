"""A stored message (plain, frozen), and the helpers that make the rows a chat writes.

What only reading hands out (summaries, search hits, usage sums) lives in ``queries``,
with the queries that make it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:  # kimi_cli.api's package imports httpx; only the type is needed
    from kimi_cli.api.types import Usage

__all__ = ["StoredMessage"]


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
    #: JSON list of the API messages (assistant tool calls, tool results) before this answer.
    tool_steps: str | None = None

    @property
    def steps(self) -> list[dict[str, Any]]:
        """``tool_steps`` decoded; [] when there are none (or they cannot be read)."""
        if not self.tool_steps:
            return []
        try:
            steps = json.loads(self.tool_steps)
        except ValueError:
            return []
        return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []

    @property
    def searches(self) -> list[str]:
        """The queries of the web searches that led to this answer."""
        found = []
        for step in self.steps:
            for call in step.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                arguments = function.get("arguments") if isinstance(function, dict) else None
                found.append(search_query(arguments if isinstance(arguments, str) else ""))
        return found


def search_query(arguments: str) -> str:
    """What a ``web_search`` call looks for, for people: its ``query``, else its arguments."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return arguments
    query = value.get("query") if isinstance(value, dict) else None
    return query if isinstance(query, str) else arguments


_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case, URL-safe
_ID_LENGTH = 8  # 40 random bits; uniqueness is checked under the write lock
_SURROGATE = re.compile("[\ud800-\udfff]")


@overload
def clean_text(value: str) -> str: ...
@overload
def clean_text(value: None) -> None: ...
def clean_text(value: str | None) -> str | None:
    """``value`` with lone surrogates (JSON can carry "\\ud800") made U+FFFD: SQLite wants UTF-8."""
    return value if value is None or value.isascii() else _SURROGATE.sub("\ufffd", value)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_id() -> str:
    import secrets  # here: it loads hashlib and random, which reading history never needs

    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def token_triple(usage: Usage | None) -> tuple[int, int, int]:
    if usage is None:
        return (0, 0, 0)
    return (usage.input_tokens, usage.cached_tokens, usage.output_tokens)
