"""kimi batch run -o DIR killed while it writes: every file in DIR is whole, and a rerun
leaves every file whole and no temporary file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kimi_cli.emulator import Emulator
from tests.helpers import run_process

WORDS = 20_000  # an answer of ~100 KB: writing one takes long enough to be caught at it
COUNT = 12


def big_prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.txt"
    lines = (f"ECHO {n} " + " ".join(["word"] * WORDS) + "\n" for n in range(1, COUNT + 1))
    path.write_text("".join(lines), encoding="utf-8")
    return path


def expected(n: int) -> str:
    return f"{n} " + " ".join(["word"] * WORDS) + "\n"


def visible(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if not p.name.startswith(".")]


def test_kill_9_while_writing_leaves_whole_files_and_a_rerun_finishes_them(
    configured: Emulator, tmp_path: Path
) -> None:
    path, out_dir = big_prompts(tmp_path), tmp_path / "out"
    out_dir.mkdir()
    command = ["batch", "run", "--max-tokens", "150000", "--lines", str(path), "-o", str(out_dir)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 60
    while not visible(out_dir) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)  # the moment the first file shows
    proc.wait(timeout=10)
    seen = visible(out_dir)
    assert seen, "the run ended before it wrote anything"
    for file in seen:  # each file shown is complete, never a prefix
        number = int(file.name.split("-")[1].split(".")[0])
        assert file.read_text(encoding="utf-8") == expected(number), file.name

    out = run_process(*command)
    assert out.code == 0, out.stderr
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(f"line-{n}.txt" for n in range(1, COUNT + 1))  # no temporary file
    for n in range(1, COUNT + 1):
        assert (out_dir / f"line-{n}.txt").read_text(encoding="utf-8") == expected(n)


def test_a_rerun_clears_what_a_killed_run_left_and_nothing_else(
    configured: Emulator, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / ".kimi-abc123.partial").write_text("half an answ")  # a killed run's
    (out_dir / ".notes").write_text("mine")  # the user's own
    path = tmp_path / "p.txt"
    path.write_text("ECHO one\n", encoding="utf-8")
    out = run_process("batch", "run", "--lines", str(path), "-o", str(out_dir))
    assert out.code == 0, out.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == [".notes", "line-1.txt"]
    assert (out_dir / "line-1.txt").stat().st_mode & 0o777 == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
