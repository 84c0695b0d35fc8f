"""Reliability: input at the edges — huge input that fits, huge input that cannot, binary
data through a real pipe. (Empty and undecodable input in-process: test_chat_policy.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import Outcome, chats, invoke, run_process

TOKENIZER = "POST /v1/tokenizers/estimate-token-count"


def test_huge_input_that_fits_is_sent_and_answered_byte_for_byte(configured: Emulator) -> None:
    line = "héllo-wörld—世界🌍\t" * 6 + "\n"
    text = line * 800  # ≈ 100 KB, over the 64 KB at which the tokenizer measures it first
    out = invoke("chat", "--max-tokens", "60000", input="ECHO " + text)
    assert out.code == 0, out.stderr
    assert out.stdout == text
    assert configured.stats()["requests"][TOKENIZER] == 1
    assert configured.stats()["chat_requests"][-1]["messages"][-1]["content"] == "ECHO " + text


def test_huge_input_beyond_the_context_is_refused_before_sending(configured: Emulator) -> None:
    text = "word " * 240_000  # 1.2 MB ≈ 300,000 tokens; kimi-k2.6 takes 262,144
    out = invoke("chat", input=text)
    line = out.assert_one_error_line(2)
    assert "kimi-k2.6 takes at most 262,144" in line
    assert chats(configured) == 0 and out.stdout == ""


@pytest.mark.parametrize(
    "args", [["chat", "summarise"], ["chat", "-f", "-", "summarise"], ["tokens"]]
)
def test_stdin_over_what_a_request_may_hold_is_refused_as_it_is_read(
    configured: Emulator, tmp_path: Path, args: list[str]
) -> None:
    """130 MB on stdin went whole to the tokenizer (500 MiB of memory, 2 s) to learn it did
    not fit; the API takes a request body of at most 100 MB, so more than that is refused
    once 100 MB are read, before anything is sent."""
    big = tmp_path / "big.txt"
    chunk = b"word " * 209_715 + b"w"  # 1 MiB of text
    with big.open("wb") as out:
        for _ in range(100):
            out.write(chunk)
        out.write(b"!")  # 100 MiB and one byte
    with big.open("rb") as stdin:
        proc = subprocess.run(
            [sys.executable, "-m", "kimi_cli", *args],
            stdin=stdin,
            capture_output=True,
            timeout=60,
        )
    out = Outcome(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    line = out.assert_one_error_line(2)
    assert "standard input is over 100 MB, more than the API takes in one request" in line
    assert "kimi batch run --lines" in line
    assert configured.stats()["requests"].get(TOKENIZER, 0) == 0 and chats(configured) == 0


def test_binary_stdin_through_a_real_pipe_is_a_usage_error(configured: Emulator) -> None:
    payload = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
    out = run_process("chat", "describe", input=payload)
    line = out.assert_one_error_line(2)
    assert "standard input is not valid UTF-8 (byte offset 0)" in line and "-f" in line
    assert chats(configured) == 0 and out.stdout == ""


def run_bytes(*args: bytes) -> Outcome:
    """``python -m kimi_cli ARGS`` with arguments as raw bytes, in a UTF-8 locale."""
    proc = subprocess.run(
        [sys.executable.encode(), b"-m", b"kimi_cli", *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        timeout=60,
    )
    return Outcome(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.mark.parametrize(
    "args",
    [
        [b"chat", b"ECHO \xff"],
        [b"chat", b"-s", b"\xffsystem", b"ECHO hi"],
        [b"chat", b"--session", b"\xff", b"ECHO hi"],
        [b"chat", b"-m", b"kimi\xff", b"ECHO hi"],
        [b"history", b"show", b"\xed\xa0\x80"],
        [b"config", b"set", b"model", b"\xff"],
    ],
    ids=["prompt", "system", "session", "model", "history-id", "config-value"],
)
def test_an_argument_that_is_not_utf8_is_a_usage_error(
    configured: Emulator, args: list[bytes]
) -> None:
    out = run_bytes(*args)
    line = out.assert_one_error_line(2)
    assert "is not valid UTF-8" in line and "\\x" in line  # the bytes shown, escaped
    assert configured.stats()["total"] == 0 and out.stdout == ""


def test_a_file_whose_name_is_not_utf8_is_named_with_the_way_round(
    configured: Emulator, tmp_path: Path
) -> None:
    name = os.fsencode(tmp_path) + b"/notes-\xe9.txt"
    Path(os.fsdecode(name)).write_text("hello\n", encoding="utf-8")
    out = run_bytes(b"chat", b"-f", name, b"ECHO hi")
    line = out.assert_one_error_line(2)
    assert "-f - <" in line
    assert chats(configured) == 0
