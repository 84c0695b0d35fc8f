"""Budgets: the worst case, the 80 % warning, the refusal line and its exit code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from kimi_cli.api.types import Usage
from kimi_cli.budget import (
    BudgetExceededError,
    check_budget,
    parse_amount,
    spent_today_and_month,
    verdict_before_sending,
    worst_case,
)
from kimi_cli.errors import ExitCode
from kimi_cli.history import HistoryStore

D = Decimal


def test_worst_case_is_miss_price_plus_the_whole_completion_budget() -> None:
    # kimi-k3: 1M input at 3.00 + 100k output at 15.00 = 3 + 1.5
    assert worst_case("kimi-k3", "USD", 1_000_000, 100_000) == D("4.5")
    assert worst_case("kimi-k3", "USD", 1_000_000, 100_000, batch=True) == D("2.7")
    assert worst_case("kimi-k9", "USD", 10, 10) is None
    assert worst_case("kimi-k3.1-pro", "CNY", 10, 10) is None


def test_no_budget_is_always_ok() -> None:
    assert check_budget(D(100), "USD", D(0), D(0), None).status == "ok"


def test_refusal_names_the_budget_the_spend_and_how_to_raise_it() -> None:
    verdict = check_budget(D("0.5"), "USD", D("4.8"), D("4.8"), None, daily=D(5))
    assert verdict.status == "refuse"
    with pytest.raises(BudgetExceededError) as caught:
        verdict.raise_if_refused()
    line = caught.value.line()
    assert caught.value.exit_code == ExitCode.NO_BALANCE == 6
    assert "daily budget 5 USD" in line and "4.8 USD spent" in line
    assert "kimi config set budget_daily" in line and "nothing was sent" in line


def test_warning_at_80_percent() -> None:
    verdict = check_budget(D("0.1"), "USD", D(0), D("3.9"), None, monthly=D(5))
    assert verdict.status == "warn" and verdict.message and "monthly budget" in verdict.message
    assert check_budget(D("0.1"), "USD", D(0), D(1), None, monthly=D(5)).status == "ok"


def test_max_cost_and_unknown_price() -> None:
    verdict = check_budget(D(2), "USD", D(0), D(0), D(1))
    assert verdict.status == "refuse" and verdict.message and "--max-cost" in verdict.message
    unchecked = check_budget(None, "USD", D(0), D(0), D(1))
    assert unchecked.status == "unchecked"  # never refused on a guess
    unchecked.raise_if_refused()


def test_parse_amount() -> None:
    assert parse_amount("2.50") == D("2.50") and parse_amount(5) == D(5)
    for bad in ("0", "-1", "five", "nan", "inf"):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_spent_comes_from_history_in_one_call(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.db") as store:
        store.record_usage(
            kind="chat", model="kimi-k3", usage=Usage(1, 1, 0), cost=0.75, currency="USD"
        )
        store.record_usage(kind="chat", model="kimi-k3", cost=9.0, currency="CNY")
        today = date.today()
        assert spent_today_and_month(store, "USD") == (D("0.75"), D("0.75"))
        verdict = verdict_before_sending(
            store,
            model="kimi-k3",
            currency="USD",
            input_tokens=100_000,
            completion_budget=10_000,
            daily=D(1),
            monthly=None,
            max_cost=None,
            today=today,
        )
        # 0.75 spent + worst 0.3 + 0.15 = 1.2 > 1
        assert verdict.status == "refuse"


def test_budget_keys_are_config_keys(isolated_env: Path) -> None:
    import json

    from tests.helpers import run_process

    assert run_process("config", "set", "budget_daily", "5").code == 0
    assert run_process("config", "set", "budget_monthly", "50.5").code == 0
    run_process("config", "set", "budget_daily", "-1").assert_one_error_line(2)
    shown = json.loads(run_process("config", "show", "--json").stdout)
    daily = shown["budget_daily"]["value"] if isinstance(shown["budget_daily"], dict) else None
    assert daily == 5.0 and parse_amount(daily) == D(5)


def test_what_earlier_requests_cost_counts_and_a_batch_job_is_named() -> None:
    # 4.5 spent today, 0.3 by this answer's first request, up to 0.3 more: over 5.
    verdict = check_budget(D("0.3"), "USD", D("4.5"), D("4.5"), None, daily=D(5), pending=D("0.3"))
    assert verdict.status == "refuse" and verdict.message and "4.8 USD spent" in verdict.message
    capped = check_budget(D("0.3"), "USD", D(0), D(0), D("0.5"), pending=D("0.3"))
    assert capped.message and "could cost up to 0.6 USD (0.3 USD of it already spent)" in (
        capped.message
    )
    job = check_budget(D(6), "USD", D(0), D(0), None, daily=D(5), what="batch job")
    assert job.message and "this batch job could cost up to 6 USD" in job.message


def test_limits_from_settings_and_the_flag() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from kimi_cli.budget import Limits, parse_max_cost
    from kimi_cli.errors import UsageError

    settings = cast(Any, SimpleNamespace(budget_daily=5.0, budget_monthly=None))
    limits = Limits.of(settings, "0.25")
    assert (limits.daily, limits.monthly, limits.max_cost) == (D(5), None, D("0.25"))
    assert limits.any and not Limits().any
    assert parse_max_cost(None) is None
    with pytest.raises(UsageError) as caught:
        parse_max_cost("lots")
    assert caught.value.line().startswith("--max-cost: 'lots' is not an amount")


def test_a_worst_case_is_rounded_up_so_a_refusal_never_reads_equal() -> None:
    # 0.00101 > 0.001: shown to the ten-thousandth it must not read "0.001 … more than 0.001".
    verdict = check_budget(D("0.00101"), "USD", D(0), D(0), D("0.001"))
    assert verdict.status == "refuse" and verdict.message
    assert "could cost up to 0.0011 USD, more than --max-cost 0.001 USD" in verdict.message
    daily = check_budget(D("0.00101"), "USD", D(0), D(0), None, daily=D("0.001"))
    assert daily.message and "could cost up to 0.0011 USD" in daily.message
