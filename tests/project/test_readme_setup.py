"""Issue: docs and first run. The README's two set-up commands work, as written, in a fresh
copy of the repository: nothing to a verified setup and a first answer (against the emulator),
and the test command installs the test extra and finds the tests.

Slow (two virtual environments, a minute or two with pip's cache); it needs the package index
or pip's cache. `pytest -m "not slow"` leaves it out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kimi_cli import __version__
from kimi_cli.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
SETUP_TAIL = "kimi setup"
TEST_TAIL = "pytest"


def fenced_commands(markdown: str) -> list[str]:
    """Every line of every ```sh block."""
    blocks = re.findall(r"^```(?:sh|bash|console)\n(.*?)^```", markdown, re.DOTALL | re.MULTILINE)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def readme_command(tail: str) -> str:
    found = [
        line
        for line in fenced_commands((ROOT / "README.md").read_text(encoding="utf-8"))
        if line.endswith(tail) and line.startswith("python3 -m venv")
    ]
    assert len(found) == 1, f"README.md should have one set-up command ending in {tail!r}: {found}"
    return found[0]


def copy_checkout(destination: Path) -> None:
    """The files git knows (tracked, and new ones not ignored): no venv, no caches."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not copied
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash") or pytest.skip("needs bash")
    return subprocess.run(
        [bash, "-c", f"set -e; {command}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def clean_env() -> dict[str, str]:
    """This process's environment without what would leak into a newcomer's shell: the test
    run's virtual environment, pytest's and coverage's variables."""
    drop = ("PYTEST_", "COV_CORE_", "PYTHON")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "VIRTUAL_ENV"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def test_readme_commands_are_found() -> None:
    assert readme_command(SETUP_TAIL).endswith("&& kimi setup")
    assert readme_command(TEST_TAIL).endswith("&& pytest")


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_readme_setup_commands_work_in_a_fresh_checkout(tmp_path: Path, emulator: Emulator) -> None:
    checkout = tmp_path / "kimi"
    copy_checkout(checkout)
    env = clean_env()
    # The global region is the emulator; the state dirs are this test's (conftest.py).
    env["KIMI_GLOBAL_BASE_URL"] = emulator.base_url

    setup = readme_command(SETUP_TAIL)
    setup = (
        setup[: -len(SETUP_TAIL)] + "kimi --version && echo sk-emulator | kimi setup --key-stdin"
    )
    first_answer = 'kimi models use kimi-k3.1-pro && kimi chat "ECHO hello from the README"'
    done = shell(f"{setup} && {first_answer}", checkout, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"kimi {__version__}\n" in done.stdout
    assert "hello from the README\n" in done.stdout
    assert "verified on region global" in done.stderr
    assert (checkout / ".venv" / "bin" / "kimi").exists()
    config = (Path(env["KIMI_CONFIG_DIR"]) / "config.toml").read_text(encoding="utf-8")
    assert 'region = "global"' in config and 'model = "kimi-k3.1-pro"' in config
    assert emulator.stats()["requests"]["POST /v1/chat/completions"] == 1

    tests = readme_command(TEST_TAIL)
    # Running the whole suite inside the suite would recurse: prove it installs and collects.
    tests = tests[: -len(TEST_TAIL)] + "pytest --collect-only -q -n 0 -p no:cacheprovider"
    collected = shell(tests, checkout, env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    # "1470/1481 tests collected (11 deselected)": the README's pytest leaves the slow ones out
    found = re.search(r"^(\d+)(?:/\d+)? tests? collected", collected.stdout, re.MULTILINE)
    assert found and int(found.group(1)) > 100, collected.stdout[-2000:]
