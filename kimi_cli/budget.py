"""Daily and monthly budgets, and ``--max-cost``: refuse a request before it is sent.

The check is made on the worst case: every input token at the cache-miss price plus the
whole completion budget at the output price (a batch at the batch price). Spent money
comes from the history's usage rows (UTC days and months). At 80 % of a budget a
warning; past it a ``BudgetExceededError`` (exit 6) naming the budget, what was spent
and how to raise it. With no price for the model the worst case is unknown: nothing is
refused on a guess, but the caller is told the budget could not be checked.

The chat path needs one call before each request: ``verdict_before_sending(...)``, then
``verdict.raise_if_refused()`` and print ``verdict.message`` when there is one. ``pending``
is what the requests already made in the same answer (or job) cost: they are not in the
history yet, but they were billed. ``Limits.of(settings, max_cost)`` gathers the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from kimi_cli.errors import QuotaError, UsageError
from kimi_cli.pricing import BATCH, price_for
from kimi_cli.spending import spent_per_currency

if TYPE_CHECKING:  # the history store is only read through the caller's instance
    from kimi_cli.config import Settings
    from kimi_cli.history import HistoryStore

__all__ = [
    "WARN_SHARE",
    "BudgetExceededError",
    "BudgetVerdict",
    "Limits",
    "amount_text",
    "check_budget",
    "parse_amount",
    "parse_max_cost",
    "spent_today_and_month",
    "verdict_before_sending",
    "verdict_on",
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


@dataclass(frozen=True)
class Limits:
    """The budgets that apply to one command: the config's daily and monthly ones, and
    ``--max-cost`` (the most one answer, or one batch job, may cost)."""

    daily: Decimal | None = None
    monthly: Decimal | None = None
    max_cost: Decimal | None = None

    @property
    def any(self) -> bool:
        return not (self.daily is None and self.monthly is None and self.max_cost is None)

    @classmethod
    def of(cls, settings: Settings | None, max_cost: str | Decimal | None = None) -> Limits:
        """From the resolved settings and the ``--max-cost`` flag (a bad amount: exit 2)."""
        flag = max_cost if isinstance(max_cost, Decimal) else parse_max_cost(max_cost)
        daily = monthly = None
        if settings is not None:
            daily = _configured(settings.budget_daily)
            monthly = _configured(settings.budget_monthly)
        return cls(daily, monthly, flag)


def parse_max_cost(text: str | None) -> Decimal | None:
    """``--max-cost AMOUNT`` (chat, batch); a bad amount is a usage error (exit 2)."""
    if text is None:
        return None
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise UsageError(f"--max-cost: {exc}", hint="give an amount such as 0.50") from None


def _configured(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


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


def amount_text(amount: Decimal, currency: str, *, up: bool = False) -> str:
    """An amount as the budget lines show it: ``4.8 USD`` (to the ten-thousandth).

    ``up`` rounds up: a worst case is never shown below what it is, so a refused request
    never reads "could cost up to 0.001 USD, more than --max-cost 0.001 USD"."""
    step = Decimal("0.0001")
    rounded = amount.quantize(step, rounding=ROUND_CEILING) if up else amount.quantize(step)
    return f"{rounded.normalize():f} {currency}"


def check_budget(
    worst: Decimal | None,
    currency: str | None,
    spent_today: Decimal,
    spent_month: Decimal,
    max_cost: Decimal | None,
    *,
    daily: Decimal | None = None,
    monthly: Decimal | None = None,
    pending: Decimal = Decimal(0),
    what: str | None = None,
    whole: str | None = None,
    refused: str = "nothing was sent",
    instead: str = "lower --max-tokens",
) -> BudgetVerdict:
    """The verdict on a request whose worst case is ``worst`` (None: price unknown).

    ``pending``: what the earlier requests of the same answer cost (already billed, not yet
    in the history); it counts as spent, and towards ``max_cost``. ``what`` names the thing
    checked in the lines ("batch job", "web search"); by default "request". ``whole`` is
    what ``--max-cost`` caps ("answer" unless ``what`` says otherwise). ``refused`` says
    what a refusal kept from happening: "nothing was sent" before the first request of an
    answer, something narrower once a part of it was sent; ``instead`` the other way out.
    """
    if max_cost is None and daily is None and monthly is None:
        return BudgetVerdict("ok")
    if currency is None:
        return BudgetVerdict(
            "unchecked",
            "budget not checked: the currency of this base URL is unknown"
            " (kimi config set currency USD)",
        )
    if worst is None:
        priced = "web search" if what and "search" in what else "model"
        return BudgetVerdict(
            "unchecked",
            f"budget not checked: this {priced} has no known price (see docs/pricing.md)",
        )
    spent_today, spent_month = spent_today + pending, spent_month + pending
    if max_cost is not None and pending + worst > max_cost:
        earlier = f" ({amount_text(pending, currency)} of it already spent)" if pending else ""
        return BudgetVerdict(
            "refuse",
            f"this {whole or what or 'answer'} could cost up to "
            f"{amount_text(pending + worst, currency, up=True)}{earlier}, "
            f"more than --max-cost {amount_text(max_cost, currency)}; {refused}",
            f"raise --max-cost, or {instead}"
            + (" or the input" if instead == "lower --max-tokens" else ""),
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
                f"{name} budget {amount_text(limit, currency)} would be exceeded: "
                f"{amount_text(spent, currency)} spent, {_this(what or 'request')} could cost up "
                f"to {amount_text(worst, currency, up=True)}; {refused}",
                f"raise it with 'kimi config set {key} AMOUNT', or {instead}",
            )
        if warning is None and spent + worst >= limit * WARN_SHARE:
            of = f"{amount_text(spent, currency)} of {amount_text(limit, currency)}"
            warning = f"{name} budget: {of} spent (80 % reached with {_this(what or 'request')})"
    return BudgetVerdict("warn", warning) if warning else BudgetVerdict("ok")


def _this(what: str) -> str:
    """``this request``, ``this batch job``; ``these 2 web searches``."""
    return f"these {what}" if what[:1].isdigit() else f"this {what}"


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
    pending: Decimal = Decimal(0),
    what: str | None = None,
    refused: str = "nothing was sent",
) -> BudgetVerdict:
    """Everything in one call: worst case, what was spent, the verdict.

    For a batch job, pass the sums over its requests (``input_tokens``,
    ``completion_budget``: the worst case is linear in both) and ``batch=True``.
    """
    if max_cost is None and daily is None and monthly is None:
        return BudgetVerdict("ok")
    worst = worst_case(model, currency, input_tokens, completion_budget, batch=batch)
    limits = Limits(daily, monthly, max_cost)
    return verdict_on(
        store, worst, currency, limits, today=today, pending=pending, what=what, refused=refused
    )


def verdict_on(
    store: HistoryStore | None,
    worst: Decimal | None,
    currency: str | None,
    limits: Limits,
    *,
    today: date | None = None,
    pending: Decimal = Decimal(0),
    what: str | None = None,
    whole: str | None = None,
    refused: str = "nothing was sent",
    instead: str = "lower --max-tokens",
) -> BudgetVerdict:
    """The verdict on spending up to ``worst`` more (None: its price is unknown), with what
    the history says was spent today and this month (see ``check_budget``)."""
    if not limits.any:
        return BudgetVerdict("ok")
    spent_today = spent_month = Decimal(0)
    if store is not None and currency is not None and (limits.daily or limits.monthly):
        spent_today, spent_month = spent_today_and_month(store, currency, today)
    return check_budget(
        worst,
        currency,
        spent_today,
        spent_month,
        limits.max_cost,
        daily=limits.daily,
        monthly=limits.monthly,
        pending=pending,
        what=what,
        whole=whole,
        refused=refused,
        instead=instead,
    )
