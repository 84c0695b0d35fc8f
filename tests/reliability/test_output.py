"""Reliability: stdout that cannot take the answer — a full disk, a closed descriptor.
(A reader that goes away, i.e. a broken pipe: tests/cli/test_chat_pipes.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.reliability.support import messages

FULL_LINE = (
    "kimi: error: could not write the output (No space left on device)"
    " — free disk space or write it elsewhere, then retry"
)
needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")


def shell(command: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        f"{sys.executable} -m kimi_cli {command}",
        shell=True,
        capture_output=True,
        env=dict(os.environ),
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@needs_dev_full
def test_answer_to_a_full_disk_is_75_one_line_and_kept_in_history(
    configured: Emulator, history_db: Path
) -> None:
    proc = shell("chat 'LOREM 300' > /dev/full")
    assert proc.returncode == 75
    assert proc.stderr.decode().splitlines() == [FULL_LINE]
    [user, answer] = messages(history_db)
    assert user[:2] == ("user", "LOREM 300")
    assert answer[0] == "assistant" and answer[3] == 1  # kept, marked partial


@needs_dev_full
@pytest.mark.parametrize("command", ["config path", "--help", "history list --json"])
def test_any_output_to_a_full_disk_is_75_and_one_line(command: str) -> None:
    proc = shell(f"{command} > /dev/full")
    assert proc.returncode == 75
    assert proc.stderr.decode().splitlines() == [FULL_LINE]


def test_closed_stdout_discards_the_answer_and_keeps_it_in_history(
    configured: Emulator, history_db: Path
) -> None:
    proc = shell("chat 'ECHO nobody reads this' >&-")
    assert proc.returncode == 0 and proc.stderr == b""
    assert [m[:2] for m in messages(history_db)] == [
        ("user", "ECHO nobody reads this"),
        ("assistant", "nobody reads this"),
    ]


@pytest.mark.parametrize(
    ("command", "code", "words"),
    [
        ("", 2, "nothing to send"),  # bare kimi: what `kimi < /dev/null` does
        ("setup", 2, "no terminal to ask for the key"),
        ("history delete --all", 2, "needs confirmation"),
        ("chat 'ECHO no stdin needed'", 0, ""),
    ],
    ids=["bare", "setup", "history-delete-all", "chat"],
)
def test_closed_stdin_is_empty_input(
    configured: Emulator, command: str, code: int, words: str
) -> None:
    proc = shell(f"{command} <&-")
    stderr = proc.stderr.decode()
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert words in stderr
