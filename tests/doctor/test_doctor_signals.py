"""``kimi doctor`` stopped half-way (Ctrl-C, SIGTERM): the checks it finished are reported, in
a pipe, with --json and on a terminal, then the one stopped line and 130 / 143."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from kimi_cli.doctor import STEPS
from kimi_cli.emulator import Emulator
from tests.helpers import Outcome, requests
from tests.terminal import plain, spawn_kimi

MODELS = "GET /v1/models"
#: The checks that end before GET /v1/models: config … tls.
BEFORE_MODELS = [step[0] for step in STEPS][: [step[0] for step in STEPS].index("models")]


@pytest.fixture
def slow_models(configured: Emulator) -> Emulator:
    """GET /v1/models answers only after 30 s: the doctor is stopped while it waits."""
    configured.configure(
        faults=[{"name": "slow_first_byte", "endpoint": "models"}], delay=30, reset_stats=True
    )
    return configured


def _waiting_for_models(emulator: Emulator) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if requests(emulator).get(MODELS, 0):
            time.sleep(0.2)  # the request is sent: the doctor now waits for the answer
            return True
        time.sleep(0.05)
    return False


def _stopped(emulator: Emulator, signum: int, *args: str) -> Outcome:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "doctor", "--no-chat", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        assert _waiting_for_models(emulator), "the doctor never asked for the models"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Outcome(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


#: Ctrl-C and SIGTERM: the signal, kimi's exit code, and the word of its one line.
each_stop = pytest.mark.parametrize(
    ("signum", "code", "kind"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)


@each_stop
def test_a_stopped_doctor_in_a_pipe_reports_the_checks_it_finished(
    slow_models: Emulator, signum: int, code: int, kind: str
) -> None:
    out = _stopped(slow_models, signum)
    assert out.assert_one_error_line(code) == f"kimi: error: {kind}"
    lines = out.stdout.splitlines()
    assert lines[0].startswith("PASS  Configuration")
    assert any(line.startswith("PASS  TCP connection") for line in lines)
    assert not any("GET /v1/models" in line for line in lines)  # not done: not reported
    assert lines[-1].endswith(
        f"— {kind} after {len(BEFORE_MODELS)} of {len(STEPS)} checks, exit {code}"
    )


@each_stop
def test_a_stopped_doctor_json_is_the_document_of_the_checks_done(
    slow_models: Emulator, signum: int, code: int, kind: str
) -> None:
    out = _stopped(slow_models, signum, "--json")
    assert out.assert_one_error_line(code) == f"kimi: error: {kind}"
    data = json.loads(out.stdout)
    assert set(data) == {"checks", "exit_code", "partial", "error"}
    assert [c["id"] for c in data["checks"]] == BEFORE_MODELS
    assert data["exit_code"] == code
    assert data["partial"] is True
    assert data["error"] == {"type": kind, "exit_code": code, "message": kind}


def test_ctrl_c_on_a_terminal_clears_the_spinner_and_shows_the_table(
    slow_models: Emulator,
) -> None:
    child = spawn_kimi("doctor", "--no-chat")
    try:
        child.expect("kimi doctor: GET /v1/models")
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    seen = child.before
    assert child.exitstatus == 130, seen
    spinner_at = seen.rfind("kimi doctor: GET /v1/models")
    table_at = seen.find("what was seen / what to do")
    assert 0 <= spinner_at < table_at, seen
    assert "\x1b[2K" in seen[spinner_at:table_at]  # the spinner's line was erased first
    text = plain(seen[table_at:])
    assert "✓ pass  TCP connection" in text
    assert "GET /v1/models" not in text
    assert f"interrupted after {len(BEFORE_MODELS)} of {len(STEPS)} checks, exit 130" in text
    assert text.rstrip().endswith("kimi: error: interrupted")
    assert "Traceback" not in seen


def test_json_into_a_file_from_a_terminal_still_shows_progress_on_stderr(
    slow_models: Emulator, tmp_path: Path
) -> None:
    """`kimi doctor --json > report.json` on a terminal: the spinner says what it waits for
    (a slow GET /v1/models here); the file gets the document and nothing else."""
    report = tmp_path / "report.json"
    child = pexpect.spawn(
        "bash",
        ["-c", f"'{sys.executable}' -m kimi_cli doctor --no-chat --json > '{report}'"],
        env={**os.environ, "TERM": "xterm"},
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 120),
    )
    try:
        child.expect_exact("kimi doctor: GET /v1/models")
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130, child.before
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["partial"] is True and [c["id"] for c in data["checks"]] == BEFORE_MODELS
