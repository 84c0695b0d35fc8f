"""Request bodies read as streams, and a streaming ``multipart/form-data`` parser.

An upload of 100 MB must not need 100 MB of memory: the parser hands a file part to a sink
piece by piece and keeps at most one read plus a boundary's length in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Protocol

READ_SIZE = 65536
MAX_HEADER_BYTES = 16384
MAX_FIELD_BYTES = 65536


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...

    def readline(self, size: int = ..., /) -> bytes: ...


class BodyStream:
    """The request body: ``Content-Length`` bytes, or an HTTP/1.1 chunked body."""

    def __init__(self, rfile: Readable, *, chunked: bool, length: int) -> None:
        self._rfile = rfile
        self._chunked = chunked
        if length < 0:
            raise ValueError("negative Content-Length")
        self._left = 0 if self._chunked else length
        self._done = False

    def read(self, size: int = READ_SIZE) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end of the body."""
        if self._done:
            return b""
        if self._chunked and self._left == 0:
            line = self._rfile.readline(65537)
            if not line:
                raise ValueError("the chunked body ended early")
            self._left = int(line.split(b";")[0].strip(), 16)
            if self._left == 0:
                while self._rfile.readline(65537).strip():
                    pass
                self._done = True
                return b""
        if self._left == 0:
            self._done = True
            return b""
        data = self._rfile.read(min(size, self._left))
        if not data:
            raise ValueError("the body ended early")
        self._left -= len(data)
        if self._chunked and self._left == 0:
            self._rfile.readline(65537)
        return data

    def read_all(self) -> bytes:
        parts = []
        while piece := self.read():
            parts.append(piece)
        return b"".join(parts)

    def drain(self) -> None:
        while self.read():
            pass


class Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


@dataclass
class Part:
    """One part's headers; ``filename`` is None for a plain form field."""

    name: str
    filename: str | None
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def boundary_of(content_type: str) -> bytes:
    message = Message()
    message["Content-Type"] = content_type
    if message.get_content_type() != "multipart/form-data":
        raise ValueError("the body must be multipart/form-data")
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("multipart/form-data needs a boundary")
    return boundary.encode("latin-1")


def _parse_headers(raw: bytes) -> Part:
    headers: dict[str, str] = {}
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip():
            headers[key.strip().lower()] = value.strip()
    message = Message()
    message["Content-Disposition"] = headers.get("content-disposition", "")
    name = message.get_param("name", header="content-disposition")
    filename = message.get_param("filename", header="content-disposition")
    return Part(
        name=name if isinstance(name, str) else "",
        filename=filename if isinstance(filename, str) else None,
        content_type=headers.get("content-type", "text/plain"),
        headers=headers,
    )


class _Buffer:
    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.read = read
        self.data = b""

    def more(self) -> None:
        piece = self.read(READ_SIZE)
        if not piece:
            raise ValueError("the multipart body ended early")
        self.data += piece


def parse_multipart(
    read: Callable[[int], bytes],
    boundary: bytes,
    sink_for: Callable[[Part], Sink | None],
) -> dict[str, str]:
    """Parse the whole body. File parts go to ``sink_for(part)`` (None discards them); plain
    fields (at most 64 KiB each) are returned as text. ``ValueError`` for a broken body."""
    buffer = _Buffer(read)
    first = b"--" + boundary
    separator = b"\r\n--" + boundary
    while first not in buffer.data:
        if len(buffer.data) > MAX_HEADER_BYTES:
            raise ValueError("no multipart boundary found")
        buffer.more()
    buffer.data = buffer.data[buffer.data.index(first) + len(first) :]
    fields: dict[str, str] = {}
    while True:
        while len(buffer.data) < 2:
            buffer.more()
        if buffer.data.startswith(b"--"):
            return fields
        if not buffer.data.startswith(b"\r\n"):
            raise ValueError("a malformed multipart boundary line")
        while b"\r\n\r\n" not in buffer.data[2:]:
            if len(buffer.data) > MAX_HEADER_BYTES:
                raise ValueError("multipart part headers are too long")
            buffer.more()
        end = buffer.data.index(b"\r\n\r\n", 2)
        part = _parse_headers(buffer.data[2:end])
        buffer.data = buffer.data[end + 4 :]
        sink = sink_for(part) if part.filename is not None else None
        kept: list[bytes] = []
        kept_size = 0
        while True:
            index = buffer.data.find(separator)
            if index >= 0:
                chunk, buffer.data = buffer.data[:index], buffer.data[index + len(separator) :]
            else:
                keep = len(separator) - 1
                chunk, buffer.data = buffer.data[:-keep], buffer.data[-keep:]
            if chunk:
                if part.filename is not None:
                    if sink is not None:
                        sink.write(chunk)
                else:
                    kept_size += len(chunk)
                    if kept_size > MAX_FIELD_BYTES:
                        raise ValueError(f"the form field {part.name!r} is too long")
                    kept.append(chunk)
            if index >= 0:
                break
            buffer.more()
        if part.filename is None:
            fields[part.name] = b"".join(kept).decode("utf-8", errors="replace")
