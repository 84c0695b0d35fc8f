"""One request of a turn: streamed or whole, what arrives told to the observer and kept on
the turn's result; the tool calls it ends with, if any."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.types import ToolCall, Usage
    from kimi_cli.conversation.turn import TurnObserver, TurnResult


def one_request(
    client: KimiClient,
    body: dict[str, Any],
    result: TurnResult,
    observer: TurnObserver,
    stream: bool,
) -> tuple[ToolCall, ...]:
    before = result.usage
    result.usage = None
    try:
        if stream:
            calls = _stream(client, body, result, observer)
        else:
            calls = _complete(client, body, result, observer)
        result.requests += 1
        if result.usage is not None:
            observer.usage(result.usage)
    finally:  # a failed request keeps the usage of the ones before it
        result.usage = _added(before, result.usage)
    return calls if result.finish_reason == "tool_calls" else ()


def _stream(
    client: KimiClient, body: dict[str, Any], result: TurnResult, observer: TurnObserver
) -> tuple[ToolCall, ...]:
    reasoning: list[str] = []
    calls: tuple[ToolCall, ...] = ()
    on_content = observer.content
    on_reasoning = observer.reasoning
    with client.stream_chat(body) as chat_stream:
        result.request_id = chat_stream.request_id
        try:
            for chunk in chat_stream:
                if chunk.reasoning:
                    reasoning.append(chunk.reasoning)
                    on_reasoning(chunk.reasoning)
                if chunk.content:
                    result.pieces.append(chunk.content)
                    on_content(chunk.content)
                if chunk.finish_reason:
                    result.finish_reason = chunk.finish_reason
                if chunk.tool_calls:
                    calls = chunk.tool_calls
                if chunk.usage is not None:
                    result.usage = chunk.usage
        finally:
            result.content = "".join(result.pieces)
            result.reasoning = "".join(reasoning)
    return calls


def _complete(
    client: KimiClient, body: dict[str, Any], result: TurnResult, observer: TurnObserver
) -> tuple[ToolCall, ...]:
    completion = client.chat(body)
    result.content = completion.content
    result.pieces.append(completion.content)
    result.reasoning = completion.reasoning
    result.finish_reason = completion.finish_reason
    result.usage = completion.usage
    result.request_id = completion.request_id
    if completion.reasoning:
        observer.reasoning(completion.reasoning)
    if completion.content:
        observer.content(completion.content)
    return completion.tool_calls


def _added(before: Usage | None, now: Usage | None) -> Usage | None:
    """The usage of a turn's requests so far: each request is billed for its own input."""
    if before is None or now is None:
        return now or before
    from kimi_cli.api.types import Usage

    return Usage(
        input_tokens=before.input_tokens + now.input_tokens,
        output_tokens=before.output_tokens + now.output_tokens,
        cached_tokens=before.cached_tokens + now.cached_tokens,
    )
