"""Two ``kimi batch run`` (or ``submit``) of the same input at once: the second is refused at
once with one line and exit 75 and sends nothing; a first one killed with -9 blocks nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kimi_cli.batch import lock
from kimi_cli.emulator import Emulator
from tests.helpers import run_process


def prompts(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text("".join(f"ECHO answer {n}\n" for n in range(1, count + 1)), encoding="utf-8")
    return path


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )


def wait_for_a_chat(emulator: Emulator) -> None:
    deadline = time.monotonic() + 30
    while not emulator.stats()["requests"].get("POST /v1/chat/completions"):
        assert time.monotonic() < deadline, "no chat arrived"
        time.sleep(0.02)


def test_a_second_run_of_the_same_input_is_refused_and_sends_nothing(
    configured: Emulator, tmp_path: Path
) -> None:
    path = prompts(tmp_path, 6)
    configured.configure(faults=[{"name": "slow_first_byte"}], delay=0.5)
    first = start("batch", "run", "--lines", str(path), "-n", "1")
    try:
        wait_for_a_chat(configured)
        began = time.monotonic()
        second = run_process("batch", "run", "--lines", str(path), "-n", "1")
        assert time.monotonic() - began < 10  # at once, not after the first
        assert second.code == 75
        [line] = second.stderr.splitlines()
        assert line.startswith(
            f"kimi: error: another 'kimi batch run' of the same input is running (pid {first.pid})"
        )
        assert "run the same command again" in line
        assert second.stdout == ""
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    time.sleep(0.6)  # a request the first wrote before the kill is still counted
    asked = [b["messages"][-1]["content"] for b in configured.stats()["chat_requests"]]
    assert len(asked) >= 1 and len(set(asked)) == len(asked)  # nothing was sent twice

    configured.configure(faults=[], reset_stats=True)
    third = run_process("batch", "run", "--lines", str(path))
    assert third.code == 0, third.stderr  # the killed run's lock went with it
    assert len(third.stdout.splitlines()) == 6


def test_another_input_runs_alongside(configured: Emulator, tmp_path: Path) -> None:
    path = prompts(tmp_path, 4)
    other = tmp_path / "other.txt"
    other.write_text("ECHO other\n", encoding="utf-8")
    configured.configure(faults=[{"name": "slow_first_byte"}], delay=0.5)
    first = start("batch", "run", "--lines", str(path), "-n", "1")
    try:
        wait_for_a_chat(configured)
        out = run_process("batch", "run", "--lines", str(other))
        assert out.code == 0, out.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)


@pytest.mark.slow
def test_a_second_submit_of_the_same_input_is_refused_while_the_first_uploads(
    configured: Emulator, tmp_path: Path
) -> None:
    path = prompts(tmp_path, 3)
    configured.configure(
        faults=[{"name": "slow_first_byte", "endpoint": "files.upload"}], delay=3.0
    )
    first = start("batch", "submit", "--lines", str(path))
    try:
        deadline = time.monotonic() + 30
        while not configured.stats()["requests"].get("POST /v1/files"):
            assert time.monotonic() < deadline, "the first submit did not upload"
            time.sleep(0.02)
        second = run_process("batch", "submit", "--lines", str(path))
        assert second.code == 75
        [line] = second.stderr.splitlines()
        assert "another 'kimi batch submit' of the same input is running" in line
        assert "prints the batch ID(s)" in line
        assert second.stdout == ""
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
    assert configured.stats()["requests"]["POST /v1/files"] == 1  # one upload, one batch


def test_a_run_leaves_no_lock_file_behind(configured: Emulator, tmp_path: Path) -> None:
    out = run_process("batch", "run", "--lines", str(prompts(tmp_path, 2)))
    assert out.code == 0, out.stderr
    data = Path(os.environ["KIMI_DATA_DIR"])
    assert (data / "batch.db").exists() and not list(data.glob("batch-*.lock"))


def test_a_lock_on_a_file_removed_meanwhile_is_taken_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The previous holder removes the file between this run's open and its lock: the lock
    # it then gets is on a file no other run can find, so it locks the one at the path.
    path = tmp_path / "batch-run-abc.lock"
    locked = lock._locked
    calls = []

    def removed_first(fd: int) -> bool:
        calls.append(fd)
        if len(calls) == 1:
            os.unlink(path)
        return locked(fd)

    monkeypatch.setattr(lock, "_locked", removed_first)
    with lock.job_lock(tmp_path, "run", "abc"):
        assert len(calls) == 2 and path.exists()
        second = os.open(path, os.O_RDWR)
        try:
            assert not locked(second)  # held: a second run is refused
        finally:
            os.close(second)
    assert not path.exists()
