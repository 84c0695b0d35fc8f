"""Prices per model and currency, each with its source and date; the cost of a ``Usage``.

The table below is data, one row per model and currency, copied from
``moonshot-api.md`` (the "Update of 2026-11-24" first, then §9 for models it does not
mention) and shipped as ``docs/pricing.md``. Prices are per 1M tokens.

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

__all__ = ["CURRENCIES", "PRICES", "Cost", "Price", "cost", "cost_of", "price_for"]

_UPDATE = "moonshot-api.md update 2026-11-24, third-party (apidog, apiyi)"
_UPDATE_1H = _UPDATE + "; 1-hour cache tier 4.00"
_K3_CNY = "moonshot-api.md update 2026-11-24, third-party, undated"
_K25 = "moonshot-api.md §9, official (platform.moonshot.ai K2.5 quickstart)"
_S9 = "moonshot-api.md §9, official (platform.moonshot.ai pricing, tax inclusive); retired"

# model, currency, cache hit, cache miss, output, cache write, source, as of
_TABLE: tuple[tuple[str, str, float | None, float, float, float | None, str, str], ...] = (
    # Update of 2026-11-24 (wins over §9 where both list a model).
    ("kimi-k3.1-pro", "USD", 0.20, 2.00, 10.00, 2.00, _UPDATE_1H, "2026-11-24"),
    ("kimi-k3.1-pro-highspeed", "USD", 0.20, 4.00, 20.00, 4.00, _UPDATE, "2026-11-24"),
    ("kimi-k3", "USD", 0.30, 3.00, 15.00, 3.00, _UPDATE, "2026-11-24"),
    ("kimi-k3", "CNY", 2.00, 20.00, 100.00, None, _K3_CNY, "undated"),
    ("kimi-k2.7-code", "USD", 0.19, 0.95, 4.00, None, _UPDATE, "2026-11-24"),
    ("kimi-k2.7-code-highspeed", "USD", 0.38, 1.90, 8.00, None, _UPDATE, "2026-11-24"),
    ("kimi-k2.6", "USD", 0.16, 0.95, 4.00, None, _UPDATE, "2026-11-24"),
    # §9, models the update does not list (retired by 2026-09, kept for old conversations).
    ("kimi-k2.5", "USD", 0.10, 0.60, 3.00, None, _K25, "2026-01"),
    ("kimi-k2-0905-preview", "USD", 0.15, 0.60, 2.50, None, _S9, "2025-12"),
    ("kimi-k2-0711-preview", "USD", 0.15, 0.60, 2.50, None, _S9, "2025-12"),
    ("kimi-k2-turbo-preview", "USD", 0.15, 1.15, 8.00, None, _S9, "2025-12"),
    ("kimi-k2-thinking", "USD", 0.15, 0.60, 2.50, None, _S9, "2025-12"),
    ("kimi-k2-thinking-turbo", "USD", 0.15, 1.15, 8.00, None, _S9, "2025-12"),
    ("moonshot-v1-8k", "USD", None, 0.20, 2.00, None, _S9, "2025-12"),
    ("moonshot-v1-32k", "USD", None, 1.00, 3.00, None, _S9, "2025-12"),
    ("moonshot-v1-128k", "USD", None, 2.00, 5.00, None, _S9, "2025-12"),
    ("moonshot-v1-8k-vision-preview", "USD", None, 0.20, 2.00, None, _S9, "2025-12"),
    ("moonshot-v1-32k-vision-preview", "USD", None, 1.00, 3.00, None, _S9, "2025-12"),
    ("moonshot-v1-128k-vision-preview", "USD", None, 2.00, 5.00, None, _S9, "2025-12"),
)
# Deliberately absent: kimi-latest and moonshot-v1-auto (price depends on the request's
# context tier), kimi-k2.6 in CNY (only "≈ ¥6.5 in / ¥27 out", no hit price; the update
# says "not found"), every other CNY price (not found).

CURRENCIES = ("USD", "CNY")


@dataclass(frozen=True)
class Price:
    """List price of one model in one currency, per 1M tokens."""

    model: str
    currency: str  # "USD" | "CNY"
    input_cache_hit: float | None
    input_cache_miss: float
    output: float
    cache_write: float | None
    source: str
    as_of: str


@dataclass(frozen=True)
class Cost:
    amount: float
    currency: str


PRICES: dict[tuple[str, str], Price] = {(row[0], row[1]): Price(*row) for row in _TABLE}


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


def cost(usage: Usage, price: Price) -> float:
    """What ``usage`` costs at ``price``, in ``price.currency``.

    ``input_tokens`` includes the cached tokens (as the API's ``prompt_tokens`` does):
    cached tokens are billed at the cache-hit price (at the miss price when no hit price
    is listed), the rest of the input at the miss price, the output at the output price.

    Cache *writes* are not billed here: the usage the API returns does not say how many
    tokens were written to the cache, so that part of the bill (K3 and K3.1 list a write
    price) cannot be computed and is left out. The figure is a lower bound on such models.

    The arithmetic is done in decimal and rounded once, so ``1_000 cached tokens at 0.30``
    gives exactly ``0.0003``.
    """
    input_tokens = max(usage.input_tokens, 0)
    cached = min(max(usage.cached_tokens, 0), input_tokens)
    output = max(usage.output_tokens, 0)
    miss = _d(price.input_cache_miss)
    hit = miss if price.input_cache_hit is None else _d(price.input_cache_hit)
    total = cached * hit + (input_tokens - cached) * miss + output * _d(price.output)
    return float(total / 1_000_000)


def cost_of(usage: Usage, model: str, currency: str | None) -> Cost | None:
    """The cost of ``usage`` on ``model`` in ``currency``, or None when the price is unknown."""
    price = price_for(model, currency)
    if price is None:
        return None
    return Cost(amount=cost(usage, price), currency=price.currency)
