"""Issue: chat. Each emulator fault gives its documented exit code and one stderr line;
retries happen only where allowed and never repeat printed text."""

from __future__ import annotations

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import chats, invoke, run_process

EXIT = {
    "content_filter": 1,
    "invalid_request": 1,
    "input_too_long": 2,
    "auth": 4,
    "permission": 4,
    "ip_not_allowed": 4,
    "balance_403": 6,
    "model_not_found": 5,
    "overloaded": 75,
    "rate_limit": 75,
    "rate_limit_text": 75,
    "rate_limit_long": 75,
    "quota": 6,
    "client_closed": 75,
    "server_error": 75,
    "bad_gateway": 75,
    "unavailable": 75,
    "gateway_timeout": 75,
    "html": 1,
    "not_json": 1,
    "stream_cut": 75,
    "malformed_sse": 75,
    "stream_error": 75,
}
NEVER_RETRIED = {
    "content_filter",
    "invalid_request",
    "input_too_long",
    "auth",
    "permission",
    "ip_not_allowed",
    "balance_403",
    "model_not_found",
    "quota",
    "html",
    "not_json",
}


@pytest.mark.parametrize(("fault", "code"), sorted(EXIT.items()))
def test_fault_gives_its_exit_code_and_one_line(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch, fault: str, code: int
) -> None:
    monkeypatch.setenv("KIMI_MAX_RETRIES", "1")
    configured.configure(faults=[{"name": fault}])
    out = invoke("chat", "LOREM 50")
    out.assert_one_error_line(code)
    assert "sk-emulator" not in out.stderr
    if fault in NEVER_RETRIED or fault in {
        "stream_cut",
        "malformed_sse",
        "stream_error",
        "rate_limit_long",
    }:
        assert chats(configured) == 1, fault  # not retried
    else:
        assert chats(configured) == 2, fault  # retried once, then gave up


@pytest.mark.parametrize(
    "fault", ["overloaded", "rate_limit", "rate_limit_text", "server_error", "bad_gateway"]
)
def test_a_temporary_fault_once_is_retried_and_the_answer_printed_once(
    configured: Emulator, fault: str
) -> None:
    configured.configure(faults=[{"name": fault, "once": True}])
    out = invoke("chat", "ECHO exactly once")
    assert out.code == 0, out.stderr
    assert out.stdout == "exactly once\n"
    assert chats(configured) == 2


def test_rate_limit_beyond_the_cap_says_when_to_retry(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "rate_limit_long"}])
    line = invoke("chat", "hi").assert_one_error_line(75)
    assert "1152" in line


def test_an_error_after_text_is_not_retried_and_text_is_not_repeated(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "stream_error", "once": True}])
    out = invoke("chat", "LOREM 100")
    out.assert_one_error_line(75)
    assert chats(configured) == 1
    full = invoke("chat", "LOREM 100").stdout  # the fault was once: now the whole answer
    printed = out.stdout.rstrip("\n")
    assert printed and full.startswith(printed)  # a prefix, printed once, nothing repeated


def test_quota_says_recharge_and_balance(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "quota"}])
    line = invoke("chat", "hi").assert_one_error_line(6)
    assert "kimi balance" in line


def test_stall_mid_stream_hits_the_idle_timeout(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "stall"}], stall=10)
    out = run_process("--timeout", "1", "chat", "LOREM 300", timeout=30)
    line = out.assert_one_error_line(75)
    assert "no data for 1 s" in line
    assert out.stdout  # what arrived before the stall was kept


def test_slow_first_byte_within_the_timeout_is_fine(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "slow_first_byte", "once": True}], delay=1)
    out = invoke("--timeout", "5", "chat", "ECHO slow")
    assert out.code == 0 and out.stdout == "slow\n"
