"""Issue: kimi batch submit. Killed at any step, a rerun neither loses nor duplicates a
batch: the journal is written before each network step, and what a killed run did
without recording it (an upload, a batch) is found and reused."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import pytest

from kimi_cli.api.batches import Batch, RequestCounts
from kimi_cli.batch.checks import Prepared
from kimi_cli.batch.journal import Journal
from kimi_cli.batch.staging import Staged, stage
from kimi_cli.batch.submit import submit


class Killed(BaseException):
    """The process died right after the server did the step."""


class FakeApi:
    def __init__(self) -> None:
        self.files: dict[str, str] = {}  # id -> filename
        self.made: list[Batch] = []
        self.ids = itertools.count(1)
        self.kill_after: str | None = None
        self.calls: list[str] = []

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if self.kill_after == name:
            self.kill_after = None
            raise Killed(name)

    def upload(self, path: Path) -> str:
        file_id = f"file-{next(self.ids)}"
        self.files[file_id] = path.name
        self._step("upload")
        return file_id

    def uploads_named(self, filename: str) -> list[str]:
        return [i for i, name in self.files.items() if name == filename]

    def delete_file(self, file_id: str) -> None:
        del self.files[file_id]

    def create(self, file_id: str, window: str, metadata: Mapping[str, str]) -> Batch:
        batch = Batch(
            id=f"batch-{next(self.ids)}",
            status="validating",
            input_file_id=file_id,
            request_counts=RequestCounts(total=1),
            metadata=dict(metadata),
        )
        self.made.insert(0, batch)
        self._step("create")
        return batch

    def retrieve(self, batch_id: str) -> Batch:
        return next(b for b in self.made if b.id == batch_id)

    def batches(self, limit: int) -> Iterator[Batch]:
        yield from self.made[:limit]

    def cancel(self, batch_id: str) -> Batch:
        raise AssertionError("not used")

    def download(self, file_id: str, out: BinaryIO) -> int:
        raise AssertionError("not used")

    def set_status(self, status: str) -> None:
        self.made = [
            Batch(id=b.id, status=status, input_file_id=b.input_file_id) for b in self.made
        ]


def staged_input(directory: Path, count: int, part_bytes: int = 10_000) -> Staged:
    directory.mkdir(exist_ok=True)
    requests = (
        Prepared(
            n,
            f"id-{n}",
            f"in:{n}",
            {"model": "m", "messages": [{"role": "user", "content": f"q{n}"}]},
        )
        for n in range(count)
    )
    return stage(requests, directory, max_part_bytes=part_bytes)


def go(staged: Staged, journal: Journal, api: FakeApi, *, force: bool = False) -> list[str]:
    return submit(staged, journal, api, model="m", name="job", window="24h", force=force).batch_ids


@pytest.mark.parametrize("kill_after", ["upload", "create"])
def test_a_killed_submit_resumes_without_a_second_upload_or_batch(
    tmp_path: Path, kill_after: str
) -> None:
    api = FakeApi()
    with Journal(tmp_path / "batch.db") as journal:
        api.kill_after = kill_after
        with pytest.raises(Killed):
            go(staged_input(tmp_path / "a", 3), journal, api)
        ids = go(staged_input(tmp_path / "b", 3), journal, api)  # the rerun stages afresh
    assert len(api.files) == 1
    assert [b.id for b in api.made] == ids and len(ids) == 1
    assert api.calls.count("upload") == 1 and api.calls.count("create") == 1


def test_the_same_input_again_prints_the_existing_batch(tmp_path: Path) -> None:
    api = FakeApi()
    with Journal(tmp_path / "batch.db") as journal:
        first = submit(
            staged_input(tmp_path / "a", 3),
            journal,
            api,
            model="m",
            name=None,
            window="24h",
            force=False,
        )
        again = submit(
            staged_input(tmp_path / "b", 3),
            journal,
            api,
            model="m",
            name=None,
            window="24h",
            force=False,
        )
        assert again.reused and again.batch_ids == first.batch_ids
        assert go(staged_input(tmp_path / "c", 3), journal, api, force=True) != first.batch_ids
    assert len(api.made) == 2


@pytest.mark.parametrize(
    ("status", "resubmitted"),
    [("failed", True), ("cancelled", True), ("in_progress", False), ("completed", False)],
)
def test_a_failed_or_cancelled_job_is_submitted_again(
    tmp_path: Path, status: str, resubmitted: bool
) -> None:
    api = FakeApi()
    with Journal(tmp_path / "batch.db") as journal:
        first = go(staged_input(tmp_path / "a", 2), journal, api)
        api.set_status(status)
        second = go(staged_input(tmp_path / "b", 2), journal, api)
    assert (second != first) is resubmitted


def test_a_large_input_is_split_into_parts_each_its_own_batch(tmp_path: Path) -> None:
    api = FakeApi()
    staged = staged_input(tmp_path / "a", 50, part_bytes=1_000)
    assert len(staged.parts) > 2
    assert all(p.bytes <= 1_000 for p in staged.parts)
    assert sum(p.requests for p in staged.parts) == 50
    with Journal(tmp_path / "batch.db") as journal:
        ids = go(staged, journal, api)
        assert len(ids) == len(staged.parts)
        parts = [
            p
            for _, _, _, _, p in journal.items(
                journal.find_jobs("submit", staged.fingerprint)[0].id
            )
        ]
    assert parts == sorted(parts) and parts[-1] == len(staged.parts) - 1
