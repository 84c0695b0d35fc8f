"""Helpers shared by the fault-matrix tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import Outcome


@dataclass
class CannedAPI:
    """A server that answers ``GET /v1/models`` with ``MODELS`` and every ``POST`` with the
    next of ``answers`` (status, headers, body), the last one again when they run out: for
    what recorded live traffic shows and the emulator does not make (the ``canned_api``
    fixture)."""

    base_url: str
    answers: list[tuple[int, dict[str, str], bytes]]
    posts: list[bytes]

    def answer(self, status: int, body: object, **headers: str) -> None:
        """Queue one answer; ``body`` is JSON unless bytes; header names use ``_`` for ``-``."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        self.answers.append((status, {"Content-Type": "application/json", **named}, data))


@dataclass(frozen=True)
class TLSServer:
    """An HTTPS server with a self-signed certificate (the ``tls_server`` fixture)."""

    base_url: str
    cert: Path


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return True
        time.sleep(step)
    return False


def start(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``python -m kimi_cli ARGS`` with piped stdout/stderr and no stdin."""
    return subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def finish(proc: subprocess.Popen[bytes], timeout: float = 20) -> Outcome:
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise
    return Outcome(
        proc.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")
    )


def interrupt(proc: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGINT) -> Outcome:
    proc.send_signal(sig)
    return finish(proc)


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the history database directly (not through the code under test)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return list(conn.execute(sql).fetchall())


def messages(db: Path) -> list[tuple[str, str, str | None, int]]:
    """(role, content, reasoning, partial) of every stored message, oldest first."""
    found = rows(db, "SELECT role, content, reasoning, partial FROM messages ORDER BY id")
    return [
        (str(r[0]), str(r[1]), None if r[2] is None else str(r[2]), int(str(r[3]))) for r in found
    ]


def stderr_lines(out: Outcome) -> list[str]:
    return [line for line in out.stderr.splitlines() if line.strip()]
