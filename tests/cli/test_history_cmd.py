"""kimi history list/show/delete as a user runs them: the console script's own entry point,
stdout as data."""

from __future__ import annotations

import json
import os
import sys
import tracemalloc
from pathlib import Path

from kimi_cli.emulator import Emulator
from tests.helpers import history_at, invoke, run_process


def test_list_show_and_delete(configured: Emulator) -> None:
    first = json.loads(invoke("chat", "--json", "ECHO one").stdout)["conversation_id"]
    second = json.loads(invoke("chat", "--json", "ECHO two").stdout)["conversation_id"]

    listed = json.loads(invoke("history", "list", "--json").stdout)
    assert [c["id"] for c in listed] == [second, first]  # most recently used first
    assert listed[0]["messages"] == 2 and listed[0]["model"] == "kimi-k2.6"

    table = invoke("history", "list", "--limit", "1")
    assert table.code == 0 and len(table.stdout.splitlines()) == 1
    assert table.stdout.startswith(second)

    shown = json.loads(invoke("history", "show", "--json", first[:5]).stdout)  # a prefix
    assert [(m["role"], m["content"]) for m in shown["messages"]] == [
        ("user", "ECHO one"),
        ("assistant", "one"),
    ]
    text = invoke("history", "show", first).stdout
    assert "## user · " in text and "\nECHO one\n" in text and "## assistant · kimi-k2.6" in text

    assert invoke("history", "delete", first).code == 0
    invoke("history", "show", first).assert_one_error_line(2)
    assert [c["id"] for c in json.loads(invoke("history", "list", "--json").stdout)] == [second]
    invoke("history", "delete", "--all").assert_one_error_line(2)  # not a terminal
    gone = invoke("history", "delete", "--all", "--yes")
    assert gone.code == 0 and "deleted 1 conversation\n" in gone.stderr
    assert json.loads(invoke("history", "list", "--json").stdout) == []


def test_delete_needs_an_id_or_all(configured: Emulator) -> None:
    invoke("history", "delete").assert_one_error_line(2)
    invoke("history", "delete", "abc", "--all").assert_one_error_line(2)


def test_search_and_export(configured: Emulator) -> None:
    first = json.loads(invoke("chat", "--json", "ECHO the red fox").stdout)["conversation_id"]
    second = json.loads(invoke("chat", "--json", "ECHO a brown fox").stdout)["conversation_id"]
    hits = json.loads(invoke("history", "search", "--json", "fox").stdout)
    assert [h["conversation_id"] for h in hits][:2] == [second, second]  # newest first
    assert {h["conversation_id"] for h in hits} == {first, second}
    assert any("«fox»" in h["snippet"] for h in hits)
    table = invoke("history", "search", "red fox")
    assert table.code == 0 and table.stdout.startswith(first) and "«red»" in table.stdout
    none = invoke("history", "search", "zebra")
    assert none.code == 0 and none.stdout == "" and "no message contains" in none.stderr
    invoke("history", "search", " ").assert_one_error_line(2)

    markdown = invoke("history", "export", first[:6])
    assert markdown.code == 0
    assert markdown.stdout.startswith("# ECHO the red fox\n")
    assert f"- conversation: `{first}`" in markdown.stdout and "UTC" in markdown.stdout
    data = json.loads(invoke("history", "export", first, "--format", "json").stdout)
    assert data["id"] == first and [m["role"] for m in data["messages"]] == ["user", "assistant"]
    invoke("history", "export", first, "--format", "html").assert_one_error_line(2)
    invoke("history", "export", "zzzzzzzz").assert_one_error_line(2)


def test_ambiguous_id_is_a_usage_error(isolated_env: Path) -> None:
    firsts: list[str] = []
    with history_at(isolated_env) as store:
        while len(set(firsts)) == len(firsts):  # at most 33 ids over 32 first letters
            firsts.append(store.new_conversation(model="kimi-k2.6", title="x")[0])
    shared = firsts[-1]
    line = invoke("history", "show", shared).assert_one_error_line(2)
    assert "ambiguous" in line


PDF = b"%PDF-1.4\n\x00\x01Obligation: pay rent monthly\x00\x02Penalty clause seven\n%%EOF\n"


