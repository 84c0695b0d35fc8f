"""Issue: kimi batch run. Requests go now, several at a time; a 429 storm slows it down
without losing requests; a quota error stops it; killed with -9, a rerun sends only what
is missing (the emulator's counters prove it)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import invoke, run_process


def chat_bodies(emu: Emulator) -> list[dict[str, object]]:
    return list(emu.stats()["chat_requests"])


def asked(body: dict[str, object]) -> str:
    return str(body["messages"][-1]["content"])  # type: ignore[index]


def prompts(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text("".join(f"ECHO answer {n}\n" for n in range(1, count + 1)), encoding="utf-8")
    return path


def settled_bodies(emu: Emulator) -> list[dict[str, object]]:
    """The chat bodies once a killed client's last requests are all in: a request it wrote
    just before the kill may still be read by the emulator after it died."""
    seen = chat_bodies(emu)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.3)
        stats = emu.stats()
        now = list(stats["chat_requests"])
        if len(now) == len(seen) and stats["chat_in_flight"] == 0:
            return now
        seen = now
    raise AssertionError("the emulator kept receiving chats after the client was killed")


def finished_in_journal(home: Path) -> int:
    db = home / "data" / "batch.db"
    if not db.exists():
        return 0
    with closing(sqlite3.connect(db)) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM finished").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _stopped_run(
    home: Path, path: Path, signum: int, after: int = 3
) -> tuple[subprocess.Popen[bytes], bytes, bytes]:
    """``batch run`` of ``path``, two at a time, sent ``signum`` once ``after`` answers are in
    the journal (the caller slows the emulator down first)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "batch", "run", "--lines", str(path), "-n", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 30
    while finished_in_journal(home) < after and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    return proc, out, err


def test_results_come_in_input_order_one_per_line(configured: Emulator, tmp_path: Path) -> None:
    path = prompts(tmp_path, 12)
    out = invoke("batch", "run", "--lines", str(path), "--concurrency", "3")
    assert out.code == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["content"] for r in records] == [f"answer {n}" for n in range(1, 13)]
    assert [r["custom_id"] for r in records] == [f"line-{n}" for n in range(1, 13)]
    assert all(r["error"] is None and r["usage"]["output_tokens"] > 0 for r in records)
    assert set(records[0]) == {
        "custom_id",
        "source",
        "content",
        "reasoning",
        "finish_reason",
        "usage",
        "cost",
        "error",
    }
    assert len(chat_bodies(configured)) == 12
    assert "12 of 12" in out.stderr


def test_output_directory_has_one_file_per_input(configured: Emulator, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.md", "b.txt"):
        (docs / name).write_text(f"text of {name}", encoding="utf-8")
    out_dir = tmp_path / "out"
    out = invoke(
        "batch",
        "run",
        "-p",
        "ECHO done",
        str(docs / "a.md"),
        str(docs / "b.txt"),
        "-o",
        str(out_dir),
    )
    assert out.code == 0, out.stderr
    assert out.stdout == ""
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.md", "b.md"]


def test_kill_9_then_rerun_sends_only_what_is_missing(
    configured: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    total = 40
    path = prompts(tmp_path, total)
    configured.configure(faults=[{"name": "slow_first_byte"}], delay=0.15)
    _stopped_run(isolated_env, path, signal.SIGKILL, after=8)
    finished = finished_in_journal(isolated_env)
    assert 8 <= finished < total
    first_run = {asked(b) for b in settled_bodies(configured)}

    configured.configure(faults=[], reset_stats=True)
    out = run_process("batch", "run", "--lines", str(path), "-n", "2")
    assert out.code == 0, out.stderr
    assert f"resuming: {finished} of {total}" in out.stderr
    rerun = [asked(b) for b in chat_bodies(configured)]
    assert len(rerun) == total - finished  # nothing finished is sent twice
    assert len(set(rerun)) == len(rerun)
    assert first_run | set(rerun) == {f"ECHO answer {n}" for n in range(1, total + 1)}
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["content"] for r in records] == [f"answer {n}" for n in range(1, total + 1)]


@pytest.mark.slow
def test_a_429_storm_slows_down_and_loses_nothing(configured: Emulator, tmp_path: Path) -> None:
    path = prompts(tmp_path, 16)
    configured.configure(rate_limit_storm=10)  # the next 10 chats get 429 with Retry-After
    started = time.monotonic()
    out = run_process("batch", "run", "--lines", str(path), "-n", "8", timeout=90)
    assert out.code == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["content"] for r in records] == [f"answer {n}" for n in range(1, 17)]
    stats = configured.stats()
    assert stats["rate_limited"] == 10
    assert stats["requests"]["POST /v1/chat/completions"] == 26  # each refused one sent again
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured


