"""The Batch API: create, retrieve, list, cancel.

Batch objects are parsed leniently: every field may be missing, and ``raw`` keeps what
this module does not know. Results are files: see ``files.download``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from kimi_cli.api.client import REFUSED_AT_THE_DOOR, KimiClient
from kimi_cli.api.types import int_or_none, str_or_none
from kimi_cli.errors import NotFoundError, UnexpectedResponseError

CHAT_ENDPOINT = "/v1/chat/completions"
#: Statuses after which a batch changes no more.
FINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
TIMESTAMPS = (
    "created_at",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)


class UnknownBatchError(NotFoundError):
    """A batch ID the account does not hold (404 on ``/batches/{id}``)."""


@dataclass(frozen=True)
class RequestCounts:
    completed: int = 0
    failed: int = 0
    total: int = 0


@dataclass(frozen=True)
class BatchError:
    """One validation error of the input file; ``line`` is 1-based when the API gives it."""

    message: str
    code: str | None = None
    line: int | None = None
    param: str | None = None


@dataclass(frozen=True)
class Batch:
    id: str
    status: str = ""
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    request_counts: RequestCounts = RequestCounts()
    created_at: int | None = None
    completion_window: str | None = None
    endpoint: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    errors: tuple[BatchError, ...] = ()
    #: every ``*_at`` the API gave (created_at, in_progress_at, completed_at, …)
    timestamps: Mapping[str, int] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @classmethod
    def from_json(cls, data: Any) -> Batch:
        """ValueError for something that is not a batch (no string ``id``)."""
        batch_id = data.get("id") if isinstance(data, Mapping) else None
        if not isinstance(batch_id, str) or not batch_id:
            raise ValueError("not a batch: no id")
        counts = data.get("request_counts")
        counts = counts if isinstance(counts, Mapping) else {}
        metadata = data.get("metadata")
        times = {name: int_or_none(data.get(name)) for name in TIMESTAMPS}
        return cls(
            id=batch_id,
            status=str_or_none(data.get("status")) or "",
            input_file_id=str_or_none(data.get("input_file_id")),
            output_file_id=str_or_none(data.get("output_file_id")) or None,
            error_file_id=str_or_none(data.get("error_file_id")) or None,
            request_counts=RequestCounts(
                completed=int_or_none(counts.get("completed")) or 0,
                failed=int_or_none(counts.get("failed")) or 0,
                total=int_or_none(counts.get("total")) or 0,
            ),
            created_at=times["created_at"],
            completion_window=str_or_none(data.get("completion_window")),
            endpoint=str_or_none(data.get("endpoint")),
            metadata={
                str(k): str(v) for k, v in metadata.items() if isinstance(v, str | int | float)
            }
            if isinstance(metadata, Mapping)
            else {},
            errors=_errors(data.get("errors")),
            timestamps={k: v for k, v in times.items() if v is not None},
            raw=dict(data),
        )


def create(
    client: KimiClient,
    input_file_id: str,
    completion_window: str = "24h",
    metadata: Mapping[str, str] | None = None,
) -> Batch:
    body: dict[str, Any] = {
        "input_file_id": input_file_id,
        "endpoint": CHAT_ENDPOINT,
        "completion_window": completion_window,
    }
    if metadata:
        body["metadata"] = dict(metadata)
    # Sent again only when refused at the door: after any other failure the batch may exist
    # (a gateway lost the answer), and a second one would run and bill the input twice.
    # A rerun of 'submit' finds such a batch by its input file and adopts it.
    answer = client.request_json(
        "POST", "batches", json=body, may_retry=lambda e: e.status_code in REFUSED_AT_THE_DOOR
    )
    return _batch(answer, "batches")


def retrieve(client: KimiClient, batch_id: str) -> Batch:
    with _known(batch_id):
        return _batch(client.request_json("GET", _path(batch_id)), "batches/{id}")


def list_batches(
    client: KimiClient, after: str | None = None, limit: int = 20
) -> tuple[list[Batch], bool]:
    """One page, newest first as the API gives it, and whether more follow (``after`` the
    last ID of this page)."""
    params: dict[str, Any] = {"limit": limit}
    if after:
        params["after"] = after
    data = client.request_json("GET", "batches", params=params)
    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise UnexpectedResponseError(
            f"{client.base_url}/batches did not answer like the Kimi API (no batch list)",
        )
    found = []
    for item in items:
        try:
            found.append(Batch.from_json(item))
        except ValueError:
            continue
    return found, data.get("has_more") is True


def cancel(client: KimiClient, batch_id: str) -> Batch:
    """Ask the API to stop the batch; it answers ``cancelling`` (finished results are kept)."""
    with _known(batch_id):
        return _batch(client.request_json("POST", _path(batch_id, "cancel")), "cancel")


def _errors(value: object) -> tuple[BatchError, ...]:
    """``errors`` as ``{"data": [...]}`` (OpenAI's shape) or a bare list."""
    if isinstance(value, Mapping):
        value = value.get("data")
    if not isinstance(value, list):
        return ()
    found = []
    for item in value:
        if isinstance(item, str):
            found.append(BatchError(message=item))
        elif isinstance(item, Mapping):
            found.append(
                BatchError(
                    message=str_or_none(item.get("message")) or "invalid request",
                    code=str_or_none(item.get("code")),
                    line=int_or_none(item.get("line")),
                    param=str_or_none(item.get("param")),
                )
            )
    return tuple(found)


def _path(batch_id: str, *rest: str) -> str:
    return "/".join(("batches", quote(batch_id, safe=""), *rest))


@contextmanager
def _known(batch_id: str) -> Iterator[None]:
    try:
        yield
    except NotFoundError as exc:
        raise UnknownBatchError(
            f"the account has no batch {batch_id} (the API said: {exc.message})",
            hint="'kimi batch list' shows the batches there are",
            request_id=exc.request_id,
            status_code=exc.status_code,
            error_type=exc.error_type,
        ) from exc


def _batch(data: Any, where: str) -> Batch:
    try:
        return Batch.from_json(data)
    except ValueError:
        raise UnexpectedResponseError(
            f"the answer of {where} is not a batch object",
        ) from None
