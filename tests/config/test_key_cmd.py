"""``api_key_cmd`` that hangs: the timeout ends everything the command started."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kimi_cli.config import key_cmd
from kimi_cli.errors import ConfigError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_timeout_ends_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # The shell starts a child that would outlive a kill of the shell alone.
    command = f"sleep 300 & echo $! > {pid_file}; wait"
    with pytest.raises(ConfigError, match="timed out"):
        key_cmd.run_api_key_cmd(command, timeout=0.5)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), "the api_key_cmd's child is still running"
