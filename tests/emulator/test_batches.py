"""The Batch API: create, retrieve, list, cancel, the life cycle and the result files."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from kimi_cli.emulator import Emulator

from .helpers import user
from .openapi import assert_valid

STEP = 0.2


def _line(custom_id: str, prompt: str, model: str = "kimi-k2.6", **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": model, "messages": user(prompt), **body},
    }


def _jsonl(rows: list[Any]) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def _upload(client: httpx.Client, rows: list[Any], name: str = "in.jsonl") -> str:
    response = client.post(
        "/files", files={"file": (name, _jsonl(rows))}, data={"purpose": "batch"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _create(client: httpx.Client, file_id: str, **extra: Any) -> dict[str, Any]:
    body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions"}
    response = client.post("/batches", json={**body, "completion_window": "24h", **extra})
    assert response.status_code == 200, response.text
    value: dict[str, Any] = response.json()
    return value


def _get(client: httpx.Client, batch_id: str) -> dict[str, Any]:
    value: dict[str, Any] = client.get(f"/batches/{batch_id}").json()
    assert_valid("BatchObject", value)
    return value


def _wait(client: httpx.Client, batch_id: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        batch = _get(client, batch_id)
        if batch["status"] in statuses:
            return batch
        time.sleep(STEP / 4)
    raise AssertionError(f"batch stayed {batch['status']}")


def _lines(client: httpx.Client, file_id: str | None) -> dict[str, dict[str, Any]]:
    if file_id is None:
        return {}
    text = client.get(f"/files/{file_id}/content").text
    rows = [json.loads(row) for row in text.splitlines()]
    return {r["custom_id"]: r for r in rows}


@pytest.fixture(autouse=True)
def _fast_clock(emulator: Emulator) -> None:
    emulator.configure(batch_step_s=STEP)


def test_life_cycle_to_completed(client: httpx.Client) -> None:
    rows = [_line("a", "ECHO alpha"), _line("b", "ECHO beta"), _line("c", "hi", temperature=0.3)]
    file_id = _upload(client, rows)
    batch = _create(client, file_id, metadata={"job": "t"})
    assert batch["status"] == "validating"
    assert batch["object"] == "batch"
    assert batch["id"].startswith("batch_")
    assert batch["metadata"] == {"job": "t"}
    assert batch["expires_at"] - batch["created_at"] == 24 * 3600
    assert batch["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert_valid("BatchObject", batch)
    seen = {batch["status"]}
    while batch["status"] != "completed":
        time.sleep(STEP / 4)
        batch = _get(client, batch["id"])
        seen.add(batch["status"])
    assert seen == {"validating", "in_progress", "finalizing", "completed"}
    assert batch["request_counts"] == {"total": 3, "completed": 2, "failed": 1}
    for name in ("in_progress_at", "finalizing_at", "completed_at"):
        assert isinstance(batch[name], int)
    output = _lines(client, batch["output_file_id"])
    assert sorted(output) == ["a", "b"]
    line = output["a"]
    assert set(line) == {"id", "custom_id", "response", "error"}
    assert line["error"] is None
    assert line["response"]["status_code"] == 200
    assert line["response"]["request_id"]
    completion = line["response"]["body"]
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "alpha"
    assert completion["usage"]["prompt_tokens"] > 0
    refused = _lines(client, batch["error_file_id"])["c"]
    assert refused["response"]["status_code"] == 400
    assert refused["response"]["body"] == {
        "error": {
            "type": "invalid_request_error",
            "message": "invalid temperature: only 1 is allowed for this model",
        }
    }
    files = {f["id"]: f for f in client.get("/files").json()["data"]}
    assert files[batch["output_file_id"]]["purpose"] == "batch_output"


@pytest.mark.slow
def test_counts_grow_during_in_progress(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(batch_step_s=2.0)
    file_id = _upload(client, [_line(f"r{i}", f"ECHO {i}") for i in range(20)])
    batch = _create(client, file_id)
    batch = _wait(client, batch["id"], ("in_progress",))
    time.sleep(0.8)
    middle = _get(client, batch["id"])["request_counts"]["completed"]
    assert 0 < middle < 20


def test_validation_failure_names_the_lines(client: httpx.Client) -> None:
    rows: list[Any] = [
        _line("a", "x"),
        "{not json",
        {**_line("b", "x"), "url": "/v1/embeddings"},
        _line("a", "again"),
        _line("c", "x", model="kimi-k3"),
        {**_line("d", "x"), "method": "GET"},
    ]
    batch = _create(client, _upload(client, rows))
    batch = _wait(client, batch["id"], ("failed",))
    assert isinstance(batch["failed_at"], int)
    assert batch["output_file_id"] is None
    errors = batch["errors"]
    assert errors["object"] == "list"
    found = [(e["line"], e["code"]) for e in errors["data"]]
    assert found == [
        (2, "invalid_json_line"),
        (3, "invalid_url"),
        (4, "duplicate_custom_id"),
        (5, "mismatched_model"),
        (6, "invalid_method"),
    ]
    assert all(e["message"] for e in errors["data"])


def test_a_retired_or_unknown_model_lands_in_the_error_file(
    client: httpx.Client, emulator: Emulator
) -> None:
    emulator.configure(retired=["kimi-k2.6"])
    batch = _create(client, _upload(client, [_line("a", "x")]))
    batch = _wait(client, batch["id"], ("completed",))
    assert batch["request_counts"] == {"total": 1, "completed": 0, "failed": 1}
    assert batch["output_file_id"] is None
    body = _lines(client, batch["error_file_id"])["a"]["response"]["body"]
    assert body["error"]["type"] == "resource_not_found_error"


@pytest.mark.slow
def test_cancel_keeps_partial_results(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(batch_step_s=2.0)
    file_id = _upload(client, [_line(f"r{i}", f"ECHO {i}") for i in range(20)])
    batch = _create(client, file_id)
    _wait(client, batch["id"], ("in_progress",))
    time.sleep(0.6)
    response = client.post(f"/batches/{batch['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelling"
    done = response.json()["request_counts"]["completed"]
    assert 0 < done < 20
    batch = _wait(client, batch["id"], ("cancelled",))
    assert isinstance(batch["cancelled_at"], int) and isinstance(batch["cancelling_at"], int)
    assert batch["request_counts"]["completed"] == done
    assert len(_lines(client, batch["output_file_id"])) == done
    again = client.post(f"/batches/{batch['id']}/cancel")
    assert again.status_code == 400
    assert "cannot be cancelled in status cancelled" in again.json()["error"]["message"]


def test_expire_fault_keeps_half(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(faults=["batch_expire:once"])
    rows = [_line(f"r{i}", f"ECHO {i}") for i in range(6)]
    batch = _create(client, _upload(client, rows))
    batch = _wait(client, batch["id"], ("expired",))
    assert isinstance(batch["expired_at"], int)
    assert batch["request_counts"] == {"total": 6, "completed": 3, "failed": 3}
    assert sorted(_lines(client, batch["output_file_id"])) == ["r0", "r1", "r2"]
    errors = _lines(client, batch["error_file_id"])
    assert sorted(errors) == ["r3", "r4", "r5"]
    assert errors["r3"]["response"] is None
    assert errors["r3"]["error"]["code"] == "batch_expired"


def test_list_pages_newest_first(client: httpx.Client) -> None:
    file_id = _upload(client, [_line("a", "x")])
    ids = [_create(client, file_id)["id"] for _ in range(3)]
    page = client.get("/batches", params={"limit": 2}).json()
    assert page["object"] == "list"
    assert [b["id"] for b in page["data"]] == [ids[2], ids[1]]
    assert page["has_more"] is True
    rest = client.get("/batches", params={"limit": 2, "after": ids[1]}).json()
    assert [b["id"] for b in rest["data"]] == [ids[0]]
    assert rest["has_more"] is False
    assert len(client.get("/batches").json()["data"]) == 3
    assert client.get("/batches", params={"limit": 0}).status_code == 400


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"endpoint": "/v1/embeddings"}, "endpoint must be /v1/chat/completions"),
        ({"completion_window": "1h"}, "completion_window must be between 12h and 7d"),
        ({"completion_window": "8d"}, "completion_window must be between 12h and 7d"),
        ({"metadata": {"k": 1}}, "metadata"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "at most 16 pairs"),
        ({"input_file_id": None}, "input_file_id is required"),
    ],
)
def test_refused_creates(client: httpx.Client, change: dict[str, Any], message: str) -> None:
    body = {
        "input_file_id": _upload(client, [_line("a", "x")]),
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        **change,
    }
    response = client.post("/batches", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_input_must_be_a_batch_file(client: httpx.Client) -> None:
    response = client.post(
        "/files", files={"file": ("a.txt", b"hello")}, data={"purpose": "file-extract"}
    )
    body = {"endpoint": "/v1/chat/completions", "completion_window": "12h"}
    refused = client.post("/batches", json={"input_file_id": response.json()["id"], **body})
    assert refused.status_code == 400
    assert "purpose batch" in refused.json()["error"]["message"]
    missing = client.post("/batches", json={"input_file_id": "file-nope", **body})
    assert missing.status_code == 404
    assert client.get("/batches/batch_nope").status_code == 404
