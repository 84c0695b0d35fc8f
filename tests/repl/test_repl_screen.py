"""The REPL's screen under what users do to a terminal: job control while it waits, resizes,
narrow widths. Real processes in a pty, with an interactive shell where job control matters."""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.terminal import Term, closing, plain

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

KIMI = f"{shlex.quote(sys.executable)} -m kimi_cli chat"


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    yield from closing()


def test_ctrl_z_while_waiting_shows_the_cursor_and_fg_draws_anew(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.job_shell(emulator)
    terms.append(term)
    term.send(KIMI + "\r")
    term.prompt()
    emulator.configure(faults=[{"name": "slow_first_byte", "once": True}], delay=3)
    term.send("ECHO after the wait\r")
    term.expect("waiting for kimi-k2.6")
    term.send("\x1a")  # Ctrl-Z while the spinner runs
    seen = term.expect("Stopped")
    # The spinner's area erased, the cursor shown, no ^Z echoed into it.
    assert "^Z" not in seen and seen.rfind("\x1b[?25h") > seen.rfind("\x1b[?25l")
    term.expect(r"\$ ")
    term.send("stty -a\r")  # the shell has its terminal as it was
    assert re.search(r"(?<![-\w])echoctl", term.expect(r"\$ "))
    term.send("fg\r")
    after = term.expect("after the wait")
    assert "waiting for kimi-k2.6" in after  # a new spinner below the shell's lines
    term.prompt()
    term.send("\x04")
    seen = term.expect(r"\$ ")
    assert "Traceback" not in term.output.getvalue()
    assert seen.rfind("\x1b[?25h") >= seen.rfind("\x1b[?25l")


def test_keys_typed_while_an_answer_streams_wait_for_the_prompt(
    emulator: Emulator, terms: list[Term]
) -> None:
    # Echoed into the live area, a line typed ahead moved the cursor: the redraw missed the
    # area's top and the answer's first line showed two or three times.
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    term.prompt()
    emulator.configure(token_delay=0.03)
    term.send("LOREM 60\r")
    term.expect("Lorem elit")
    term.send("next question\r")  # the terminal turns the Enter into a newline: not sent
    during = term.expect(r"duis esse")  # LOREM 60's last words
    assert "next question" not in during
    term.expect("context left")
    term.send("\r")  # Enter: send what the prompt now holds
    term.expect("You said: next question")
    term.prompt()
    assert term.exit() == 0
    sent = emulator.stats()["chat_requests"][-1]["messages"][-1]["content"]
    assert sent.strip() == "next question"


def test_the_toolbar_fits_the_width_keeping_the_context_left(
    emulator: Emulator, terms: list[Term]
) -> None:
    # At 80 columns, after an answer, the cached share pushed "context left" off the line.
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    term.child.setwinsize(40, 80)
    term.prompt()
    term.send("ECHO one\r")
    term.expect("one")
    last = term.expect(r"\(\d+%\) ")  # the toolbar's last part, drawn whole
    toolbar = plain(last).rsplit("\n", 1)[-1]
    assert toolbar.startswith(" kimi-k2.6 · thinking on") and "context left" in toolbar
    assert len(toolbar) + len(term.child.match.group(0)) <= 80
    assert term.exit() == 0


def test_a_dumb_terminal_shows_each_typed_line_once(emulator: Emulator, terms: list[Term]) -> None:
    term = Term.spawn(["chat"], emulator, TERM="dumb")
    terms.append(term)
    term.expect("Ctrl-D to leave")
    term.send("ECHO once\r")
    term.expect("once\r\n")
    term.send("half")
    term.expect("half")
    term.child.sendintr()  # Ctrl-C at the prompt: a fresh line, the typed text shown once
    term.expect("> ")
    term.send("\x04")
    term.child.expect(pexpect.EOF)
    output = plain(term.output.getvalue())
    assert output.count("> ECHO once") == 1
    assert output.count("> half") == 1


def test_an_editor_command_that_cannot_be_read_is_one_line(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn(["chat"], emulator, EDITOR='vim "unclosed')
    terms.append(term)
    term.prompt()
    term.send("/edit draft\r")
    seen = term.prompt()
    assert "kimi: error: cannot read the editor command 'vim \"unclosed'" in plain(seen)
    assert "set $EDITOR" in seen and "internal error" not in seen
    assert term.exit() == 0


@pytest.mark.slow
def test_thought_for_counts_the_reasoning_not_the_wait(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    term.prompt()
    emulator.configure(faults=[{"name": "slow_first_byte", "once": True}], delay=2.5)
    term.send("ECHO late\r")
    term.expect(r"thought for (\d+\.\d) s")
    assert float(term.child.match.group(1)) < 2.0  # the 2.5 s before the first byte is no thought
    term.prompt()
    assert term.exit() == 0


def test_tab_completion_that_asks_for_the_models_leaves_the_prompt_whole(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    term.prompt()
    for cached in Path(os.environ["KIMI_CACHE_DIR"]).rglob("*"):
        if cached.is_file():
            cached.unlink()  # the list is asked for again, slowly
    emulator.configure(
        faults=[{"name": "slow_first_byte", "endpoint": "models", "once": True}], delay=1
    )
    term.send("/model kimi-k3.1-pro-h\t")
    after = term.expect("highspeed")
    # A spinner drawn from the completion's thread erased the prompt line under the menu.
    assert "asking the API for its models" not in after and "\x1b[2K" not in after
    term.send("\r")
    term.expect("model: kimi-k3.1-pro-highspeed|kimi-k3.1-pro-highspeed")
    term.prompt()
    assert term.exit() == 0
