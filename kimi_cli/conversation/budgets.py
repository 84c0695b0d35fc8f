"""The budgets of a conversation, checked before each request of a turn.

``kimi_cli.budget`` does the sums; this module knows the request: its input tokens (the
API's tokenizer; when it cannot be asked, the input's UTF-8 bytes, which no token is
shorter than), its completion budget (``max_completion_tokens``, or what the context leaves
when the body names none: the API may fill it) and what the earlier requests of the same
turn cost. A refusal is raised before anything is sent; the 80 % warning is said once per
turn, and "not checked" once per conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kimi_cli.budget import BudgetVerdict, Limits, verdict_before_sending, verdict_on
from kimi_cli.errors import KimiError

if TYPE_CHECKING:
    from collections.abc import Callable

    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.types import Model
    from kimi_cli.history import HistoryStore
    from kimi_cli.pricing import Cost

__all__ = ["BudgetGuard", "input_bound"]

#: Tokens counted for an image when the tokenizer cannot be asked: more than the API
#: charges for one at the largest size it accepts.
IMAGE_TOKENS_BOUND = 16_384
#: Tokens around each message (its role and separators), counted on top of its text.
MESSAGE_OVERHEAD = 8


@dataclass
class BudgetGuard:
    limits: Limits
    #: Where what was spent is read: the history, also when this command saves nothing to it.
    spent_in: HistoryStore | None
    warn: Callable[[str], None]
    _said_unchecked: bool = False
    _warned_turn: int = -1

    def before_request(
        self,
        client: KimiClient,
        model: Model,
        currency: str | None,
        body: dict[str, Any],
        *,
        turn: int,
        measured: int | None = None,
        pending: Cost | None = None,
        first: bool = True,
    ) -> None:
        """Raise ``BudgetExceededError`` (exit 6) when the request does not fit; else warn
        when it brings a budget to 80 %. ``pending`` is what the turn's earlier requests
        and searches cost; ``first``: nothing of the turn was sent yet."""
        if not self.limits.any:
            return
        tokens = measured if measured is not None else _count(client, model.id, body)
        completion = body.get("max_completion_tokens")
        if not isinstance(completion, int):
            completion = max((model.context_length or 0) - tokens, 0)
        verdict = verdict_before_sending(
            self.spent_in,
            model=model.id,
            currency=currency,
            input_tokens=tokens,
            completion_budget=completion,
            daily=self.limits.daily,
            monthly=self.limits.monthly,
            max_cost=self.limits.max_cost,
            pending=_amount(pending),
            refused="nothing was sent" if first else _NEXT_NOT_SENT,
        )
        self._apply(verdict, turn)

    def before_searches(
        self, currency: str | None, calls: int, *, turn: int, pending: Cost | None
    ) -> None:
        """The same for the per-call fee of ``calls`` web searches, before any of them runs:
        a search is billed whether or not an answer follows."""
        if not self.limits.any or calls <= 0:
            return
        from kimi_cli.pricing import search_cost

        fee = search_cost(calls, currency)
        what = "web search" if calls == 1 else f"{calls} web searches"
        verdict = verdict_on(
            self.spent_in,
            None if fee is None else Decimal(repr(fee.amount)),
            currency,
            self.limits,
            pending=_amount(pending),
            what=what,
            whole="answer",
            refused="the search was not run" if calls == 1 else "the searches were not run",
            instead="ask without --web-search",
        )
        self._apply(verdict, turn)

    def _apply(self, verdict: BudgetVerdict, turn: int) -> None:
        verdict.raise_if_refused()
        if verdict.message is None:
            return
        if verdict.status == "unchecked":
            if not self._said_unchecked:
                self._said_unchecked = True
                self.warn(verdict.message)
        elif self._warned_turn != turn:
            self._warned_turn = turn
            self.warn(verdict.message)


#: A refusal after the first request of a turn: the question (and maybe searches) went out.
_NEXT_NOT_SENT = "the next request was not sent; what arrived is saved"


def _amount(cost: Cost | None) -> Decimal:
    return Decimal(repr(cost.amount)) if cost is not None else Decimal(0)


def _count(client: KimiClient, model_id: str, body: dict[str, Any]) -> int:
    messages = body["messages"]
    tools = len(json.dumps(body["tools"], ensure_ascii=False).encode()) if "tools" in body else 0
    try:
        return client.estimate_tokens(model_id, messages) + tools
    except KimiError:
        return input_bound(messages, body.get("tools"))


def input_bound(messages: list[dict[str, Any]], tools: Any = None) -> int:
    """At least as many tokens as the input holds: its text in UTF-8 bytes, a generous
    allowance per image, the tool definitions as JSON."""
    total = len(json.dumps(tools, ensure_ascii=False).encode()) if tools else 0
    for message in messages:
        total += MESSAGE_OVERHEAD
        for key in ("content", "reasoning_content"):
            total += _bytes(message.get(key))
        if "tool_calls" in message:
            total += len(json.dumps(message["tool_calls"], ensure_ascii=False).encode())
    return total


def _bytes(content: Any) -> int:
    if isinstance(content, str):
        return len(content.encode())
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text":
            total += len(str(part.get("text", "")).encode())
        elif isinstance(part, dict):
            total += IMAGE_TOKENS_BOUND
    return total
