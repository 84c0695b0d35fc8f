"""``kimi batch run`` wired up: stage, journal, engine, progress, output, history."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from kimi_cli.batch.engine import Progress
from kimi_cli.batch.journal import Journal
from kimi_cli.batch.lock import job_lock
from kimi_cli.batch.output import Directory, JsonLines, Output
from kimi_cli.batch.runner import (
    RunState,
    open_job,
    run_missing,
    spend_to_record,
    write_results,
)
from kimi_cli.cli import batch_support
from kimi_cli.cli.app import Terminated
from kimi_cli.cli.batch_progress import ProgressLine
from kimi_cli.cli.state import AppState
from kimi_cli.errors import ExitCode, KimiError
from kimi_cli.render.terminal import is_tty, note


def run_now(
    state: AppState,
    args: batch_support.InputArgs,
    *,
    concurrency: int,
    out_dir: Path | None,
    as_json: bool,
    name: str | None,
) -> int:
    with tempfile.TemporaryDirectory(prefix="kimi-batch-") as tmp:
        staged, models = batch_support.stage_input(state, args, Path(tmp), one_model=False)
        batch_support.check_budget(state, args, staged, models, batch=False)
        # Made before anything is sent: a -o that cannot be written is refused first.
        output: Output = Directory(out_dir) if out_dir is not None else JsonLines()
        with (
            batch_support.journal(state) as journal,
            job_lock(journal.path.parent, "run", staged.fingerprint),
        ):
            job = open_job(staged, journal, ", ".join(models), name, args.schema_dict())
            total = job.job.requests
            if job.skipped:
                note(
                    f"kimi: resuming: {job.skipped} of {total} finished earlier; "
                    f"sending the other {total - job.skipped}"
                )
            progress = ProgressLine() if is_tty(sys.stderr) else None

            def show(p: Progress) -> None:
                if progress is not None:
                    status = f"running, {p.limit} at a time"
                    progress.update(job.skipped + p.done, p.failed, total, status)

            client = batch_support.sending_client(state)
            currency = state.settings().currency
            try:
                run_missing(
                    job,
                    staged,
                    journal,
                    client.chat,
                    concurrency=concurrency,
                    currency=currency,
                    on_progress=show,
                )
            except (KeyboardInterrupt, Terminated) as exc:  # Ctrl-C, SIGTERM: nothing lost
                _finish(state, job, journal, progress)
                finished = len(journal.finished_ids(job.job.id))
                stopped = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
                note(
                    f"kimi: {stopped} — {finished} of {total} finished and kept; "
                    "run the same command again to send the rest"
                )
                if isinstance(exc, KeyboardInterrupt):
                    return int(ExitCode.INTERRUPTED)
                return int(ExitCode.TERMINATED)
            except KimiError:
                _finish(state, job, journal, progress)
                _write(job, journal, output, as_json)
                raise
            finally:
                client.close()
            _finish(state, job, journal, progress)
            _write(job, journal, output, as_json)
    where = f", written into {out_dir}" if out_dir is not None else ""
    output.summary("answered", where, retry="run the same command again to retry them")
    return 0


def _finish(
    state: AppState, job: RunState, journal: Journal, progress: ProgressLine | None
) -> None:
    """The bar ended, and what was billed and not yet recorded put into history."""
    if progress is not None:
        progress.finish()
    spend, billed = spend_to_record(job, journal)
    if spend.requests:
        batch_support.record_spend(
            state,
            kind="chat",
            ref=f"batch-run/{job.job.fingerprint[:12]}",
            model=job.job.model,
            requests=spend.requests,
            usage=spend.usage,
            cost=None if spend.unknown or not job.currency else spend.cost,
            currency=job.currency,
        )
    journal.mark_billed(job.job.id, billed)


def _write(job: RunState, journal: Journal, output: Output, as_json: bool) -> None:
    write_results(job, journal, output)
    if isinstance(output, Directory) and as_json:
        write_results(job, journal, JsonLines())
