"""Budgets as a user meets them: real processes against the emulator, whose counters prove
what was sent and what was not."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from kimi_cli.emulator import Emulator
from tests.helpers import run_process

CHAT = "POST /v1/chat/completions"


def chats(emulator: Emulator) -> int:
    return len(emulator.stats()["chat_requests"])


def conversations(isolated_env: Path) -> int:
    path = isolated_env / "data" / "history.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])


def test_a_daily_budget_below_the_worst_case_sends_nothing(
    global_region: Emulator, isolated_env: Path
) -> None:
    assert run_process("config", "set", "budget_daily", "0.1").code == 0
    # No --max-tokens: K3.1 gets 32,768 output tokens, up to 0.33 USD: over the budget.
    out = run_process("chat", "ECHO expensive")
    line = out.assert_one_error_line(6)
    assert "daily budget 0.1 USD would be exceeded" in line
    assert "0 USD spent" in line and "could cost up to 0.3277 USD" in line
    assert "nothing was sent" in line and "kimi config set budget_daily AMOUNT" in line
    assert out.stdout == ""
    assert chats(global_region) == 0
    assert conversations(isolated_env) == 0  # not even the question is kept

    # A smaller completion budget fits: sent, answered.
    done = run_process("chat", "--max-tokens", "1000", "ECHO cheap")
    assert (done.code, done.stdout) == (0, "cheap\n"), done.stderr
    assert chats(global_region) == 1


def test_the_warning_at_80_percent_then_the_refusal_names_what_was_spent(
    global_region: Emulator,
) -> None:
    assert run_process("config", "set", "budget_daily", "0.0125").code == 0
    first = run_process("chat", "--json", "--max-tokens", "1000", "ECHO one")
    assert first.code == 0, first.stderr
    warnings = [x for x in first.stderr.splitlines() if x.startswith("kimi: warning:")]
    assert len(warnings) == 1, first.stderr
    assert "daily budget: 0 USD of 0.0125 USD spent (80 % reached" in warnings[0]
    spent = json.loads(first.stdout)["cost"]["amount"]
    assert chats(global_region) == 1

    # What the first answer cost now counts: 0.0003 spent + up to 0.0124 > 0.0125.
    out = run_process("chat", "--max-tokens", "1240", "ECHO two")
    line = out.assert_one_error_line(6)
    assert f"{round(spent, 4):g} USD spent" in line, (spent, line)
    assert chats(global_region) == 1


def test_max_cost_caps_one_answer(global_region: Emulator) -> None:
    out = run_process("chat", "--max-cost", "0.05", "ECHO hi")
    line = out.assert_one_error_line(6)
    assert "more than --max-cost 0.05 USD" in line and "nothing was sent" in line
    assert "raise --max-cost" in line
    assert chats(global_region) == 0
    ok = run_process("chat", "--max-cost", "0.05", "--max-tokens", "100", "ECHO hi")
    assert (ok.code, ok.stdout) == (0, "hi\n"), ok.stderr
    run_process("chat", "--max-cost", "free", "ECHO hi").assert_one_error_line(2)
    run_process("chat", "--max-cost", "0", "ECHO hi").assert_one_error_line(2)
    assert chats(global_region) == 1


def test_a_budget_without_a_currency_is_said_unchecked_not_guessed(
    configured: Emulator,
) -> None:
    # Through KIMI_BASE_URL the emulator has no currency: nothing is refused on a guess.
    assert run_process("config", "set", "budget_daily", "0.0001").code == 0
    out = run_process("chat", "ECHO hi")
    assert (out.code, out.stdout) == (0, "hi\n"), out.stderr
    assert "budget not checked: the currency of this base URL is unknown" in out.stderr
    assert chats(configured) == 1


def test_each_request_of_a_search_turn_is_checked_with_what_the_turn_spent(
    global_region: Emulator,
) -> None:
    # The first request fits --max-cost; the second (after the search) would not, counting
    # what the first one and the search cost.
    out = run_process(
        "chat", "--web-search", "--max-cost", "0.012", "--max-tokens", "1000", "SEARCH paris"
    )
    line = out.assert_one_error_line(6)
    assert "of it already spent" in line and "--max-cost 0.012 USD" in line
    assert chats(global_region) == 1
    assert "searching: paris" in out.stderr


def test_doctor_shows_the_budgets_and_what_is_left(global_region: Emulator) -> None:
    none = json.loads(run_process("doctor", "--no-chat", "--json").stdout)
    budget = {c["id"]: c for c in none["checks"]}["budget"]
    assert budget["status"] == "pass" and "none set" in budget["detail"]

    assert run_process("config", "set", "budget_daily", "0.5").code == 0
    assert run_process("config", "set", "budget_monthly", "20").code == 0
    done = run_process("chat", "--json", "--max-tokens", "100", "ECHO hi")
    spent = json.loads(done.stdout)["cost"]["amount"]
    report = json.loads(run_process("doctor", "--no-chat", "--json").stdout)
    budget = {c["id"]: c for c in report["checks"]}["budget"]
    assert budget["status"] == "pass", budget
    left = f"{0.5 - spent:.4f}".rstrip("0")
    assert f"daily 0.5 USD: {round(spent, 4):g} USD spent, {left} USD left" in budget["detail"]
    assert "monthly 20 USD" in budget["detail"]

    # A budget already spent: every chat would be refused, so the doctor fails with 6.
    assert run_process("config", "set", "budget_daily", "0.0001").code == 0
    out = run_process("doctor", "--no-chat", "--json")
    budget = {c["id"]: c for c in json.loads(out.stdout)["checks"]}["budget"]
    assert (out.code, budget["status"], budget["exit_code"]) == (6, "fail", 6), budget
    assert "kimi config set budget_daily AMOUNT" in budget["fix"]
