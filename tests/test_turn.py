"""The turn API as a front end uses it: events to an observer, a result, and a failure that
carries what arrived. A fake client stands in for the API; the subprocess tests cover the rest."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest

from kimi_cli.api.types import ChatChunk, Model, Usage
from kimi_cli.catalog import ChatOptions, policy_for
from kimi_cli.conversation.turn import (
    Conversation,
    TurnError,
    TurnInterrupted,
    TurnObserver,
)
from kimi_cli.errors import StreamCutError

K26 = Model(id="kimi-k2.6", context_length=262_144, supports_thinking_type="both")


class Stream:
    def __init__(self, chunks: list[ChatChunk], then: BaseException | None) -> None:
        self.request_id = "req-1"
        self._chunks = chunks
        self._then = then

    def __iter__(self) -> Iterator[ChatChunk]:
        yield from self._chunks
        if self._then is not None:
            raise self._then


class Client:
    def __init__(self, chunks: list[ChatChunk], then: BaseException | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._chunks = chunks
        self._then = then

    @contextmanager
    def stream_chat(self, body: dict[str, Any]) -> Iterator[Stream]:
        self.bodies.append(body)
        yield Stream(self._chunks, self._then)


class Recorder(TurnObserver):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def reasoning(self, text: str) -> None:
        self.events.append(("reasoning", text))

    def content(self, text: str) -> None:
        self.events.append(("content", text))

    def usage(self, usage: Usage) -> None:
        self.events.append(("usage", usage.output_tokens))


def conversation(client: Client) -> Conversation:
    return Conversation(
        client=cast(Any, client),
        model=K26,
        policy=policy_for(K26),
        history=None,
        currency="USD",
        warn=lambda text: None,
    )


CHUNKS = [
    ChatChunk(reasoning="hm "),
    ChatChunk(content="Hello "),
    ChatChunk(content="there", finish_reason="stop", usage=Usage(10, 3, 0)),
]


def test_a_turn_tells_the_observer_and_returns_the_result() -> None:
    client = Client(CHUNKS)
    chat = conversation(client)
    seen = Recorder()
    result = chat.send("hi", ChatOptions(), seen)
    assert seen.events == [
        ("reasoning", "hm "),
        ("content", "Hello "),
        ("content", "there"),
        ("usage", 3),
    ]
    assert (result.content, result.reasoning, result.requests) == ("Hello there", "hm ", 1)
    assert result.cost is not None
    second = chat.send("again", ChatOptions(), Recorder())
    keys = {body["prompt_cache_key"] for body in client.bodies}
    assert len(keys) == 1 and second.content == "Hello there"  # one conversation, one key
    assert [m["content"] for m in client.bodies[1]["messages"]] == ["hi", "Hello there", "again"]


def test_a_failure_carries_what_arrived() -> None:
    cut = StreamCutError("the stream was cut off")
    chat = conversation(Client(CHUNKS[:2], then=cut))
    with pytest.raises(TurnError) as failed:
        chat.send("hi", ChatOptions(), Recorder())
    assert failed.value.error is cut
    assert failed.value.result.content == "Hello " and failed.value.result.partial
    assert chat.earlier == []  # a failed exchange is not context

    chat = conversation(Client(CHUNKS[:2], then=KeyboardInterrupt()))
    with pytest.raises(TurnInterrupted) as stopped:
        chat.send("hi", ChatOptions(), Recorder())
    assert stopped.value.result.content == "Hello " and stopped.value.result.partial
