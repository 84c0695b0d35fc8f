"""A ``-f`` document made ready for a chat: its extracted text, from the index when these
bytes were seen before, else uploaded (purpose ``file-extract``) and extracted by the API.

The extracted text goes into the chat as one ``system`` message per document, before the
user message (docs/api-notes.md#files-api).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kimi_cli.documents.index import DocumentIndex, FileStamp, IndexEntry
from kimi_cli.documents.local import LocalDocument, check_size, sha256_of
from kimi_cli.errors import KimiError, UsageError

if TYPE_CHECKING:
    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.multipart import Progress

#: Gives the progress callback for one upload (None: no progress shown).
ProgressFor = Callable[[LocalDocument], "Progress | None"]


@dataclass(frozen=True)
class Document:
    """A document of a conversation: what is sent (``content``) and what says where it came
    from (name, size, SHA-256 and the file ID in the account)."""

    name: str
    bytes: int
    sha256: str
    file_id: str
    content: str

    def message(self) -> dict[str, str]:
        return {"role": "system", "content": self.content}


@dataclass(frozen=True)
class Prepared:
    document: Document
    uploaded: bool  # False: the index had these bytes
    extracted: bool  # True: the API was asked for the text


def sha256_for(index: DocumentIndex, local: LocalDocument) -> str:
    """The file's SHA-256, not read again while its size, mtime and inode are unchanged."""
    try:
        stamp = FileStamp.of(os.stat(local.path))
    except OSError as exc:
        raise UsageError(f"cannot read {local.name} ({exc.strerror or exc})") from None
    check_size(local.name, stamp.size)
    path = local.path.resolve()
    known = index.known_hash(path, stamp)
    if known is not None:
        return known
    try:
        sha = sha256_of(local.path)
    except OSError as exc:
        raise UsageError(f"cannot read {local.name} ({exc.strerror or exc})") from None
    index.remember_hash(path, stamp, sha)
    return sha


def prepare(
    client: KimiClient,
    index: DocumentIndex,
    local: LocalDocument,
    *,
    progress: Progress | None = None,
) -> Prepared:
    """The document's extracted text: no request when the index has it; a content request
    when only its file ID is known (an upload again if that ID is gone); else an upload."""
    sha = sha256_for(index, local)
    known = _known(client, index, local, sha)
    if known is not None:
        return known
    with index.uploading(client.base_url, sha):
        known = _known(client, index, local, sha)  # uploaded by another kimi meanwhile
        if known is not None:
            return known
        return Prepared(_upload(client, index, local, sha, progress), uploaded=True, extracted=True)


def _known(
    client: KimiClient, index: DocumentIndex, local: LocalDocument, sha: str
) -> Prepared | None:
    entry = index.lookup(client.base_url, sha)
    if entry is None:
        return None
    text = index.text(entry)
    if text is not None:
        return Prepared(_document(local, entry, text), uploaded=False, extracted=False)
    text = _content_of_known(client, index, entry, local.name)
    if text is not None:
        return Prepared(_document(local, entry, text), uploaded=False, extracted=True)
    return None


def _content_of_known(
    client: KimiClient, index: DocumentIndex, entry: IndexEntry, name: str
) -> str | None:
    from kimi_cli.api import files

    try:
        text = files.content(client, entry.file_id, name=name)
    except files.UnknownFileError:
        index.forget(client.base_url, {entry.file_id})  # deleted elsewhere: upload again
        return None
    index.record(entry, text)
    return text


def _upload(
    client: KimiClient,
    index: DocumentIndex,
    local: LocalDocument,
    sha: str,
    progress: Progress | None,
) -> Document:
    from kimi_cli.api import files

    uploaded = files.upload(client, local.path, "file-extract", progress=progress)
    entry = IndexEntry(
        base_url=client.base_url,
        sha256=sha,
        file_id=uploaded.id,
        name=local.path.name,
        bytes=uploaded.bytes or local.size,
        created_at=uploaded.created_at,
    )
    try:
        text = files.content(client, uploaded.id, name=local.name)
    except files.FileRefusedError:
        # The API cannot give its text: not recorded, and not left to count against the
        # account's file limit.
        with contextlib.suppress(KimiError):
            files.delete(client, uploaded.id)
        raise
    except BaseException:
        # Cut while the text was awaited (Ctrl-C, the network, a timeout): the upload is
        # kept without its text, so the next try asks only for the text, and no copy is
        # left in the account that nothing knows of.
        index.record(entry, None)
        raise
    index.record(entry, text)
    return _document(local, entry, text)


def _document(local: LocalDocument, entry: IndexEntry, text: str) -> Document:
    return Document(
        name=local.name, bytes=entry.bytes, sha256=entry.sha256, file_id=entry.file_id, content=text
    )
