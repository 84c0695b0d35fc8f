"""``kimi setup --key-stdin`` fed more than a key: a password manager's whole entry, a stream
that never ends. Real processes and pipes: stdin is the subject."""

from __future__ import annotations

import os
import subprocess
import sys

from kimi_cli.emulator import Emulator
from tests.helpers import run_process


def test_an_entry_with_more_lines_than_the_key_names_the_lines_and_sends_nothing(
    emulator: Emulator,
) -> None:
    entry = "sk-emulator\nlogin: me@example.com\nurl: platform.kimi.ai\n"
    out = run_process("--base-url", emulator.base_url, "setup", "--key-stdin", input=entry)
    line = out.assert_one_error_line(2)
    assert "the input on stdin has 3 lines, not just the key" in line
    assert "head -n 1 | kimi setup --key-stdin" in line
    assert "sk-emulator" not in out.stderr
    assert emulator.stats()["total"] == 0


def test_a_stream_that_never_ends_is_refused_after_a_few_kilobytes(emulator: Emulator) -> None:
    endless = subprocess.Popen(["yes"], stdout=subprocess.PIPE)  # what `yes | kimi …` gives
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "kimi_cli", "setup", "--key-stdin"],
            stdin=endless.stdout,
            capture_output=True,
            env={**os.environ, "KIMI_BASE_URL": emulator.base_url},
            timeout=30,
        )
    finally:
        endless.kill()
        endless.communicate()
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert stderr.startswith("kimi: error: the input on stdin is too large for a key")
    assert len(stderr.splitlines()) == 1 and emulator.stats()["total"] == 0


def test_a_script_that_saves_a_model_reported_to_retire_is_warned(emulator: Emulator) -> None:
    out = run_process(
        "--base-url", emulator.base_url, "setup", "--key-stdin", "--model", "kimi-k2.6",
        input="sk-emulator\n",
    )  # fmt: skip
    assert out.code == 0, out.stderr
    assert "kimi: warning: kimi-k2.6 is reported to retire 2026-12-31; suggested:" in out.stderr
