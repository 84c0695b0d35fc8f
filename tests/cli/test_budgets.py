"""Budgets as a user meets them: the console script's entry point against the emulator, whose
counters prove what was sent and what was not."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from kimi_cli.emulator import Emulator
from tests.helpers import chats, history_at, invoke


def conversations(isolated_env: Path) -> int:
    path = isolated_env / "data" / "history.db"
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])


def test_a_daily_budget_below_the_worst_case_sends_nothing(
    global_region: Emulator, isolated_env: Path
) -> None:
    assert invoke("config", "set", "budget_daily", "0.1").code == 0
    # No --max-tokens: K3.1 gets 32,768 output tokens, up to 0.33 USD: over the budget.
    out = invoke("chat", "ECHO expensive")
    line = out.assert_one_error_line(6)
    assert "daily budget 0.1 USD would be exceeded" in line
    assert "0 USD spent" in line and "could cost up to 0.3277 USD" in line
    assert "nothing was sent" in line and "kimi config set budget_daily AMOUNT" in line
    assert out.stdout == ""
    assert chats(global_region) == 0
    assert conversations(isolated_env) == 0  # not even the question is kept

    # A smaller completion budget fits: sent, answered.
    done = invoke("chat", "--max-tokens", "1000", "ECHO cheap")
    assert (done.code, done.stdout) == (0, "cheap\n"), done.stderr
    assert chats(global_region) == 1


def test_the_warning_at_80_percent_then_the_refusal_names_what_was_spent(
    global_region: Emulator,
) -> None:
    assert invoke("config", "set", "budget_daily", "0.0125").code == 0
    first = invoke("chat", "--json", "--max-tokens", "1000", "ECHO one")
    assert first.code == 0, first.stderr
    warnings = [x for x in first.stderr.splitlines() if x.startswith("kimi: warning:")]
    assert len(warnings) == 1, first.stderr
    assert "daily budget: 0 USD of 0.0125 USD spent (80 % reached" in warnings[0]
    spent = json.loads(first.stdout)["cost"]["amount"]
    assert chats(global_region) == 1

    # What the first answer cost now counts: 0.0003 spent + up to 0.0124 > 0.0125.
    out = invoke("chat", "--max-tokens", "1240", "ECHO two")
    line = out.assert_one_error_line(6)
    assert f"{round(spent, 4):g} USD spent" in line, (spent, line)
    assert chats(global_region) == 1


def test_max_cost_caps_one_answer(global_region: Emulator) -> None:
    out = invoke("chat", "--max-cost", "0.05", "ECHO hi")
    line = out.assert_one_error_line(6)
    assert "more than --max-cost 0.05 USD" in line and "nothing was sent" in line
    assert "raise --max-cost" in line
    assert chats(global_region) == 0
    ok = invoke("chat", "--max-cost", "0.05", "--max-tokens", "100", "ECHO hi")
    assert (ok.code, ok.stdout) == (0, "hi\n"), ok.stderr
    invoke("chat", "--max-cost", "free", "ECHO hi").assert_one_error_line(2)
    invoke("chat", "--max-cost", "0", "ECHO hi").assert_one_error_line(2)
    assert chats(global_region) == 1


def test_a_budget_without_a_currency_is_said_unchecked_not_guessed(
    configured: Emulator,
) -> None:
    # Through KIMI_BASE_URL the emulator has no currency: nothing is refused on a guess.
    assert invoke("config", "set", "budget_daily", "0.0001").code == 0
    out = invoke("chat", "ECHO hi")
    assert (out.code, out.stdout) == (0, "hi\n"), out.stderr
    assert "budget not checked: the currency of this base URL is unknown" in out.stderr
    assert chats(configured) == 1


def test_each_request_of_a_search_turn_is_checked_with_what_the_turn_spent(
    global_region: Emulator,
) -> None:
    # The first request fits --max-cost; the second (after the search) would not, counting
    # what the first one and the search cost.
    out = invoke(
        "chat", "--web-search", "--max-cost", "0.012", "--max-tokens", "1000", "SEARCH paris"
    )
    line = out.assert_one_error_line(6)
    assert "of it already spent" in line and "--max-cost 0.012 USD" in line
    # The question and the search were sent: the line must not say that nothing was.
    assert "nothing was sent" not in line
    assert "the next request was not sent; what arrived is saved" in line
    assert chats(global_region) == 1
    assert "searching: paris" in out.stderr


def test_the_fee_of_a_search_is_checked_before_the_search_runs(
    global_region: Emulator, isolated_env: Path
) -> None:
    # The first request fits --max-cost 0.004 (at most ~0.0034 USD); the search it asks for
    # costs 0.005 USD more, which would take the answer past the cap: it is not run.
    out = invoke(
        "chat", "--web-search", "--json", "--max-cost", "0.004", "--max-tokens", "300", "SEARCH x"
    )
    line = out.assert_one_error_line(6)
    assert "more than --max-cost 0.004 USD" in line and "the search was not run" in line
    assert "nothing was sent" not in line
    assert chats(global_region) == 1
    assert global_region.stats()["endpoints"].get("formulas.fibers", 0) == 0
    assert "searching:" not in out.stderr
    assert out.stdout == ""  # no text arrived: --json prints nothing on a failure
    # The question and the request that asked for the search are kept, with what it cost,
    # which stays under the cap.
    (summary,) = history_at(isolated_env).recent()
    question, answer = history_at(isolated_env).messages(summary.id)
    assert question.content == "SEARCH x" and answer.partial
    assert answer.cost is not None and 0 < answer.cost <= 0.004


def test_a_daily_budget_counts_the_fees_of_the_searches_asked_for(
    global_region: Emulator,
) -> None:
    # The first request fits (at most ~0.0034 USD); its two searches (0.01 USD) do not.
    assert invoke("config", "set", "budget_daily", "0.01").code == 0
    out = invoke("chat", "--web-search", "--max-tokens", "300", "SEARCH a || b")
    line = out.assert_one_error_line(6)
    assert "daily budget 0.01 USD would be exceeded" in line
    assert "these 2 web searches could cost up to 0.01 USD" in line, line
    assert "the searches were not run" in line and "ask without --web-search" in line
    assert global_region.stats()["endpoints"].get("formulas.fibers", 0) == 0


def test_doctor_shows_the_budgets_and_what_is_left(global_region: Emulator) -> None:
    none = json.loads(invoke("doctor", "--no-chat", "--json").stdout)
    budget = {c["id"]: c for c in none["checks"]}["budget"]
    assert budget["status"] == "pass" and "none set" in budget["detail"]

    assert invoke("config", "set", "budget_daily", "0.5").code == 0
    assert invoke("config", "set", "budget_monthly", "20").code == 0
    done = invoke("chat", "--json", "--max-tokens", "100", "ECHO hi")
    spent = json.loads(done.stdout)["cost"]["amount"]
    report = json.loads(invoke("doctor", "--no-chat", "--json").stdout)
    budget = {c["id"]: c for c in report["checks"]}["budget"]
    assert budget["status"] == "pass", budget
    left = f"{0.5 - spent:.4f}".rstrip("0")
    assert f"daily 0.5 USD: {round(spent, 4):g} USD spent, {left} USD left" in budget["detail"]
    assert "monthly 20 USD" in budget["detail"]

    # A budget already spent: every chat would be refused, so the doctor fails with 6.
    assert invoke("config", "set", "budget_daily", "0.0001").code == 0
    out = invoke("doctor", "--no-chat", "--json")
    budget = {c["id"]: c for c in json.loads(out.stdout)["checks"]}["budget"]
    assert (out.code, budget["status"], budget["exit_code"]) == (6, "fail", 6), budget
    assert "kimi config set budget_daily AMOUNT" in budget["fix"]
