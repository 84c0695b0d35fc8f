"""Reliability: the network fails before or while the API answers — DNS, TLS, a connect that
hangs, a first byte that never comes, a gateway's 504 — and retries that wait as told."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from kimi_cli.api import KimiClient
from kimi_cli.emulator import Emulator
from kimi_cli.errors import TemporaryError
from tests.helpers import chats, invoke
from tests.reliability.support import CannedAPI, TLSServer

ONE_ATTEMPT = {"KIMI_MAX_RETRIES": "0"}


def no_retry_env(base_url: str) -> dict[str, str | None]:
    return {
        "KIMI_BASE_URL": base_url,
        "KIMI_API_KEY": "sk-emulator",
        "KIMI_MODEL": "kimi-k2.6",
        "KIMI_MAX_RETRIES": "0",
    }


def test_dns_failure_is_temporary_and_names_the_host() -> None:
    # RFC 6761: names under .invalid never resolve, and the resolver answers locally.
    url = "http://kimi-test.invalid/v1"
    out = invoke("chat", "hi", env=no_retry_env(url))
    line = out.assert_one_error_line(75)
    assert line == (
        f"kimi: error: could not connect to {url} (DNS lookup failed)"
        " — check the network, the proxy and the base URL, then retry; 'kimi doctor' checks them"
    )
    assert out.stdout == ""


def test_untrusted_tls_certificate_is_named_with_the_fix(tls_server: TLSServer) -> None:
    out = invoke("models", env=no_retry_env(tls_server.base_url))
    line = out.assert_one_error_line(3)  # a setting to fix, not a passing fault
    assert tls_server.base_url in line
    assert "is not trusted — set SSL_CERT_FILE" in line
    # ... and the fix the line names works: trust that certificate and the same call succeeds.
    trusted = invoke(
        "models", env={**no_retry_env(tls_server.base_url), "SSL_CERT_FILE": str(tls_server.cert)}
    )
    assert trusted.code == 0, trusted.stderr
    assert trusted.stdout == "kimi-k2.6\n"


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
def test_a_proxy_that_is_not_there_is_named_without_its_password(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv("KIMI_MAX_RETRIES", "0")
    monkeypatch.setenv(variable, "http://me:hunter2@127.0.0.1:9")
    line = invoke("chat", "hi").assert_one_error_line(75)
    assert line.startswith(
        f"kimi: error: could not connect to {configured.base_url}"
        " through the proxy http://127.0.0.1:9 (connection refused"
    )
    assert "hunter2" not in line and chats(configured) == 0


def test_connect_timeout_gives_up_after_the_timeout(never_accepts: str) -> None:
    started = time.monotonic()
    out = invoke("--timeout", "1", "chat", "hi", env=no_retry_env(never_accepts))
    elapsed = time.monotonic() - started
    line = out.assert_one_error_line(75)
    assert f"could not connect to {never_accepts} within 1 s" in line
    assert elapsed < 10  # the connect timeout, not the OS's minutes of SYN retries


def test_slow_first_byte_beyond_the_timeout_is_a_timeout(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_MAX_RETRIES", "0")
    configured.configure(faults=[{"name": "slow_first_byte"}], delay=3)
    out = invoke("--timeout", "1", "chat", "ECHO never")
    line = out.assert_one_error_line(75)
    assert line == (
        f"kimi: error: no data from {configured.base_url} for 1 s"
        " — retry later, or raise --timeout if the API is just slow"
    )
    assert out.stdout == "" and chats(configured) == 1


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (httpx.ConnectTimeout, "could not connect to https://x.test/v1 within 15 s"),
        (httpx.ReadTimeout, "no data from https://x.test/v1 for 60 s"),
    ],
    ids=["connect", "read"],
)
def test_timeout_lines_name_the_timeout_that_fired(
    error: type[httpx.TimeoutException], words: str
) -> None:
    # The connect timeout is capped at 15 s whatever --timeout says; the line says which.
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("timed out", request=request)

    transport = httpx.MockTransport(handler)
    client = KimiClient("https://x.test/v1", "sk-x", timeout=60, max_retries=0, transport=transport)
    with client, pytest.raises(TemporaryError) as caught:
        client.list_models()
    assert words in caught.value.line()


@pytest.mark.parametrize("where", ["flag", "env"])
def test_a_huge_timeout_counts_as_a_day(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # "wait as long as it takes": 1e308 s ended in an OverflowError deep in the socket layer.
    if where == "env":
        monkeypatch.setenv("KIMI_TIMEOUT", "1e308")
    flag = ["--timeout", "1e308"] if where == "flag" else []
    out = invoke(*flag, "chat", "ECHO patient")
    assert (out.code, out.stdout) == (0, "patient\n"), out.stderr


def test_slow_first_byte_once_is_retried_and_answered_once(configured: Emulator) -> None:
    configured.configure(faults=[{"name": "slow_first_byte", "once": True}], delay=3)
    out = invoke("--timeout", "1", "chat", "ECHO second try")
    assert out.code == 0, out.stderr
    assert out.stdout == "second try\n" and out.stderr == ""
    assert chats(configured) == 2


def test_gateway_504_after_the_api_time_limit_is_waited_for_and_temporary(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without streaming nothing arrives until the API's own limit (5 minutes, then 504):
    # the idle timeout must not cut that wait short, and the 504 that ends it is exit 75.
    monkeypatch.setenv("KIMI_MAX_RETRIES", "0")
    configured.configure(faults=[{"name": "slow_first_byte"}, {"name": "gateway_timeout"}], delay=2)
    started = time.monotonic()
    out = invoke("--timeout", "1", "chat", "--no-stream", "ECHO late")
    line = out.assert_one_error_line(75)
    assert time.monotonic() - started >= 2
    assert line.startswith("kimi: error: the API timed out (HTTP 504: upstream timed out")
    assert chats(configured) == 1


@pytest.mark.parametrize("fault", ["client_closed", "unavailable", "gateway_timeout"])
def test_other_temporary_statuses_once_are_retried_and_answered_once(
    configured: Emulator, fault: str
) -> None:
    # 500 and 502 once: tests/cli/test_chat_faults.py; these are 499, 503 and 504.
    configured.configure(faults=[{"name": fault, "once": True}])
    out = invoke("chat", "ECHO exactly once")
    assert out.code == 0, out.stderr
    assert out.stdout == "exactly once\n" and out.stderr == ""
    assert chats(configured) == 2


@pytest.mark.parametrize("fault", ["overloaded", "rate_limit", "rate_limit_text"])
def test_a_429_waits_as_long_as_the_api_asks(configured: Emulator, fault: str) -> None:
    # overloaded and rate_limit carry Retry-After: 1; rate_limit_text says only
    # "please try again after 1 seconds". Backoff without either would be 0.5 s at most.
    configured.configure(faults=[{"name": fault, "once": True}])
    started = time.monotonic()
    out = invoke("chat", "ECHO after the wait")
    assert out.code == 0, out.stderr
    assert time.monotonic() - started >= 1.0
    assert out.stdout == "after the wait\n"
    assert chats(configured) == 2


RATE_LIMITED = {
    "error": {
        "message": "Your account org-x request reached organization max RPM: 3",
        "type": "rate_limit_reached_error",
    }
}
ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "kimi-k2.6",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "waited"}}],
}


@pytest.mark.parametrize("header", ["X-Retry-After", "Msh-Cooldown-Seconds"])
def test_a_429_waits_as_its_other_retry_headers_ask(canned_api: CannedAPI, header: str) -> None:
    # Live 429s carry the wait in X-Retry-After and Msh-Cooldown-Seconds too; a proxy may
    # leave only one of them. Backoff without it would be 0.5 s at most.
    canned_api.answer(429, RATE_LIMITED, **{header.replace("-", "_"): "1"})
    canned_api.answer(200, ANSWER)
    started = time.monotonic()
    out = invoke("chat", "--no-stream", "hi")
    assert out.code == 0, out.stderr
    assert time.monotonic() - started >= 1.0
    assert out.stdout == "waited\n"
    assert len(canned_api.posts) == 2


def test_a_cooldown_beyond_the_cap_is_not_slept(canned_api: CannedAPI) -> None:
    canned_api.answer(429, RATE_LIMITED, Msh_Cooldown_Seconds="600")
    started = time.monotonic()
    line = invoke("chat", "--no-stream", "hi").assert_one_error_line(75)
    assert "the API asks to wait 600 s" in line
    assert len(canned_api.posts) == 1
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("message", ["hello", ["hello"], None, 3])
def test_an_answer_whose_message_is_not_an_object_is_one_line(
    canned_api: CannedAPI, message: object
) -> None:
    # What a proxy or another API may answer in place of a chat completion.
    canned_api.answer(200, {"choices": [{"message": message, "finish_reason": "stop"}]})
    line = invoke("chat", "--no-stream", "hi").assert_one_error_line(1)
    assert "did not answer like the Kimi API" in line


@pytest.mark.parametrize(
    ("kind", "code", "words"),
    [
        ("exceeded_current_quota_error", 6, "kimi balance"),
        ("invalid_authentication_error", 4, "check the key"),
        ("content_filter", 1, "rephrase"),
        ("invalid_request_error", 1, "check the options"),
        ("engine_overloaded_error", 75, "retry later"),
    ],
)
def test_an_error_inside_a_stream_says_what_to_do_and_that_the_text_was_kept(
    canned_api: CannedAPI, kind: str, code: int, words: str
) -> None:
    chunk = {"id": "cmpl-1", "model": "kimi-k2.6", "choices": [{"delta": {"content": "Part "}}]}
    # As the live API writes it: < and > escaped as \u003c and \u003e on the wire.
    error = json.dumps({"error": {"type": kind, "message": "stopped <here>"}})
    error = error.replace("<", "\\u003c").replace(">", "\\u003e")
    assert "\\u003chere\\u003e" in error
    events = f"data: {json.dumps(chunk)}\n\ndata: {error}\n\n".encode()
    canned_api.answer(200, events, Content_Type="text/event-stream")
    out = invoke("chat", "hi")
    line = out.assert_one_error_line(code)
    assert out.stdout == "Part \n"
    what, _, to_do = line.partition(" — ")
    assert "stopped <here>" in what
    assert words in to_do and "the partial answer was kept" in to_do


@pytest.mark.parametrize(
    ("status", "body", "code", "words"),
    [
        (
            400,
            {"error": {"message": "tool name <x> is invalid", "type": "invalid_request_error"}},
            1,
            "tool name <x> is invalid",
        ),
        (
            400,  # content_filter alone carries code and param
            {
                "error": {
                    "message": "The request was rejected because it was considered high risk",
                    "type": "content_filter",
                    "code": 400,
                    "param": "prompt",
                }
            },
            1,
            "content filter",
        ),
    ],
    ids=["escaped", "content_filter"],
)
def test_error_bodies_as_the_live_api_writes_them(
    canned_api: CannedAPI, status: int, body: dict[str, object], code: int, words: str
) -> None:
    raw = json.dumps(body).replace("<", "\\u003c").replace(">", "\\u003e").encode()
    canned_api.answer(status, raw)
    line = invoke("chat", "hi").assert_one_error_line(code)
    assert words in line and "u003c" not in line
    assert len(canned_api.posts) == 1  # never retried


def test_a_401_for_a_missing_key_says_the_key_did_not_arrive(canned_api: CannedAPI) -> None:
    # kimi always sends the key it has: the API seeing none means it was cut or dropped on
    # the way (a proxy), which "check the key and its region" does not find.
    missing = {
        "error": {"message": "Incorrect API key provided", "type": "incorrect_api_key_error"}
    }
    canned_api.answer(401, missing)
    line = invoke("chat", "hi").assert_one_error_line(4)
    assert "no usable API key" in line and "Authorization header" in line
    assert len(canned_api.posts) == 1


@pytest.mark.parametrize(
    ("fault", "code"),
    [("quota", 6), ("invalid_request", 1), ("auth", 4), ("permission", 4), ("model_not_found", 5)],
)
def test_never_retried_even_with_retries_left(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch, fault: str, code: int
) -> None:
    monkeypatch.setenv("KIMI_MAX_RETRIES", "5")
    configured.configure(faults=[{"name": fault}])
    started = time.monotonic()
    out = invoke("chat", "hi")
    out.assert_one_error_line(code)  # docs/exit-codes.md
    assert chats(configured) == 1
    assert time.monotonic() - started < 2  # and nothing slept


@pytest.mark.parametrize(
    ("fault", "code"), [("auth", 4), ("quota", 6), ("server_error", 75), ("html", 1)]
)
def test_json_failure_before_any_text_prints_nothing_on_stdout(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch, fault: str, code: int
) -> None:
    monkeypatch.setenv("KIMI_MAX_RETRIES", "0")
    configured.configure(faults=[{"name": fault}])
    out = invoke("chat", "--json", "hi")
    out.assert_one_error_line(code)  # docs/exit-codes.md
    assert out.stdout == ""


def test_chat_on_a_base_url_without_v1_is_a_config_error(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_BASE_URL", configured.root_url)
    line = invoke("chat", "hi").assert_one_error_line(3)
    assert "/v1" in line
    assert chats(configured) == 0


def _event(**fields: object) -> str:
    base = {"id": "cmpl-6f1c2e", "object": "chat.completion.chunk", "created": 3943160}
    return f"data: {json.dumps({**base, 'model': 'kimi-k2.6', **fields})}\n\n"


def test_a_stream_as_recorded_live_is_one_answer_counted_once(canned_api: CannedAPI) -> None:
    # Reasoning first, an empty reasoning delta at the switch, usage in choices[0] of the
    # finish chunk and again at the top level of a chunk without choices, cached tokens in
    # both places, an odd id and timestamp, and no [DONE] (a recorder dropped it).
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "total_tokens": 30,
        "cached_tokens": 4,
        "prompt_tokens_details": {"cached_tokens": 4},
    }
    events = (
        _event(choices=[{"index": 0, "delta": {"role": "assistant", "reasoning_content": "Hm."}}])
        + _event(choices=[{"index": 0, "delta": {"reasoning_content": ""}}])
        + _event(choices=[{"index": 0, "delta": {"content": "Forty-two."}}])
        + _event(choices=[{"index": 0, "delta": {}, "finish_reason": "stop", "usage": usage}])
        + _event(choices=[], usage=usage)
    )
    canned_api.answer(200, events.encode(), Content_Type="text/event-stream")
    out = invoke("chat", "-u", "hi")
    assert out.code == 0, out.stderr
    assert out.stdout == "Forty-two.\n"
    assert "kimi: usage: 10 in (4 cached), 20 out" in out.stderr
    doc = json.loads(invoke("chat", "--json", "hi").stdout)
    assert doc["usage"] == {"input_tokens": 10, "cached_tokens": 4, "output_tokens": 20}
    assert (doc["content"], doc["reasoning"], doc["partial"]) == ("Forty-two.", "Hm.", False)
