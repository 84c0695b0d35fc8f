"""One streamed chat answer: SSE events in, ChatChunks out.

A stream is complete when ``[DONE]`` arrives, or when it carried a finish reason and then
closed cleanly (some proxies drop ``[DONE]``). Anything else is cut off: StreamCutError,
and the caller keeps what arrived.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from kimi_cli.api.translate import describe_transport, error_from_stream_event, request_id_of
from kimi_cli.api.types import ChatChunk, ToolCall, Usage, new_chunk
from kimi_cli.errors import StreamCutError

if TYPE_CHECKING:
    from kimi_cli.api.tool_calls import ToolCallAssembler

_KEPT = ("the partial answer was kept",)


class ChatStream:
    """The chunks of one streamed answer; iterate once, inside ``with``.

    Raises StreamCutError when the stream stops before the answer was complete, and the
    stream's own error class for an ``{"error": …}`` event. ``done`` tells whether
    ``[DONE]`` arrived, ``finished`` whether a finish reason did; ``tool_calls`` holds the
    calls assembled so far (complete once the stream is).
    """

    def __init__(self, response: httpx.Response, idle_timeout: float) -> None:
        self._response = response
        self._idle_timeout = idle_timeout
        self._calls: ToolCallAssembler | None = None  # made when a tool-call piece arrives
        self.request_id = request_id_of(response.headers)
        self.done = False
        self.finished = False

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return () if self._calls is None else self._calls.calls()

    def __iter__(self) -> Iterator[ChatChunk]:
        from kimi_cli.api.sse import SSEDecoder  # streams only: a --no-stream run skips it

        decoder = SSEDecoder()
        chunk = self._chunk
        try:
            for raw in self._response.iter_bytes():
                for event in decoder.feed(raw):
                    data = event.data
                    if data[:1] != "{" and self._is_done(data):  # "[DONE]" is no object
                        return
                    yield chunk(data)
            for event in decoder.flush():
                if self._is_done(event.data):
                    return
                yield self._chunk(event.data)
        except httpx.ReadTimeout as exc:
            raise StreamCutError(
                f"the stream stalled: no data for {self._idle_timeout:g} s",
                hint="retry, or raise --timeout",
                notes=_KEPT,
                request_id=self.request_id,
            ) from exc
        except httpx.TransportError as exc:
            raise StreamCutError(
                f"the stream broke off: {describe_transport(exc)}",
                hint="retry later",
                notes=_KEPT,
                request_id=self.request_id,
            ) from exc
        finally:
            self.close()
        if not self.finished:
            raise StreamCutError(
                "the stream ended before the answer was complete (no finish reason)",
                hint="retry later",
                notes=_KEPT,
                request_id=self.request_id,
            )

    def _is_done(self, data: str) -> bool:
        if data.strip() == "[DONE]":
            self.done = True
            return True
        return False

    def _chunk(self, data: str) -> ChatChunk:
        try:
            obj = json.loads(data)
        except ValueError:
            raise StreamCutError(
                "the stream carried a malformed event",
                hint="retry later",
                notes=_KEPT,
                request_id=self.request_id,
            ) from None
        if type(obj) is not dict and not isinstance(obj, Mapping):
            raise StreamCutError(
                "the stream carried a malformed event",
                hint="retry later",
                notes=_KEPT,
                request_id=self.request_id,
            )
        if obj.get("error"):
            raise error_from_stream_event(obj, self.request_id)
        made = chunk_from_json(obj, self)
        if made.finish_reason is not None:
            self.finished = True
        return made

    def _feed_calls(self, pieces: list[Any]) -> None:
        if self._calls is None:
            from kimi_cli.api.tool_calls import ToolCallAssembler

            self._calls = ToolCallAssembler()
        self._calls.feed(pieces)

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def chunk_from_json(obj: Mapping[str, Any], stream: ChatStream | None = None) -> ChatChunk:
    """One ``chat.completion.chunk``; usage from ``chunk.usage`` or ``choices[0].usage``.

    With ``stream``, tool-call pieces are handed to it, and the chunk carrying the finish
    reason gets the calls it assembled."""
    # Called for every streamed piece: plain dicts are tested first (json.loads makes them),
    # the abstract Mapping check (slower) only for anything else.
    choices = obj.get("choices")
    choice: Mapping[str, Any] = {}
    if isinstance(choices, list) and choices:
        first = choices[0]
        if type(first) is dict or isinstance(first, Mapping):
            choice = first
    delta = choice.get("delta")
    if type(delta) is not dict and not isinstance(delta, Mapping):
        delta = {}
    usage = obj.get("usage") or choice.get("usage")
    model = obj.get("model")
    content = delta.get("content")
    reasoning = delta.get("reasoning_content")
    finish = choice.get("finish_reason")
    finish = finish if isinstance(finish, str) and finish else None
    tool_calls: tuple[ToolCall, ...] = ()
    if stream is not None:
        pieces = delta.get("tool_calls")
        if pieces and isinstance(pieces, list):
            stream._feed_calls(pieces)
        if finish is not None:
            tool_calls = stream.tool_calls
    return new_chunk(
        content if isinstance(content, str) else "",
        reasoning if isinstance(reasoning, str) else "",
        finish,
        Usage.from_json(usage) if usage is not None and isinstance(usage, Mapping) else None,
        model if isinstance(model, str) else None,
        tool_calls,
    )
