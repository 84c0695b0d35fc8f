"""Issue: kimi batch wait and run on a terminal (a pty): a progress bar redrawn in place on
stderr; in a pipe, one line per change of status instead."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import run_process
from tests.terminal import spawn_kimi

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def spawn(*args: str) -> pexpect.spawn:
    return spawn_kimi(*args, timeout=30)


def prompts(tmp_path: Path, n: int) -> str:
    path = tmp_path / "p.txt"
    path.write_text("".join(f"ECHO a{i}\n" for i in range(n)), encoding="utf-8")
    return str(path)


@pytest.mark.slow
def test_wait_draws_a_bar_on_a_terminal_and_lines_in_a_pipe(
    configured: Emulator, tmp_path: Path
) -> None:
    configured.configure(batch_step_s=2)
    batch_id = run_process("batch", "submit", "--lines", prompts(tmp_path, 6)).stdout.strip()
    child = spawn("batch", "wait", batch_id, "--interval", "0.1")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    drawn = child.before or ""
    assert "\r\x1b[2K" in drawn and "█" in drawn and "/6 (0 failed)" in drawn
    assert "completed" in drawn

    configured.configure(batch_step_s=2)
    again = run_process("batch", "submit", "--lines", prompts(tmp_path, 6), "--force")
    piped = run_process("batch", "wait", again.stdout.strip(), "--interval", "0.1")
    assert piped.code == 0
    assert "\r" not in piped.stderr
    statuses = [
        line.split(":")[1].strip()
        for line in piped.stderr.splitlines()
        if line.startswith("kimi: ") and "/6 done" in line
    ]
    assert statuses == list(dict.fromkeys(statuses))  # one line per status, no repeats
    assert statuses[-1] == "completed"


def test_run_draws_a_bar_on_a_terminal(configured: Emulator, tmp_path: Path) -> None:
    configured.configure(latency=0.02)
    child = spawn("batch", "run", "--lines", prompts(tmp_path, 20), "-o", str(tmp_path / "o"))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    drawn = child.before or ""
    assert "\r\x1b[2K" in drawn and "20/20 (0 failed)" in drawn
    assert len(list((tmp_path / "o").iterdir())) == 20
