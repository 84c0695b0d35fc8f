"""A model's text full of terminal escapes, on a terminal: shown as control pictures, never
obeyed (no retitled window, no cleared screen, no clipboard write), wherever it is drawn;
byte for byte in a pipe."""

from __future__ import annotations

import json
import os
import select
import sys

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from kimi_cli.render.answer import PlainSink, ReasoningPrinter
from kimi_cli.render.terminal import shown_controls
from tests.helpers import invoke, run_process
from tests.terminal import Term, spawn_kimi

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

#: Retitle the window, clear the screen, write the clipboard (OSC 52), hide a line with CR.
HOSTILE = "a\x1b]0;PWNED\x07b\x1b[2Jc\x1b]52;c;ZXZpbA==\x07d\rE\x9bF"
OBEYED = ("\x1b]0;", "\x1b[2J", "\x1b]52;", "\x9b")


def assert_shown_not_obeyed(output: str) -> None:
    for sequence in OBEYED:
        assert sequence not in output
    assert "␛]0;PWNED␇b␛[2Jc␛]52;c;ZXZpbA==␇d" in output


def test_shown_controls_keeps_text_tabs_and_newlines() -> None:
    assert shown_controls("a\tb\nc") == "a\tb\nc"
    assert shown_controls("x\x1b[31my\r\n\x00\x7f\x85") == "x␛[31my\n␀␡\ufffd"


def test_raw_answer_on_a_terminal(configured: Emulator) -> None:
    child = spawn_kimi("chat", "--raw", "--reasoning", "hide", "ECHO " + HOSTILE)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert_shown_not_obeyed(child.before or "")


def test_a_pipe_still_gets_the_bytes(configured: Emulator) -> None:
    done = run_process("chat", "ECHO " + HOSTILE)
    assert done.stdout == HOSTILE + "\n"


def test_reasoning_and_plain_text_on_a_terminal() -> None:
    main, other = os.openpty()
    with open(other, "w", encoding="utf-8", closefd=True) as tty:
        printer = ReasoningPrinter(tty)
        printer.reasoning(HOSTILE)
        printer.close()
        sink = PlainSink(tty)
        sink.content(HOSTILE)
        sink.finish()
        tty.flush()
        raw = b""
        while select.select([main], [], [], 0.5)[0]:  # all of it: a read may return a part
            raw += os.read(main, 65536)
    os.close(main)
    written = raw.decode("utf-8")
    assert written.count("␛]0;PWNED") == 2
    for sequence in OBEYED:
        assert sequence not in written


def test_history_show_and_list_on_a_terminal(configured: Emulator) -> None:
    done = json.loads(invoke("chat", "--json", "ECHO " + HOSTILE).stdout)
    invoke("chat", HOSTILE)  # a title of its own: the message typed
    child = spawn_kimi("history", "show", done["conversation_id"], columns=60)
    child.expect(pexpect.EOF)
    assert_shown_not_obeyed(child.before or "")

    for command in (["history", "list"], ["history", "search", "PWNED"]):
        child = spawn_kimi(*command)
        child.expect(pexpect.EOF)
        assert "␛]0;" in (child.before or ""), command
        assert "\x1b]0;" not in (child.before or ""), command


def test_repl_thinking_and_echo(configured: Emulator) -> None:
    term = Term.spawn(["chat"], configured)
    try:
        term.prompt()
        # A bracketed paste keeps its escapes in the message; its echo shows them.
        term.send("\x1b[200~ECHO " + HOSTILE + "\x1b[201~\r")
        term.expect("context left")
        term.send("/thinking\r")
        term.prompt()
        assert term.exit() == 0
    finally:
        term.close()
    output = term.output.getvalue()
    assert_shown_not_obeyed(output)
    sent = configured.stats()["chat_requests"][0]["messages"][-1]["content"]
    assert sent.startswith("ECHO a\x1b]0;PWNED\x07b")  # sent as pasted


def test_a_link_shows_where_it_leads(configured: Emulator) -> None:
    child = spawn_kimi("chat", "ECHO See [https://bank.example](https://evil.example/x) now.")
    child.expect(pexpect.EOF)
    child.close()
    output = child.before or ""
    assert "\x1b]8;" not in output  # no terminal hyperlink hiding its target
    assert "evil.example/x" in output and "bank.example" in output
