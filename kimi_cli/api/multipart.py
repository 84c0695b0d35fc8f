"""A ``multipart/form-data`` body read from disk as it is sent.

Its length is known before the first byte (so the request carries a Content-Length, which
the API wants, instead of chunked encoding), and memory stays at one piece whatever the
file's size. Progress is reported as pieces are taken by the connection.
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from kimi_cli.errors import UsageError

PIECE_BYTES = 256 * 1024

Progress = Callable[[int, int], None]


class FileUpload:
    """Form fields plus one file part; iterate it once per attempt to send it."""

    def __init__(
        self,
        path: Path,
        fields: Mapping[str, str],
        *,
        field_name: str = "file",
        progress: Progress | None = None,
    ) -> None:
        self.path = path
        try:
            self.size = path.stat().st_size
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        self._progress = progress
        boundary = secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
            f"{value}\r\n".encode()
            for name, value in fields.items()
        )
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._head = (
            head
            + (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{_quote(field_name)}"; filename="{_quote(path.name)}"\r\n'
                f"Content-Type: {mime}\r\n\r\n"
            ).encode()
        )
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self.length = len(self._head) + self.size + len(self._tail)
        shown = ", ".join(f"{k}={v}" for k, v in fields.items())
        self.summary = f"multipart form ({shown}; file {path.name!r}, {self.size:,} bytes)"
        self._sent = 0

    @property
    def bytes_sent(self) -> int:
        """File bytes taken by the connection in the current (or last) attempt."""
        return self._sent

    def __iter__(self) -> Iterator[bytes]:
        self._sent = 0
        self._report()
        yield self._head
        try:
            source = self.path.open("rb")
        except OSError as exc:
            raise UsageError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        with source:
            left = self.size
            while left > 0:
                piece = source.read(min(PIECE_BYTES, left))
                if not piece:
                    break
                yield piece
                left -= len(piece)
                self._sent += len(piece)
                self._report()
        if left:  # the Content-Length is a promise: a shorter body would hang the server
            raise UsageError(
                f"{self.path} changed while it was being uploaded",
                hint="upload it again once nothing writes to it",
            )
        yield self._tail

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(self._sent, self.size)


def _quote(value: str) -> str:
    """A form-data parameter value, escaped as browsers do (WHATWG); UTF-8 otherwise."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
