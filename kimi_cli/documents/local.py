"""What a ``-f`` file is, read from disk without holding a large one in memory.

An image (known by its bytes) becomes an image part; text (valid UTF-8, no NUL) goes
inline; anything else is a document for the Files API. A
document is never read whole: it is hashed and uploaded in pieces, so a 100 MB PDF costs
no more memory than a small one.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from kimi_cli.errors import UsageError, unreadable_input

#: The Files API takes at most 100 MB per file (docs/api-notes.md#files-api).
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
PIECE_BYTES = 1024 * 1024


#: The chat endpoint takes png, jpeg, webp and gif; the type is read from the bytes.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes say they are (png, jpeg, webp, gif), or None."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


#: Names that promise an image: such a file whose bytes are no image is refused, not uploaded.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})


def refuse_broken_image(path: Path, name: str) -> None:
    """A file named like an image whose bytes are none is a usage error (a broken image is
    neither sent as an image nor uploaded as a document)."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise UsageError(
            f"{name} is not a png, jpeg, webp or gif image (its bytes say otherwise)",
            hint="check the file; a broken image cannot be sent",
        )


def human_size(size: int) -> str:
    """``5.2 MB``, ``812 kB``, ``17 B`` (powers of 1024, as the API's limit is)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} kB"
    if size < 1024 * 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size / (1024 * 1024 * 1024):.1f} GB"


@dataclass(frozen=True)
class LocalDocument:
    """A ``-f`` file to be sent through the Files API: its path, the name shown, its size."""

    path: Path
    name: str
    size: int


def check_size(name: str, size: int) -> None:
    """Refuse a file the API would refuse, before anything is sent."""
    if size > MAX_DOCUMENT_BYTES:
        raise UsageError(
            f"{name} is {human_size(size)} ({size:,} bytes); the Files API takes at most "
            f"{human_size(MAX_DOCUMENT_BYTES)} per file",
            hint="split it, or send the part that matters",
        )


def size_of(path: Path) -> int:
    """The size of a file to send; a usage error for a path that is not one."""
    try:
        found = os.stat(path)
    except OSError as exc:
        raise unreadable_input(path, exc) from None
    if stat.S_ISDIR(found.st_mode):
        raise unreadable_input(path, IsADirectoryError(errno.EISDIR, "is a directory"))
    return found.st_size


def check_sizes(paths: list[Path]) -> None:
    """Every ``-f`` file within the Files API's limit (``-`` is standard input: skipped)."""
    for path in paths:
        if str(path) != "-":
            check_size(str(path), size_of(path))


def is_utf8_text(path: Path, head: bytes) -> bool:
    """Whether the whole file is UTF-8 without NUL; stops at the first byte that is not."""
    if b"\x00" in head:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as source:
            while piece := source.read(PIECE_BYTES):
                if b"\x00" in piece:
                    return False
                decoder.decode(piece)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sha256_of(path: Path) -> str:
    import hashlib  # only when a document is sent: a plain chat does not load it

    digest = hashlib.sha256()
    with path.open("rb") as source:
        while piece := source.read(PIECE_BYTES):
            digest.update(piece)
    return digest.hexdigest()
