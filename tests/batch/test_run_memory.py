"""What ``kimi batch run`` holds at its end does not grow with the job: the spend of 50,000
answers is added up from the journal a chunk at a time, not from all of them parsed at once
(a 50,000-line run peaked at 150 MiB there, against 52 MiB while sending)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from kimi_cli.api.types import Usage
from kimi_cli.batch import journal as journal_module
from kimi_cli.batch.journal import Journal
from kimi_cli.batch.results import record
from kimi_cli.batch.runner import RunState, spend_to_record


def test_the_spend_of_a_run_is_added_up_without_holding_every_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers, size = 600, 40_000  # 24 MB of answers
    with Journal(tmp_path / "batch.db") as journal:
        items = [(n, f"line-{n}", f"in.txt:{n}", False, 0) for n in range(answers)]
        job = journal.add_job(kind="run", fingerprint="f" * 64, model="m", name=None, items=items)
        for n in range(answers):
            usage = Usage(input_tokens=10, output_tokens=size // 4, cached_tokens=0)
            journal.finish(
                job.id, f"line-{n}", record(f"line-{n}", "", content="x" * size, usage=usage)
            )
        monkeypatch.setattr(journal_module, "ITEM_CHUNK", 20)
        state = RunState(job, skipped=0)
        tracemalloc.start()
        try:
            spend, ids = spend_to_record(state, journal)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert spend.requests == answers and len(ids) == answers
    assert spend.usage.output_tokens == answers * (size // 4)
    assert sorted(ids) == sorted(f"line-{n}" for n in range(answers))
    assert peak < 5 * 1024 * 1024, f"{peak / 2**20:.1f} MiB held for {answers} answers"