def test_a_quota_error_stops_the_run_at_once(configured: Emulator, tmp_path: Path) -> None:
    path = prompts(tmp_path, 30)
    configured.configure(faults=[{"name": "quota"}])
    out = invoke("batch", "run", "--lines", str(path), "-n", "2")
    out.assert_one_error_line(6)
    assert len(chat_bodies(configured)) <= 2  # never retried, nothing more sent
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(records) == 30
    assert all(r["error"] is not None for r in records)


def test_a_rate_limit_of_many_minutes_stops_the_run_and_says_when(
    configured: Emulator, tmp_path: Path
) -> None:
    """Retry-After: 1152 (a daily token limit): every other request would be refused the
    same way, so the run stops at once with exit 75, as a chat does, instead of sending them
    all to fail and advising a rerun that fails again."""
    path = prompts(tmp_path, 30)
    configured.configure(faults=[{"name": "rate_limit_long"}])
    out = invoke("batch", "run", "--lines", str(path), "-n", "2")
    line = out.assert_one_error_line(75)
    assert "1152" in line or "19 min" in line or "20 min" in line, line
    assert len(chat_bodies(configured)) <= 2
    records = [json.loads(r) for r in out.stdout.splitlines()]
    assert len(records) == 30 and all(r["error"] is not None for r in records)


