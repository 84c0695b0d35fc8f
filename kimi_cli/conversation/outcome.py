"""What a turn produces and how it ends: the observer front ends implement, the result
(and its price), the two ways a turn leaves early with what arrived, and a finished turn
as messages held in memory for the next one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kimi_cli.errors import KimiError

if TYPE_CHECKING:
    from kimi_cli.api.types import Usage
    from kimi_cli.history import StoredMessage
    from kimi_cli.pricing import Cost

__all__ = [
    "TurnError",
    "TurnInterrupted",
    "TurnObserver",
    "TurnResult",
    "context_message",
    "partial_of",
    "price_turn",
    "steps_json",
]


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

    def search(self, query: str) -> None:
        """A web search the model asked for is about to run."""
        self.notice(f"searching: {query}")


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
    #: The queries of the web searches run in this turn, in order.
    searches: list[str] = field(default_factory=list)
    #: What the searches cost (per-call fee), None when no price is listed; in ``cost``.
    search_cost: Cost | None = None
    #: The assistant tool calls and tool results of this turn, as sent to the API.
    steps: list[dict[str, Any]] = field(default_factory=list, repr=False)
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


def price_turn(result: TurnResult, model_id: str, currency: str | None) -> None:
    """Set ``cost``: the tokens of every request, plus the searches' per-call fee; unknown
    when either price is."""
    from kimi_cli.pricing import cost_of, search_cost

    tokens = cost_of(result.usage, model_id, currency) if result.usage else None
    if not result.searches:
        result.cost, result.search_cost = tokens, None
        return
    result.search_cost = search_cost(len(result.searches), currency)
    if tokens is None or result.search_cost is None:
        result.cost = None
    else:
        result.cost = tokens.plus(result.search_cost)


def context_message(
    role: str, content: str, reasoning: str | None, model: str, *, partial: bool
) -> StoredMessage:
    """A message held in memory only (it is already in history, or history is off)."""
    from kimi_cli.history import StoredMessage  # not at import: `kimi --help` skips the store

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


def steps_json(steps: list[dict[str, Any]]) -> str | None:
    if not steps:
        return None
    return json.dumps(steps, ensure_ascii=False)
