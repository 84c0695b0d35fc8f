"""``kimi batch results``: download (streamed), map to the inputs, write, record spend."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from kimi_cli.api.batches import Batch
from kimi_cli.api.types import Usage
from kimi_cli.batch.journal import Journal
from kimi_cli.batch.output import Directory, JsonLines, Output
from kimi_cli.batch.results import LineIndex, map_results, usage_of
from kimi_cli.cli import batch_support
from kimi_cli.cli.state import AppState
from kimi_cli.errors import ExitCode
from kimi_cli.render.terminal import note


def fetch_results(
    state: AppState, info: Batch, journal: Journal, *, out_dir: Path | None, as_json: bool
) -> int:
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
        from_file = [ff for _, _, ff in rows]
        outputs: list[Output] = [Directory(out_dir) if out_dir is not None else JsonLines()]
        if out_dir is not None and as_json:
            outputs.append(JsonLines())
        usage, cost, unknown, answered = Usage(), 0.0, False, 0
        schema = job.schema_dict if job else None
        records = map_results(index, ((c, s) for c, s, _ in rows), model, currency, schema)
        for record, is_file in zip(records, _each(from_file), strict=True):
            for output in outputs:
                output.write(record, is_file)
            if record["usage"] is not None:
                answered += 1
                used = usage_of(record["usage"])
                assert used is not None
                usage = Usage(
                    usage.input_tokens + used.input_tokens,
                    usage.output_tokens + used.output_tokens,
                    usage.cached_tokens + used.cached_tokens,
                )
                if record["cost"] is None:
                    unknown = True
                else:
                    cost += float(record["cost"]["amount"])
        for output in outputs:
            output.close()
    first = outputs[0]
    if journal.mark_recorded(info.id):
        batch_support.record_spend(
            state,
            kind="batch",
            ref=info.id,
            model=model or None,
            requests=answered,
            usage=usage,
            cost=None if unknown or not currency else cost,
            currency=currency,
        )
    where = f" into {out_dir}" if out_dir is not None else ""
    ok = first.written - first.failed
    note(f"kimi: {ok} of {first.written} result(s) written{where}; {first.failed} failed")
    return int(ExitCode.API_ERROR) if first.failed else 0


def _each(values: list[bool]) -> Iterator[bool]:
    yield from values
