"""The emulator rejects what the real API rejects and accepts the rest.

The rules: docs/api-notes.md#model-rules and #errors.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimi_cli.emulator import Emulator

from .helpers import client_for, user

PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="
IMAGE_PART = {"type": "image_url", "image_url": {"url": PNG}}
IMAGE_STRING_PART = {"type": "image_url", "image_url": PNG}
VIDEO_PART = {"type": "video_url", "video_url": {"url": "ms://file-abc"}}


def _post(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post("/chat/completions", json=body)


def _body(model: str = "kimi-k3", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": user("hi"), **extra}


REJECTED: list[tuple[str, dict[str, Any], str]] = [
    # model (§2.2, §8.2)
    ("retired model", _body("kimi-k2.5"), "Not found the model kimi-k2.5 or Permission denied"),
    (
        "gateway id",
        _body("moonshotai/kimi-k2.6"),
        "Not found the model moonshotai/kimi-k2.6 or Permission denied",
    ),
    ("case", _body("Kimi-K3"), "Not found the model Kimi-K3 or Permission denied"),
    # messages (§3.1, §3.4)
    ("no messages", {"model": "kimi-k3"}, "Invalid request: messages must not be empty"),
    ("empty messages", {"model": "kimi-k3", "messages": []}, "Invalid request: "),
    ("empty content", {"model": "kimi-k3", "messages": user("")}, "Invalid request: "),
    (
        "empty parts",
        {"model": "kimi-k3", "messages": [{"role": "user", "content": []}]},
        "Invalid request: ",
    ),
    (
        "empty text part",
        {
            "model": "kimi-k3",
            "messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}],
        },
        "Invalid request: ",
    ),
    (
        "bad role",
        {"model": "kimi-k3", "messages": [{"role": "robot", "content": "hi"}]},
        "Invalid request: ",
    ),
    (
        "missing content",
        {"model": "kimi-k3", "messages": [{"role": "user"}]},
        "Invalid request: ",
    ),
    # sampling (§3.2)
    (
        "k3 temperature",
        _body(temperature=0.7),
        "invalid temperature: only 1 is allowed for this model",
    ),
    (
        "k3 temperature 0",
        _body(temperature=0),
        "invalid temperature: only 1 is allowed for this model",
    ),
    (
        "k3.1 temperature",
        _body("kimi-k3.1-pro", temperature=0.3),
        "invalid temperature: only 1 is allowed for this model",
    ),
    (
        "k2.7 temperature",
        _body("kimi-k2.7-code", temperature=0.2),
        "invalid temperature: only 1 is allowed for this model",
    ),
    (
        "k2.6 thinking temperature",
        _body("kimi-k2.6", temperature=0.6),
        "invalid temperature: only 1 is allowed for this model",
    ),
    (
        "k2.6 non-thinking temperature",
        _body("kimi-k2.6", temperature=1.0, thinking={"type": "disabled"}),
        "invalid temperature: only 0.6 is allowed for this model",
    ),
    ("top_p", _body(top_p=0.5), "invalid top_p: only 0.95 is allowed for this model"),
    ("n", _body("kimi-k2.6", n=2), "invalid n: only 1 is allowed for this model"),
    (
        "presence_penalty",
        _body(presence_penalty=0.5),
        "invalid presence_penalty: only 0 is allowed for this model",
    ),
    (
        "frequency_penalty",
        _body("kimi-k2.7-code", frequency_penalty=1),
        "invalid frequency_penalty: only 0 is allowed for this model",
    ),
    ("temperature string", _body(temperature="1"), "invalid temperature: only 1 is allowed"),
    # thinking and effort (§3.3, 2026-11-24 update, §8.2)
    (
        "both on k2.6",
        _body("kimi-k2.6", thinking={"type": "enabled"}, reasoning_effort="high"),
        "cannot specify both 'thinking' and 'reasoning_effort'",
    ),
    (
        "both on k3",
        _body(thinking={"type": "enabled"}, reasoning_effort="max"),
        "cannot specify both 'thinking' and 'reasoning_effort'",
    ),
    (
        "thinking on k3",
        _body(thinking={"type": "enabled"}),
        "invalid thinking: not supported for this model, use reasoning_effort",
    ),
    (
        "thinking on k3.1",
        _body("kimi-k3.1-pro-highspeed", thinking={"type": "disabled"}),
        "invalid thinking: not supported for this model, use reasoning_effort",
    ),
    (
        "disable always-thinking",
        _body("kimi-k2.7-code", thinking={"type": "disabled"}),
        "thinking cannot be disabled for this model",
    ),
    (
        "bad thinking type",
        _body("kimi-k2.6", thinking={"type": "auto"}),
        "invalid thinking: type must be one of enabled, disabled",
    ),
    (
        "thinking not an object",
        _body("kimi-k2.6", thinking=True),
        "invalid thinking: type must be one of enabled, disabled",
    ),
    (
        "effort without efforts",
        _body("kimi-k2.6", reasoning_effort="high"),
        "invalid reasoning_effort: not supported for this model",
    ),
    (
        "effort on k2.7",
        _body("kimi-k2.7-code-highspeed", reasoning_effort="low"),
        "invalid reasoning_effort: not supported for this model",
    ),
    (
        "unknown effort",
        _body(reasoning_effort="medium"),
        "invalid reasoning_effort: must be one of low, high, max",
    ),
    # budget (§3.1, §8.2)
    (
        "budget over context",
        _body("kimi-k2.6", max_completion_tokens=262144),
        "Your request exceeded model token limit : 262144",
    ),
    (
        "deprecated max_tokens over context",
        _body("kimi-k3", max_tokens=1048576),
        "Your request exceeded model token limit : 1048576",
    ),
    ("zero budget", _body(max_completion_tokens=0), "invalid max_completion_tokens"),
    # media (§3.4)
    (
        "image to k2.7",
        {"model": "kimi-k2.7-code", "messages": [{"role": "user", "content": [IMAGE_PART]}]},
        "invalid request: image input is not supported by model kimi-k2.7-code",
    ),
    (
        "string image to k2.7",
        {
            "model": "kimi-k2.7-code-highspeed",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "look"}, IMAGE_STRING_PART]}
            ],
        },
        "invalid request: image input is not supported by model kimi-k2.7-code-highspeed",
    ),
    (
        "video to k3",
        {"model": "kimi-k3", "messages": [{"role": "user", "content": [VIDEO_PART]}]},
        "invalid request: video input is not supported by model kimi-k3",
    ),
    # options (§3.1)
    (
        "response_format",
        _body(response_format={"type": "xml"}),
        "invalid response_format: type must be one of text, json_object, json_schema",
    ),
    ("stop", _body(stop=["a", "b", "c", "d", "e", "f"]), "invalid stop"),
    ("stream not bool", _body(stream="yes"), "Invalid request: stream must be a boolean"),
]


@pytest.mark.parametrize(
    ("body", "message"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
)
def test_rejected(client: httpx.Client, body: dict[str, Any], message: str) -> None:
    response = _post(client, body)
    error = response.json()["error"]
    if message.startswith("Not found the model"):
        assert response.status_code == 404
        assert error == {"type": "resource_not_found_error", "message": message}
    else:
        assert response.status_code == 400, response.text
        assert error["type"] == "invalid_request_error"
        assert error["message"].startswith(message)


def test_rejected_also_when_streaming(client: httpx.Client) -> None:
    response = _post(client, _body(temperature=0.5, stream=True))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("k3 temperature 1", _body(temperature=1)),
    ("k3 all fixed values", _body(temperature=1.0, top_p=0.95, n=1, presence_penalty=0)),
    ("k2.6 non-thinking 0.6", _body("kimi-k2.6", temperature=0.6, thinking={"type": "disabled"})),
    ("k2.6 thinking 1", _body("kimi-k2.6", temperature=1, thinking={"type": "enabled"})),
    ("k2.6 keep all", _body("kimi-k2.6", thinking={"type": "enabled", "keep": "all"})),
    ("k2.7 thinking enabled", _body("kimi-k2.7-code", thinking={"type": "enabled"})),
    ("k3 effort low", _body(reasoning_effort="low")),
    ("k3.1 effort max", _body("kimi-k3.1-pro", reasoning_effort="max")),
    ("deprecated max_tokens", _body(max_tokens=100)),
    ("both budget names", _body(max_tokens=10, max_completion_tokens=100)),
    ("json_object", _body(response_format={"type": "json_object"})),
    ("text format", _body(response_format={"type": "text"})),
    (
        "json_schema",
        _body(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"type": "object"}},
            }
        ),
    ),
    ("unknown fields ignored", _body(seed=3, user="me", prompt_cache_key="s1", logit_bias={})),
    (
        "image to k2.6",
        {"model": "kimi-k2.6", "messages": [{"role": "user", "content": [IMAGE_PART, VIDEO_PART]}]},
    ),
    (
        "string image to k3",
        {"model": "kimi-k3", "messages": [{"role": "user", "content": [IMAGE_STRING_PART]}]},
    ),
    (
        "tool conversation",
        {
            "model": "kimi-k2.6",
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "sunny"},
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        },
    ),
]


@pytest.mark.parametrize("body", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted(client: httpx.Client, body: dict[str, Any]) -> None:
    response = _post(client, body)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["role"] == "assistant"


def test_max_tokens_is_honoured(client: httpx.Client) -> None:
    for name in ("max_tokens", "max_completion_tokens"):
        body = _body("kimi-k2.6", messages=user("LOREM 500"), thinking={"type": "disabled"})
        body[name] = 50
        usage = _post(client, body).json()["usage"]
        assert 40 <= usage["completion_tokens"] <= 50
    body = _body(messages=user("LOREM 500"), max_tokens=10, max_completion_tokens=300)
    response = _post(client, body).json()
    assert 250 < response["usage"]["completion_tokens"] <= 300  # the new name wins


def test_input_too_long_and_default_budget_capped() -> None:
    tiny = {"id": "tiny", "context_length": 64, "supports_reasoning": True}
    with Emulator(models=[tiny]) as emu, client_for(emu.base_url) as client:
        long = _post(client, {"model": "tiny", "messages": user("x" * 400)})
        assert long.status_code == 400
        assert long.json()["error"] == {
            "message": "Input token length too long",
            "type": "invalid_request_error",
        }
        body = {"model": "tiny", "messages": user("LOREM 300"), "max_completion_tokens": 60}
        over = _post(client, body)
        assert over.json()["error"]["message"] == "Your request exceeded model token limit : 64"
        ok = _post(client, {"model": "tiny", "messages": user("LOREM 300")}).json()
        prompt = ok["usage"]["prompt_tokens"]
        assert ok["choices"][0]["finish_reason"] == "length"
        assert 0 < ok["usage"]["completion_tokens"] <= 64 - prompt


def test_default_budget_per_family(client: httpx.Client) -> None:
    k26 = _post(client, _body("kimi-k2.6", messages=user("LOREM 2000"))).json()
    assert k26["choices"][0]["finish_reason"] == "length"
    assert 1000 < k26["usage"]["completion_tokens"] <= 1024
    k3 = _post(client, _body(messages=user("LOREM 2000"))).json()
    assert k3["choices"][0]["finish_reason"] == "stop"
    assert len(k3["choices"][0]["message"]["content"].split()) == 2000


def test_not_json_body(client: httpx.Client) -> None:
    response = client.post(
        "/chat/completions", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Invalid request: ")
    assert client.post("/chat/completions", json=[1, 2]).status_code == 400


def test_thinking_disabled_means_no_reasoning(client: httpx.Client) -> None:
    message = _post(client, _body("kimi-k2.6", thinking={"type": "disabled"})).json()["choices"][0][
        "message"
    ]
    assert "reasoning_content" not in message
    thinking = _post(client, _body("kimi-k2.6")).json()["choices"][0]["message"]
    assert thinking["reasoning_content"]
