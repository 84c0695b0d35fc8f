"""``kimi batch results``: download (streamed), map to the inputs, write, record spend."""

from __future__ import annotations

import tempfile
from pathlib import Path

from kimi_cli.api.batches import Batch
from kimi_cli.batch.journal import Journal
from kimi_cli.batch.output import Output
from kimi_cli.batch.results import LineIndex, Spend, map_results
from kimi_cli.cli import batch_support
from kimi_cli.cli.state import AppState


def fetch_results(state: AppState, info: Batch, journal: Journal, outputs: list[Output]) -> None:
    """Write every result of one batch, in input order, to each of ``outputs``."""
    remote = batch_support.remote(state)
    part = journal.part_of_batch(info.id)
    job = journal.job(part.job_id) if part else None
    model = job.model if job else ""
    currency = state.settings().currency
    with tempfile.TemporaryDirectory(prefix="kimi-results-") as tmp:
        index = LineIndex()
        for name, file_id in (("output", info.output_file_id), ("errors", info.error_file_id)):
            if file_id:
                path = Path(tmp) / f"{name}.jsonl"
                with path.open("wb") as out:
                    remote.download(file_id, out)
                index.add(path)
        if part is not None and job is not None:
            rows = [
                (cid, src, ff) for _, cid, src, ff, p in journal.items(job.id) if p == part.part
            ]
        else:  # a batch kimi did not submit: the order of its files, named by custom_id
            rows = [(cid, cid, False) for cid in index.offsets]
        schema = job.schema_dict if job else None
        records = map_results(index, ((c, s) for c, s, _ in rows), model, currency, schema)
        spend = Spend()
        for record, (_, _, from_file) in zip(records, rows, strict=True):
            for output in outputs:
                output.write(record, from_file)
            spend.add(record)
    if spend.requests and journal.mark_recorded(info.id):
        batch_support.record_spend(
            state,
            kind="batch",
            ref=info.id,
            model=model or None,
            requests=spend.requests,
            usage=spend.usage,
            cost=None if spend.unknown or not currency else spend.cost,
            currency=currency,
        )
