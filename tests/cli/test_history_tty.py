"""kimi history on a terminal: Markdown rendered with times to the second; --all asks."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import history_at, run_process
from tests.terminal import spawn_kimi

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def spawn(*args: str) -> pexpect.spawn:
    return spawn_kimi(*args)


def test_show_renders_markdown_with_seconds(configured: Emulator) -> None:
    done = json.loads(run_process("chat", "--json", "ECHO # Title\n\nSome **bold** text.").stdout)
    child = spawn("history", "show", done["conversation_id"])
    child.expect(pexpect.EOF)
    output = child.before or ""
    answer = output.split("assistant · ")[1]
    assert "bold" in answer and "**bold**" not in answer and "\x1b[1mbold" in answer
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", output)


def test_delete_all_asks_on_a_terminal(configured: Emulator) -> None:
    run_process("chat", "ECHO keep me")
    child = spawn("history", "delete", "--all")
    child.expect(r"Delete all 1 conversations\? \[y/N\]: ")
    child.sendline("")
    child.expect(pexpect.EOF)
    assert "nothing deleted" in (child.before or "")
    assert len(json.loads(run_process("history", "list", "--json").stdout)) == 1

    child = spawn("history", "delete", "--all")
    child.expect(r"\[y/N\]: ")
    child.sendline("y")
    child.expect(pexpect.EOF)
    assert "deleted 1 conversation" in (child.before or "")
    assert json.loads(run_process("history", "list", "--json").stdout) == []


@pytest.mark.slow
def test_continuing_counts_the_stored_messages_singular_or_plural(
    configured: Emulator, isolated_env: Path
) -> None:
    # As history list counts them: an exchange is two messages, a lone question one.
    run_process("chat", "ECHO only one")
    child = spawn("chat", "-c")
    index = child.expect([r"continuing conversation \w+ \(2 messages\)", pexpect.TIMEOUT])
    assert index == 0, child.before
    child.close(force=True)
    with history_at(isolated_env) as store:
        lone = store.new_conversation(model="kimi-k2.6", title="lone")
        store.add_message(lone, "user", "a question whose answer never came")
    child = spawn("chat", "-c")
    index = child.expect([rf"continuing conversation {lone} \(1 message\)", pexpect.TIMEOUT])
    assert index == 0, child.before
    child.close(force=True)


def test_show_of_a_long_conversation_stops_at_ctrl_c(isolated_env: Path) -> None:
    with history_at(isolated_env) as store:
        long = store.new_conversation(model="kimi-k2.6", title="long")
        for n in range(3000):  # Markdown: drawn by rich, about a second and a half in all
            store.add_message(long, "user" if n % 2 else "assistant", f"*message {n}* " * 20)
    child = pexpect.spawn(  # cut at Ctrl-C, the last character drawn may be cut too
        sys.executable,
        ["-m", "kimi_cli", "history", "show", long],
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"},
        dimensions=(40, 100),
        timeout=20,
        encoding="utf-8",
        codec_errors="replace",
    )
    child.expect(r"message 1\b")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "message 2999" not in (child.before or "")
    assert "kimi: error: interrupted" in (child.before or "")
