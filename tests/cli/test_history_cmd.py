"""kimi history list/show/delete as a user runs them: real processes, stdout as data."""

from __future__ import annotations

import json

from kimi_cli.emulator import Emulator
from tests.helpers import run_process


def test_list_show_and_delete(configured: Emulator) -> None:
    first = json.loads(run_process("chat", "--json", "ECHO one").stdout)["conversation_id"]
    second = json.loads(run_process("chat", "--json", "ECHO two").stdout)["conversation_id"]

    listed = json.loads(run_process("history", "list", "--json").stdout)
    assert [c["id"] for c in listed] == [second, first]  # most recently used first
    assert listed[0]["messages"] == 2 and listed[0]["model"] == "kimi-k2.6"

    table = run_process("history", "list", "--limit", "1")
    assert table.code == 0 and len(table.stdout.splitlines()) == 1
    assert table.stdout.startswith(second)

    shown = json.loads(run_process("history", "show", "--json", first[:5]).stdout)  # a prefix
    assert [(m["role"], m["content"]) for m in shown["messages"]] == [
        ("user", "ECHO one"),
        ("assistant", "one"),
    ]
    text = run_process("history", "show", first).stdout
    assert "## user\nECHO one" in text and "## assistant\none" in text

    assert run_process("history", "delete", first).code == 0
    run_process("history", "show", first).assert_one_error_line(2)
    assert [c["id"] for c in json.loads(run_process("history", "list", "--json").stdout)] == [
        second
    ]
    gone = run_process("history", "delete", "--all")
    assert gone.code == 0 and "deleted 1" in gone.stderr
    assert json.loads(run_process("history", "list", "--json").stdout) == []


def test_delete_needs_an_id_or_all(configured: Emulator) -> None:
    run_process("history", "delete").assert_one_error_line(2)
    run_process("history", "delete", "abc", "--all").assert_one_error_line(2)
