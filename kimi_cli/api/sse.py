"""An incremental Server-Sent Events decoder.

Network chunks split lines anywhere, even inside a multi-byte character or between
``\\r`` and ``\\n``; the decoder keeps what is unfinished until the next chunk. It follows
the WHATWG rules that matter for an API stream: ``data:`` lines (several joined with
``\\n``), ``event:``, ``id:``, comments (``:``), and a blank line that ends an event.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    data: str
    event: str | None = None
    id: str | None = None


def _event(data: str, event: str | None, id: str | None) -> ServerSentEvent:
    """``ServerSentEvent(data, event, id)`` without the frozen dataclass's field-by-field
    ``object.__setattr__``: this runs once per streamed piece. The same object."""
    made: ServerSentEvent = _new(ServerSentEvent)
    fields = made.__dict__
    fields["data"] = data
    fields["event"] = event
    fields["id"] = id
    return made


_new = object.__new__


class SSEDecoder:
    """Feed bytes as they arrive; get complete events back."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        return self._feed_text(self._text.decode(chunk))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: finish a last line and a last event even without a blank line."""
        events = self._feed_text(self._text.decode(b"", final=True))
        if self._pending:
            line, self._pending = self._pending.rstrip("\r"), ""
            self._line(line, events)
        self._dispatch(events)
        return events

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        if not text:
            return events
        buffer = self._pending + text
        if "\r" not in buffer:  # the usual stream: "\n" ends every line; split in C
            lines = buffer.split("\n")
            self._pending = lines.pop()  # after the last "\n": unfinished, or ""
            data = self._data
            for line in lines:  # what _line and _dispatch do, inlined for the usual lines
                if line.startswith("data: "):
                    data.append(line[6:])
                elif line:
                    self._line(line, events)
                elif data:
                    events.append(_event("\n".join(data), self._event, self._id))
                    data = self._data = []
                    self._event = None
                else:
                    self._event = None
            return events
        start = 0
        length = len(buffer)
        while start < length:
            newline = buffer.find("\n", start)
            carriage = buffer.find("\r", start, newline if newline != -1 else length)
            if carriage != -1:
                if carriage == length - 1:
                    break  # a "\r" at the end may be the first half of "\r\n"
                end, next_start = carriage, carriage + (2 if buffer[carriage + 1] == "\n" else 1)
            elif newline != -1:
                end, next_start = newline, newline + 1
            else:
                break
            self._line(buffer[start:end], events)
            start = next_start
        self._pending = buffer[start:]
        return events

    def _line(self, line: str, events: list[ServerSentEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line.startswith(":"):
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        # "retry" and unknown fields are ignored, as the spec says.

    def _dispatch(self, events: list[ServerSentEvent]) -> None:
        if self._data:
            events.append(_event("\n".join(self._data), self._event, self._id))
        self._data = []
        self._event = None
