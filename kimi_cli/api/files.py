"""The Files API: upload (streamed from disk), list, retrieve, content, download, delete.

Errors a caller must tell apart are typed: an ID the account does not hold
(UnknownFileError), a full account (FileLimitError), a file the API refuses
(FileRefusedError). Everything else is the usual KimiError tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from kimi_cli.api.client import API_TIME_LIMIT_S, KimiClient
from kimi_cli.api.multipart import FileUpload, Progress
from kimi_cli.api.types import int_or_none, str_or_none
from kimi_cli.errors import (
    APIRequestError,
    KimiError,
    NotFoundError,
    TemporaryError,
    UnexpectedResponseError,
)

PURPOSES = ("file-extract", "image", "video", "batch")

_FULL = re.compile(r"max file count|too many files|file count", re.IGNORECASE)
_REFUSED = re.compile(
    r"file size|too large|is zero|empty|unsupported|not supported|invalid purpose|"
    r"file type|extension",
    re.IGNORECASE,
)
_EXTRACTION_FAILED = re.compile(r"failed to extract", re.IGNORECASE)


class UnknownFileError(NotFoundError):
    """A file ID the account does not hold (404 on ``/files/{id}``): deleted, or never there."""


class FileLimitError(APIRequestError):
    """The account holds as many files as the API allows; an upload needs old ones deleted."""


class FileRefusedError(APIRequestError):
    """The API refused a file itself: its type, its size, an empty file, or text it could not
    extract. Retrying the same bytes gives the same answer."""


@dataclass(frozen=True)
class FileObject:
    id: str
    filename: str = ""
    bytes: int = 0
    purpose: str = ""
    created_at: int | None = None
    status: str | None = None  # "ok", "ready", "error" … the set is open
    status_details: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> FileObject:
        """ValueError for something that is not a file object (no string ``id``)."""
        file_id = data.get("id") if isinstance(data, Mapping) else None
        if not isinstance(file_id, str) or not file_id:
            raise ValueError("not a file: no id")
        details = data.get("status_details")
        return cls(
            id=file_id,
            filename=str_or_none(data.get("filename")) or "",
            bytes=int_or_none(data.get("bytes")) or 0,
            purpose=str_or_none(data.get("purpose")) or "",
            created_at=int_or_none(data.get("created_at")),
            status=str_or_none(data.get("status")),
            status_details=details if isinstance(details, str) and details else None,
            raw=dict(data),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "filename": self.filename,
            "bytes": self.bytes,
            "purpose": self.purpose,
            "created_at": self.created_at,
            "status": self.status,
        }


def upload(
    client: KimiClient, path: Path, purpose: str, *, progress: Progress | None = None
) -> FileObject:
    """Send ``path`` as it is read; ``progress(sent, total)`` gets file bytes as they go out.

    Not repeated once bytes went out, unless the API refused it at the door (429/503):
    a second copy would count against the account's file limit."""
    body = FileUpload(path, {"purpose": purpose}, progress=progress)
    try:
        data = client.send_body("POST", "files", body)
    except (APIRequestError, TemporaryError) as exc:
        raise _refusal(exc, path.name, purpose) from exc
    return _file(data, "files")


def list_files(client: KimiClient, purpose: str | None = None) -> list[FileObject]:
    """Every file of the account (the API does not page), optionally of one purpose."""
    data = client.request_json("GET", "files")
    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise UnexpectedResponseError(
            f"{client.base_url}/files did not answer like the Kimi API (no file list)",
        )
    found = []
    for item in items:
        try:
            file = FileObject.from_json(item)
        except ValueError:
            continue
        if purpose is None or file.purpose == purpose:
            found.append(file)
    return found


def retrieve(client: KimiClient, file_id: str) -> FileObject:
    with _known(file_id):
        return _file(client.request_json("GET", _path(file_id)), "files/{id}")


def content(client: KimiClient, file_id: str, *, name: str | None = None) -> str:
    """The file's content as text: for ``file-extract``, the extracted text, verbatim.
    ``name`` (the user's file) is what a failed extraction names; the ID otherwise."""
    try:
        with _known(file_id):
            path = _path(file_id, "content")
            return client.request_text("GET", path, read_timeout=API_TIME_LIMIT_S)
    except TemporaryError as exc:
        raise _refusal(exc, name or file_id) from exc


def download(client: KimiClient, file_id: str, out: BinaryIO) -> int:
    """Copy the file's content into ``out`` as it arrives; the number of bytes written."""
    written = 0
    with _known(file_id), client.stream_bytes("GET", _path(file_id, "content")) as pieces:
        for piece in pieces:
            out.write(piece)
            written += len(piece)
    return written


def delete(client: KimiClient, file_id: str) -> None:
    with _known(file_id):
        client.request_json("DELETE", _path(file_id))


def _path(file_id: str, *rest: str) -> str:
    return "/".join(("files", quote(file_id, safe=""), *rest))


@contextmanager
def _known(file_id: str) -> Iterator[None]:
    try:
        yield
    except NotFoundError as exc:
        raise _retyped(
            UnknownFileError,
            exc,
            f"the account has no file {file_id} (the API said: {exc.message})",
            "'kimi files list' shows the files there are",
        ) from exc


def _refusal(exc: KimiError, name: str, purpose: str = "file-extract") -> KimiError:
    """A full account, a refused file (a 400, or a 500 that says extraction failed), or
    ``exc`` itself. The line quotes the API's own words, not the generic line around them."""
    said = exc.api_message or exc.message
    if _EXTRACTION_FAILED.search(said):
        return _retyped(
            FileRefusedError,
            exc,
            f"the API could not extract the text of {name}: {said}",
            "check the file opens; a scanned or protected document may have no text",
        )
    if not isinstance(exc, APIRequestError):
        return exc
    if _FULL.search(said):
        return _retyped(
            FileLimitError,
            exc,
            f"the account holds as many files as the API allows, so {name} was not uploaded",
            f"delete old ones: kimi files rm --purpose {purpose} --older-than 30 -y",
        )
    if exc.status_code == 400 and _REFUSED.search(said):
        return _retyped(FileRefusedError, exc, f"the API refused {name}: {said}", None)
    return exc


def _retyped(
    kind: type[APIRequestError], exc: KimiError, message: str, hint: str | None
) -> APIRequestError:
    error = kind(
        message,
        hint=hint,
        request_id=exc.request_id,
        status_code=exc.status_code,
        error_type=exc.error_type,
    )
    error.api_message = exc.api_message
    return error


def _file(data: Any, where: str) -> FileObject:
    try:
        return FileObject.from_json(data)
    except ValueError:
        raise UnexpectedResponseError(
            f"the answer of {where} is not a file object",
        ) from None
