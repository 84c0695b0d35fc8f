"""Issue: chat. One-shot chat on a real terminal (a pty): Markdown, Ctrl-C, a clean exit."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from kimi_cli.history import HistoryStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "kimi_cli", *args],
        env=env,
        dimensions=(40, 100),
        timeout=20,
        encoding="utf-8",
    )


def test_markdown_is_rendered_on_a_terminal(configured: Emulator) -> None:
    child = spawn("chat", "ECHO # Title\n\nSome **bold** text.\n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    output = child.before or ""
    assert "Title" in output and "bold" in output
    assert "**bold**" not in output  # rendered, not raw
    assert "\x1b[" in output  # styled for the terminal


def test_raw_keeps_the_text_as_sent(configured: Emulator) -> None:
    child = spawn("chat", "--raw", "--reasoning", "hide", "ECHO Some **bold** text.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Some **bold** text." in (child.before or "")


def test_ctrl_c_mid_answer_exits_130_with_the_partial_answer_kept(
    configured: Emulator, isolated_env: Path
) -> None:
    configured.configure(faults=[{"name": "stall"}], stall=20)
    child = spawn("chat", "LOREM 300")
    child.expect("Lorem")  # the answer has started, then it stalls
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    output = child.before or ""
    assert "Traceback" not in output
    assert "interrupted" in output and "kimi history show" in output
    store = HistoryStore(isolated_env / "data" / "history.db")
    last = store.last_used()
    assert last is not None
    answer = store.messages(last.id)[-1]
    assert answer.partial and answer.content.startswith("Lorem")
    store.close()
