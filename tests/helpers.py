"""Run kimi the two ways a test needs: in-process (fast) and as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from typer.testing import CliRunner

from kimi_cli.cli.app import run

SECRET_KEY = "sk-emulator"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("kimi: error:")]

    def assert_one_error_line(self, code: int) -> str:
        """The contract for every failure: one line on stderr, no traceback, the exit code."""
        assert self.code == code, (self.code, self.stdout, self.stderr)
        assert "Traceback" not in self.stderr
        assert len(self.error_lines) == 1, self.stderr
        return self.error_lines[0]


def invoke(
    *args: str, input: str | bytes | None = None, env: Mapping[str, str | None] | None = None
) -> Outcome:
    """In-process, through the same ``run`` the console script uses."""
    runner = CliRunner()
    with runner.isolation(input=input, env=dict(env or {})) as (out, err, _):
        code = run(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return Outcome(code, stdout, stderr)


def run_process(
    *args: str,
    input: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Outcome:
    """A real ``python -m kimi_cli`` with real pipes."""
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        [sys.executable, "-m", "kimi_cli", *args],
        input=data if data is not None else b"",
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    return Outcome(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )
