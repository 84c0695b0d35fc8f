"""Daily and monthly budgets, and ``--max-cost``: refuse a request before it is sent.

The check is made on the worst case: every input token at the cache-miss price plus the
whole completion budget at the output price (a batch at the batch price). Spent money
comes from the history's usage rows (UTC days and months). At 80 % of a budget a
warning; past it a ``BudgetExceededError`` (exit 6) naming the budget, what was spent
and how to raise it. With no price for the model the worst case is unknown: nothing is
refused on a guess, but the caller is told the budget could not be checked.

The chat path needs one call: ``verdict_before_sending(...)``, then ``verdict.raise_if_refused()``
and print ``verdict.message`` when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from kimi_cli.errors import QuotaError
from kimi_cli.history import HistoryStore
from kimi_cli.pricing import BATCH, price_for
from kimi_cli.spending import spent_per_currency

__all__ = [
    "WARN_SHARE",
    "BudgetExceededError",
    "BudgetVerdict",
    "check_budget",
    "parse_amount",
    "spent_today_and_month",
    "verdict_before_sending",
    "worst_case",
]

WARN_SHARE = Decimal("0.8")
_MILLION = Decimal(1_000_000)


class BudgetExceededError(QuotaError):
    """The request could cost more than a budget has left (exit 6, nothing sent)."""


@dataclass(frozen=True)
class BudgetVerdict:
    status: str  # "ok" | "warn" | "refuse" | "unchecked"
    message: str | None = None  # one line for stderr (without "kimi: ")
    hint: str | None = None

    def raise_if_refused(self) -> None:
        if self.status == "refuse":
            raise BudgetExceededError(self.message or "over budget", hint=self.hint)


def parse_amount(text: str | float | int) -> Decimal:
    """A budget amount (> 0) from config or a flag; ValueError naming the problem."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount (e.g. 5 or 2.50)") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{text!r} must be a positive amount")
    return value


def worst_case(
    model: str,
    currency: str | None,
    input_tokens: int,
    completion_budget: int,
    *,
    batch: bool = False,
) -> Decimal | None:
    """The most the request can cost, or None when the model has no known price."""
    price = price_for(model, currency)
    if price is None:
        return None
    miss, out = Decimal(repr(price.input_cache_miss)), Decimal(repr(price.output))
    amount = (max(input_tokens, 0) * miss + max(completion_budget, 0) * out) / _MILLION
    return amount * Decimal(repr(BATCH.share)) if batch else amount


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(Decimal('0.0001')).normalize():f} {currency}"


def check_budget(
    worst: Decimal | None,
    currency: str | None,
    spent_today: Decimal,
    spent_month: Decimal,
    max_cost: Decimal | None,
    *,
    daily: Decimal | None = None,
    monthly: Decimal | None = None,
) -> BudgetVerdict:
    """The verdict on a request whose worst case is ``worst`` (None: price unknown)."""
    if max_cost is None and daily is None and monthly is None:
        return BudgetVerdict("ok")
    if worst is None or currency is None:
        return BudgetVerdict(
            "unchecked", "budget not checked: this model has no known price (see docs/pricing.md)"
        )
    if max_cost is not None and worst > max_cost:
        return BudgetVerdict(
            "refuse",
            f"this request could cost up to {_money(worst, currency)}, "
            f"more than --max-cost {_money(max_cost, currency)}; nothing was sent",
            "raise --max-cost, or lower --max-tokens or the input",
        )
    warning: str | None = None
    for name, key, limit, spent in (
        ("daily", "budget_daily", daily, spent_today),
        ("monthly", "budget_monthly", monthly, spent_month),
    ):
        if limit is None:
            continue
        if spent + worst > limit:
            return BudgetVerdict(
                "refuse",
                f"{name} budget {_money(limit, currency)} would be exceeded: "
                f"{_money(spent, currency)} spent, this request could cost up to "
                f"{_money(worst, currency)}; nothing was sent",
                f"raise it with 'kimi config set {key} AMOUNT', or lower --max-tokens",
            )
        if warning is None and spent + worst >= limit * WARN_SHARE:
            warning = (
                f"{name} budget: {_money(spent, currency)} of {_money(limit, currency)} spent"
                f" (80 % reached with this request)"
            )
    return BudgetVerdict("warn", warning) if warning else BudgetVerdict("ok")


def spent_today_and_month(
    store: HistoryStore, currency: str, today: date | None = None
) -> tuple[Decimal, Decimal]:
    """What the history says was spent in ``currency`` today and this month (UTC)."""
    today = today or datetime.now(UTC).date()
    rows = store.usage_totals(since_day=today.replace(day=1).isoformat(), by="day")
    month = spent_per_currency(rows).get(currency, Decimal(0))
    day = spent_per_currency(r for r in rows if r.group == today.isoformat())
    return day.get(currency, Decimal(0)), month


def verdict_before_sending(
    store: HistoryStore | None,
    *,
    model: str,
    currency: str | None,
    input_tokens: int,
    completion_budget: int,
    daily: Decimal | None,
    monthly: Decimal | None,
    max_cost: Decimal | None,
    batch: bool = False,
    today: date | None = None,
) -> BudgetVerdict:
    """Everything in one call: worst case, what was spent, the verdict."""
    if max_cost is None and daily is None and monthly is None:
        return BudgetVerdict("ok")
    worst = worst_case(model, currency, input_tokens, completion_budget, batch=batch)
    spent_today = spent_month = Decimal(0)
    if store is not None and currency is not None and (daily or monthly):
        spent_today, spent_month = spent_today_and_month(store, currency, today)
    return check_budget(
        worst, currency, spent_today, spent_month, max_cost, daily=daily, monthly=monthly
    )
