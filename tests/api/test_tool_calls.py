"""Tool calls, streamed in pieces or whole, come out as complete ToolCalls."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from kimi_cli.api import ToolCall
from kimi_cli.api.tool_calls import ToolCallAssembler
from tests.api.mock import make


def sse(*events: object) -> httpx.Response:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return httpx.Response(200, content=body.encode(), headers={"content-type": "text/event-stream"})


def calls_delta(*pieces: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {"content": ""}
    if pieces:
        delta["tool_calls"] = list(pieces)
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def piece(
    index: int | None = None,
    id: str | None = None,
    name: str | None = None,
    arguments: str | None = None,
) -> dict[str, Any]:
    made: dict[str, Any] = {"function": {}}
    if index is not None:
        made["index"] = index
    if id is not None:
        made["id"], made["type"] = id, "function"
    if name is not None:
        made["function"]["name"] = name
    if arguments is not None:
        made["function"]["arguments"] = arguments
    return made


def streamed(*events: object) -> tuple[list[Any], tuple[ToolCall, ...]]:
    client, _ = make(lambda r: sse(*events))
    with client.stream_chat({"model": "kimi-k3", "messages": []}) as stream:
        chunks = list(stream)
    return chunks, stream.tool_calls


def test_two_calls_by_index_with_arguments_in_pieces() -> None:
    chunks, calls = streamed(
        {"choices": [{"index": 0, "delta": {"reasoning_content": "I should search"}}]},
        calls_delta(piece(0, "web_search:0", "web_search", "")),
        calls_delta(piece(0, arguments='{"query": ')),
        calls_delta(piece(1, "web_search:1", "web_search", '{"query"')),
        calls_delta(piece(0, arguments='"moon"}'), piece(1, arguments=': "sun"}')),
        calls_delta(finish="tool_calls"),
    )
    expected = (
        ToolCall("web_search:0", "web_search", '{"query": "moon"}'),
        ToolCall("web_search:1", "web_search", '{"query": "sun"}'),
    )
    assert calls == expected
    assert chunks[-1].finish_reason == "tool_calls" and chunks[-1].tool_calls == expected
    assert all(c.tool_calls == () for c in chunks[:-1])  # only the finished list is handed out
    assert "".join(c.content for c in chunks) == ""


def test_without_index_pieces_follow_their_call() -> None:
    _, calls = streamed(
        calls_delta(piece(None, "call_a", "web_search", '{"q":')),
        calls_delta(piece(None, arguments=' "a"}')),
        calls_delta(piece(None, "call_b", "web_search", '{"q": "b"')),
        calls_delta(piece(None, arguments="}")),
        calls_delta(finish="tool_calls"),
    )
    assert [(c.id, c.arguments) for c in calls] == [
        ("call_a", '{"q": "a"}'),
        ("call_b", '{"q": "b"}'),
    ]


def test_without_index_several_in_one_delta_go_by_position() -> None:
    assembler = ToolCallAssembler()
    assembler.feed([piece(None, "a", "f", "1"), piece(None, "b", "g", "2")])
    assembler.feed([piece(None, arguments="x"), piece(None, arguments="y")])
    assert [(c.id, c.name, c.arguments) for c in assembler.calls()] == [
        ("a", "f", "1x"),
        ("b", "g", "2y"),
    ]


def test_id_and_name_in_pieces_or_repeated_whole() -> None:
    assembler = ToolCallAssembler()
    assembler.feed([piece(0, "call_", "web_", "")])
    assembler.feed([piece(0, "1", "search", '{"q":1}')])
    assembler.feed([{"index": 1, "id": "x", "function": {"name": "date", "arguments": "{}"}}])
    assembler.feed([{"index": 1, "id": "x", "function": {"name": "date", "arguments": ""}}])
    assert assembler.calls() == (
        ToolCall("call_1", "web_search", '{"q":1}'),
        ToolCall("x", "date", "{}"),
    )


def test_arguments_are_kept_verbatim() -> None:
    odd = '{ "query" :"\\u4f60\\u597d",\n "classes":["all"] }'
    _, calls = streamed(calls_delta(piece(0, "c", "web_search", odd), finish="tool_calls"))
    assert calls[0].arguments == odd


def test_non_streamed_tool_calls_and_empty_content() -> None:
    body = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "need facts",
                    "tool_calls": [
                        {
                            "id": "web_search:0",
                            "type": "function",
                            "function": {"name": "web_search", "arguments": '{"query":"x"}'},
                        },
                        {"id": "d", "function": {"name": "date", "arguments": {"tz": "UTC"}}},
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    client, _ = make(lambda r: httpx.Response(200, json=body))
    done = client.chat({"model": "kimi-k3", "messages": []})
    assert (done.content, done.reasoning, done.finish_reason) == ("", "need facts", "tool_calls")
    assert done.tool_calls == (
        ToolCall("web_search:0", "web_search", '{"query":"x"}'),
        ToolCall("d", "date", '{"tz": "UTC"}'),
    )
    assert done.tool_calls[0].to_json() == body["choices"][0]["message"]["tool_calls"][0]  # type: ignore[index]


def test_an_answer_without_tool_calls_has_none() -> None:
    chunks, calls = streamed(
        {"choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    )
    assert calls == () and chunks[-1].tool_calls == ()


def test_an_answer_without_tool_calls_does_without_the_assembler() -> None:
    """Most answers carry no tool call; their stream never imports the assembler."""
    code = """if True:
        import sys, httpx
        from tests.api.mock import make
        done = b'data: {"choices": [{"delta": {"content": "hi"}, "finish_reason": "stop"}]}\\n\\n'
        answer = httpx.Response(200, content=done, headers={"content-type": "text/event-stream"})
        client, _ = make(lambda r: answer)
        with client.stream_chat({"model": "kimi-k3", "messages": []}) as stream:
            chunks = list(stream)
        assert stream.tool_calls == () and chunks[-1].tool_calls == ()
        print("kimi_cli.api.tool_calls" in sys.modules)
    """
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert result.stdout.strip() == "False"
