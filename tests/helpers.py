"""Run kimi the two ways a test needs: in-process (fast) and as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kimi_cli.cli.app import run
from kimi_cli.emulator import Emulator
from kimi_cli.history import HistoryStore, StoredMessage

SECRET_KEY = "sk-emulator"
#: Keys of the ``regions`` fixture: each of its two emulators accepts only its own.
GLOBAL_KEY = "sk-global-7Hq2Lm9Xv4Rt8Wz1Np6Ks3Dc"
CN_KEY = "sk-cn-5Bf8Jy2Qe7Ua4Gx9Mo1Vl6Tr"
KIMI_CODE_KEY = "sk-kimi-3Zp8Wd1Hs6Nc9Ya2Fq7Lu4Be"
CHAT = "POST /v1/chat/completions"


def requests(emulator: Emulator) -> dict[str, int]:
    """Requests that reached the emulator, per ``"METHOD /path"``."""
    counts: dict[str, int] = emulator.stats()["requests"]
    return counts


def chats(emulator: Emulator) -> int:
    """How many chat requests reached the emulator."""
    return requests(emulator).get(CHAT, 0)


#: Stores ``history_at`` opened, closed after each test by conftest's ``close_stores``.
OPENED_STORES: list[HistoryStore] = []


def history_at(home: Path) -> HistoryStore:
    """The history kimi writes under ``isolated_env`` (the ``home`` it returns); closed
    when the test ends."""
    store = HistoryStore(home / "data" / "history.db")
    OPENED_STORES.append(store)
    return store


def stored_message(role: str = "user", content: str = "x", **fields: Any) -> StoredMessage:
    """A history message as ``HistoryStore.messages`` returns it; unnamed fields empty."""
    empty: dict[str, Any] = {
        "id": 0,
        "reasoning": None,
        "model": None,
        "created_at": "",
        "partial": False,
        "finish_reason": None,
        "input_tokens": None,
        "output_tokens": None,
        "cached_tokens": None,
        "cost": None,
        "currency": None,
    }
    return StoredMessage(role=role, content=content, **{**empty, **fields})


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