@pytest.mark.slow
def test_an_api_that_fails_every_request_stops_the_run(
    configured: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request a 500 (the same for a network that is down): once a few requests in a
    row have failed after all their attempts, the run stops with exit 75 and one line,
    instead of spending every request's attempts (13 hours for 50,000 lines at ~7 s each);
    a rerun once the API is back sends them all."""
    monkeypatch.setenv("KIMI_MAX_RETRIES", "0")  # the engine's own attempts only: quicker
    path = prompts(tmp_path, 40)
    configured.configure(faults=[{"name": "server_error"}])
    out = run_process("batch", "run", "--lines", str(path), "-n", "5")
    line = out.assert_one_error_line(75)
    assert "stopped after 5 requests in a row failed" in line, line
    assert "run the same command again to send the rest" in line
    assert len(chat_bodies(configured)) <= (5 + 5) * 4  # not 40 requests x 4 attempts
    records = [json.loads(r) for r in out.stdout.splitlines()]
    assert len(records) == 40 and all(r["error"] is not None for r in records)
    configured.configure(faults=[])
    again = invoke("batch", "run", "--lines", str(path), "-n", "5")
    assert again.code == 0, again.stderr
    assert [json.loads(r)["content"] for r in again.stdout.splitlines()] == [
        f"answer {n}" for n in range(1, 41)
    ]


def test_failed_requests_are_reported_and_the_rest_written(
    configured: Emulator, tmp_path: Path
) -> None:
    path = prompts(tmp_path, 4)
    configured.configure(faults=[{"name": "content_filter", "once": True}])
    out = invoke("batch", "run", "--lines", str(path), "-n", "1")
    assert out.code == 1, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["error"] is None for r in records] == [False, True, True, True]
    assert records[0]["error"]["type"]
    line = out.assert_one_error_line(1)  # exit 1 is a failure: one line that says what to do
    assert "1 of 4 request(s) failed (the other 3 answered)" in line
    assert "run the same command again to retry them" in line


def test_schema_is_sent_and_answers_that_break_it_fail(
    configured: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "p.txt"
    path.write_text('ECHO {"answer": "yes"}\nECHO {"other": 1}\n', encoding="utf-8")
    out = invoke("batch", "run", "--lines", str(path), "--schema", "answer")
    assert out.code == 1, out.stderr
    good, bad = (json.loads(line) for line in out.stdout.splitlines())
    assert good["error"] is None and json.loads(good["content"]) == {"answer": "yes"}
    assert bad["error"]["type"] == "schema_mismatch"
    formats = [b["response_format"] for b in chat_bodies(configured)]
    assert all(f["type"] == "json_schema" and f["json_schema"]["strict"] for f in formats)
    again = invoke("batch", "run", "--lines", str(path), "--schema", "answer")
    assert "resuming: 1 of 2" in again.stderr  # the mismatch is asked again, the rest kept


def test_ctrl_c_stops_the_run_and_says_how_to_resume(
    configured: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    path = prompts(tmp_path, 30)
    configured.configure(latency=0.2)
    proc, out, err = _stopped_run(isolated_env, path, signal.SIGINT)
    assert proc.returncode == 130
    text = err.decode()
    assert "run the same command again" in text and "Traceback" not in text
    assert out == b""
    configured.configure(latency=0)
    again = run_process("batch", "run", "--lines", str(path), "-n", "4")
    assert again.code == 0 and "resuming" in again.stderr
    assert len(again.stdout.splitlines()) == 30


def _requests_in_usage() -> int:
    out = invoke("usage", "--json")
    assert out.code == 0, out.stderr
    return sum(int(t["requests"]) for t in json.loads(out.stdout)["totals"])


@pytest.mark.slow
def test_a_killed_run_still_counts_in_usage_once(
    configured: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    """``kill -9`` loses no spend: what the killed run got answered is billed, so the rerun
    records it; a third run, with nothing left to send, records nothing more."""
    total = 20
    path = prompts(tmp_path, total)
    configured.configure(faults=[{"name": "slow_first_byte"}], delay=0.15)
    _stopped_run(isolated_env, path, signal.SIGKILL, after=4)
    assert 4 <= finished_in_journal(isolated_env) < total
    configured.configure(faults=[])
    assert run_process("batch", "run", "--lines", str(path), "-n", "2").code == 0
    assert _requests_in_usage() == total
    assert run_process("batch", "run", "--lines", str(path)).code == 0
    assert _requests_in_usage() == total


@pytest.mark.slow
def test_sigterm_stops_the_run_like_ctrl_c(
    configured: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    path = prompts(tmp_path, 30)
    configured.configure(latency=0.2)
    proc, out, err = _stopped_run(isolated_env, path, signal.SIGTERM)
    assert proc.returncode == 143
    text = err.decode()
    assert "Traceback" not in text
    assert "finished and kept; run the same command again to send the rest" in text
    assert out == b""
    # What had finished when it stopped is in history; an answer that landed in the journal
    # while the process went down is recorded by the next run: all of them, once.
    assert 3 <= _requests_in_usage() <= finished_in_journal(isolated_env)
    configured.configure(latency=0)
    assert run_process("batch", "run", "--lines", str(path), "-n", "4").code == 0
    assert _requests_in_usage() == 30


def test_no_answer_within_the_token_budget_is_a_failure(
    configured: Emulator, tmp_path: Path
) -> None:
    out = invoke("batch", "run", "--lines", str(prompts(tmp_path, 2)), "--max-tokens", "10")
    line = out.assert_one_error_line(1)
    assert "2 of 2 request(s) failed" in line
    records = [json.loads(r) for r in out.stdout.splitlines()]
    assert [r["error"]["type"] for r in records] == ["length", "length"]
    assert all(r["content"] == "" and r["finish_reason"] == "length" for r in records)


def test_an_output_directory_that_cannot_be_made_is_refused_before_sending(
    configured: Emulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    out = invoke("batch", "run", "--lines", str(prompts(tmp_path, 2)), "-o", str(blocker / "d"))
    line = out.assert_one_error_line(2)
    assert "cannot create" in line and "pick another -o" in line
    assert chat_bodies(configured) == []


def test_the_saved_max_tokens_is_the_default_budget_and_the_flag_wins(
    configured: Emulator, tmp_path: Path
) -> None:
    path = prompts(tmp_path, 2)
    assert invoke("config", "set", "max_tokens", "321").code == 0
    out = invoke("batch", "run", "--lines", str(path))
    assert out.code == 0, out.stderr
    assert {b["max_completion_tokens"] for b in chat_bodies(configured)} == {321}
    configured.configure(reset_stats=True)
    out = invoke("batch", "run", "--lines", str(path), "--max-tokens", "50")
    assert out.code == 0, out.stderr
    assert {b["max_completion_tokens"] for b in chat_bodies(configured)} == {50}
