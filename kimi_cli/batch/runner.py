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

from kimi_cli.api.types import Completion, Usage
from kimi_cli.batch.engine import Engine, Progress, Send, Task
from kimi_cli.batch.journal import Job, Journal
from kimi_cli.batch.output import Output
from kimi_cli.batch.results import NOT_PROCESSED, checked, record
from kimi_cli.batch.staging import Staged
from kimi_cli.errors import KimiError
from kimi_cli.pricing import cost_of


@dataclass
class RunState:
    job: Job
    skipped: int  # finished by an earlier run of the same input
    usage: Usage = field(default_factory=Usage)  # what this run used, for history
    cost: float = 0.0
    currency: str | None = None
    sent: int = 0
    answered: int = 0  # requests billed by this run
    cost_unknown: bool = False  # some usage had no listed price: the total is not known
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
        state.answered += 1
        cost = cost_of(usage, completion.model or state.job.model, currency) if usage else None
        if usage is not None:
            state.usage = _add(state.usage, usage)
        if cost is not None:
            state.cost += cost.amount
        elif usage is not None:
            state.cost_unknown = True
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


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(
        input_tokens=a.input_tokens + b.input_tokens,
        output_tokens=a.output_tokens + b.output_tokens,
        cached_tokens=a.cached_tokens + b.cached_tokens,
    )
