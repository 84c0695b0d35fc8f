"""The Batch API client over httpx.MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from kimi_cli.api import batches
from kimi_cli.api.batches import UnknownBatchError
from kimi_cli.errors import APIRequestError, TemporaryError
from tests.api.mock import error, make

BATCH = {
    "id": "batch_1",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "input_file_id": "file-in",
    "completion_window": "24h",
    "status": "in_progress",
    "output_file_id": None,
    "error_file_id": "",
    "request_counts": {"completed": 3, "failed": 1, "total": 10},
    "metadata": {"name": "tickets"},
    "created_at": 1700000000,
    "in_progress_at": 1700000005,
}


def test_create_sends_the_documented_body() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/v1/batches")
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={**BATCH, "status": "validating"})

    client, _ = make(handler)
    made = batches.create(client, "file-in", metadata={"name": "tickets"})
    assert seen == [
        {
            "input_file_id": "file-in",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "metadata": {"name": "tickets"},
        }
    ]
    assert made.status == "validating" and not made.finished


def test_retrieve_parses_counts_timestamps_and_empty_ids() -> None:
    client, _ = make(lambda r: httpx.Response(200, json=BATCH))
    got = batches.retrieve(client, "batch_1")
    assert got.request_counts == batches.RequestCounts(completed=3, failed=1, total=10)
    assert got.output_file_id is None and got.error_file_id is None
    assert got.timestamps == {"created_at": 1700000000, "in_progress_at": 1700000005}
    assert got.metadata == {"name": "tickets"} and got.created_at == 1700000000


def test_failed_batch_carries_line_numbered_errors() -> None:
    failed = {
        "id": "batch_2",
        "status": "failed",
        "errors": {
            "object": "list",
            "data": [
                {"code": "invalid_json", "message": "line is not JSON", "line": 3},
                {"message": "duplicate custom_id", "line": 7, "param": "custom_id"},
            ],
        },
    }
    got = batches.Batch.from_json(failed)
    assert got.finished
    assert [(e.line, e.message) for e in got.errors] == [
        (3, "line is not JSON"),
        (7, "duplicate custom_id"),
    ]


def test_missing_fields_are_tolerated() -> None:
    got = batches.Batch.from_json({"id": "b", "request_counts": None, "errors": "x"})
    assert (got.status, got.request_counts.total, got.errors, got.metadata) == ("", 0, (), {})
    with pytest.raises(ValueError):
        batches.Batch.from_json({"status": "completed"})


def test_list_pages_with_after_and_limit() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"object": "list", "data": [BATCH], "has_more": True})

    client, _ = make(handler)
    found, more = batches.list_batches(client, after="batch_0", limit=5)
    assert [b.id for b in found] == ["batch_1"] and more is True
    assert dict(seen[0].params) == {"after": "batch_0", "limit": "5"}
    _, more = batches.list_batches(client)
    assert dict(seen[1].params) == {"limit": "20"}


def test_cancel_posts_and_returns_the_batch() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/v1/batches/batch_1/cancel")
        return httpx.Response(200, json={**BATCH, "status": "cancelling"})

    client, _ = make(handler)
    assert batches.cancel(client, "batch_1").status == "cancelling"


def test_unknown_batch_and_refused_cancel_are_told_apart() -> None:
    client, _ = make(lambda r: error(404, "resource_not_found_error", "batch not found"))
    with pytest.raises(UnknownBatchError):
        batches.retrieve(client, "batch_x")
    client, _ = make(
        lambda r: error(400, "invalid_request_error", "cannot cancel a completed batch")
    )
    with pytest.raises(APIRequestError) as info:
        batches.cancel(client, "batch_1")
    assert not isinstance(info.value, UnknownBatchError)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_create_is_not_sent_twice_when_the_batch_may_exist(status: int) -> None:
    """A 5xx after the create may come after the batch was made (a gateway lost the
    answer): a second create would run, and bill, the whole input twice. The journal's
    resume adopts a batch made that way, so the client must not retry."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return error(status, "server_error", "upstream failed")
        return httpx.Response(200, json={**BATCH, "status": "validating"})

    client, _ = make(handler)
    with pytest.raises(TemporaryError):
        batches.create(client, "file-in")
    assert calls == ["/v1/batches"]


def test_create_refused_at_the_door_is_sent_again() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return error(429, "engine_overloaded_error", "overloaded", {"Retry-After": "1"})
        return httpx.Response(200, json={**BATCH, "status": "validating"})

    client, sleeps = make(handler)
    assert batches.create(client, "file-in").id == "batch_1"
    assert len(calls) == 2 and sleeps == [1.0]
