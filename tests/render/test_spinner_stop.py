"""Ctrl-Z while one-shot chat waits for the first token: the spinner is erased before the
shell's prompt comes back, and spins again after fg."""

from __future__ import annotations

import shlex
import sys

import pytest

from kimi_cli.emulator import Emulator
from tests.terminal import Term

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


@pytest.mark.slow
def test_ctrl_z_while_waiting_leaves_no_spinner_at_the_shell(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "slow_first_byte", "once": True}], delay=3)
    kimi = f"{shlex.quote(sys.executable)} -m kimi_cli chat 'ECHO at last'"
    term = Term.job_shell(configured)
    try:
        term.send(kimi + "\r")
        term.expect("waiting for kimi-k2.6")
        term.send("\x1a")
        seen = term.expect("Stopped")
        assert "^Z" not in seen
        assert seen.rfind("\r\x1b[2K") > seen.rfind("waiting for")  # erased, not left
        term.expect(r"\$ ")
        term.send("fg\r")
        after = term.expect(r"\x1b\[2Kat last")  # the answer drawn, not the command line
        assert "waiting for kimi-k2.6" in after  # it spins again while it waits
        term.expect(r"\$ ")
        term.send("echo status=$?\r")
        term.expect("status=0")
    finally:
        term.close()
