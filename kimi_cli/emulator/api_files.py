"""The Files API endpoints: upload (streamed multipart), list, retrieve, content, delete."""

from __future__ import annotations

from typing import Any

from .files import PURPOSES, FileStore, StoredFile, Upload, count_exceeded, unsupported_type
from .multipart import BodyStream, Part, boundary_of, parse_multipart
from .rules import ApiError, bad

FILE_TYPE_FAULT = "file_type_refused"
FILES_FULL_FAULT = "files_full"


def upload(store: FileStore, content_type: str, body: BodyStream, faults: set[str]) -> StoredFile:
    """``POST /v1/files``: the body is read to its end whatever happens (keep-alive)."""
    try:
        if FILES_FULL_FAULT in faults:
            raise count_exceeded(store.max_count)
        store.check_room()
        try:
            boundary = boundary_of(content_type)
        except ValueError as exc:
            raise bad(f"Invalid request: {exc}") from exc
        uploads: list[tuple[Part, Upload]] = []

        def sink_for(part: Part) -> Upload | None:
            if part.name != "file" or uploads:
                return None
            target = store.begin()
            uploads.append((part, target))
            return target

        try:
            fields = parse_multipart(body.read, boundary, sink_for)
        except ValueError as exc:
            for _, target in uploads:
                target.close()
                target.path.unlink(missing_ok=True)
            raise bad(f"Invalid request: {exc}") from exc
    finally:
        body.drain()
    if not uploads:
        raise bad("Invalid request: file is required")
    part, target = uploads[0]
    purpose = fields.get("purpose", "")
    filename = part.filename or "upload"
    try:
        if purpose not in PURPOSES:
            raise bad(f"Invalid purpose: must be one of {', '.join(PURPOSES)}")
        if FILE_TYPE_FAULT in faults:
            raise unsupported_type(filename, purpose)
    except ApiError:
        target.close()
        target.path.unlink(missing_ok=True)
        raise
    return store.finish(target, filename, purpose)


def file_list(store: FileStore) -> dict[str, Any]:
    return {"object": "list", "data": [f.object() for f in store.list()]}


def delete(store: FileStore, file_id: str) -> dict[str, Any]:
    store.delete(file_id)
    return {"id": file_id, "object": "file", "deleted": True}
