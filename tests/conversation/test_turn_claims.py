"""Two kimi processes on one conversation: one turn at a time, and each turn sees the others'.

Real processes: a ``kimi chat -c`` held by the emulator's latency while a second one starts,
and the REPL on a pty while a one-shot chat and ``history delete`` run beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from kimi_cli.history import HistoryStore
from tests.helpers import invoke, run_process
from tests.terminal import Term, closing


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    yield from closing()


def _stored(conversation_id: str | None = None) -> list[tuple[str, str]]:
    with HistoryStore(Path(os.environ["KIMI_DATA_DIR"]) / "history.db") as store:
        if conversation_id is None:
            (only,) = store.recent()
            conversation_id = only.id
        return [(m.role, m.content) for m in store.messages(conversation_id)]


def _wait_for_a_chat_in_flight(emulator: Emulator) -> None:
    deadline = time.monotonic() + 15
    while emulator.stats()["chat_in_flight"] == 0:
        assert time.monotonic() < deadline, "the first chat never reached the emulator"
        time.sleep(0.02)


def test_a_second_chat_c_on_a_conversation_taking_a_turn_is_refused(configured: Emulator) -> None:
    assert invoke("chat", "ECHO first").code == 0
    configured.configure(latency=2.0)
    first = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "chat", "-c", "ECHO A"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_a_chat_in_flight(configured)
        second = run_process("chat", "-c", "ECHO B")
        out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    line = second.assert_one_error_line(75)
    assert "is taking a turn in another kimi process" in line
    assert "wait for that answer" in line
    assert (first.returncode, out, err) == (0, b"A\n", b"")
    assert len(configured.stats()["chat_requests"]) == 2  # the refused one sent nothing
    assert [content for _, content in _stored()] == ["ECHO first", "first", "ECHO A", "A"]
    configured.configure(latency=0)
    assert invoke("chat", "-c", "ECHO B").stdout == "B\n"  # once the first is done


@pytest.mark.skipif(os.name == "nt", reason="pexpect needs a POSIX pty")
def test_the_repl_sees_a_turn_taken_beside_it_and_a_delete(
    configured: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn(["chat"], configured)
    terms.append(term)
    term.prompt()
    term.send("ECHO one\r")
    term.expect("one")
    term.prompt()

    # A one-shot -c continues the REPL's conversation (the last used): the REPL's next turn
    # sends it as context and is stored after it, in order.
    assert run_process("chat", "-c", "ECHO beside").stdout == "beside\n"
    term.send("ECHO two\r")
    term.expect("two")
    term.prompt()
    sent = [m["content"] for m in configured.stats()["chat_requests"][-1]["messages"]]
    assert sent == ["ECHO one", "one", "ECHO beside", "beside", "ECHO two"]
    assert [c for _, c in _stored()] == [*sent, "two"]

    # Deleted beside it: the next message starts a new conversation, saved and billed.
    (conversation,) = json.loads(invoke("history", "list", "--json").stdout)
    assert invoke("history", "delete", conversation["id"], "-y").code == 0
    term.send("ECHO three\r")
    term.expect(r"was deleted by another kimi: this message starts a new conversation")
    term.prompt()
    assert configured.stats()["chat_requests"][-1]["messages"] == [
        {"role": "user", "content": "ECHO three"}
    ]
    assert _stored() == [("user", "ECHO three"), ("assistant", "three")]
    assert term.exit() == 0
