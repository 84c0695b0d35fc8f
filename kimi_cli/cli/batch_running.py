"""``kimi batch run`` wired up: stage, journal, engine, progress, output, history."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from kimi_cli.batch.engine import Progress
from kimi_cli.batch.journal import Journal
from kimi_cli.batch.output import Directory, JsonLines, Output
from kimi_cli.batch.runner import RunState, open_job, run_missing, write_results
from kimi_cli.cli import batch_support
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
        with batch_support.journal(state) as journal:
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
            except KeyboardInterrupt:
                _finish(state, job, progress)
                finished = len(journal.finished_ids(job.job.id))
                note(
                    f"kimi: interrupted — {finished} of {total} finished and kept; "
                    "run the same command again to send the rest"
                )
                return int(ExitCode.INTERRUPTED)
            except KimiError:
                _finish(state, job, progress)
                _write(job, journal, out_dir, as_json)
                raise
            finally:
                client.close()
            _finish(state, job, progress)
            output = _write(job, journal, out_dir, as_json)
    ok = output.written - output.failed
    where = f" into {out_dir}" if out_dir is not None else ""
    note(f"kimi: {ok} of {output.written} request(s) answered{where}; {output.failed} failed")
    return int(ExitCode.API_ERROR) if output.failed else 0


def _finish(state: AppState, job: RunState, progress: ProgressLine | None) -> None:
    if progress is not None:
        progress.finish()
    if job.answered:
        batch_support.record_spend(
            state,
            kind="chat",
            ref=f"batch-run/{job.job.fingerprint[:12]}",
            model=job.job.model,
            requests=job.answered,
            usage=job.usage,
            cost=None if job.cost_unknown or not job.currency else job.cost,
            currency=job.currency,
        )


def _write(job: RunState, journal: Journal, out_dir: Path | None, as_json: bool) -> Output:
    output: Output = Directory(out_dir) if out_dir is not None else JsonLines()
    write_results(job, journal, output)
    if out_dir is not None and as_json:
        write_results(job, journal, JsonLines())
    return output
