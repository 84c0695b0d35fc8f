"""Issue: kimi batch docs. Every command in the ``sh`` examples of docs/batch.md runs, as
written, against the emulator (``batch_abc123`` stands for the ID the submit printed)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator

PAGE = Path(__file__).resolve().parents[2] / "docs" / "batch.md"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
PLACEHOLDER = "batch_abc123"


def blocks() -> list[str]:
    return SH_BLOCK.findall(PAGE.read_text(encoding="utf-8"))


def commands() -> list[str]:
    return [
        line.strip()
        for block in blocks()
        for line in block.splitlines()
        if line.strip().startswith("kimi ")
    ]


def runnable(block: str) -> str:
    """The block as a script; where it names ``batch_abc123``, the ID its submit printed."""
    if PLACEHOLDER not in block:
        return block
    lines = []
    for line in block.splitlines():
        if line.startswith("kimi batch submit"):
            line = f"batch_id=$({line})"
        lines.append(line.replace(PLACEHOLDER, "$batch_id"))
    return "\n".join(lines)


def test_the_page_has_examples_of_submit_wait_results_and_run() -> None:
    found = {" ".join(c.split()[:3]) for c in commands()}
    assert {"kimi batch submit", "kimi batch wait", "kimi batch results", "kimi batch run"} <= found


@pytest.mark.slow
def test_every_example_runs(configured: Emulator, tmp_path: Path) -> None:
    configured.configure(batch_step_s=0.1)
    for folder, suffix in (("docs", ".md"), ("notes", ".txt")):
        (tmp_path / folder).mkdir()
        for n in (1, 2):
            (tmp_path / folder / f"f{n}{suffix}").write_text(f"ECHO {folder} {n}\n", "utf-8")
    (tmp_path / "questions.txt").write_text("ECHO one\nECHO two\n", encoding="utf-8")
    prelude = f'set -e\nkimi() {{ {shlex.quote(sys.executable)} -m kimi_cli "$@"; }}\n'
    for block in blocks():
        done = subprocess.run(
            ["bash", "-c", prelude + runnable(block)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=180,
        )
        assert done.returncode == 0, (block, done.stderr)
