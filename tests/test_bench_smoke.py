"""bench/run.py runs: a smoke run of its quickest group. It proves the script works and asserts
no timing: performance claims live in the script and docs/performance.md, never in a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="the bench uses os.wait4 and ptys")
def test_bench_quick_version_run_writes_its_tables(tmp_path: Path) -> None:
    report = tmp_path / "performance.md"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--only",
            "version",
            "--no-peers",
            "--output",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    text = report.read_text(encoding="utf-8")
    assert "<!-- bench:begin -->" in text and "<!-- bench:end -->" in text
    assert "| `kimi --version` ÷ `python -c pass` (wall) |" in text
    assert "| `python -c pass` |" in text and "| `kimi --version` |" in text
    assert "failed" not in text


@pytest.mark.skipif(sys.platform == "win32", reason="the bench's emulator runs as on POSIX")
def test_the_trace_counts_kimis_own_functions_on_the_chat_path(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "trace.py"), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    head, *listing = done.stdout.splitlines()
    assert head.startswith("one-shot piped chat: ") and " distinct kimi functions in " in head
    names = {line.strip() for line in listing}
    assert {"run", "route", "main"} <= names  # the entry point's functions are seen
    assert not any(line.strip().startswith("emulator/") for line in listing)
