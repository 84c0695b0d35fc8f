"""One turn, two front ends: one-shot chat and the REPL say the same about the same turn.

Each case runs the same turn through ``kimi chat PROMPT`` and through the REPL (a pty), and
compares the line each prints: the token-limit verdict, the usage line, the interrupt note and
a cut stream. A rule copied into one front end and changed there fails here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import run_process
from tests.terminal import Term, closing, plain

pytestmark = pytest.mark.skipif(os.name == "nt", reason="pexpect needs a POSIX pty")


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    yield from closing()


def one_shot(emulator: Emulator, flags: list[str], prompt: str) -> str:
    env = {"KIMI_BASE_URL": emulator.base_url, "KIMI_API_KEY": "sk-emulator"}
    out = run_process("chat", "-m", "kimi-k2.6", *flags, prompt, env=env)
    assert "Traceback" not in out.stderr
    return out.stderr


def in_repl(emulator: Emulator, terms: list[Term], flags: list[str], prompt: str) -> str:
    term = Term.spawn(["chat", *flags], emulator)
    terms.append(term)
    term.prompt()
    term.send(prompt + "\r")
    seen = term.prompt()
    term.exit()
    return plain(seen)


def kimi_line(text: str, start: str) -> str:
    """The line that starts with ``start``, with conversation IDs and figures made equal."""
    found = [line.strip() for line in text.splitlines() if line.strip().startswith(start)]
    assert len(found) == 1, text
    return re.sub(r"\d+(\.\d+)?", "N", re.sub(r"history show \w+", "history show ID", found[0]))


@pytest.mark.parametrize(
    ("flags", "prompt", "start"),
    [
        (["--max-tokens", "40"], "LOREM 300", "kimi: warning: the answer was cut"),
        (["--max-tokens", "12"], "ECHO hi", "kimi: error: no answer within the token budget"),
        (["-u"], "ECHO hello", "kimi: usage:"),
    ],
    ids=["cut-at-limit", "no-answer", "usage-line"],
)
def test_both_front_ends_judge_a_finished_turn_alike(
    configured: Emulator, terms: list[Term], flags: list[str], prompt: str, start: str
) -> None:
    alone = kimi_line(one_shot(configured, flags, prompt), start)
    repl = kimi_line(in_repl(configured, terms, flags, prompt), start)
    assert alone == repl


def test_both_front_ends_report_a_cut_stream_alike(configured: Emulator, terms: list[Term]) -> None:
    configured.configure(faults=[{"name": "stream_cut"}])
    alone = kimi_line(one_shot(configured, [], "LOREM 200"), "kimi: error:")
    configured.configure(faults=[{"name": "stream_cut"}])
    repl = kimi_line(in_repl(configured, terms, [], "LOREM 200"), "kimi: error:")
    assert alone == repl
    assert "partial answer" in alone


def test_both_front_ends_say_where_an_interrupted_answer_is_saved(
    configured: Emulator, terms: list[Term]
) -> None:
    lines = []
    for args in (["chat", "LOREM 300"], ["chat"]):
        configured.configure(faults=[{"name": "stall", "once": True}], stall=20)
        term = Term.spawn(args, configured)
        terms.append(term)
        if args == ["chat"]:
            term.prompt()
            term.send("LOREM 300\r")
        term.expect("Lorem")
        term.child.sendintr()
        seen = term.expect(r"history show \w+")
        lines.append(kimi_line(plain(seen + term.child.after), "kimi: interrupted"))
    assert (
        lines[0]
        == lines[1]
        == ("kimi: interrupted — the partial answer is saved: kimi history show ID")
    )
