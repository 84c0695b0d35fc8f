"""What ``kimi batch`` needs of the Files and Batch APIs, as one small interface.

``ApiRemote`` implements it over ``kimi_cli.api.files`` and ``kimi_cli.api.batches``;
tests may pass any object with the same methods.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

TERMINAL = ("completed", "failed", "expired", "cancelled")
#: Batches created within this many newest are searched for one a killed run created.
RECENT_BATCHES = 200


@dataclass(frozen=True)
class BatchInfo:
    id: str
    status: str
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    total: int = 0
    created_at: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    errors: tuple[tuple[int | None, str], ...] = ()  # (line, message) of a failed validation

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


class Remote(Protocol):
    def upload(self, path: Path) -> str: ...
    def uploads_named(self, filename: str) -> list[str]: ...
    def delete_file(self, file_id: str) -> None: ...
    def create(self, file_id: str, window: str, metadata: Mapping[str, str]) -> BatchInfo: ...
    def retrieve(self, batch_id: str) -> BatchInfo: ...
    def batches(self, limit: int | None = None) -> Iterator[BatchInfo]: ...
    def cancel(self, batch_id: str) -> BatchInfo: ...
    def download(self, file_id: str, out: IO[bytes]) -> int: ...


def batch_from_json(data: Mapping[str, Any]) -> BatchInfo:
    """Lenient: the API adds fields over time and not every one is always present."""
    counts = data.get("request_counts") if isinstance(data.get("request_counts"), Mapping) else {}
    assert isinstance(counts, Mapping)
    errors: list[tuple[int | None, str]] = []
    raw_errors = data.get("errors")
    if isinstance(raw_errors, Mapping):
        raw_errors = raw_errors.get("data")
    if isinstance(raw_errors, list):
        for error in raw_errors:
            if isinstance(error, Mapping):
                line = error.get("line")
                errors.append((line if isinstance(line, int) else None, str(error.get("message"))))
    metadata = data.get("metadata") if isinstance(data.get("metadata"), Mapping) else {}
    assert isinstance(metadata, Mapping)
    return BatchInfo(
        id=str(data.get("id", "")),
        status=str(data.get("status", "unknown")),
        input_file_id=_str(data.get("input_file_id")),
        output_file_id=_str(data.get("output_file_id")),
        error_file_id=_str(data.get("error_file_id")),
        completed=_int(counts.get("completed")),
        failed=_int(counts.get("failed")),
        total=_int(counts.get("total")),
        created_at=data.get("created_at") if isinstance(data.get("created_at"), int) else None,
        metadata={str(k): str(v) for k, v in metadata.items()},
        errors=tuple(errors),
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
