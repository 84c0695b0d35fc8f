"""The web-search Formula (tools, fibers) and the tool-calling turns of chat."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kimi_cli.emulator import Emulator

from .helpers import chat_stream, user
from .openapi import assert_valid_chat_request

FORMULA = "/formulas/moonshot/web-search:latest"
BEGIN = "----MOONSHOT ENCRYPTED BEGIN----"


def _tools(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get(f"{FORMULA}/tools")
    assert response.status_code == 200
    tools: list[dict[str, Any]] = response.json()["tools"]
    return tools


def _chat(client: httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    value: dict[str, Any] = response.json()
    return value


def _fiber(client: httpx.Client, arguments: str) -> httpx.Response:
    return client.post(f"{FORMULA}/fibers", json={"name": "web_search", "arguments": arguments})


def test_formula_tools_are_the_documented_schema(client: httpx.Client) -> None:
    assert _tools(client) == [
        {
            "type": "function",
            "function": {
                "name": "web_search",
                "description": "用于信息检索的网络搜索",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "classes": {
                            "type": "array",
                            "items": {
                                "enum": [
                                    "all", "academic", "social", "library",
                                    "finance", "code", "ecommerce", "medical",
                                ]
                            },
                        },
                    },
                    "required": ["query"],
                },
            },
        }
    ]  # fmt: skip
    other = client.get("/formulas/moonshot/date:latest/tools")
    assert other.status_code == 404
    assert other.json()["error"]["type"] == "resource_not_found_error"


def test_fiber_runs_a_search(client: httpx.Client, emulator: Emulator) -> None:
    arguments = '{"query": "kimi k3.1 release"}'
    body = _fiber(client, arguments).json()
    assert body["object"] == "fiber"
    assert body["status"] == "succeeded"
    assert body["formula"] == "moonshot/web-search:latest"
    assert body["id"].startswith("fiber-")
    assert body["context"]["input"] == arguments
    assert body["context"]["encrypted_output"].startswith(BEGIN)
    assert "output" not in body["context"]
    again = _fiber(client, arguments).json()
    assert again["context"] == body["context"]  # deterministic
    emulator.configure(fiber_output="plain")
    plain = _fiber(client, arguments).json()["context"]["output"]
    assert plain.startswith('Web search results for "kimi k3.1 release"')
    assert emulator.stats()["endpoints"]["formulas.fibers"] == 3


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "web_search", "arguments": "{not json"},
        {"name": "web_search", "arguments": {"query": "x"}},
        {"name": "web_search", "arguments": "{}"},
        {"name": "fetch", "arguments": '{"query": "x"}'},
    ],
)
def test_bad_fiber_request(client: httpx.Client, payload: dict[str, Any]) -> None:
    response = client.post(f"{FORMULA}/fibers", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_fiber_fault(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(faults=["fiber_failed:once"])
    body = _fiber(client, '{"query": "q"}').json()
    assert body["status"] == "failed"
    assert "emulated failure" in body["context"]["error"]
    assert "encrypted_output" not in body["context"]
    assert _fiber(client, '{"query": "q"}').json()["status"] == "succeeded"
    emulator.configure(faults=[{"name": "server_error", "once": True, "endpoint": "formulas"}])
    assert _fiber(client, '{"query": "q"}').status_code == 500


def _search_body(client: httpx.Client, model: str, prompt: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": user(prompt), "tools": _tools(client), **extra}


def test_search_prompt_gives_a_tool_call(client: httpx.Client, emulator: Emulator) -> None:
    body = _search_body(client, "kimi-k3", "SEARCH weather in Paris")
    reply = _chat(client, **body)
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] == ""
    assert message["reasoning_content"].startswith("The user wants current facts")
    assert message["tool_calls"] == [
        {
            "id": "web_search:0",
            "type": "function",
            "function": {"name": "web_search", "arguments": '{"query": "weather in Paris"}'},
        }
    ]
    assert reply["usage"]["completion_tokens"] > 0
    assert_valid_chat_request(emulator.stats()["bodies"]["chat"][-1])


def test_search_needs_the_tool(client: httpx.Client) -> None:
    reply = _chat(client, model="kimi-k3", messages=user("SEARCH weather"))
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert "tool_calls" not in reply["choices"][0]["message"]


def test_streamed_tool_call(client: httpx.Client) -> None:
    body = _search_body(client, "kimi-k2.6", "SEARCH a || b c")
    _, stream = chat_stream(client, **body)
    kinds = []
    for event in stream.chunks:
        delta = event["choices"][0]["delta"] if event["choices"] else {}
        kinds += [k for k in ("reasoning_content", "tool_calls") if delta.get(k)]
    assert kinds.index("tool_calls") > kinds.index("reasoning_content")
    assert "tool_calls" not in kinds[: kinds.index("tool_calls")]
    assert stream.text() == ""
    assert stream.finish["choices"][0]["finish_reason"] == "tool_calls"
    calls: dict[int, dict[str, Any]] = {}
    pieces: list[dict[str, Any]] = [
        piece
        for event in stream.chunks
        if event["choices"]
        for piece in event["choices"][0]["delta"].get("tool_calls", [])
    ]
    for piece in pieces:
        call = calls.setdefault(piece["index"], {"arguments": ""})
        if "id" in piece:
            assert "id" not in call, "id repeated"
            call.update(id=piece["id"], name=piece["function"]["name"], type=piece["type"])
        call["arguments"] += piece["function"]["arguments"]
    assert calls == {
        0: {"id": "web_search:0", "type": "function", "name": "web_search",
            "arguments": '{"query": "a"}'},
        1: {"id": "web_search:1", "type": "function", "name": "web_search",
            "arguments": '{"query": "b c"}'},
    }  # fmt: skip
    assert len(stream.deltas("tool_calls")) > 4  # arguments arrive in pieces
    assert stream.done


def _follow_up(client: httpx.Client, model: str, prompt: str) -> list[dict[str, Any]]:
    """The conversation after one search round, as a careful client builds it."""
    body = _search_body(client, model, prompt)
    message = _chat(client, **body)["choices"][0]["message"]
    messages = [*body["messages"], message]
    for call in message["tool_calls"]:
        fiber = _fiber(client, call["function"]["arguments"]).json()
        content = fiber["context"].get("output") or fiber["context"]["encrypted_output"]
        messages.append(
            {"role": "tool", "tool_call_id": call["id"], "name": "web_search", "content": content}
        )
    return messages


def test_follow_up_answer_quotes_the_results(client: httpx.Client, emulator: Emulator) -> None:
    messages = _follow_up(client, "kimi-k3", "SEARCH kimi k3.1 release date")
    reply = _chat(client, model="kimi-k3", messages=messages, tools=_tools(client))
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert '> Web search results for "kimi k3.1 release date"' in choice["message"]["content"]
    assert "https://example.com/news/kimi-k3.1-release-date" in choice["message"]["content"]
    assert_valid_chat_request(emulator.stats()["bodies"]["chat"][-1], tool_turns=True)


def test_search_always_keeps_calling(client: httpx.Client) -> None:
    messages = _follow_up(client, "kimi-k3", "SEARCH ALWAYS news")
    reply = _chat(client, model="kimi-k3", messages=messages, tools=_tools(client))
    message = reply["choices"][0]["message"]
    assert reply["choices"][0]["finish_reason"] == "tool_calls"
    assert message["tool_calls"][0]["id"] == "web_search:1"
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "query": "news (more 1)"
    }


def test_thinking_follow_up_without_reasoning_is_refused(client: httpx.Client) -> None:
    messages = _follow_up(client, "kimi-k3", "SEARCH q")
    del messages[1]["reasoning_content"]
    response = client.post(
        "/chat/completions",
        json={"model": "kimi-k3", "messages": messages, "tools": _tools(client)},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "thinking is enabled but reasoning_content is missing in assistant tool call "
        "message at index 1",
    }
    # Without thinking (k2.6 disabled) the same turn is fine.
    body = {"model": "kimi-k2.6", "messages": messages, "thinking": {"type": "disabled"}}
    assert client.post("/chat/completions", json=body).status_code == 200


def test_unknown_tool_call_id_is_refused(client: httpx.Client) -> None:
    messages = _follow_up(client, "kimi-k3", "SEARCH q")
    messages[-1]["tool_call_id"] = "web_search:9"
    response = client.post("/chat/completions", json={"model": "kimi-k3", "messages": messages})
    assert response.status_code == 400
    assert (
        response.json()["error"]["message"]
        == "Invalid request: tool_call_id web_search:9 is not found"
    )


def _tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ([_tool("a"), _tool("a")], "function name a is duplicated"),
        ([_tool("9lives")], "invalid tools: function name '9lives' is not valid"),
        ([_tool("a" * 129)], "is not valid"),
        ([_tool("has space")], "is not valid"),
        ([{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}],
         "must be an object schema"),
    ],
)  # fmt: skip
def test_tool_rules(client: httpx.Client, tools: list[dict[str, Any]], message: str) -> None:
    response = client.post(
        "/chat/completions", json={"model": "kimi-k3", "messages": user("hi"), "tools": tools}
    )
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_short_and_long_tool_names_are_fine(client: httpx.Client) -> None:
    for name in ("f", "_", "a" * 128, "get-weather_2"):
        body = {"model": "kimi-k3", "messages": user("hi"), "tools": [_tool(name)]}
        assert client.post("/chat/completions", json=body).status_code == 200, name
