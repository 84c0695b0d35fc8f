"""Models, balance, token estimate, auth, routing, headers and keep-alive."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

import httpx
import pytest

from kimi_cli.emulator import Emulator

from .helpers import client_for, user

LIVE_IDS = [
    "kimi-k3.1-pro",
    "kimi-k3.1-pro-highspeed",
    "kimi-k3",
    "kimi-k2.7-code",
    "kimi-k2.7-code-highspeed",
    "kimi-k2.6",
]


def _models(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/models")
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    return {m["id"]: m for m in body["data"]}


def test_models_are_todays_live_list(client: httpx.Client) -> None:
    models = _models(client)
    assert list(models) == LIVE_IDS
    for model in models.values():
        assert model["object"] == "model"
        assert model["owned_by"] == "moonshot"
        assert isinstance(model["created"], int)
        assert model["display_name"].startswith("Kimi K")
        assert model["supports_reasoning"] is True
        assert model["supports_tool_use"] is True


@pytest.mark.parametrize(
    ("model_id", "context", "image", "video", "thinking", "efforts"),
    [
        ("kimi-k3.1-pro", 1048576, True, False, "only", True),
        ("kimi-k3.1-pro-highspeed", 1048576, True, False, "only", True),
        ("kimi-k3", 1048576, True, False, "only", True),
        ("kimi-k2.7-code", 262144, False, False, "only", False),
        ("kimi-k2.7-code-highspeed", 262144, False, False, "only", False),
        ("kimi-k2.6", 262144, True, True, "both", False),
    ],
)
def test_model_metadata(
    client: httpx.Client,
    model_id: str,
    context: int,
    image: bool,
    video: bool,
    thinking: str,
    efforts: bool,
) -> None:
    model = _models(client)[model_id]
    assert model["context_length"] == context
    assert model["supports_image_in"] is image
    assert model["supports_video_in"] is video
    assert model["supports_thinking_type"] == thinking
    if efforts:
        assert model["think_efforts"] == {
            "support": True,
            "valid_efforts": ["low", "high", "max"],
            "default_effort": "max",
        }
    else:
        assert "think_efforts" not in model


def test_models_list_can_be_replaced() -> None:
    custom = [{"id": "moonshot-v1-8k", "context_length": 8192}]
    with Emulator(models=custom) as emu, client_for(emu.base_url) as client:
        models = _models(client)
        assert list(models) == ["moonshot-v1-8k"]
        assert models["moonshot-v1-8k"]["supports_thinking_type"] == "no"
        emu.configure(models=[{"id": "kimi-k4", "context_length": 2000000}])
        assert list(_models(client)) == ["kimi-k4"]
        response = client.post(
            "/chat/completions", json={"model": "kimi-k2.6", "messages": user("hi")}
        )
        assert response.status_code == 404


def test_base_url_without_v1_is_404(emulator: Emulator) -> None:
    with client_for(emulator.root_url) as client:
        response = client.get("/models")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"type": "resource_not_found_error", "message": "Not found: /models"}
    }


def test_unknown_path_is_404_before_auth(emulator: Emulator) -> None:
    with client_for(emulator.base_url, key=None) as client:
        response = client.get("/nothing/here")
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Not found: /v1/nothing/here"
        # a known path with the wrong method is not an endpoint either
        assert client.get("/chat/completions").status_code == 404


def test_wrong_key_is_invalid_authentication(emulator: Emulator) -> None:
    with client_for(emulator.base_url, key="sk-wrong") as client:
        for response in (
            client.get("/models"),
            client.get("/users/me/balance"),
            client.post("/chat/completions", json={"model": "kimi-k3", "messages": user("hi")}),
            client.post("/tokenizers/estimate-token-count", json={}),
        ):
            assert response.status_code == 401
            assert response.json() == {
                "error": {
                    "message": "Invalid Authentication",
                    "type": "invalid_authentication_error",
                }
            }


def test_missing_key_is_incorrect_api_key(emulator: Emulator) -> None:
    with client_for(emulator.base_url, key=None) as client:
        response = client.get("/models")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "message": "Incorrect API key provided",
        "type": "incorrect_api_key_error",
    }


def test_two_regions_two_key_sets() -> None:
    with Emulator(keys=["sk-global"]) as glob, Emulator(keys=["sk-cn", "sk-cn-2"]) as cn:
        assert glob.base_url != cn.base_url
        for emu, good, bad in ((glob, "sk-global", "sk-cn"), (cn, "sk-cn-2", "sk-global")):
            with client_for(emu.base_url, key=good) as client:
                assert client.get("/models").status_code == 200
            with client_for(emu.base_url, key=bad) as client:
                response = client.get("/models")
                assert response.status_code == 401
                assert response.json()["error"]["type"] == "invalid_authentication_error"


def test_keys_can_be_changed(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(keys=["sk-new"])
    assert client.get("/models").status_code == 401
    with client_for(emulator.base_url, key="sk-new") as other:
        assert other.get("/models").status_code == 200


def test_request_ids_on_every_answer(client: httpx.Client) -> None:
    ids = set()
    for response in (client.get("/models"), client.get("/nope"), client.get("/users/me/balance")):
        assert response.headers["x-trace-id"] == response.headers["msh-request-id"]
        assert response.headers["x-trace-id"].startswith("emu-")
        ids.add(response.headers["x-trace-id"])
    assert len(ids) == 3


def test_balance_default_and_settable(emulator: Emulator, client: httpx.Client) -> None:
    assert client.get("/users/me/balance").json() == {
        "code": 0,
        "data": {
            "available_balance": 49.58894,
            "voucher_balance": 46.58893,
            "cash_balance": 3.00001,
        },
        "scode": "0x0",
        "status": True,
    }
    emulator.configure(balance={"voucher": 0, "cash": -31.14918})
    data = client.get("/users/me/balance").json()["data"]
    assert data == {"available_balance": 0.0, "voucher_balance": 0.0, "cash_balance": -31.14918}
    emulator.configure(balance={"available": 7.5, "voucher": 5, "cash": 2.5})
    assert client.get("/users/me/balance").json()["data"]["available_balance"] == 7.5


def test_no_balance_refuses_chat_with_quota_error(emulator: Emulator, client: httpx.Client) -> None:
    emulator.configure(balance={"voucher": 0, "cash": 0})
    response = client.post("/chat/completions", json={"model": "kimi-k3", "messages": user("hi")})
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "exceeded_current_quota_error"
    assert client.get("/models").status_code == 200


def test_balance_in_constructor() -> None:
    balance = {"available": 1.5, "voucher": 1.0, "cash": 0.5}
    with Emulator(balance=balance) as emu, client_for(emu.base_url) as client:
        data = client.get("/users/me/balance").json()["data"]
    assert data == {"available_balance": 1.5, "voucher_balance": 1.0, "cash_balance": 0.5}


CONVERSATIONS: list[list[dict[str, Any]]] = [
    user("hi"),
    user("日本語のテキスト 🎌 and some English"),
    [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer", "reasoning_content": "thought"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "q"}],
        },
    ],
    [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "text", "text": "what is this?"},
            ],
        }
    ],
]


@pytest.mark.parametrize("messages", CONVERSATIONS)
def test_estimate_agrees_with_prompt_tokens(client: httpx.Client, messages: list[Any]) -> None:
    estimate = client.post(
        "/tokenizers/estimate-token-count", json={"model": "kimi-k2.6", "messages": messages}
    )
    assert estimate.status_code == 200
    total = estimate.json()["data"]["total_tokens"]
    assert isinstance(total, int) and total > 0
    chat = client.post("/chat/completions", json={"model": "kimi-k2.6", "messages": messages})
    assert chat.status_code == 200, chat.text
    assert chat.json()["usage"]["prompt_tokens"] == total


def test_estimate_grows_with_text_and_counts_images(client: httpx.Client) -> None:
    def count(messages: list[Any]) -> int:
        response = client.post(
            "/tokenizers/estimate-token-count", json={"model": "kimi-k3", "messages": messages}
        )
        return int(response.json()["data"]["total_tokens"])

    short, long = count(user("a" * 40)), count(user("a" * 400))
    assert long - short == 90  # 4 bytes a token
    image = [{"type": "image_url", "image_url": "data:image/png;base64,AAAA"}]
    assert count([{"role": "user", "content": image}]) >= 1000


def test_estimate_errors(client: httpx.Client) -> None:
    url = "/tokenizers/estimate-token-count"
    response = client.post(url, json={"model": "kimi-k2.5", "messages": user("hi")})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        "Not found the model kimi-k2.5 or Permission denied"
    )
    response = client.post(url, json={"model": "kimi-k3", "messages": []})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    response = client.post(url, content=b"{broken", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_keep_alive_reuses_one_connection(emulator: Emulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    headers = {"Authorization": "Bearer sk-emulator", "Content-Type": "application/json"}
    try:
        connection.request("GET", "/v1/models", headers=headers)
        first = connection.getresponse()
        assert first.status == 200
        json.loads(first.read())
        assert not first.will_close
        sock = connection.sock
        body = json.dumps({"model": "kimi-k3", "messages": user("ECHO a b c"), "stream": True})
        connection.request("POST", "/v1/chat/completions", body=body, headers=headers)
        second = connection.getresponse()
        assert second.status == 200
        assert second.getheader("Transfer-Encoding") == "chunked"
        assert second.read().endswith(b"data: [DONE]\n\n")
        assert not second.will_close
        connection.request("GET", "/v1/users/me/balance", headers=headers)
        third = connection.getresponse()
        assert third.status == 200
        third.read()
        assert connection.sock is sock  # never reconnected
    finally:
        connection.close()
    assert emulator.stats()["total"] == 3


def test_non_stream_has_content_length(client: httpx.Client) -> None:
    response = client.post("/chat/completions", json={"model": "kimi-k3", "messages": user("hi")})
    assert int(response.headers["content-length"]) == len(response.content)
    assert "transfer-encoding" not in response.headers


def _raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    return bytes(received)


def test_chunked_request_body(emulator: Emulator) -> None:
    body = json.dumps({"model": "kimi-k3", "messages": user("ECHO chunked")}).encode()
    half = len(body) // 2
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-emulator\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, body[:half], len(body) - half, body[half:])
    )
    head, _, payload = _raw_exchange(emulator.port, request).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(payload)["choices"][0]["message"]["content"] == "chunked"


def test_http_1_0_stream_is_not_chunked(emulator: Emulator) -> None:
    body = json.dumps({"model": "kimi-k3", "messages": user("ECHO a b"), "stream": True}).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.0\r\nAuthorization: Bearer sk-emulator\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    head, _, payload = _raw_exchange(emulator.port, request).partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower()
    assert payload.startswith(b"data: {")
    assert payload.endswith(b"data: [DONE]\n\n")
