"""Reliability: stdout that cannot take the answer — a full disk, a closed descriptor, a
reader that goes away after one byte (more on chat's broken pipe: tests/cli/test_chat_pipes.py)."""

from __future__ import annotations

import json
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


def read_one_byte(command: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """``kimi COMMAND | head -c1``: kimi's own exit code and stderr."""
    return subprocess.run(
        f"{sys.executable} -m kimi_cli {command} | head -c1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        input=stdin,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )


#: Far more than a pipe holds (64 KiB): the write is cut short when the reader goes away.
BIG_PROMPT = ("ECHO " + "word " * 60_000).encode()


@pytest.fixture
def big_conversation(configured: Emulator) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kimi_cli", "chat", "--max-tokens", "100000"],
        input=BIG_PROMPT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = shell("history list --json")
    return str(json.loads(listed.stdout)[0]["id"])


@pytest.mark.parametrize(
    "command",
    [  # show's two writers in the fast set; export writes through the same ones
        pytest.param("history export {id}", marks=pytest.mark.slow),
        pytest.param("history export --format json {id}", marks=pytest.mark.slow),
        "history show {id}",
        "history show --json {id}",
    ],
)
def test_a_large_transcript_to_a_reader_that_goes_away_is_141_and_quiet(
    big_conversation: str, command: str
) -> None:
    proc = read_one_byte(command.format(id=big_conversation))
    assert (proc.returncode, proc.stderr) == (141, b"")


@pytest.mark.parametrize("flags", ["", "--json"])
def test_a_large_chat_answer_to_a_reader_that_goes_away_is_141_and_quiet(
    configured: Emulator, flags: str
) -> None:
    prompt = ("ECHO " + "word " * 30_000).encode()  # ~150 KB, within the token budget
    proc = read_one_byte(f"chat --max-tokens 100000 {flags}", stdin=prompt)
    assert (proc.returncode, proc.stderr) == (141, b"")


def test_large_batch_results_to_a_reader_that_goes_away_are_141_and_quiet(
    configured: Emulator, tmp_path: Path
) -> None:
    line = {"prompt": "ECHO " + "word " * 20_000}
    lines = [json.dumps({**line, "custom_id": f"q{n}"}) for n in range(8)]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    proc = read_one_byte(f"batch run --max-tokens 30000 {tmp_path / 'in.jsonl'}")
    assert (proc.returncode, proc.stderr.decode().count("\n")) == (141, 0), proc.stderr
