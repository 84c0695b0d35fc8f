"""What goes on the wire: response bodies, SSE events and HTTP/1.1 chunked framing.

Stream events are built from string templates rather than ``json.dumps`` of a whole dict per
event, so that ``LOREM 20000`` (20,000 events) costs well under a second of CPU.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from .answers import Answer

DONE = b"data: [DONE]\n\n"
MALFORMED = b"data: {not json\n\n"
FLUSH_BYTES = 16384
FLUSH_SECONDS = 0.005


class Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...

    def flush(self) -> Any: ...


class ClientGone(Exception):
    """The client closed the connection while we were writing."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def usage_body(prompt_tokens: int, answer: Answer, cached: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": prompt_tokens + answer.completion_tokens,
        "cached_tokens": cached,
    }


def completion_body(
    completion_id: str,
    model_id: str,
    answer: Answer,
    usage: dict[str, int],
    *,
    reasons: bool,
    tool_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The non-stream response; ``reasoning_content`` beside ``content`` when it thinks,
    ``tool_calls`` (and ``content: ""``) when it calls tools."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.content_text}
    if reasons:
        message["reasoning_content"] = answer.reasoning_text
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": usage,
    }


class Events:
    """The SSE events of one completion."""

    def __init__(self, completion_id: str, model_id: str, *, include_usage: bool) -> None:
        head = {"id": completion_id, "object": "chat.completion.chunk"}
        self._head = _dumps(head)[:-1] + f',"created":{int(time.time())},"model":{_dumps(model_id)}'
        self._tail = ',"usage":null}' if include_usage else "}"
        self._delta_open = f'data: {self._head},"choices":[{{"index":0,"delta":{{'
        self._delta_close = f'}},"finish_reason":null}}]{self._tail}\n\n'

    def _delta(self, fields: str) -> bytes:
        return (self._delta_open + fields + self._delta_close).encode("utf-8")

    def role(self) -> bytes:
        return self._delta('"role":"assistant","content":""')

    def reasoning(self, piece: str) -> bytes:
        return self._delta('"reasoning_content":' + _dumps(piece))

    def content(self, piece: str) -> bytes:
        return self._delta('"content":' + _dumps(piece))

    def tool_call_start(self, index: int, call: dict[str, Any]) -> bytes:
        """The first piece of a tool call: index, id, type and name, empty arguments."""
        name = call["function"]["name"]
        start = {"index": index, "id": call["id"], "type": "function"}
        start["function"] = {"name": name, "arguments": ""}
        return self._delta('"tool_calls":' + _dumps([start]))

    def tool_call_arguments(self, index: int, piece: str) -> bytes:
        return self._delta(
            '"tool_calls":' + _dumps([{"index": index, "function": {"arguments": piece}}])
        )

    def finish(self, finish_reason: str, usage: dict[str, int] | None) -> bytes:
        """The finish chunk; usage rides in ``choices[0].usage``, include_usage or not."""
        choice: dict[str, Any] = {"index": 0, "delta": {}, "finish_reason": finish_reason}
        if usage is not None:
            choice["usage"] = usage
        return f"data: {self._head},{_dumps({'choices': [choice]})[1:-1]}{self._tail}\n\n".encode()

    def usage(self, usage: dict[str, int]) -> bytes:
        """The extra chunk of ``stream_options.include_usage``: no choices, top-level usage."""
        return f'data: {self._head},"choices":[],"usage":{_dumps(usage)}}}\n\n'.encode()


def error_event(error: dict[str, Any]) -> bytes:
    return f"data: {_dumps(error)}\n\n".encode()


class ChunkedWriter:
    """Writes a chunked HTTP body, batching events that are ready together.

    A batch goes out when it reaches 16 KiB or 5 ms have passed since the last write; ``flush``
    sends what is pending (before any pause). A closed connection raises ``ClientGone``.
    With ``chunked=False`` (an HTTP/1.0 client) the bytes go out bare and the connection's end
    ends the body.
    """

    def __init__(self, wfile: Writable, *, chunked: bool = True) -> None:
        self._wfile = wfile
        self._chunked = chunked
        self._pending: list[bytes] = []
        self._size = 0
        self._last = time.monotonic()

    def add(self, data: bytes) -> None:
        self._pending.append(data)
        self._size += len(data)
        if self._size >= FLUSH_BYTES or time.monotonic() - self._last >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            payload = b"".join(self._pending)
            self._pending.clear()
            self._size = 0
            if self._chunked:
                payload = b"%x\r\n%s\r\n" % (len(payload), payload)
            self._write(payload)
        self._last = time.monotonic()

    def close(self) -> None:
        """Send what is pending and the last (empty) chunk."""
        self.flush()
        if self._chunked:
            self._write(b"0\r\n\r\n")

    def _write(self, data: bytes) -> None:
        try:
            self._wfile.write(data)
            self._wfile.flush()
        except OSError as exc:  # BrokenPipe, ConnectionReset/Aborted, a socket shut by stop()
            raise ClientGone from exc