def test_export_lists_the_documents_and_searches_of_a_conversation(
    configured: Emulator, tmp_path: Path
) -> None:
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(PDF)
    first = json.loads(invoke("chat", "--json", "-f", str(contract), "ECHO read it").stdout)
    conversation = first["conversation_id"]
    searched = invoke("chat", "--session", conversation, "--web-search", "SEARCH rent law")
    assert searched.code == 0, searched.stderr

    markdown = invoke("history", "export", conversation).stdout
    assert f"- document: {contract} ({len(PDF)} bytes, file-" in markdown
    assert "- web searches: 1" in markdown and "> searched: rent law" in markdown
    assert f"document {contract} · {len(PDF)} bytes · sha256 " in markdown
    assert "Penalty clause seven" not in markdown  # named where it was sent, not printed

    data = json.loads(invoke("history", "export", conversation, "--format", "json").stdout)
    [document] = data["documents"]
    assert document["name"] == str(contract) and document["bytes"] == len(PDF)
    assert document["file_id"].startswith("file-") and len(document["sha256"]) == 64
    assert data["searches"] == 1
    hits = json.loads(invoke("history", "search", "--json", "rent law").stdout)
    assert conversation in {h["conversation_id"] for h in hits}

    # Written a message at a time, byte for byte the whole document of before.
    from kimi_cli.history.export import to_data, to_markdown

    store = history_at(Path(os.environ["KIMI_DATA_DIR"]).parent)
    summary = store.get(conversation)
    assert summary is not None
    messages = store.messages(conversation)
    args = (summary, messages, store.searches_in(conversation), store.documents(conversation))
    whole = json.dumps(to_data(*args), ensure_ascii=False, indent=2) + "\n"
    assert invoke("history", "export", conversation, "--format", "json").stdout == whole
    assert invoke("history", "show", "--json", conversation).stdout == whole
    assert markdown == to_markdown(*args) == invoke("history", "show", conversation).stdout


def test_export_of_a_long_conversation_holds_one_message_at_a_time(isolated_env: Path) -> None:
    """A conversation of 100,000 messages took 422 MiB to export as JSON (155 MiB as
    Markdown): the messages, their dicts and the whole text were all held at once."""
    from kimi_cli.cli import history_cmd

    store = history_at(isolated_env)
    conversation = store.new_conversation(model="kimi-k2.6", title="long")
    for n in range(400):
        store.add_message(conversation, "user" if n % 2 == 0 else "assistant", f"{n} " * 5000)
    summary = store.get(conversation)
    assert summary is not None
    for fmt in ("json", "markdown"):
        with open(os.devnull, "w", encoding="utf-8") as sink:
            stdout, sys.stdout = sys.stdout, sink
            tracemalloc.start()
            try:
                history_cmd._write_transcript(store, summary, fmt)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
                sys.stdout = stdout
        # 400 messages of 20 kB: 8 MB of text, at most a few messages held at once
        assert peak < 2 * 1024 * 1024, f"{fmt}: {peak / 2**20:.1f} MiB held"


def test_a_limit_below_one_is_a_usage_error_not_an_empty_history(configured: Emulator) -> None:
    assert invoke("chat", "ECHO kept").code == 0
    for command in ("list", "search"):
        words = ["kept"] if command == "search" else []
        for limit in ("0", "-1"):
            out = invoke("history", command, *words, "-n", limit)
            line = out.assert_one_error_line(2)
            assert "--limit must be at least 1" in line, (command, limit, line)
            assert "no conversations yet" not in out.stderr and out.stdout == ""


def test_a_limit_beyond_what_sqlite_holds_lists_what_there_is(configured: Emulator) -> None:
    # "-n 99999999999999999999" reached SQLite as LIMIT: exit 70, "internal error (OverflowError)".
    assert invoke("chat", "ECHO kept").code == 0
    huge = "99999999999999999999"
    listed = run_process("history", "list", "--limit", huge)
    assert (listed.code, listed.stderr) == (0, "") and len(listed.stdout.splitlines()) == 1
    found = run_process("history", "search", "kept", "-n", huge)
    assert (found.code, found.stderr) == (0, "") and "«kept»" in found.stdout


def test_the_store_lists_at_most_a_sqlite_sized_count(tmp_path: Path) -> None:
    from kimi_cli.history import MOST_LISTED, HistoryStore

    with HistoryStore(tmp_path / "history.db") as store:
        store.new_conversation(model="kimi-k3", title="one")
        assert len(store.recent(2**80)) == 1 and store.search("one", limit=2**80) == []
    assert MOST_LISTED == 10_000
