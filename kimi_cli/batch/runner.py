"""``kimi batch run``: the job in the journal, what is missing sent through the engine,
then every result written in input order.

A rerun of the same input (same fingerprint) finds the job and skips every ``custom_id``
the journal has a result for; only successes are journaled, so failed requests are tried
again by a rerun.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kimi_cli.api.types import Completion
from kimi_cli.batch.engine import Engine, Progress, Send, Task
from kimi_cli.batch.journal import Job, Journal
from kimi_cli.batch.output import Output
from kimi_cli.batch.results import NOT_PROCESSED, Spend, checked, record
from kimi_cli.batch.staging import Staged
from kimi_cli.errors import KimiError
from kimi_cli.pricing import cost_of


@dataclass
class RunState:
    job: Job
    skipped: int  # finished by an earlier run of the same input
    currency: str | None = None
    sent: int = 0
    #: Answers billed but not finished (they broke --schema): not in the journal, so their
    #: spend is kept here. Finished answers are billed from the journal (``unbilled``).
    rejected: Spend = field(default_factory=Spend)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)


def open_job(
    staged: Staged,
    journal: Journal,
    model: str,
    name: str | None,
    schema: dict[str, Any] | None = None,
) -> RunState:
    jobs = journal.find_jobs("run", staged.fingerprint)
    if jobs:
        job = jobs[0]
        return RunState(job, skipped=len(journal.finished_ids(job.id)))
    job = journal.add_job(
        kind="run",
        fingerprint=staged.fingerprint,
        model=model,
        name=name,
        items=staged.index_rows(),
        schema=schema,
    )
    return RunState(job, skipped=0)


def run_missing(
    state: RunState,
    staged: Staged,
    journal: Journal,
    send: Send,
    *,
    concurrency: int,
    currency: str | None,
    on_progress: Callable[[Progress], None],
) -> None:
    """Send what the journal lacks; raises the engine's fatal error (quota, auth)."""
    done = journal.finished_ids(state.job.id)
    sources = {cid: source for _, cid, source, _, _ in journal.items(state.job.id)}
    state.currency = currency
    schema = state.job.schema_dict

    def tasks() -> Iterator[Task]:
        for custom_id, body in staged.bodies():
            if custom_id not in done:
                yield Task(custom_id, body)

    def on_result(custom_id: str, completion: Completion | None, error: KimiError | None) -> None:
        source = sources.get(custom_id, custom_id)
        state.sent += 1
        if completion is None:
            assert error is not None
            kind = error.error_type or type(error).__name__
            state.errors[custom_id] = record(
                custom_id, source, error={"type": kind, "message": error.line()}
            )
            return
        usage = completion.usage
        cost = cost_of(usage, completion.model or state.job.model, currency) if usage else None
        result = record(
            custom_id,
            source,
            content=completion.content,
            reasoning=completion.reasoning or None,
            finish_reason=completion.finish_reason,
            usage=usage,
            cost=cost,
        )
        if checked(result, schema)["error"] is not None:
            state.errors[custom_id] = result  # not finished: a rerun asks again
            state.rejected.add(result)
        else:
            journal.finish(state.job.id, custom_id, result)

    engine = Engine(
        send=send, concurrency=concurrency, on_result=on_result, on_progress=on_progress
    )
    engine.run(tasks(), total=state.job.requests - len(done))


def write_results(state: RunState, journal: Journal, output: Output) -> None:
    for _, custom_id, source, from_file, _ in journal.items(state.job.id):
        result = journal.finished_result(state.job.id, custom_id)
        if result is None:
            result = state.errors.get(custom_id) or record(custom_id, source, error=NOT_PROCESSED)
        output.write(result, from_file)
    output.close()


def spend_to_record(state: RunState, journal: Journal) -> tuple[Spend, list[str]]:
    """What is billed and not yet in history: the answers this run rejected, and every
    finished answer not marked billed (a killed run's too); their custom_ids, to mark once
    recorded."""
    spend, ids = state.rejected, []
    for custom_id, result in journal.unbilled(state.job.id):
        spend.add(result)
        ids.append(custom_id)
    state.rejected = Spend()
    return spend, ids
