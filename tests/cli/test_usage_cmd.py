"""kimi usage as a user runs it: real chats against the emulator, then the sums."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kimi_cli.api.types import Usage
from kimi_cli.emulator import Emulator
from kimi_cli.pricing import price_for
from tests.helpers import history_at, invoke, run_process


@pytest.fixture
def global_region(global_region: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The shared fixture, with kimi-k2.6."""
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    return global_region


def test_usage_totals_equal_the_sum_of_each_chat(
    global_region: Emulator, isolated_env: Path
) -> None:
    costs = []
    for prompt in ("ECHO one", "ECHO two two", "ECHO three three three"):
        done = json.loads(invoke("chat", "--json", prompt).stdout)
        costs.append(done["cost"])
    assert all(c and c["currency"] == "USD" for c in costs)
    out = invoke("usage", "--json")
    assert out.code == 0, out.stderr
    report = json.loads(out.stdout)
    (total,) = report["totals"]
    assert total["currency"] == "USD" and total["requests"] == 3
    assert total["cost"] == pytest.approx(sum(c["amount"] for c in costs), abs=1e-12)

    by_conversation = json.loads(invoke("usage", "--json", "--by", "conversation").stdout)
    assert len(by_conversation["groups"]) == 3

    # A batch result recorded by the batch feature is billed at 60 % and shows its saving.
    with history_at(isolated_env) as store:
        price = price_for("kimi-k2.6", "USD")
        assert price is not None
        store.record_batch_result(
            "batch_x",
            "r1",
            model="kimi-k2.6",
            usage=Usage(1_000_000, 0, 0),
            cost=0.57,
            currency="USD",
        )
        store.record_usage(kind="chat", model="kimi-k9", usage=Usage(5, 5, 0))  # no price
    report = json.loads(invoke("usage", "--json", "--by", "model").stdout)
    totals = {t["priced"]: t for t in report["totals"]}
    assert totals[True]["batch_saving"] == pytest.approx(0.38)  # 0.95 list - 0.57 paid
    assert totals[False]["cost"] is None and totals[False]["requests"] == 1
    text = invoke("usage", "--by", "model")
    assert text.code == 0 and "no known price (not counted)" in text.stdout
    assert "total" in text.stdout and "USD" in text.stdout


def test_usage_options_are_checked(global_region: Emulator) -> None:
    invoke("usage", "--since", "yesterday").assert_one_error_line(2)
    invoke("usage", "--by", "week").assert_one_error_line(2)
    empty = invoke("usage", "--since", "2026-01-01")
    assert empty.code == 0 and empty.stdout == "" and "nothing spent" in empty.stderr


def test_the_table_counts_searches_in_words(global_region: Emulator, isolated_env: Path) -> None:
    with history_at(isolated_env) as store:
        store.record_usage(kind="search", model="kimi-k2.6", requests=0, searches=1)
    assert ", 1 search " in invoke("usage").stdout
    with history_at(isolated_env) as store:
        store.record_usage(kind="search", model="kimi-k2.6", requests=0, searches=2)
    assert ", 3 searches " in invoke("usage").stdout


def test_more_days_than_the_calendar_holds_mean_every_day(global_region: Emulator) -> None:
    assert invoke("chat", "ECHO hi").code == 0
    out = run_process("usage", "--since", "99999999d")  # was an internal error (exit 70)
    assert (out.code, out.stderr) == (0, ""), out.stderr
    assert out.stdout.startswith("since 0001-01-01 (UTC), by day\n") and "1 request" in out.stdout
