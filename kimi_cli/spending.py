"""What was spent, from the history's usage rows and the price table.

Per currency, never converted. Rows without a known price count their requests and
tokens but no money, and stay apart (``priced=False``): nothing is guessed. Savings:
cache hits save ``cached × (miss − hit)`` at the model's list price (times the batch
share for batch rows); the batch discount saves what the list price would have cost more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from kimi_cli.pricing import BATCH, price_for

if TYPE_CHECKING:  # the caller holds the store: importing sqlite is not this module's cost
    from kimi_cli.history import HistoryStore, UsageTotals

__all__ = ["Spend", "SpendReport", "parse_since", "report", "spent_per_currency"]

_MILLION = Decimal(1_000_000)
_SHARE = Decimal(repr(BATCH.share))


@dataclass(frozen=True)
class Spend:
    currency: str | None
    priced: bool
    requests: int = 0
    searches: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    amount: Decimal = Decimal(0)
    cache_saving: Decimal = Decimal(0)
    batch_saving: Decimal = Decimal(0)

    def plus(self, other: Spend) -> Spend:
        return replace(
            self,
            requests=self.requests + other.requests,
            searches=self.searches + other.searches,
            input_tokens=self.input_tokens + other.input_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            amount=self.amount + other.amount,
            cache_saving=self.cache_saving + other.cache_saving,
            batch_saving=self.batch_saving + other.batch_saving,
        )


@dataclass
class SpendReport:
    since: str | None
    by: str
    groups: dict[str, list[Spend]] = field(default_factory=dict)
    totals: list[Spend] = field(default_factory=list)


def _spend(row: UsageTotals) -> Spend:
    priced = row.cost is not None
    amount = Decimal(repr(row.cost)) if row.cost is not None else Decimal(0)
    cache_saving = batch_saving = Decimal(0)
    price = price_for(row.model or "", row.currency) if priced else None
    share = _SHARE if row.kind == "batch" else Decimal(1)
    if price is not None and price.input_cache_hit is not None:
        per_token = Decimal(repr(price.input_cache_miss)) - Decimal(repr(price.input_cache_hit))
        cache_saving = row.cached_tokens * per_token * share / _MILLION
    if priced and row.kind == "batch":
        batch_saving = amount * (1 - _SHARE) / _SHARE
    return Spend(
        currency=row.currency,
        priced=priced,
        requests=row.requests,
        searches=row.searches,
        input_tokens=row.input_tokens,
        cached_tokens=row.cached_tokens,
        output_tokens=row.output_tokens,
        amount=amount,
        cache_saving=cache_saving,
        batch_saving=batch_saving,
    )


def _add(into: list[Spend], spend: Spend) -> None:
    for i, have in enumerate(into):
        if (have.currency, have.priced) == (spend.currency, spend.priced):
            into[i] = have.plus(spend)
            return
    into.append(spend)


def report(store: HistoryStore, *, since: date | None, by: str) -> SpendReport:
    since_day = since.isoformat() if since else None
    result = SpendReport(since=since_day, by=by)
    for row in store.usage_totals(since_day=since_day, by=by):
        spend = _spend(row)
        _add(result.groups.setdefault(row.group, []), spend)
        _add(result.totals, spend)
    return result


def spent_per_currency(rows: Iterable[UsageTotals]) -> dict[str, Decimal]:
    spent: dict[str, Decimal] = {}
    for row in rows:
        if row.cost is not None and row.currency:
            spent[row.currency] = spent.get(row.currency, Decimal(0)) + Decimal(repr(row.cost))
    return spent


def parse_since(text: str, today: date | None = None) -> date:
    """``7d`` (the last 7 days, today included), ``0d`` (today) or ``YYYY-MM-DD``; ValueError.
    More days than the calendar holds mean every day there is."""
    today = today or datetime.now(UTC).date()
    value = text.strip().lower()
    if value.endswith("d") and value[:-1].isdigit():
        days = max(int(value[:-1]) - 1, 0)
        if days >= (today - date.min).days:
            return date.min
        return today - timedelta(days=days)
    return date.fromisoformat(value)
