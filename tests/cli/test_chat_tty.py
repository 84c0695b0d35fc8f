"""Issue: chat. One-shot chat on a real terminal (a pty): Markdown, Ctrl-C, a clean exit."""

from __future__ import annotations

import re
import shlex
import signal
import sys
from pathlib import Path

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.cli.test_chat_images import png
from tests.helpers import history_at
from tests.terminal import Term, plain, spawn_kimi

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def spawn(*args: str) -> pexpect.spawn:
    return spawn_kimi(*args)


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
    store = history_at(isolated_env)
    last = store.last_used()
    assert last is not None
    answer = store.messages(last.id)[-1]
    assert answer.partial and answer.content.startswith("Lorem")
    store.close()


def test_single_newlines_stay_line_breaks_on_a_terminal(configured: Emulator) -> None:
    child = spawn("chat", "--reasoning", "hide", "ECHO Roses are red\nViolets are blue\n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    lines = [line.strip() for line in plain(child.before or "").splitlines()]
    assert "Roses are red" in lines and "Violets are blue" in lines  # not one joined line


def test_files_with_no_prompt_on_a_terminal_go_with_the_first_repl_message(
    configured: Emulator, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("the notes\n", encoding="utf-8")
    picture = tmp_path / "red.png"
    picture.write_bytes(png())
    term = Term.spawn(["chat", "-f", str(notes), "-f", str(picture)], configured)
    try:
        greeting = plain(term.prompt())
        assert f"attached to your first message: {notes}, {picture}" in greeting
        assert configured.stats()["chat_requests"] == []  # nothing sent before a question
        term.send("ECHO what are these\r")
        term.prompt()
        content = configured.stats()["chat_requests"][-1]["messages"][-1]["content"]
        assert content[0] == {
            "type": "text",
            "text": f"{notes}\n```\nthe notes\n```\n\nECHO what are these",
        }
        assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
        term.send("ECHO next\r")
        term.prompt()
        messages = configured.stats()["chat_requests"][-1]["messages"]
        assert messages[-1]["content"] == "ECHO next"  # attached once, to the first message
        earlier = messages[0]["content"]  # and the picture stays in the context
        assert earlier[1]["image_url"]["url"].startswith("data:image/png;base64,")
        assert term.exit() == 0
    finally:
        term.close()


def test_sigterm_mid_answer_says_where_it_was_saved_in_both_front_ends(
    configured: Emulator,
) -> None:
    for args in (["chat", "LOREM 300"], ["chat"]):
        configured.configure(faults=[{"name": "stall", "once": True}], stall=20)
        term = Term.spawn(args, configured)
        try:
            if args == ["chat"]:
                term.prompt()
                term.send("LOREM 300\r")
            term.expect("Lorem")
            term.child.kill(signal.SIGTERM)
            term.expect(r"kimi: terminated — the partial answer is saved: kimi history show \w+")
            term.child.expect(pexpect.EOF)
            term.child.close()
            assert term.child.exitstatus == 143
            assert "kimi: error" not in plain(term.output.getvalue())  # one line, not two
        finally:
            term.close()


def test_ctrl_c_and_ctrl_z_mid_answer_leave_the_terminal_clean(configured: Emulator) -> None:
    # An interactive shell, for its job control and its own view of the terminal's modes.
    configured.configure(token_delay=0.01)
    kimi = f"{shlex.quote(sys.executable)} -m kimi_cli chat 'LOREM 300'"
    term = Term.job_shell(configured)
    try:
        # Ctrl-C: no ^C echoed into the live area (after a full-width line the echo wraps,
        # the erase then misses the area's top line, and it shows twice)
        term.send(kimi + "\r")
        term.expect("Lorem")
        term.child.sendintr()
        seen = term.expect(r"\$ ")
        assert "interrupted" in seen and "^C" not in seen
        # Ctrl-Z: the live area is erased and the cursor shown before the process stops
        term.send(kimi + "\r")
        term.expect("Lorem")
        term.send("\x1a")
        seen = term.expect("Stopped")
        assert "^Z" not in seen and seen.rfind("\x1b[?25h") > seen.rfind("\x1b[?25l")
        term.expect(r"\$ ")
        term.send("stty -a\r")  # the shell has its terminal as it was: ^C echoed again
        assert re.search(r"(?<![-\w])echoctl", term.expect(r"\$ "))
        term.send("fg\r")  # the answer goes on to its end
        term.expect(r"\$ ")
        term.send("echo status=$?\r")
        term.expect("status=0")
    finally:
        term.close()
