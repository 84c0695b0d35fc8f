"""Prices and cost: the table as shipped, exact arithmetic, and "unknown" instead of a guess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kimi_cli.api.types import Usage
from kimi_cli.pricing import (
    BATCH,
    PRICES,
    WEB_SEARCH,
    Cost,
    Price,
    batch_cost,
    cost,
    cost_of,
    price_for,
    search_cost,
)

# The models live in 2026-11, all priced in USD.
UPDATE_MODELS = (
    "kimi-k3",
    "kimi-k3.1-pro",
    "kimi-k3.1-pro-highspeed",
    "kimi-k2.6",
    "kimi-k2.7-code",
    "kimi-k2.7-code-highspeed",
)
DOC = Path(__file__).resolve().parents[2] / "docs" / "pricing.md"


@pytest.mark.parametrize("model", [*UPDATE_MODELS, "kimi-k2.5"])
def test_every_listed_model_has_a_usd_price(model: str) -> None:
    price = price_for(model, "USD")
    assert price is not None
    assert price.model == model
    assert price.currency == "USD"
    assert price.input_cache_miss > 0 and price.output > 0
    assert price.source and price.as_of


def test_update_prices_as_published() -> None:
    # (hit, miss, output, cache write 5 min, cache write 1 h) as published by 2026-11
    expected = {
        "kimi-k3": (0.30, 3.00, 15.00, 3.00, 6.00),
        "kimi-k3.1-pro": (0.20, 2.00, 10.00, 2.00, 4.00),
        "kimi-k3.1-pro-highspeed": (0.20, 4.00, 20.00, 4.00, 8.00),
        "kimi-k2.6": (0.16, 0.95, 4.00, None, None),
        "kimi-k2.7-code": (0.19, 0.95, 4.00, None, None),  # not an older tracker's 1.00 / 3.00
        "kimi-k2.7-code-highspeed": (0.38, 1.90, 8.00, None, None),
    }
    for model, (hit, miss, out, write_5m, write_1h) in expected.items():
        price = price_for(model, "USD")
        assert price is not None
        assert (price.input_cache_hit, price.input_cache_miss, price.output) == (hit, miss, out)
        assert (price.cache_write_5m, price.cache_write_1h) == (write_5m, write_1h)
        assert price.source.startswith(("official", "third-party"))


def test_k3_cny_price() -> None:
    price = price_for("kimi-k3", "CNY")
    assert price is not None
    assert (price.input_cache_hit, price.input_cache_miss, price.output) == (2.0, 20.0, 100.0)
    assert price.as_of == "undated"
    assert "third-party" in price.source


def test_k25_official() -> None:
    price = price_for("kimi-k2.5", "USD")
    assert price is not None
    assert (price.input_cache_hit, price.input_cache_miss, price.output) == (0.10, 0.60, 3.00)
    assert "official" in price.source


@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k2.7-code", "kimi-k3.1-pro", "kimi-k2.5"])
def test_no_cny_price_means_none(model: str) -> None:
    assert price_for(model, "CNY") is None
    assert cost_of(Usage(1000, 1000, 0), model, "CNY") is None


@pytest.mark.parametrize(
    "model",
    ["kimi-k9", "moonshotai/kimi-k2.6", "kimi-k2-6", "Kimi K2.6", "kimi-latest", "", "k3"],
)
def test_unknown_model_is_none(model: str) -> None:
    assert price_for(model, "USD") is None
    assert cost_of(Usage(10, 10, 0), model, "USD") is None


def test_unknown_currency_is_none() -> None:
    assert price_for("kimi-k3", None) is None
    assert price_for("kimi-k3", "EUR") is None
    assert cost_of(Usage(10, 10, 0), "kimi-k3", None) is None


def test_currency_is_case_insensitive() -> None:
    assert price_for("kimi-k3", "usd") == price_for("kimi-k3", "USD")


def test_cost_without_cached_tokens() -> None:
    price = price_for("kimi-k3", "USD")
    assert price is not None
    # 1,000 in at $3.00/M = 0.003; 500 out at $15.00/M = 0.0075; total 0.0105
    assert cost(Usage(input_tokens=1000, output_tokens=500), price) == 0.0105


def test_cost_with_cached_tokens() -> None:
    price = price_for("kimi-k3", "USD")
    assert price is not None
    # 1,000 in of which 400 cached: 400 × 0.30/M = 0.00012, 600 × 3.00/M = 0.0018;
    # 500 out × 15.00/M = 0.0075; total 0.00942
    assert cost(Usage(1000, 500, 400), price) == 0.00942


def test_cost_k26_realistic() -> None:
    price = price_for("kimi-k2.6", "USD")
    assert price is not None
    # 12,345 in, 10,000 cached: 10,000 × 0.16 = 1,600; 2,345 × 0.95 = 2,227.75;
    # 678 out × 4.00 = 2,712; sum 6,539.75 per million = 0.00653975
    assert cost(Usage(12_345, 678, 10_000), price) == 0.00653975


def test_cost_hit_price_unknown_bills_cached_at_miss_price() -> None:
    price = price_for("moonshot-v1-8k", "USD")
    assert price is not None and price.input_cache_hit is None
    # 1,000 in (all cached, no hit price) at 0.20 = 200; 100 out at 2.00 = 200 -> 0.0004
    assert cost(Usage(1000, 100, 1000), price) == 0.0004


def test_cost_ignores_cache_writes() -> None:
    price = price_for("kimi-k3.1-pro", "USD")
    assert price is not None and price.cache_write_5m == 2.00
    # 1M miss tokens at 2.00 and nothing else: the write price is not added.
    assert cost(Usage(1_000_000, 0, 0), price) == 2.0


def test_cost_clamps_impossible_usage() -> None:
    price = Price("m", "USD", 1.0, 2.0, 3.0, None, None, "test", "2026-01-01")
    # more cached than input: everything is billed as cached, nothing twice
    assert cost(Usage(100, 0, 500), price) == 0.0001
    assert cost(Usage(-5, -5, -5), price) == 0.0
    assert cost(Usage(), price) == 0.0


def test_cost_of_cny() -> None:
    # 1,000 in with 200 cached: 200 × 2 = 400; 800 × 20 = 16,000; 100 out × 100 = 10,000
    # -> 26,400 per million = ¥0.0264
    assert cost_of(Usage(1000, 100, 200), "kimi-k3", "CNY") == Cost(0.0264, "CNY")


def test_table_rows_are_unique_and_well_formed() -> None:
    for (model, currency), price in PRICES.items():
        assert (price.model, price.currency) == (model, currency)
        assert currency in ("USD", "CNY")
        assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?|undated", price.as_of)
        for value in (price.input_cache_hit, price.cache_write_5m, price.cache_write_1h):
            assert value is None or value >= 0
        if price.input_cache_hit is not None:
            assert price.input_cache_hit <= price.input_cache_miss


def test_docs_are_generated_from_the_table() -> None:
    done = subprocess.run(
        [sys.executable, str(DOC.parent.parent / "scripts" / "gen_pricing_doc.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_sources_name_public_pages_not_private_notes() -> None:
    sources = [p.source for p in PRICES.values()] + [s.source for s in WEB_SEARCH.values()]
    for source in [*sources, BATCH.source]:
        assert source.startswith(("official", "third-party")), source
        assert "moonshot-api" not in source and "§" not in source


def test_batch_is_sixty_percent_of_list() -> None:
    price = price_for("kimi-k2.6", "USD")
    assert price is not None
    usage = Usage(12_345, 678, 10_000)
    assert cost(usage, price) == 0.00653975
    assert batch_cost(usage, price) == 0.00392385  # 6,539.75 x 0.6 per million, exactly
    assert cost_of(usage, "kimi-k2.6", "USD", batch=True) == Cost(0.00392385, "USD")
    assert BATCH.share == 0.6 and BATCH.source.startswith("official")


def test_search_price_per_region() -> None:
    assert search_cost(3, "USD") == Cost(0.015, "USD")
    assert search_cost(1, "cny") == Cost(0.03, "CNY")
    assert search_cost(0, "USD") == Cost(0.0, "USD")
    assert search_cost(2, None) is None
    assert search_cost(2, "EUR") is None


def test_docs_list_every_price() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "never guessed" in text
    for model, currency in PRICES:
        row = [line for line in text.splitlines() if line.startswith(f"| {model} | {currency} |")]
        assert len(row) == 1, (model, currency)
        price = PRICES[model, currency]
        for value in (price.input_cache_miss, price.output):
            assert f"{value:.2f}" in row[0]


@given(
    input_tokens=st.integers(0, 2_000_000),
    output_tokens=st.integers(0, 200_000),
    cached=st.integers(0, 2_000_000),
    key=st.sampled_from(sorted(PRICES)),
)
def test_cost_lies_between_all_hit_and_all_miss(
    input_tokens: int, output_tokens: int, cached: int, key: tuple[str, str]
) -> None:
    price = PRICES[key]
    hit = price.input_cache_miss if price.input_cache_hit is None else price.input_cache_hit
    out = output_tokens * price.output
    amount = cost(Usage(input_tokens, output_tokens, cached), price)
    low = (input_tokens * hit + out) / 1e6
    high = (input_tokens * price.input_cache_miss + out) / 1e6
    assert low * (1 - 1e-12) <= amount <= high * (1 + 1e-12)
    assert cost_of(Usage(input_tokens, output_tokens, cached), *key) == Cost(amount, key[1])


def test_importing_does_not_load_the_http_layer() -> None:
    code = (
        "import sys, kimi_cli.pricing, kimi_cli.history; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'rich', 'typer', 'platformdirs') or m.startswith(('kimi_cli.api', "
        "'kimi_cli.config'))))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert result.stdout.strip() == "[]"
