"""Issue: chat. One-shot and piped use: through the entry point, and real processes where
the pipes matter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import history_at, invoke, run_process

TRICKY = "héllo  wörld\n\n世界 — 🌍\ttab\n  indented\n\n\nend  "


def test_piped_echo_returns_the_text_exactly(configured: Emulator) -> None:
    out = run_process("chat", input=f"ECHO {TRICKY}")
    assert out.code == 0, out.stderr
    assert out.stdout == TRICKY + "\n"  # plus a final newline, nothing else


def test_answer_ending_in_newline_gets_no_extra_one(configured: Emulator) -> None:
    out = run_process("chat", input="ECHO line\n")
    assert out.stdout == "line\n"


def test_stdin_comes_before_the_prompt(configured: Emulator) -> None:
    out = run_process("chat", "the prompt", input="ECHO piped context")
    assert out.stdout == "piped context\n\nthe prompt\n"


def test_files_are_fenced_under_their_path_before_stdin(
    configured: Emulator, tmp_path: Path
) -> None:
    source = tmp_path / "a.py"
    source.write_text("print('x')\n")
    out = run_process("chat", "-f", str(source), "explain", input="ECHO-less context")
    assert out.code == 0
    sent = configured.stats()["chat_requests"][-1]["messages"][-1]["content"]
    assert sent == f"{source}\n```\nprint('x')\n```\n\nECHO-less context\n\nexplain"


def test_twenty_thousand_words_arrive_complete_and_in_order(configured: Emulator) -> None:
    out = run_process(
        "chat", "LOREM 20000", "--reasoning", "hide", "--max-tokens", "200000", timeout=120
    )
    assert out.code == 0 and out.stderr == ""
    direct = invoke("chat", "--no-stream", "--max-tokens", "200000", "LOREM 20000")
    assert out.stdout == direct.stdout
    assert len(out.stdout.split()) >= 19000


def test_reasoning_never_reaches_stdout(configured: Emulator) -> None:
    out = invoke("chat", "--reasoning", "show", "ECHO answer only")
    assert out.stdout == "answer only\n"
    assert "echo their text" in out.stderr  # the emulator's reasoning went to stderr


def test_json_output_matches_the_streamed_text(configured: Emulator) -> None:
    streamed = invoke("chat", f"ECHO {TRICKY}").stdout
    out = invoke("chat", "--json", f"ECHO {TRICKY}")
    doc = json.loads(out.stdout)
    assert doc["content"] + "\n" == streamed
    assert doc["model"] == "kimi-k2.6" and doc["partial"] is False
    assert doc["finish_reason"] == "stop" and doc["reasoning"]
    assert set(doc["usage"]) == {"input_tokens", "cached_tokens", "output_tokens"}
    assert doc["conversation_id"] and doc["request_id"]
    assert "cost" in doc


def test_extract_prints_only_the_first_code_block(configured: Emulator) -> None:
    text = "Here:\n```python\nprint(1)\n```\nand\n```\nsecond\n```\n"
    out = invoke("chat", "-x", f"ECHO {text}")
    assert out.stdout == "print(1)\n"


def test_continue_and_session_send_the_earlier_turns(configured: Emulator) -> None:
    first = json.loads(invoke("chat", "--json", "ECHO one").stdout)["conversation_id"]
    invoke("chat", "ECHO other conversation")
    invoke("chat", "--session", first, "ECHO two")
    sent = configured.stats()["chat_requests"][-1]["messages"]
    assert [m["content"] for m in sent] == ["ECHO one", "one", "ECHO two"]
    invoke("chat", "-c", "ECHO three")  # -c: the most recently *used* one, i.e. `first`
    sent = configured.stats()["chat_requests"][-1]["messages"]
    assert [m["content"] for m in sent][-2:] == ["two", "ECHO three"]


def test_unknown_session_is_a_usage_error(configured: Emulator) -> None:
    line = invoke("chat", "--session", "nope1234", "hi").assert_one_error_line(2)
    assert "no conversation 'nope1234'" in line and "kimi history list" in line
    assert configured.stats()["chat_requests"] == []


def test_reasoning_is_resent_for_models_that_need_it(configured: Emulator) -> None:
    invoke("chat", "-m", "kimi-k3", "ECHO one")
    invoke("chat", "-c", "ECHO two")
    assistant = configured.stats()["chat_requests"][-1]["messages"][1]
    assert assistant["role"] == "assistant" and assistant.get("reasoning_content")


def test_cut_stream_keeps_the_partial_answer(configured: Emulator, isolated_env: Path) -> None:
    configured.configure(faults=[{"name": "stream_cut"}])
    out = invoke("chat", "LOREM 200")
    out.assert_one_error_line(75)
    assert len(out.stdout.split()) > 20  # what arrived was printed ...
    store = history_at(isolated_env)
    last = store.last_used()
    assert last is not None
    answer = store.messages(last.id)[-1]
    assert (
        answer.role == "assistant"
        and answer.partial
        and answer.content.split()[:5] == out.stdout.split()[:5]
    )


def test_json_on_a_cut_stream_reports_partial_and_error(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "stream_cut"}])
    out = invoke("chat", "--json", "LOREM 200")
    assert out.code == 75
    doc = json.loads(out.stdout)
    assert doc["partial"] is True and doc["content"] and doc["error"]["message"]


@pytest.mark.parametrize(
    ("sig", "code", "kind"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_json_interrupted_mid_answer_prints_what_arrived(
    configured: Emulator, sig: signal.Signals, code: int, kind: str
) -> None:
    # `timeout 60 kimi chat --json …`: the text that arrived is on stdout as it is without
    # --json, in the one document, marked partial.
    configured.configure(faults=[{"name": "stall"}], stall=20)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "chat", "--json", "LOREM 300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 15
    while not configured.stats()["chat_requests"] and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the first words are out; the stream stalls now
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == code, stderr
    assert b"Traceback" not in stderr
    doc = json.loads(stdout)
    assert doc["partial"] is True and doc["content"].startswith("Lorem")
    assert doc["error"] == {"type": kind, "exit_code": code, "message": kind}


def test_no_log_and_history_false_store_nothing(
    configured: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("chat", "ECHO kept").code == 0  # the control: history is on
    assert [c.title for c in history_at(isolated_env).recent()] == ["ECHO kept"]
    assert invoke("chat", "--no-log", "ECHO x").code == 0
    assert invoke("config", "set", "history", "false").code == 0
    assert invoke("chat", "ECHO z").code == 0
    assert [c.title for c in history_at(isolated_env).recent()] == ["ECHO kept"]
    assert len(configured.stats()["chat_requests"]) == 3


def test_broken_pipe_is_quiet_and_closes_the_stream(configured: Emulator) -> None:
    proc = subprocess.run(
        f"{sys.executable} -m kimi_cli chat 'LOREM 20000' | head -c 100",
        shell=True,
        capture_output=True,
        env=os.environ.copy(),
        timeout=60,
        executable="/bin/bash",
    )
    assert len(proc.stdout) == 100
    assert b"Traceback" not in proc.stderr and b"Exception" not in proc.stderr
    deadline = time.monotonic() + 5
    while configured.stats()["disconnects"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert configured.stats()["disconnects"] == 1


def test_broken_pipe_exit_code_is_141(configured: Emulator) -> None:
    proc = subprocess.run(
        f"{sys.executable} -m kimi_cli chat 'LOREM 20000' | head -c 10; exit ${{PIPESTATUS[0]}}",
        shell=True,
        capture_output=True,
        env=os.environ.copy(),
        timeout=60,
        executable="/bin/bash",
    )
    assert proc.returncode == 141
    assert len(proc.stdout) == 10
    assert proc.stderr == b""  # quiet: the reader went away on purpose


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_mid_answer_keep_the_partial_answer(
    configured: Emulator, isolated_env: Path, sig: signal.Signals, code: int
) -> None:
    configured.configure(faults=[{"name": "stall"}], stall=20)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "chat", "LOREM 300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    assert proc.stdout is not None
    first = proc.stdout.read1(4096)  # the answer has started: now it stalls
    assert first
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == code, stderr
    assert b"Traceback" not in stderr
    last = history_at(isolated_env).last_used()
    assert last is not None
    answer = history_at(isolated_env).messages(last.id)[-1]
    assert answer.partial and answer.content
