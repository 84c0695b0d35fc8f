"""A large ``-f`` document on a terminal (a pty): a bar while its bytes go out, then a line
saying the API is at work until the text arrives; in a pipe, nothing of either."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import run_process
from tests.terminal import spawn_kimi

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

WAITING = "big.pdf: 6.0 MB sent, waiting for the API…"


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.pdf"
    path.write_bytes(b"%PDF-1.4\n\x00" + b"\x01" * (6 * 1024 * 1024 - 10))
    return path


def test_a_terminal_sees_the_upload_then_the_wait_for_the_text(
    configured: Emulator, big: Path
) -> None:
    configured.configure(
        faults=[{"name": "slow_first_byte", "once": True, "endpoint": "files.content"}], delay=2
    )
    child = spawn_kimi("chat", "-f", str(big), "ECHO hi", timeout=60)
    child.expect_exact("MB")  # the bar, while bytes go out
    child.expect_exact(WAITING)  # every byte out: the extraction is awaited, not hidden
    child.expect_exact("kimi: uploaded")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "hi" in (child.before or "")


def test_a_pipe_gets_no_bar(configured: Emulator, big: Path) -> None:
    outcome = run_process("chat", "-f", str(big), "ECHO hi")
    assert outcome.code == 0 and outcome.stdout == "hi\n"
    assert "waiting for the API" not in outcome.stderr and "\r" not in outcome.stderr
