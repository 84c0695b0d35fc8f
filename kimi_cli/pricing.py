"""Prices per model and currency, each with its public source and date; what usage costs.

The tables below are data: one row per model and currency (per 1M tokens), the per-call
price of a web search, and the batch discount. ``docs/pricing.md`` is generated from them
(``python scripts/gen_pricing_doc.py``; a test fails when the page drifts). The sources are
the public pages each figure was read from; ``docs/api-notes.md`` collects them.

The rule: **an unknown price is shown as unknown, never guessed.** A model that is not
in the table has no price; a model with a USD price but no listed CNY price has no CNY
price (no conversion); an unknown currency has no price.

Standard library only; ``Usage`` is imported for type checking alone, so importing this
module does not import the HTTP layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kimi_cli.api's package imports httpx; only the type is needed
    from kimi_cli.api.types import Usage

__all__ = [
    "BATCH",
    "CURRENCIES",
    "PRICES",
    "WEB_SEARCH",
    "Cost",
    "Discount",
    "Price",
    "SearchPrice",
    "batch_cost",
    "cost",
    "cost_of",
    "price_for",
    "search_cost",
]

_APIYI = "third-party: docs.apiyi.com K3.1 overview (says it matches the official page)"
_APIYI_K3 = "third-party: novita.ai and docs.apiyi.com; official forum: hit = 1/10 of miss"
_K2 = "third-party: apidog.com and docs.apiyi.com model pages"
_K3_CNY = "third-party pages quoting platform.moonshot.cn, undated"
_K25 = "official: platform.moonshot.ai K2.5 quickstart"
_V1 = "official: platform.moonshot.ai/docs/pricing/chat (tax inclusive); retired"

# model, currency, cache hit, cache miss, output, cache write 5 min, cache write 1 h,
# source, as of
_TABLE: tuple[
    tuple[str, str, float | None, float, float, float | None, float | None, str, str], ...
] = (
    ("kimi-k3.1-pro", "USD", 0.20, 2.00, 10.00, 2.00, 4.00, _APIYI, "2026-10-25"),
    ("kimi-k3.1-pro-highspeed", "USD", 0.20, 4.00, 20.00, 4.00, 8.00, _APIYI, "2026-10-25"),
    ("kimi-k3", "USD", 0.30, 3.00, 15.00, 3.00, 6.00, _APIYI_K3, "2026-10-25"),
    ("kimi-k3", "CNY", 2.00, 20.00, 100.00, None, None, _K3_CNY, "undated"),
    ("kimi-k2.7-code", "USD", 0.19, 0.95, 4.00, None, None, _K2, "2026-11-24"),
    ("kimi-k2.7-code-highspeed", "USD", 0.38, 1.90, 8.00, None, None, _K2, "2026-11-24"),
    ("kimi-k2.6", "USD", 0.16, 0.95, 4.00, None, None, _K2, "2026-11-24"),
    # Retired by 2026-09; kept so old conversations keep their cost.
    ("kimi-k2.5", "USD", 0.10, 0.60, 3.00, None, None, _K25, "2026-01"),
    ("kimi-k2-0905-preview", "USD", 0.15, 0.60, 2.50, None, None, _V1, "2025-12"),
    ("kimi-k2-0711-preview", "USD", 0.15, 0.60, 2.50, None, None, _V1, "2025-12"),
    ("kimi-k2-turbo-preview", "USD", 0.15, 1.15, 8.00, None, None, _V1, "2025-12"),
    ("kimi-k2-thinking", "USD", 0.15, 0.60, 2.50, None, None, _V1, "2025-12"),
    ("kimi-k2-thinking-turbo", "USD", 0.15, 1.15, 8.00, None, None, _V1, "2025-12"),
    ("moonshot-v1-8k", "USD", None, 0.20, 2.00, None, None, _V1, "2025-12"),
    ("moonshot-v1-32k", "USD", None, 1.00, 3.00, None, None, _V1, "2025-12"),
    ("moonshot-v1-128k", "USD", None, 2.00, 5.00, None, None, _V1, "2025-12"),
    ("moonshot-v1-8k-vision-preview", "USD", None, 0.20, 2.00, None, None, _V1, "2025-12"),
    ("moonshot-v1-32k-vision-preview", "USD", None, 1.00, 3.00, None, None, _V1, "2025-12"),
    ("moonshot-v1-128k-vision-preview", "USD", None, 2.00, 5.00, None, None, _V1, "2025-12"),
)
# Deliberately absent: kimi-latest and moonshot-v1-auto (price depends on the request's
# context tier), kimi-k2.6 in CNY (only "≈ ¥6.5 in / ¥27 out", no hit price), K3.1 in CNY
# and every other CNY price (not found).

CURRENCIES = ("USD", "CNY")


@dataclass(frozen=True)
class Price:
    """List price of one model in one currency, per 1M tokens."""

    model: str
    currency: str  # "USD" | "CNY"
    input_cache_hit: float | None
    input_cache_miss: float
    output: float
    cache_write_5m: float | None  # writing a prompt to the cache, default 5-minute TTL
    cache_write_1h: float | None  # the same with the 1-hour TTL
    source: str
    as_of: str


@dataclass(frozen=True)
class SearchPrice:
    """What one web-search call costs, on top of the tokens its results add."""

    currency: str
    per_call: float
    source: str
    as_of: str


@dataclass(frozen=True)
class Discount:
    """The share of the list price a Batch API request is billed at."""

    share: float
    source: str
    as_of: str


@dataclass(frozen=True)
class Cost:
    amount: float
    currency: str

    def plus(self, other: Cost) -> Cost:
        """The sum, added in decimal: 0.00235 + 0.005 is 0.00735, not 0.007350000000000001."""
        return Cost(float(_d(self.amount) + _d(other.amount)), self.currency)

    def minus(self, other: Cost) -> Cost:
        return Cost(float(_d(self.amount) - _d(other.amount)), self.currency)


PRICES: dict[tuple[str, str], Price] = {(row[0], row[1]): Price(*row) for row in _TABLE}

WEB_SEARCH: dict[str, SearchPrice] = {
    "USD": SearchPrice("USD", 0.005, "official: platform.kimi.ai/docs/pricing/tools", "2026-11"),
    "CNY": SearchPrice("CNY", 0.03, "official: platform.kimi.com/docs/pricing/tools", "2026-11"),
}

BATCH = Discount(0.6, "official: platform.kimi.ai/docs/guide/use-batch-api (40 % off)", "2026-11")


def price_for(model: str, currency: str | None) -> Price | None:
    """The listed price of ``model`` in ``currency``, or None when it is not known.

    ``currency`` is "USD" or "CNY" (any case); None means the currency is unknown (an
    explicit base URL with no configured currency), so there is no price either.
    """
    if currency is None:
        return None
    return PRICES.get((model, currency.upper()))


def _d(value: float) -> Decimal:
    return Decimal(repr(value))


def _list_cost(usage: Usage, price: Price) -> Decimal:
    input_tokens = max(usage.input_tokens, 0)
    cached = min(max(usage.cached_tokens, 0), input_tokens)
    output = max(usage.output_tokens, 0)
    miss = _d(price.input_cache_miss)
    hit = miss if price.input_cache_hit is None else _d(price.input_cache_hit)
    return cached * hit + (input_tokens - cached) * miss + output * _d(price.output)


def cost(usage: Usage, price: Price) -> float:
    """What ``usage`` costs at ``price``, in ``price.currency``.

    ``input_tokens`` includes the cached tokens (as the API's ``prompt_tokens`` does):
    cached tokens are billed at the cache-hit price (at the miss price when no hit price
    is listed), the rest of the input at the miss price, the output at the output price.

    Cache *writes* are not billed here: the usage Chat Completions returns does not say
    how many tokens were written to the cache, so that part of the bill (K3 and K3.1 list
    a write price) cannot be computed and is left out. The figure is a lower bound there.

    The arithmetic is done in decimal and rounded once, so ``1_000 cached tokens at 0.30``
    gives exactly ``0.0003``.
    """
    return float(_list_cost(usage, price) / 1_000_000)


def batch_cost(usage: Usage, price: Price) -> float:
    """What ``usage`` costs when it came from a Batch API job (``BATCH.share`` of list)."""
    return float(_list_cost(usage, price) * _d(BATCH.share) / 1_000_000)


def cost_of(usage: Usage, model: str, currency: str | None, *, batch: bool = False) -> Cost | None:
    """The cost of ``usage`` on ``model`` in ``currency``, or None when the price is unknown."""
    price = price_for(model, currency)
    if price is None:
        return None
    amount = batch_cost(usage, price) if batch else cost(usage, price)
    return Cost(amount=amount, currency=price.currency)


def search_cost(calls: int, currency: str | None) -> Cost | None:
    """What ``calls`` web-search calls cost in ``currency``; None when no price is listed.

    Only the per-call fee: the results come back as input tokens of the next request,
    which that request's usage already counts.
    """
    price = WEB_SEARCH.get(currency.upper()) if currency else None
    if price is None:
        return None
    return Cost(amount=float(max(calls, 0) * _d(price.per_call)), currency=price.currency)
