"""``kimi batch submit``: staged input → uploads → batches, each step journaled first.

Resuming after a kill at any moment:
- no job in the journal: nothing was sent (the job is written before the first upload);
- a part with no file ID: an upload may have happened unrecorded; an upload carrying the
  part's name (which holds the input fingerprint) is reused, extra copies deleted;
- a part with a file ID but no batch ID: a batch may exist unrecorded; one whose input
  is that file is adopted, otherwise the batch is created.
So a rerun neither loses nor duplicates a batch.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from typing import Any

from kimi_cli.api.batches import Batch
from kimi_cli.batch.journal import Job, Journal, PartRow
from kimi_cli.batch.remote import RECENT_BATCHES, Remote
from kimi_cli.batch.staging import Staged
from kimi_cli.errors import KimiError, NotFoundError

#: A job is submitted again (without --force) only when one of its batches ended so.
RESUBMIT_AFTER = ("failed", "cancelled")


@dataclass(frozen=True)
class Submitted:
    job: Job
    batch_ids: list[str]
    reused: bool  # the same input was already submitted: nothing was sent


def submit(
    staged: Staged,
    journal: Journal,
    remote: Remote,
    *,
    model: str,
    name: str | None,
    window: str,
    force: bool,
    schema: dict[str, Any] | None = None,
) -> Submitted:
    job = _job_to_resume(staged, journal, remote, force)
    if job is not None and all(p.batch_id for p in journal.parts(job.id)):
        known = [p.batch_id for p in journal.parts(job.id) if p.batch_id]
        return Submitted(job, known, reused=True)
    if job is None:
        nonce = secrets.token_hex(4)
        job = journal.add_job(
            kind="submit",
            fingerprint=staged.fingerprint,
            model=model,
            name=name,
            items=staged.index_rows(),
            parts=[
                (n, p.requests, upload_name(staged, nonce, n)) for n, p in enumerate(staged.parts)
            ],
            schema=schema,
        )
    metadata = {"kimi_job": staged.fingerprint[:16]}
    if name:
        metadata["name"] = name[:512]
    ids: list[str] = []
    for row in journal.parts(job.id):
        batch_id = row.batch_id or _send_part(row, staged, journal, remote, window, metadata)
        ids.append(batch_id)
    return Submitted(job, ids, reused=False)


def _job_to_resume(staged: Staged, journal: Journal, remote: Remote, force: bool) -> Job | None:
    """The newest job of this input if it is unfinished, or (without --force) alive."""
    jobs = journal.find_jobs("submit", staged.fingerprint)
    if not jobs:
        return None
    job = jobs[0]
    parts = journal.parts(job.id)
    if not all(p.batch_id for p in parts):
        return job  # a killed submit: finish it, never start a second one
    if force:
        return None
    for part in parts:
        assert part.batch_id is not None
        with contextlib.suppress(KimiError):  # unknown now: trust the journal
            info = remote.retrieve(part.batch_id)
            journal.update_part(job.id, part.part, status=info.status, counts=counts_of(info))
            if info.status in RESUBMIT_AFTER:
                return None
    return job


def _send_part(
    row: PartRow,
    staged: Staged,
    journal: Journal,
    remote: Remote,
    window: str,
    metadata: dict[str, str],
) -> str:
    fresh = False
    if row.file_id is None:
        file_id, fresh = _upload(row, staged, journal, remote)
    else:
        file_id = row.file_id
    batch = None if fresh else _adopt(remote, file_id)  # no batch can use a new upload
    if batch is None:
        try:
            batch = remote.create(file_id, window, {**metadata, "part": str(row.part + 1)})
        except NotFoundError:  # the recorded upload is gone: send it again
            file_id, _ = _upload(row, staged, journal, remote, reuse=False)
            batch = remote.create(file_id, window, {**metadata, "part": str(row.part + 1)})
    journal.update_part(
        row.job_id, row.part, batch_id=batch.id, status=batch.status, counts=counts_of(batch)
    )
    return batch.id


def _upload(
    row: PartRow, staged: Staged, journal: Journal, remote: Remote, *, reuse: bool = True
) -> tuple[str, bool]:
    """The part's file ID, and whether it is a new upload."""
    found = remote.uploads_named(row.filename) if reuse else []
    fresh = not found
    if found:
        file_id = found[0]
        for extra in found[1:]:  # two killed runs may each have left one
            with contextlib.suppress(KimiError):
                remote.delete_file(extra)
    else:
        path = staged.parts[row.part].path
        if path.name != row.filename:
            path = path.replace(path.with_name(row.filename))
        file_id = remote.upload(path)
    journal.update_part(row.job_id, row.part, file_id=file_id, status="uploaded")
    return file_id, fresh


def _adopt(remote: Remote, file_id: str) -> Batch | None:
    """A batch made from ``file_id`` by a run that was killed before recording it."""
    for batch in remote.batches(limit=RECENT_BATCHES):
        if batch.input_file_id == file_id:
            return batch
    return None


def upload_name(staged: Staged, nonce: str, part: int) -> str:
    """Unique to the job and part: a rerun finds an upload that a killed run made but never
    recorded by this name, and a job submitted again never mistakes another's for its own."""
    return f"kimi-batch-{staged.fingerprint[:12]}-{nonce}-{part + 1}.jsonl"


def counts_of(info: Batch) -> dict[str, int]:
    counts = info.request_counts
    return {"completed": counts.completed, "failed": counts.failed, "total": counts.total}
