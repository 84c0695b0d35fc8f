"""kimi models as a user runs it: full IDs at any width, retirements shown, usage errors."""

from __future__ import annotations

import json
import os
import sys

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import invoke, run_process

LONGEST = "kimi-k3.1-pro-highspeed"


def _table(columns: int) -> str:
    env = {**os.environ, "TERM": "xterm", "COLUMNS": str(columns), "LINES": "40"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kimi_cli", "models"],
        env=env,
        dimensions=(40, columns),
        timeout=20,
        encoding="utf-8",
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    # A slow answer shows the spinner first ("asking the API for its models…"), erased with
    # ESC[2K before the table: what is left after the last erase is what stays on screen.
    return (child.before or "").rpartition("\x1b[2K")[2]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
@pytest.mark.parametrize("columns", [100, 50, 30])
def test_ids_are_never_cut(configured: Emulator, columns: int) -> None:
    output = _table(columns)
    assert LONGEST in output and "…" not in output.split("reported")[0]
    assert "kimi-k2.6: reported to retire 2026-12-31; suggested: kimi-k3.1-pro" in " ".join(
        output.split()
    ).replace("\r", "")
    if columns >= 100:
        assert "vision" in output and "context" in output
    if columns == 30:
        assert "vision" not in output and "reasoning" not in output


def test_json_carries_the_retirement(configured: Emulator) -> None:
    models = {m["id"]: m for m in json.loads(invoke("models", "--json").stdout)}
    assert models["kimi-k2.6"]["retirement"] == {
        "date": "2026-12-31",
        "certainty": "reported",
        "source": models["kimi-k2.6"]["retirement"]["source"],
        "successor": None,
        "suggested": "kimi-k3.1-pro",
    }
    assert models["kimi-k3"]["retirement"] is None


def test_piped_list_is_ids_only(configured: Emulator) -> None:
    out = run_process("models").stdout.splitlines()
    assert LONGEST in out and all(" " not in line for line in out)


def test_use_of_a_model_reported_to_retire_saves_it_and_says_when_once(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIMI_MODEL")  # else its own warning: it overrides the saved model
    out = run_process("models", "use", "kimi-k2.6")
    assert out.code == 0 and out.stdout == ""
    assert out.stderr.splitlines()[1:] == [
        "kimi: warning: kimi-k2.6 is reported to retire 2026-12-31; suggested: kimi-k3.1-pro"
    ]
    assert "retire" not in run_process("models", "use", "kimi-k3.1-pro").stderr


def test_use_empty_is_a_usage_error(configured: Emulator) -> None:
    invoke("models", "use", "").assert_one_error_line(2)
    invoke("models", "use", "  ").assert_one_error_line(2)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
@pytest.mark.parametrize("args", [["models"], ["models", "use", "kimi-k3"]])
def test_a_slow_model_list_shows_a_spinner_on_a_terminal(
    configured: Emulator, args: list[str]
) -> None:
    configured.configure(faults=[{"name": "slow_first_byte", "endpoint": "models"}], delay=1.5)
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100", "LINES": "40"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kimi_cli", *args],
        env=env,
        dimensions=(40, 100),
        timeout=20,
        encoding="utf-8",
    )
    child.expect(pexpect.EOF)
    child.close()
    output = child.before or ""
    assert child.exitstatus == 0, output
    assert "asking the API for its models…" in output  # while the list is slow to come
    assert "\r\x1b[2K" in output  # and erased before what follows


def test_no_spinner_in_a_pipe(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "slow_first_byte", "endpoint": "models"}], delay=0.5)
    out = run_process("models")
    assert out.code == 0 and out.stderr == ""
