"""Every fault: status, body, headers; once versus always; stream faults; disconnects."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from kimi_cli.emulator import Emulator

from .helpers import chat_stream, client_for, parse_sse, user

CHAT = {"model": "kimi-k3", "messages": user("ECHO one two three four five six")}
ORG = "org-emulator<ak-emulator>"

ERROR_FAULTS: list[tuple[str, int, str, str, str | None]] = [
    (
        "content_filter",
        400,
        "content_filter",
        "The request was rejected because it was considered high risk",
        None,
    ),
    ("invalid_request", 400, "invalid_request_error", "Invalid request: emulated", None),
    ("input_too_long", 400, "invalid_request_error", "Input token length too long", None),
    ("auth", 401, "invalid_authentication_error", "Invalid Authentication", None),
    ("permission", 403, "permission_denied_error", "The API you are accessing is not open", None),
    (
        "ip_not_allowed",
        403,
        "permission_denied_error",
        "Your IP is not allowed to access this organization",
        None,
    ),
    (
        "balance_403",
        403,
        "permission_denied_error",
        "Your account is suspended due to insufficient balance, please recharge",
        None,
    ),
    (
        "model_not_found",
        404,
        "resource_not_found_error",
        "Not found the model kimi-k3 or Permission denied",
        None,
    ),
    (
        "overloaded",
        429,
        "engine_overloaded_error",
        "The engine is currently overloaded, please try again later",
        "1",
    ),
    (
        "rate_limit",
        429,
        "rate_limit_reached_error",
        f"Your account {ORG} request reached organization max RPM: 3, "
        "please try again after 1 seconds",
        "1",
    ),
    (
        "rate_limit_text",
        429,
        "rate_limit_reached_error",
        f"Your account {ORG} request reached organization max RPM: 3, "
        "please try again after 1 seconds",
        None,
    ),
    (
        "rate_limit_long",
        429,
        "rate_limit_reached_error",
        f"Your account {ORG} request reached organization max RPM: 3, "
        "please try again after 1152 seconds",
        "1152",
    ),
    (
        "quota",
        429,
        "exceeded_current_quota_error",
        "You exceeded your current token quota: <org-emulator> 0, "
        "please check your account balance",
        None,
    ),
    ("client_closed", 499, "client_closed_request", "client closed request", None),
    ("server_error", 500, "server_error", "emulated internal error", None),
    ("unavailable", 503, "server_unavailable", "service unavailable", None),
]


@pytest.mark.parametrize(
    ("name", "status", "type_", "message", "retry_after"),
    ERROR_FAULTS,
    ids=[f[0] for f in ERROR_FAULTS],
)
@pytest.mark.parametrize("stream", [False, True])
def test_error_faults(
    emulator: Emulator,
    client: httpx.Client,
    name: str,
    status: int,
    type_: str,
    message: str,
    retry_after: str | None,
    stream: bool,
) -> None:
    emulator.configure(faults=[name])
    response = client.post("/chat/completions", json={**CHAT, "stream": stream})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": {"message": message, "type": type_}}
    assert response.headers.get("retry-after") == retry_after
    assert response.headers["x-trace-id"].startswith("emu-")


RAW_FAULTS = [
    ("bad_gateway", 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    ("gateway_timeout", 504, "text/plain", "upstream timed out after 300 s"),
    ("not_json", 200, "application/json", "not json{"),
]


@pytest.mark.parametrize(("name", "status", "content_type", "body"), RAW_FAULTS)
def test_raw_faults(
    emulator: Emulator, client: httpx.Client, name: str, status: int, content_type: str, body: str
) -> None:
    emulator.configure(faults=[{"name": name}])
    response = client.post("/chat/completions", json=CHAT)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.text == body


def test_html_fault_is_a_portal_page(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=[{"name": "html", "endpoint": "models"}])
    response = client.get("/models")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
    assert client.post("/chat/completions", json=CHAT).status_code == 200  # chat untouched


def test_once_versus_always(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=[{"name": "server_error", "once": True}])
    assert client.post("/chat/completions", json=CHAT).status_code == 500
    assert client.post("/chat/completions", json=CHAT).status_code == 200
    assert emulator.config()["faults"] == []
    emulator.configure(faults=["overloaded"])
    for _ in range(3):
        assert client.post("/chat/completions", json=CHAT).status_code == 429
    emulator.configure(faults=[])
    assert client.post("/chat/completions", json=CHAT).status_code == 200


def test_two_once_faults_act_in_turn(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=["server_error:once", "overloaded:once"])
    statuses = [client.post("/chat/completions", json=CHAT).status_code for _ in range(3)]
    assert statuses == [500, 429, 200]


def test_fault_endpoints(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=[{"name": "unavailable", "endpoint": "balance"}])
    assert client.get("/users/me/balance").status_code == 503
    assert client.get("/models").status_code == 200
    assert client.post("/chat/completions", json=CHAT).status_code == 200
    emulator.configure(faults=[{"name": "auth", "endpoint": "all", "once": True}])
    assert client.get("/models").status_code == 401
    assert client.get("/models").status_code == 200
    emulator.configure(faults=[{"name": "server_error", "endpoint": "tokens"}])
    estimate = client.post("/tokenizers/estimate-token-count", json=CHAT)
    assert estimate.status_code == 500
    assert client.get("/models").status_code == 200


def test_model_not_found_on_models_endpoint_names_unknown(
    emulator: Emulator, client: httpx.Client
) -> None:
    emulator.configure(faults=[{"name": "model_not_found", "endpoint": "models"}])
    assert client.get("/models").json()["error"]["message"] == (
        "Not found the model unknown or Permission denied"
    )


def test_faults_from_constructor_apply_to_chat_only() -> None:
    with Emulator(faults=["content_filter:once"]) as emu, client_for(emu.base_url) as client:
        assert client.get("/models").status_code == 200
        assert client.post("/chat/completions", json=CHAT).status_code == 400
        assert client.post("/chat/completions", json=CHAT).status_code == 200


def _stream_raw(emulator: Emulator, body: dict[str, Any]) -> tuple[bytes, Exception | None]:
    """Read a stream until the server ends or cuts it; returns the bytes and the error seen."""
    received = bytearray()
    with client_for(emulator.base_url) as client:
        try:
            with client.stream("POST", "/chat/completions", json=body) as response:
                assert response.status_code == 200
                for part in response.iter_bytes():
                    received += part
        except httpx.HTTPError as exc:
            return bytes(received), exc
    return bytes(received), None


def test_stream_cut(emulator: Emulator) -> None:
    emulator.configure(faults=["stream_cut"])
    raw, error = _stream_raw(emulator, {**CHAT, "stream": True})
    assert isinstance(error, httpx.RemoteProtocolError)  # chunked body never finished
    text = raw.decode()
    assert "[DONE]" not in text
    assert '"finish_reason":"stop"' not in text
    stream = parse_sse(text)
    assert stream.text("reasoning_content")  # all the reasoning came
    assert stream.text() == "one two three "  # about half of the six words


def test_stream_cut_non_stream_gets_no_response(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=["stream_cut:once"])
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/chat/completions", json=CHAT)
    assert client.post("/chat/completions", json=CHAT).status_code == 200


def test_malformed_sse(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=["malformed_sse"])
    _, stream = chat_stream(client, **CHAT)
    assert stream.bad_lines == ["{not json"]
    assert stream.done
    assert stream.text() == "one two three four five six"


def test_stream_error(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=["stream_error"])
    _, stream = chat_stream(client, **CHAT)  # the HTTP body ends properly
    assert not stream.done
    assert stream.events[-1] == {
        "error": {
            "type": "engine_overloaded_error",
            "message": "The engine is currently overloaded, please try again later",
        }
    }
    assert stream.text() == "one two three "


def test_stream_faults_leave_non_stream_alone(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=["stream_error:once", "malformed_sse:once"])
    assert client.post("/chat/completions", json=CHAT).status_code == 200
    assert len(emulator.config()["faults"]) == 2  # not used up
    _, stream = chat_stream(client, **CHAT)
    assert stream.bad_lines == ["{not json"]
    assert emulator.config()["faults"] == []


def test_slow_first_byte(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=["slow_first_byte"], delay=0.4)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/chat/completions", json=CHAT, timeout=httpx.Timeout(5, read=0.15))
    started = time.monotonic()
    response = client.post("/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.35


def test_stall_pauses_then_continues(emulator: Emulator) -> None:
    emulator.configure(faults=["stall"], stall=0.5)
    body = {"model": "kimi-k3", "messages": user("LOREM 40"), "stream": True}
    arrivals: list[tuple[float, str]] = []
    with (
        client_for(emulator.base_url) as client,
        client.stream("POST", "/chat/completions", json=body) as response,
    ):
        for line in response.iter_lines():
            if line:
                arrivals.append((time.monotonic(), line))
    assert arrivals[-1][1] == "data: [DONE]"
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(arrivals)]
    assert len([gap for gap in gaps if gap >= 0.4]) == 1  # one pause, the rest at once
    text = "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content", "")
        for _, line in arrivals[:-1]
        if json.loads(line[6:])["choices"]
    )
    assert len(text.split()) == 40


def test_stop_ends_a_stall_early() -> None:
    emu = Emulator().start()
    emu.configure(faults=["stall"], stall=30)
    result: dict[str, Any] = {}

    def read() -> None:
        result["raw"], result["error"] = _stream_raw(emu, {**CHAT, "stream": True})

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.3)
    started = time.monotonic()
    emu.stop()
    reader.join(timeout=5)
    assert not reader.is_alive()
    assert time.monotonic() - started < 2
    assert b"[DONE]" not in result["raw"]


def _send_stream_request(port: int, body: dict[str, Any]) -> socket.socket:
    payload = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-emulator\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)
    )
    return sock


def test_disconnect_mid_stream_is_counted(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(faults=["stall:once"], stall=0.3)
    body = {"model": "kimi-k3", "messages": user("LOREM 20000"), "stream": True}
    sock = _send_stream_request(emulator.port, body)
    first = sock.recv(4096)
    assert first.startswith(b"HTTP/1.1 200")
    sock.close()  # unread data: the kernel answers the next write with a reset
    deadline = time.monotonic() + 5
    while emulator.stats()["disconnects"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emulator.stats()["disconnects"] == 1
    # the server keeps serving
    response = client.post("/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "one two three four five six"


def test_disconnect_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with Emulator() as emu:
        emu.configure(faults=["stall"], stall=0.2)
        body = {"model": "kimi-k3", "messages": user("LOREM 20000"), "stream": True}
        for _ in range(2):
            sock = _send_stream_request(emu.port, body)
            sock.recv(100)
            sock.close()
        deadline = time.monotonic() + 5
        while emu.stats()["disconnects"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert emu.stats()["disconnects"] == 2
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_unknown_fault_is_refused(emulator: Emulator, client: httpx.Client) -> None:
    url = emulator.root_url + "/_emulator/config"
    response = client.post(url, json={"faults": [{"name": "meteor"}]})
    assert response.status_code == 400
    assert "meteor" in response.json()["error"]["message"]
    with pytest.raises(ValueError, match="meteor"):
        emulator.configure(faults=["meteor"])
    with pytest.raises(ValueError, match="endpoint"):
        emulator.configure(faults=[{"name": "auth", "endpoint": "uploads"}])
    with pytest.raises(ValueError):
        Emulator(faults=["auth:twice"])


def test_new_faults_act_on_their_own_endpoint() -> None:
    emulator = Emulator(faults=["files_full", "fiber_failed:once", "schema_broken"])
    assert emulator.config()["faults"] == [
        {"name": "files_full", "once": False, "endpoint": "files.upload"},
        {"name": "fiber_failed", "once": True, "endpoint": "formulas.fibers"},
        {"name": "schema_broken", "once": False, "endpoint": "chat"},
    ]
    extract = emulator.configure(faults=[{"name": "extract_failed"}])["faults"]
    assert extract == [{"name": "extract_failed", "once": False, "endpoint": "files.content"}]
