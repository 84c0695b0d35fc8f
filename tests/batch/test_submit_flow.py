"""Issue: kimi batch submit → wait → results, as real processes against the emulator's
Batch API: one answer per input file, the uploaded JSONL valid line by line, a rerun after
kill -9 with no second batch, and the documented exit codes for failed, expired and
cancelled batches, every finished result kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import SECRET_KEY, invoke, run_process


@pytest.fixture
def emu(configured: Emulator) -> Emulator:
    configured.configure(batch_step_s=0.2)
    return configured


def api(emu: Emulator, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {SECRET_KEY}"}
    response = httpx.request(method, emu.base_url + path, headers=headers, timeout=10, **kwargs)
    response.raise_for_status()
    return response.json() if "json" in response.headers.get("content-type", "") else response.text


def count(emu: Emulator, name: str) -> int:
    return int(emu.stats()["requests"].get(name, 0))


def docs(tmp_path: Path, n: int = 3) -> list[str]:
    folder = tmp_path / "docs"
    folder.mkdir()
    paths = []
    for i in range(1, n + 1):
        (folder / f"page{i}.md").write_text(f"# Page {i}\n\nText of page {i}.\n", encoding="utf-8")
        paths.append(str(folder / f"page{i}.md"))
    return paths


def lines_file(tmp_path: Path, n: int) -> str:
    path = tmp_path / "prompts.txt"
    path.write_text("".join(f"ECHO answer {i}\n" for i in range(1, n + 1)), encoding="utf-8")
    return str(path)


def test_submit_wait_results_writes_one_answer_per_file(emu: Emulator, tmp_path: Path) -> None:
    files = docs(tmp_path)
    out = invoke("batch", "submit", "-p", "summarise", *files, "--name", "pages")
    assert out.code == 0, out.stderr
    batch_id = out.stdout.strip()
    assert batch_id and "\n" not in batch_id
    assert ("3 request(s)" in out.stderr and "batch price" in out.stderr) or "unknown" in out.stderr

    uploaded = api(
        emu, "GET", f"/files/{api(emu, 'GET', f'/batches/{batch_id}')['input_file_id']}/content"
    )
    lines = [json.loads(line) for line in uploaded.splitlines()]
    assert [line["custom_id"] for line in lines] == files
    for line, path in zip(lines, files, strict=True):
        assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
        body = line["body"]
        assert body["model"] == "kimi-k2.6" and "stream" not in body and "temperature" not in body
        assert body["messages"][-1]["content"].startswith(f"{path}\n```\n# Page")
        assert body["messages"][-1]["content"].endswith("\n\nsummarise")

    waited = invoke("batch", "wait", batch_id, "--interval", "0.1")
    assert waited.code == 0, waited.stderr
    assert "completed" in waited.stderr

    out_dir = tmp_path / "out"
    fetched = invoke("batch", "results", batch_id, "-o", str(out_dir))
    assert fetched.code == 0, fetched.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["page1.md", "page2.md", "page3.md"]
    assert all(p.read_text(encoding="utf-8").strip() for p in out_dir.iterdir())

    again = invoke("batch", "results", batch_id)  # re-fetchable, JSON lines in input order
    records = [json.loads(line) for line in again.stdout.splitlines()]
    assert [r["source"] for r in records] == files
    assert all(r["error"] is None and r["content"] for r in records)
    assert (out_dir / "page2.md").read_text(encoding="utf-8") == records[1]["content"] + "\n"


def test_the_same_input_again_sends_nothing_unless_forced(emu: Emulator, tmp_path: Path) -> None:
    path = lines_file(tmp_path, 2)
    first = invoke("batch", "submit", "--lines", path)
    assert first.code == 0, first.stderr
    uploads, creates = count(emu, "POST /v1/files"), count(emu, "POST /v1/batches")
    again = invoke("batch", "submit", "--lines", path)
    assert again.code == 0 and again.stdout == first.stdout
    assert "submitted already" in again.stderr
    assert (count(emu, "POST /v1/files"), count(emu, "POST /v1/batches")) == (uploads, creates)
    forced = invoke("batch", "submit", "--lines", path, "--force")
    assert forced.code == 0 and forced.stdout != first.stdout
    assert count(emu, "POST /v1/batches") == creates + 1


def test_submit_json_has_the_same_fields_with_and_without_dry_run(
    emu: Emulator, tmp_path: Path
) -> None:
    path = lines_file(tmp_path, 2)
    dry = json.loads(invoke("batch", "submit", "--lines", path, "--dry-run", "--json").stdout)
    real = json.loads(invoke("batch", "submit", "--lines", path, "--json").stdout)
    fields = {"requests", "files", "model", "batch_ids", "reused", "dry_run"}
    assert set(dry) == set(real) == fields
    assert (dry["dry_run"], dry["reused"], dry["batch_ids"]) == (True, False, [])
    assert (real["dry_run"], real["reused"], len(real["batch_ids"])) == (False, False, 1)


def test_dry_run_uploads_nothing(emu: Emulator, tmp_path: Path) -> None:
    out = invoke("batch", "submit", "--lines", lines_file(tmp_path, 3), "--dry-run")
    assert out.code == 0, out.stderr
    assert out.stdout == "" and "dry run" in out.stderr and "3 request(s)" in out.stderr
    assert count(emu, "POST /v1/files") == 0 and count(emu, "POST /v1/batches") == 0


def test_a_failed_create_is_not_repeated_and_a_rerun_finishes_the_job(
    emu: Emulator, tmp_path: Path
) -> None:
    emu.configure(faults=[{"name": "server_error", "once": True, "endpoint": "batches.create"}])
    out = run_process("batch", "submit", "--lines", lines_file(tmp_path, 2))
    line = out.assert_one_error_line(75)
    assert "run the same command again later: it picks up this job" in line
    assert count(emu, "POST /v1/batches") == 1  # the batch may exist: not created twice
    again = run_process("batch", "submit", "--lines", lines_file(tmp_path, 2))
    assert again.code == 0 and again.stdout.startswith("batch_"), again.stderr
    assert count(emu, "POST /v1/files") == 1  # the upload was reused


def test_a_full_account_names_the_cleanup_of_batch_files(emu: Emulator, tmp_path: Path) -> None:
    emu.configure(faults=[{"name": "files_full", "once": True}])
    out = run_process("batch", "submit", "--lines", lines_file(tmp_path, 2))
    line = out.assert_one_error_line(1)
    assert "kimi files rm --purpose batch --older-than 30 -y" in line
    assert count(emu, "POST /v1/batches") == 0
    assert run_process("batch", "submit", "--lines", lines_file(tmp_path, 2)).code == 0


@pytest.mark.slow
def test_wait_polls_on_through_a_passing_outage_of_the_api(emu: Emulator, tmp_path: Path) -> None:
    """A batch runs for hours; a few 503s on the way must not end the wait (exit 75)."""
    import threading

    emu.configure(batch_step_s=1)
    batch_id = invoke("batch", "submit", "--lines", lines_file(tmp_path, 2)).stdout.strip()
    emu.configure(faults=[{"name": "unavailable", "endpoint": "batches.retrieve"}])
    healed = threading.Timer(1.5, lambda: emu.configure(faults=[]))
    healed.start()
    try:
        out = run_process(
            "batch", "wait", batch_id, "--interval", "0.2", env={"KIMI_MAX_RETRIES": "0"}
        )
    finally:
        healed.cancel()
    assert out.code == 0, out.stderr
    assert "no answer from the API" in out.stderr and "retrying" in out.stderr
    assert "kimi: error:" not in out.stderr
    assert "completed: 2 done, 0 failed" in out.stderr


def test_batch_results_files_can_be_cleaned_up_by_their_purpose(
    emu: Emulator, tmp_path: Path
) -> None:
    emu.configure(batch_step_s=0)
    batch_id = invoke("batch", "submit", "--lines", lines_file(tmp_path, 2)).stdout.strip()
    assert invoke("batch", "wait", batch_id, "--interval", "0.1").code == 0
    listed = json.loads(invoke("files", "list", "--purpose", "batch_output", "--json").stdout)
    assert [f["filename"] for f in listed] == [f"{batch_id}_output.jsonl"]
    removed = run_process("files", "rm", "--purpose", "batch_output", "-y")
    assert removed.code == 0 and "deleted 1 file" in removed.stderr, removed.stderr
    assert [f["purpose"] for f in json.loads(invoke("files", "list", "--json").stdout)] == ["batch"]


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ["files.upload", "batches.create"])
def test_kill_9_during_submit_then_rerun_makes_exactly_one_batch(
    emu: Emulator, tmp_path: Path, endpoint: str
) -> None:
    path = lines_file(tmp_path, 3)
    emu.configure(faults=[{"name": "slow_first_byte", "endpoint": endpoint}], delay=1.0)
    watched = "POST /v1/files" if endpoint == "files.upload" else "POST /v1/batches"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "batch", "submit", "--lines", path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 30
    while count(emu, watched) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    time.sleep(1.5)  # the server finishes what the killed process had asked for
    emu.configure(faults=[])

    rerun = run_process("batch", "submit", "--lines", path)
    assert rerun.code == 0, rerun.stderr
    batches = api(emu, "GET", "/batches")["data"]
    assert [b["id"] for b in batches] == [rerun.stdout.strip()]
    inputs = [f for f in api(emu, "GET", "/files")["data"] if f["purpose"] == "batch"]
    assert [f["id"] for f in inputs] == [batches[0]["input_file_id"]]
    again = run_process("batch", "submit", "--lines", path)
    assert again.stdout == rerun.stdout


@pytest.mark.slow
def test_ctrl_c_during_submit_says_a_rerun_finishes_the_job(emu: Emulator, tmp_path: Path) -> None:
    path = lines_file(tmp_path, 3)
    emu.configure(faults=[{"name": "slow_first_byte", "endpoint": "batches.create"}], delay=3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "batch", "submit", "--lines", path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 30
    while count(emu, "POST /v1/batches") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and out == b""
    text = err.decode()
    assert "Traceback" not in text and text.count("kimi: error:") == 1
    assert "run the same command again to finish: it picks up this job" in text
    time.sleep(3.2)  # the server finishes the create the process had asked for
    emu.configure(faults=[])
    rerun = run_process("batch", "submit", "--lines", path)
    assert rerun.code == 0, rerun.stderr
    assert [b["id"] for b in api(emu, "GET", "/batches")["data"]] == [rerun.stdout.strip()]


def test_a_batch_the_api_failed_is_exit_1_with_its_line_numbers(emu: Emulator) -> None:
    good = {
        "custom_id": "a",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]},
    }
    content = json.dumps(good) + "\n{not json\n" + json.dumps(good) + "\n"
    upload = api(
        emu,
        "POST",
        "/files",
        data={"purpose": "batch"},
        files={"file": ("in.jsonl", content.encode(), "application/jsonl")},
    )
    batch = api(
        emu,
        "POST",
        "/batches",
        json={
            "input_file_id": upload["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    )
    out = invoke("batch", "wait", batch["id"], "--interval", "0.1")
    out.assert_one_error_line(1)
    assert "input line 2" in out.stderr and "input line 3" in out.stderr


def test_an_expired_batch_keeps_what_finished(emu: Emulator, tmp_path: Path) -> None:
    emu.configure(faults=[{"name": "batch_expire"}])
    submitted = invoke("batch", "submit", "--lines", lines_file(tmp_path, 4))
    batch_id = submitted.stdout.strip()
    waited = invoke("batch", "wait", batch_id, "--interval", "0.1")
    line = waited.assert_one_error_line(1)
    assert (
        "expired" in line
        and "2 of 4 request(s) answered" in line
        and f"kimi batch results {batch_id}" in line
    )
    fetched = invoke("batch", "results", batch_id)
    line = fetched.assert_one_error_line(1)
    assert "2 of 4 request(s) failed (the other 2 written)" in line and '"error"' in line
    records = [json.loads(r) for r in fetched.stdout.splitlines()]
    assert [r["custom_id"] for r in records] == ["line-1", "line-2", "line-3", "line-4"]
    assert sum(r["error"] is None for r in records) == 2
    assert all(r["content"] for r in records if r["error"] is None)


def test_a_cancelled_batch_is_exit_1_and_keeps_what_finished(emu: Emulator, tmp_path: Path) -> None:
    emu.configure(batch_step_s=1.0)
    batch_id = invoke("batch", "submit", "--lines", lines_file(tmp_path, 4)).stdout.strip()
    cancelled = invoke("batch", "cancel", batch_id)
    assert cancelled.code == 0 and "cancel" in cancelled.stderr
    waited = invoke("batch", "wait", batch_id, "--interval", "0.2")
    line = waited.assert_one_error_line(1)
    assert "cancelled" in line
    fetched = invoke("batch", "results", batch_id)
    records = [json.loads(r) for r in fetched.stdout.splitlines()]
    assert len(records) == 4
    assert fetched.code == (1 if any(r["error"] for r in records) else 0)


@pytest.mark.slow
def test_cancelling_a_batch_that_ended_says_so_and_what_to_do(
    emu: Emulator, tmp_path: Path
) -> None:
    emu.configure(batch_step_s=0)
    batch_id = invoke("batch", "submit", "--lines", lines_file(tmp_path, 2)).stdout.strip()
    assert invoke("batch", "wait", batch_id, "--interval", "0.1").code == 0
    line = run_process("batch", "cancel", batch_id).assert_one_error_line(1)
    assert f"batch {batch_id} already ended (completed): there is nothing to cancel" in line
    assert f"kimi batch results {batch_id}" in line
    assert "check the options given" not in line


@pytest.mark.slow
def test_status_and_list_merge_the_journal_with_the_api(emu: Emulator, tmp_path: Path) -> None:
    batch_id = run_process(
        "batch", "submit", "--lines", lines_file(tmp_path, 2), "--name", "faq"
    ).stdout.strip()
    status = json.loads(run_process("batch", "status", batch_id, "--json").stdout)
    assert status["id"] == batch_id and status["name"] == "faq" and status["model"] == "kimi-k2.6"
    assert status["total"] == 2
    listed = json.loads(run_process("batch", "list", "--json").stdout)
    assert [(b["id"], b["name"]) for b in listed] == [(batch_id, "faq")]
    unknown = run_process("batch", "status", "batch_nope")
    unknown.assert_one_error_line(1)


def test_a_corrupt_journal_is_named_with_what_moving_it_aside_keeps(
    emu: Emulator, isolated_env: Path
) -> None:
    journal = isolated_env / "data" / "batch.db"
    journal.parent.mkdir(parents=True)
    journal.write_bytes(b"not a database, a page of noise " * 200)
    line = run_process("batch", "list").assert_one_error_line(3)
    assert line == (
        f"kimi: error: batch journal {journal} is corrupt (file is not a database) — move it "
        "aside; kimi will start a new one (submitted batches stay on the platform: "
        "'kimi batch status ID')"
    )


def test_ctrl_c_stops_waiting_not_the_batch(emu: Emulator, tmp_path: Path) -> None:
    emu.configure(batch_step_s=30)
    batch_id = run_process("batch", "submit", "--lines", lines_file(tmp_path, 2)).stdout.strip()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "batch", "wait", batch_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert f"kimi batch wait {batch_id}" in err.decode() and "Traceback" not in err.decode()
    assert api(emu, "GET", f"/batches/{batch_id}")["status"] not in ("cancelled", "cancelling")


@pytest.mark.slow
def test_run_keeps_at_most_n_in_flight_and_survives_a_429_storm(
    emu: Emulator, tmp_path: Path
) -> None:
    emu.configure(latency=0.05, rate_limit_storm=12)
    out = run_process(
        "batch", "run", "--lines", lines_file(tmp_path, 40), "--concurrency", "8", timeout=120
    )
    assert out.code == 0, out.stderr
    records = [json.loads(r) for r in out.stdout.splitlines()]
    assert [r["content"] for r in records] == [f"answer {i}" for i in range(1, 41)]
    stats = emu.stats()
    assert stats["rate_limited"] == 12
    assert 2 <= stats["chat_max_in_flight"] <= 8


@pytest.mark.slow
def test_results_cost_goes_into_usage_once_at_the_batch_price(
    emu: Emulator, tmp_path: Path
) -> None:
    assert invoke("config", "set", "currency", "USD").code == 0
    batch_id = invoke("batch", "submit", "--lines", lines_file(tmp_path, 3)).stdout.strip()
    assert invoke("batch", "wait", batch_id, "--interval", "0.1").code == 0
    first = invoke("batch", "results", batch_id)
    second = invoke("batch", "results", batch_id)
    assert first.stdout == second.stdout
    records = [json.loads(r) for r in first.stdout.splitlines()]
    total = sum(r["cost"]["amount"] for r in records)
    usage = json.loads(invoke("usage", "--json").stdout)
    (spend,) = usage["totals"]
    assert spend["requests"] == 3 and spend["currency"] == "USD"
    assert abs(spend["cost"] - total) < 1e-9
    assert abs(spend["batch_saving"] - total / 0.6 * 0.4) < 1e-9


@pytest.mark.slow
def test_results_of_several_batches_go_out_in_the_order_given(
    emu: Emulator, tmp_path: Path
) -> None:
    ids = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"ECHO {name}1\nECHO {name}2\n", encoding="utf-8")
        ids.append(invoke("batch", "submit", "--lines", str(path)).stdout.strip())
    assert ids[0] != ids[1]
    for batch_id in ids:
        assert invoke("batch", "wait", batch_id, "--interval", "0.1").code == 0
    out = invoke("batch", "results", *ids, "-o", str(tmp_path / "out"), "--json")
    assert out.code == 0, out.stderr
    records = [json.loads(r) for r in out.stdout.splitlines()]
    assert [r["content"] for r in records] == ["a1", "a2", "b1", "b2"]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["line-1-2.txt", "line-1.txt", "line-2-2.txt", "line-2.txt"]


@pytest.mark.slow
def test_two_results_into_one_directory_take_turns(emu: Emulator, tmp_path: Path) -> None:
    """Two 'batch results -o DIR' at once: the second cleared the "left" temporary files,
    which were the first one's files being written, and the first died with exit 70
    (FileNotFoundError). A writer now holds the directory: here the test holds it, as a
    writer busy with ``.kimi-busy.partial``; the command waits and leaves that file alone
    until the holder is gone, then writes everything."""
    import fcntl
    import os
    import subprocess
    import sys
    import time

    batch_id = invoke("batch", "submit", "--lines", lines_file(tmp_path, 5)).stdout.strip()
    assert invoke("batch", "wait", batch_id, "--interval", "0.1").code == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    busy = out_dir / ".kimi-busy.partial"
    busy.write_text("half a file", encoding="utf-8")
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [sys.executable, "-m", "kimi_cli", "batch", "results", batch_id, "-o", str(out_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.5)  # time enough to write five answers, were it not waiting
        still_there, waiting = busy.exists(), proc.poll() is None
    finally:
        os.close(fd)
    _, err = proc.communicate(timeout=30)
    assert (still_there, waiting) == (True, True)
    assert proc.returncode == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == [f"line-{n}.txt" for n in range(1, 6)]
