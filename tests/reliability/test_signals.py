"""Reliability: a real process interrupted at each stage of a turn (connecting, reasoning),
and a bug inside kimi: one line, the documented code, and what arrived kept in history.
(Ctrl-C and SIGTERM mid-answer, broken pipes: tests/cli/test_chat_pipes.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import chats
from tests.reliability.support import (
    interrupt,
    messages,
    start,
    stderr_lines,
    wait_for,
)


def test_ctrl_c_while_connecting_keeps_the_question(configured: Emulator, history_db: Path) -> None:
    configured.configure(faults=[{"name": "slow_first_byte"}], delay=20)
    proc = start("chat", "ECHO never answered")
    assert wait_for(lambda: chats(configured) == 1)  # the request is out; no byte has come back
    out = interrupt(proc, signal.SIGINT)
    assert out.code == 130 and out.stdout == ""
    [line] = stderr_lines(out)
    assert line.startswith("kimi: interrupted — the question is saved: kimi history show ")
    assert messages(history_db) == [
        ("user", "ECHO never answered", None, 0),
        ("assistant", "", None, 1),
    ]


def test_sigterm_while_connecting_is_143_and_keeps_the_question(
    configured: Emulator, history_db: Path
) -> None:
    configured.configure(faults=[{"name": "slow_first_byte"}], delay=20)
    proc = start("chat", "ECHO never answered")
    assert wait_for(lambda: chats(configured) == 1)
    out = interrupt(proc, signal.SIGTERM)
    [line] = stderr_lines(out)  # where the question was saved, in the words Ctrl-C uses
    assert line.startswith("kimi: terminated — the question is saved: kimi history show ")
    assert out.code == 143 and out.stdout == ""
    assert [m[:2] for m in messages(history_db)] == [
        ("user", "ECHO never answered"),
        ("assistant", ""),
    ]


def test_ctrl_c_while_reasoning_keeps_the_reasoning(configured: Emulator, history_db: Path) -> None:
    # A budget so small that reasoning uses all of it: the emulator then stalls after the
    # reasoning and before any answer text, which is "still thinking" as the user sees it.
    configured.configure(faults=[{"name": "stall"}], stall=20)
    proc = start("chat", "--reasoning", "show", "--max-tokens", "12", "ECHO hello")
    assert proc.stderr is not None
    seen = os.read(proc.stderr.fileno(), 4096)
    assert seen and not seen.startswith(b"kimi:")  # reasoning is arriving on stderr
    out = interrupt(proc, signal.SIGINT)
    assert out.code == 130 and out.stdout == ""
    kimi_lines = [line for line in stderr_lines(out) if line.startswith("kimi:")]
    assert len(kimi_lines) == 1
    assert kimi_lines[0].startswith("kimi: interrupted — the question is saved: kimi history show")
    [user, answer] = messages(history_db)
    assert user == ("user", "ECHO hello", None, 0)
    role, content, reasoning, partial = answer
    assert (role, content, partial) == ("assistant", "", 1)
    # Nothing that arrived is lost: the saved reasoning and what was shown agree, except that
    # Ctrl-C may land between a piece arriving (saved) and its being printed (not shown).
    shown = (seen.decode() + out.stderr).split("kimi:")[0].rstrip("\n")
    assert reasoning and shown
    assert reasoning.startswith(shown) or shown.startswith(reasoning)


BUG = """
import sys
import kimi_cli.cli.chat_input as chat_input
from kimi_cli.__main__ import main

def compose_text(*args):
    raise RuntimeError("an internal failure\\nthat spans two lines")

chat_input.compose_text = compose_text
sys.exit(main(sys.argv[1:]))
"""


def run_bug(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BUG, *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_an_internal_bug_is_one_line_and_exit_70(configured: Emulator) -> None:
    proc = run_bug("chat", "ECHO hi")
    assert proc.returncode == 70 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "kimi: error: internal error (RuntimeError: an internal failure that spans two lines)"
        " — rerun with --debug and report it"
    ]
    assert chats(configured) == 0


@pytest.mark.parametrize("how", ["--debug", "KIMI_DEBUG"])
def test_debug_shows_the_traceback_of_an_internal_bug(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "KIMI_DEBUG":
        monkeypatch.setenv("KIMI_DEBUG", "1")
        proc = run_bug("chat", "ECHO hi")
    else:
        proc = run_bug("chat", "ECHO hi", "--debug")
    assert proc.returncode == 70
    assert "Traceback (most recent call last)" in proc.stderr
    assert ", in compose_text\n" in proc.stderr
    assert "RuntimeError: an internal failure\nthat spans two lines\n" in proc.stderr
    assert proc.stderr.rstrip("\n").splitlines()[-1].startswith("kimi: error: internal error")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
@pytest.mark.parametrize("args", [["chat", "LOREM 300"], ["chat"]], ids=["one-shot", "repl"])
def test_a_terminal_closed_mid_answer_keeps_the_partial_answer(
    configured: Emulator, history_db: Path, args: list[str]
) -> None:
    # An ssh session that drops, a terminal tab closed: SIGHUP. What arrived is saved,
    # marked partial, as after SIGTERM.
    from tests.terminal import Term

    configured.configure(faults=[{"name": "stall"}], stall=20)
    term = Term.spawn(args, configured)
    try:
        if args == ["chat"]:
            term.prompt()
            term.send("LOREM 300\r")
        term.expect("Lorem")
        os.close(term.child.child_fd)  # hang up the terminal: the kernel sends SIGHUP
        # Writing to the terminal that is gone fails on the way out: still "terminated".
        assert term.child.wait() == 143
    finally:
        term.close()
    (_, question, _, _), (_, answer, _, partial) = messages(history_db)
    assert question == "LOREM 300"
    assert answer.startswith("Lorem") and partial == 1


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGHUP")
def test_nohup_still_protects_a_chat_from_a_hangup(configured: Emulator) -> None:
    # `nohup kimi chat … &`: SIGHUP ignored on the way in stays ignored.
    configured.configure(token_delay=0.01)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "chat", "LOREM 100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    assert wait_for(lambda: chats(configured) == 1)
    proc.send_signal(signal.SIGHUP)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert len(stdout.split()) == 100
