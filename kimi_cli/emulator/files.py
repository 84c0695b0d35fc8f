"""The Files API's storage: uploads on disk (not in memory), their FileObjects and extraction.

Facts (docs/api-notes.md, Files API): purposes ``file-extract``, ``image``, ``video``,
``batch``; at most 1,000 files and 100 MB each; ``GET /v1/files/{id}/content`` gives the
extracted text; errors ``File size is too large, max file size is 100MB``, ``File size is zero``
and ``…exceeded the max file count``.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .rules import ApiError, bad

PURPOSES = ("file-extract", "image", "video", "batch")
OUTPUT_PURPOSE = "batch_output"
MB = 1024 * 1024
DEFAULT_MAX_BYTES = 100 * MB
DEFAULT_MAX_COUNT = 1000
ORG = "org-emulator"

# The file-extract page lists documents, images and "common source-code and text files".
_DOCUMENTS = (
    "pdf txt csv tsv doc docx xls xlsx ppt pptx md markdown epub html htm json mobi log rtf"
)
_CODE = (
    "py js mjs ts jsx tsx java c cc cpp h hpp cs go rs rb php sh bash zsh ps1 css scss xml yaml "
    "yml toml ini cfg conf sql tex rst swift kt kts scala lua pl r m vue ipynb proto graphql dart"
)
_IMAGES = "png jpg jpeg webp gif bmp tif tiff"
_VIDEOS = "mp4 mpeg mov avi flv mpg webm wmv 3gp 3gpp"
EXTENSIONS: dict[str, frozenset[str]] = {
    "file-extract": frozenset(f"{_DOCUMENTS} {_CODE} {_IMAGES}".split()),
    "image": frozenset(_IMAGES.split()),
    "video": frozenset(_VIDEOS.split()),
    "batch": frozenset({"jsonl"}),
}
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e\t]{4,}")
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t"


def extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""


def size_text(limit: int) -> str:
    return f"{limit // MB}MB" if limit % MB == 0 else f"{limit} bytes"


def unsupported_type(filename: str, purpose: str) -> ApiError:
    ext = extension(filename)
    shown = f".{ext}" if ext else "(no extension)"
    return bad(f"Invalid request: unsupported file type {shown} for purpose {purpose}: {filename}")


def count_exceeded(limit: int) -> ApiError:
    return bad(f"Your organization {ORG} has exceeded the max file count {limit}")


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    path: Path
    is_text: bool
    status: str = "ok"
    status_details: str = ""

    def object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
            "status_details": self.status_details,
        }


@dataclass
class Upload:
    """A file part being written to disk: counts bytes, stops writing past the limit and
    tells whether the bytes are UTF-8 text."""

    path: Path
    limit: int
    size: int = 0
    is_text: bool = True
    _decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")())

    def __post_init__(self) -> None:
        self._file = self.path.open("wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            return
        self._file.write(data)
        if self.is_text:
            try:
                self._decoder.decode(data)
                self.is_text = b"\x00" not in data
            except UnicodeDecodeError:
                self.is_text = False

    def close(self) -> None:
        self._file.close()
        if self.is_text:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.is_text = False


class FileStore:
    """The account's files. Thread-safe; bytes live in a private temporary directory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._files: dict[str, StoredFile] = {}
        self._ids = 0
        self.max_bytes = DEFAULT_MAX_BYTES
        self.max_count = DEFAULT_MAX_COUNT

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def _directory(self) -> Path:
        """Made on first use, removed when the store goes (or at exit)."""
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="kimi-emulator-files-"))
                weakref.finalize(self, shutil.rmtree, self._dir, True)
            return self._dir

    def _new_id(self) -> str:
        with self._lock:
            self._ids += 1
            return f"file-emu{self._ids:06d}"

    def begin(self) -> Upload:
        """Where the next upload's bytes go (checked and kept by ``finish``)."""
        path = self._directory() / f"upload-{self._new_id()}"
        return Upload(path, self.max_bytes)

    def check_room(self) -> None:
        with self._lock:
            if len(self._files) >= self.max_count:
                raise count_exceeded(self.max_count)

    def finish(self, upload: Upload, filename: str, purpose: str) -> StoredFile:
        """Keep an upload, or delete it and raise the API's error."""
        upload.close()
        try:
            if upload.size > upload.limit:
                raise bad(f"File size is too large, max file size is {size_text(upload.limit)}")
            if upload.size == 0:
                raise bad("File size is zero")
            if extension(filename) not in EXTENSIONS[purpose]:
                raise unsupported_type(filename, purpose)
            self.check_room()
        except ApiError:
            upload.path.unlink(missing_ok=True)
            raise
        return self._keep(upload.path, filename, purpose, upload.size, upload.is_text)

    def add_bytes(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        """A file the emulator itself makes (batch output and error files)."""
        path = self._directory() / f"made-{self._new_id()}"
        path.write_bytes(data)
        return self._keep(path, filename, purpose, len(data), True)

    def _keep(self, path: Path, filename: str, purpose: str, size: int, text: bool) -> StoredFile:
        file_id = self._new_id()
        final = path.with_name(file_id)
        os.replace(path, final)
        stored = StoredFile(file_id, filename, purpose, size, int(time.time()), final, text)
        with self._lock:
            self._files[file_id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile:
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise ApiError(404, "resource_not_found_error", f"file {file_id} not found")
        return stored

    def list(self) -> list[StoredFile]:
        with self._lock:
            return list(self._files.values())

    def delete(self, file_id: str) -> None:
        with self._lock:
            stored = self._files.pop(file_id, None)
        if stored is None:
            raise ApiError(404, "resource_not_found_error", f"file {file_id} not found")
        stored.path.unlink(missing_ok=True)

    def content(self, file_id: str) -> bytes:
        """Text files and batch files as they are; anything else as its extraction."""
        stored = self.get(file_id)
        if stored.is_text or stored.purpose in ("batch", OUTPUT_PURPOSE):
            return stored.path.read_bytes()
        return extraction(stored).encode("utf-8")


def extraction(stored: StoredFile) -> str:
    """A deterministic stand-in for server-side extraction: a line naming the file, then its
    printable runs (4+ printable ASCII characters), one per line, as ``strings`` would."""
    runs: list[bytes] = []
    tail = b""
    with stored.path.open("rb") as handle:
        while block := handle.read(1 << 20):
            data = tail + block
            split = len(data.rstrip(_PRINTABLE))  # a run at the end may go on in the next block
            if len(data) - split >= 1 << 20:
                split = len(data)
            runs.extend(_PRINTABLE_RUN.findall(data, 0, split))
            tail = data[split:]
    runs.extend(_PRINTABLE_RUN.findall(tail))
    head = f"Extracted text of {stored.filename} ({stored.bytes} bytes, emulated extraction)"
    return head + "\n" + b"\n".join(runs).decode("ascii") + ("\n" if runs else "")
