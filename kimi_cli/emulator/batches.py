"""The Batch API's jobs and their life cycle, on a clock tests can speed up.

validating → in_progress → finalizing → completed, one ``batch_step_s`` each (the requests are
run evenly through in_progress); failed after validating when the input is broken; cancelling →
cancelled one step after a cancel; expired half-way with the ``batch_expire`` fault. A job moves
on when it is looked at (retrieve, list, cancel), so nothing runs in the background.

Facts (docs/api-notes.md, Batch API): create ``{input_file_id, endpoint, completion_window,
metadata?}`` (12h to 7d; metadata ≤ 16 pairs, keys ≤ 64, values ≤ 512 characters); list with
``after``/``limit`` (default 20) → ``{object, data, has_more}``; cancel only while validating,
in_progress or finalizing.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .api_error import ApiError, bad
from .batch_lines import ENDPOINT, Line, expired_line, parse_input, result_line
from .files import OUTPUT_PURPOSE, FileStore

Runner = Callable[[Mapping[str, Any]], tuple[int, dict[str, Any]]]
EXPIRE_FAULT = "batch_expire"
CANCELLABLE = ("validating", "in_progress", "finalizing")
_WINDOW = re.compile(r"^(\d+)([hd])$")
_TIMES = (
    "in_progress_at", "finalizing_at", "completed_at", "failed_at",
    "expired_at", "cancelling_at", "cancelled_at",
)  # fmt: skip


@dataclass
class Batch:
    id: str
    input_file_id: str
    completion_window: str
    metadata: dict[str, str] | None
    created: float
    window_s: int
    step: float
    expire: bool
    status: str = "validating"
    times: dict[str, int] = field(default_factory=dict)
    errors: dict[str, Any] | None = None
    lines: list[Line] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    processed: int = 0
    since: float = 0.0  # when the current timed status began (virtual time)
    output_file_id: str | None = None
    error_file_id: str | None = None

    def object(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "id": self.id,
            "object": "batch",
            "endpoint": ENDPOINT,
            "errors": self.errors,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.created),
            "expires_at": int(self.created) + self.window_s,
        }
        value.update({name: self.times.get(name) for name in _TIMES})
        value["request_counts"] = {
            "total": len(self.lines),
            "completed": len(self.outputs),
            "failed": len(self.failures),
        }
        value["metadata"] = self.metadata
        return value


def _window_seconds(window: Any) -> int:
    match = _WINDOW.match(window) if isinstance(window, str) else None
    seconds = 0
    if match:
        seconds = int(match.group(1)) * (3600 if match.group(2) == "h" else 86400)
    if not 12 * 3600 <= seconds <= 7 * 86400:
        raise bad("Invalid request: completion_window must be between 12h and 7d, e.g. 24h")
    return seconds


def _metadata(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or len(raw) > 16:
        raise bad("Invalid request: metadata must be an object of at most 16 pairs")
    for key, value in raw.items():
        if not isinstance(value, str) or len(key) > 64 or len(value) > 512:
            raise bad(
                "Invalid request: metadata keys are at most 64 characters and values strings "
                "of at most 512"
            )
    return dict(raw)


class BatchStore:
    def __init__(self, files: FileStore) -> None:
        self._lock = threading.Lock()
        self._files = files
        self._batches: dict[str, Batch] = {}
        self._ids = 0
        self._requests = 0

    def create(self, body: Any, *, step: float, expire: bool) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise bad("Invalid request: the body must be a JSON object")
        file_id = body.get("input_file_id")
        if not isinstance(file_id, str) or not file_id:
            raise bad("Invalid request: input_file_id is required")
        if body.get("endpoint") != ENDPOINT:
            raise bad(f"Invalid request: endpoint must be {ENDPOINT}")
        window = _window_seconds(body.get("completion_window"))
        metadata = _metadata(body.get("metadata"))
        stored = self._files.get(file_id)
        if stored.purpose != "batch":
            raise bad(f"Invalid request: file {file_id} was not uploaded with purpose batch")
        with self._lock:
            self._ids += 1
            batch = Batch(
                id=f"batch_emu{self._ids:06d}",
                input_file_id=file_id,
                completion_window=str(body["completion_window"]),
                metadata=metadata,
                created=time.time(),
                window_s=window,
                step=step,
                expire=expire,
            )
            batch.since = batch.created
            self._batches[batch.id] = batch
            return batch.object()

    def _find(self, batch_id: str) -> Batch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise ApiError(404, "resource_not_found_error", f"batch {batch_id} not found")
        return batch

    def get(self, batch_id: str, runner: Runner) -> dict[str, Any]:
        with self._lock:
            batch = self._find(batch_id)
            self._advance(batch, runner)
            return batch.object()

    def list(self, after: str | None, limit: int, runner: Runner) -> dict[str, Any]:
        with self._lock:
            newest_first = sorted(self._batches.values(), key=lambda b: b.id, reverse=True)
            if after is not None:
                ids = [b.id for b in newest_first]
                newest_first = newest_first[ids.index(after) + 1 :] if after in ids else []
            page = newest_first[:limit]
            for batch in page:
                self._advance(batch, runner)
            return {
                "object": "list",
                "data": [b.object() for b in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(newest_first) > limit,
            }

    def cancel(self, batch_id: str, runner: Runner) -> dict[str, Any]:
        with self._lock:
            batch = self._find(batch_id)
            self._advance(batch, runner)
            if batch.status not in CANCELLABLE:
                raise bad(
                    f"Invalid request: batch {batch_id} cannot be cancelled in status "
                    f"{batch.status}"
                )
            now = time.time()
            batch.status = "cancelling"
            batch.times["cancelling_at"] = int(now)
            batch.since = now
            return batch.object()

    # --- the clock ----------------------------------------------------------------------------

    def _advance(self, batch: Batch, runner: Runner) -> None:
        now = time.time()
        step = batch.step
        if batch.status == "validating" and now >= batch.since + step:
            at = batch.since + step
            try:
                data = self._files.content(batch.input_file_id)
                batch.lines, errors = parse_input(data, ENDPOINT)
            except ApiError:
                batch.lines, errors = [], [
                    {"code": "file_not_found", "message": "The input file is gone.",
                     "param": None, "line": None}
                ]  # fmt: skip
            if errors:
                batch.status, batch.errors = "failed", {"object": "list", "data": errors}
                batch.times["failed_at"] = int(at)
                return
            batch.status, batch.since = "in_progress", at
            batch.times["in_progress_at"] = int(at)
        if batch.status == "in_progress":
            total = len(batch.lines)
            share = 1.0 if step == 0 else (now - batch.since) / step
            target = min(total, math.floor(total * share))
            if batch.expire and target >= total // 2:
                self._run(batch, total // 2, runner)
                batch.status = "expired"
                batch.times["expired_at"] = int(now)
                for line in batch.lines[batch.processed :]:
                    self._requests += 1
                    batch.failures.append(expired_line(self._requests, line.custom_id))
                self._write_files(batch)
                return
            self._run(batch, target, runner)
            if batch.processed < total:
                return
            at = batch.since + step
            batch.status, batch.since = "finalizing", at
            batch.times["finalizing_at"] = int(at)
        if batch.status in ("finalizing", "cancelling") and now >= batch.since + step:
            final = "completed" if batch.status == "finalizing" else "cancelled"
            batch.status = final
            batch.times[f"{final}_at"] = int(batch.since + step)
            self._write_files(batch)

    def _run(self, batch: Batch, upto: int, runner: Runner) -> None:
        while batch.processed < upto:
            line = batch.lines[batch.processed]
            self._requests += 1
            status, body = runner(line.body)
            result = result_line(self._requests, line.custom_id, status, body)
            (batch.outputs if status == 200 else batch.failures).append(result)
            batch.processed += 1

    def _write_files(self, batch: Batch) -> None:
        for kind, rows in (("output", batch.outputs), ("error", batch.failures)):
            if not rows:
                continue
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
            stored = self._files.add_bytes(f"{batch.id}_{kind}.jsonl", OUTPUT_PURPOSE, data)
            setattr(batch, f"{kind}_file_id", stored.id)
