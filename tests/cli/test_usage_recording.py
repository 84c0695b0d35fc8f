"""What `kimi usage` adds up is what each answer said it cost: chats, web searches and REPL
turns, recorded as they happen. Real processes against the emulator."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import run_process
from tests.terminal import Term, closing


@pytest.mark.slow
def test_usage_totals_equal_the_sum_of_each_chat_and_search(
    global_region: Emulator, isolated_env: Path
) -> None:
    answers = [
        json.loads(run_process("chat", "--json", prompt).stdout)
        for prompt in ("ECHO one", "ECHO two two")
    ]
    searched = run_process("chat", "--json", "--web-search", "SEARCH paris weather || rome")
    assert searched.code == 0, searched.stderr
    answers.append(json.loads(searched.stdout))
    assert answers[-1]["search_cost"]["calls"] == 2
    costs = [a["cost"] for a in answers]
    assert all(c and c["currency"] == "USD" for c in costs)

    out = run_process("usage", "--json")
    assert out.code == 0, out.stderr
    (total,) = json.loads(out.stdout)["totals"]
    assert total["cost"] == pytest.approx(sum(c["amount"] for c in costs), abs=1e-12)
    assert total["searches"] == 2
    assert total["requests"] == 4  # two chats, and the search turn's two requests
    kinds = usage_kinds(isolated_env)
    assert kinds == {"chat": 3, "search": 1}


def usage_kinds(isolated_env: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(isolated_env / "data" / "history.db")) as db:
        rows = db.execute("SELECT kind, COUNT(*) FROM usage GROUP BY kind").fetchall()
    return {str(kind): int(count) for kind, count in rows}


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    yield from closing()


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="pexpect needs a POSIX pty")
def test_repl_turns_are_billed_as_repl_and_checked_against_the_budgets(
    emulator: Emulator, terms: list[Term], isolated_env: Path
) -> None:
    assert run_process("config", "set", "currency", "USD").code == 0
    term = Term.spawn(["chat", "-m", "kimi-k3.1-pro", "--max-tokens", "100"], emulator)
    terms.append(term)
    term.prompt()
    term.send("ECHO in the repl\r")
    term.expect("in the repl")
    term.prompt()
    assert term.exit() == 0
    assert usage_kinds(isolated_env) == {"repl": 1}

    # The config's budgets apply to every REPL turn: refused with nothing sent; it goes on.
    assert run_process("config", "set", "budget_daily", "0.0001").code == 0
    term = Term.spawn(["chat", "-m", "kimi-k3.1-pro", "--max-tokens", "100"], emulator)
    terms.append(term)
    term.prompt()
    term.send("ECHO over budget\r")
    shown = term.prompt()
    errors = re.findall(r"kimi: error: [^\r\n]*", shown)
    assert len(errors) == 1 and "daily budget 0.0001 USD would be exceeded" in errors[0]
    assert len(emulator.stats()["chat_requests"]) == 1
    assert term.exit() == 0
