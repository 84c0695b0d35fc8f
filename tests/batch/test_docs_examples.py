"""Issue: kimi batch docs. Every command in the ``sh`` examples of docs/batch.md runs, as
written, against the emulator (``batch_abc123`` stands for the ID the submit printed)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from kimi_cli.emulator import Emulator

PAGE = Path(__file__).resolve().parents[2] / "docs" / "batch.md"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
PLACEHOLDER = "batch_abc123"


def commands() -> list[str]:
    text = PAGE.read_text(encoding="utf-8")
    return [
        line.strip()
        for block in SH_BLOCK.findall(text)
        for line in block.splitlines()
        if line.strip().startswith("kimi ")
    ]


def test_the_page_has_examples_of_submit_wait_results_and_run() -> None:
    found = {" ".join(c.split()[:3]) for c in commands()}
    assert {"kimi batch submit", "kimi batch wait", "kimi batch results", "kimi batch run"} <= found


def test_every_example_runs(configured: Emulator, tmp_path: Path) -> None:
    configured.configure(batch_step_s=0.1)
    for folder, suffix in (("docs", ".md"), ("notes", ".txt")):
        (tmp_path / folder).mkdir()
        for n in (1, 2):
            (tmp_path / folder / f"f{n}{suffix}").write_text(f"ECHO {folder} {n}\n", "utf-8")
    (tmp_path / "questions.txt").write_text("ECHO one\nECHO two\n", encoding="utf-8")
    shell = f'kimi() {{ {shlex.quote(sys.executable)} -m kimi_cli "$@"; }}\n'
    batch_id = None
    for command in commands():
        if PLACEHOLDER in command:
            assert batch_id, f"no submit before: {command}"
            command = command.replace(PLACEHOLDER, batch_id)
        done = subprocess.run(
            ["bash", "-c", shell + command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=120,
        )
        assert done.returncode == 0, (command, done.stderr)
        if command.startswith("kimi batch submit"):
            batch_id = done.stdout.strip()
