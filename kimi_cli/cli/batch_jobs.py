"""``kimi batch status|list|cancel|wait|results``: following a submitted job."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kimi_cli.cli import batch_support
from kimi_cli.cli.batch_progress import ProgressLine
from kimi_cli.cli.common import print_json, state_of
from kimi_cli.errors import APIRequestError, ExitCode, TemporaryError, UsageError
from kimi_cli.render.terminal import note, print_error

if TYPE_CHECKING:
    from kimi_cli.api.batches import Batch
    from kimi_cli.batch.journal import Journal

FIRST_INTERVAL_S = 1.0
MAX_INTERVAL_S = 30.0
GROWTH = 1.5
LIST_LIMIT = 100
#: How long ``wait`` keeps polling through temporary failures (5xx, 429, the network).
MAX_OUTAGE_S = 600.0

IdArg = Annotated[str, typer.Argument(help="Batch ID (as 'submit' printed it).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
OutDirOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write one file per input into DIR.", metavar="DIR"),
]
JsonLinesOpt = Annotated[bool, typer.Option("--json", help="JSON lines on stdout (also with -o).")]


def add_commands(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("list")(list_)
    app.command("cancel")(cancel)
    app.command("wait")(wait)
    app.command("results")(results)


def status(ctx: typer.Context, batch_id: IdArg, as_json: JsonOpt = False) -> None:
    """The batch's status and counts (done/failed/total).

    Example: kimi batch status batch_abc123
    """
    state = state_of(ctx)
    with batch_support.journal(state) as journal:
        info = batch_support.remote(state).retrieve(batch_id)
        row = _row(info, journal)
    if as_json:
        print_json(row)
    else:
        typer.echo(_line(row))


def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Batches of this account (newest first), with the names and models kimi recorded.

    Example: kimi batch list --json
    """
    state = state_of(ctx)
    rows: list[dict[str, Any]] = []
    with batch_support.journal(state) as journal:
        seen: set[str] = set()
        for info in batch_support.remote(state).batches(limit=LIST_LIMIT):
            rows.append(_row(info, journal))
            seen.add(info.id)
        for part in reversed(journal.all_parts()):  # older than the API's first page
            if part.batch_id and part.batch_id not in seen:
                job = journal.job(part.job_id)
                counts = part.counts or {}
                rows.append(
                    {
                        "id": part.batch_id,
                        "name": job.name if job else None,
                        "status": part.status,
                        "completed": counts.get("completed", 0),
                        "failed": counts.get("failed", 0),
                        "total": counts.get("total", part.requests),
                        "created_at": job.created_at if job else None,
                        "model": job.model if job else None,
                        "output_file_id": None,
                        "error_file_id": None,
                        "errors": [],
                    }
                )
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(_line(row))
    if not rows:
        note("kimi: no batches yet — 'kimi batch submit' creates one")


def cancel(ctx: typer.Context, batch_id: IdArg) -> None:
    """Cancel a batch; requests that finished keep their results.

    Example: kimi batch cancel batch_abc123
    """
    state = state_of(ctx)
    remote = batch_support.remote(state)
    with batch_support.journal(state) as journal:
        try:
            info = remote.cancel(batch_id)
        except APIRequestError as exc:
            if exc.status_code != 400:
                raise
            ended = remote.retrieve(batch_id)  # refused: most likely, it is over already
            _row(ended, journal)
            if not ended.finished:
                raise
            raise APIRequestError(
                f"batch {batch_id} already ended ({ended.status}): there is nothing to cancel",
                hint=f"'kimi batch results {batch_id}' fetches its results",
                request_id=exc.request_id,
            ) from exc
        _row(info, journal)
    note(
        f"kimi: {batch_id} is {info.status} — 'kimi batch results {batch_id}' fetches what finished"
    )


def wait(
    ctx: typer.Context,
    batch_id: IdArg,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval", help="Seconds between polls (default 1 growing to 30).", metavar="S"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Wait until the batch ends: exit 0 completed, 1 failed/expired/cancelled.

    Ctrl-C stops waiting, not the batch. Example: kimi batch wait batch_abc123
    """
    if interval is not None and interval <= 0:
        raise UsageError("--interval must be more than 0 seconds")
    state = state_of(ctx)
    remote = batch_support.remote(state)
    progress = ProgressLine()
    delay = interval or FIRST_INTERVAL_S
    outage: float | None = None  # when the API stopped answering, while it does not
    shown = (0, 0, 0, "")
    with batch_support.journal(state) as journal:
        try:
            while True:
                try:
                    info = remote.retrieve(batch_id)
                except TemporaryError as exc:
                    # The batch runs on without us: a blip must not end a wait of hours.
                    outage = outage if outage is not None else time.monotonic()
                    if time.monotonic() - outage > MAX_OUTAGE_S:
                        raise
                    said = f"{shown[3] or 'waiting'} (no answer from the API: {exc.message}; "
                    progress.update(*shown[:3], f"{said}retrying)")
                    time.sleep(delay)
                    continue
                outage = None
                row = _row(info, journal)
                counts = info.request_counts
                shown = (counts.completed, counts.failed, row["total"], info.status)
                progress.update(*shown)
                if info.finished:
                    break
                time.sleep(delay)
                if interval is None:
                    delay = min(MAX_INTERVAL_S, delay * GROWTH)
        except KeyboardInterrupt:
            progress.finish()
            note(
                "kimi: stopped waiting; the batch keeps running — "
                f"resume with: kimi batch wait {batch_id}"
            )
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    progress.finish()
    if as_json:
        print_json(row)
    code = _ended(info)
    if code:
        raise typer.Exit(code)


def _ended(info: Batch) -> int:
    """Say how the batch ended; the exit code."""
    fetch = f"'kimi batch results {info.id}' fetches them"
    counts = info.request_counts
    if info.status == "completed":
        note(
            f"kimi: {info.id} completed: {counts.completed} done, {counts.failed} failed — {fetch}"
        )
        return 0
    if info.status == "failed":
        for error in info.errors:
            where = f"input line {error.line}: " if error.line else ""
            note(f"kimi: {where}{error.message}")
        print_error(
            APIRequestError(
                f"batch {info.id} failed validation ({len(info.errors)} error(s))",
                hint="fix the lines named above and submit again",
            )
        )
        return int(ExitCode.API_ERROR)
    print_error(
        APIRequestError(
            f"batch {info.id} {info.status}: {counts.completed} of {counts.total} request(s) "
            "answered",
            hint=fetch,
        )
    )
    return int(ExitCode.API_ERROR)


def results(
    ctx: typer.Context,
    batch_ids: Annotated[
        list[str], typer.Argument(help="Batch ID(s): all that 'submit' printed, in order.")
    ],
    out_dir: OutDirOpt = None,
    as_json: JsonLinesOpt = False,
) -> None:
    """Download the results, mapped to the inputs in input order; again at any time.

    Example: kimi batch results batch_abc123 -o answers/
    """
    from kimi_cli.batch.output import Directory, JsonLines, Output
    from kimi_cli.cli.batch_fetch import fetch_results

    state = state_of(ctx)
    remote = batch_support.remote(state)
    with batch_support.journal(state) as journal:
        infos = []
        for batch_id in batch_ids:  # every one ready before anything is written
            info = remote.retrieve(batch_id)
            _row(info, journal)
            if not (info.output_file_id or info.error_file_id or info.finished):
                raise TemporaryError(
                    f"batch {batch_id} is {info.status}: no results yet",
                    hint=f"kimi batch wait {batch_id}",
                )
            infos.append(info)
        outputs: list[Output] = [Directory(out_dir) if out_dir is not None else JsonLines()]
        if out_dir is not None and as_json:
            outputs.append(JsonLines())
        for info in infos:
            fetch_results(state, info, journal, outputs)
        for output in outputs:
            output.close()
    outputs[0].summary("written", f" into {out_dir}" if out_dir is not None else "")


def _row(info: Batch, journal: Journal) -> dict[str, Any]:
    """The batch as the API reports it, with what the journal knows; the journal updated."""
    from kimi_cli.batch.submit import counts_of

    part = journal.part_of_batch(info.id)
    job = journal.job(part.job_id) if part else None
    if part is not None:
        journal.update_part(part.job_id, part.part, status=info.status, counts=counts_of(info))
    created = (
        datetime.fromtimestamp(info.created_at, UTC).isoformat(timespec="seconds")
        if info.created_at
        else (job.created_at if job else None)
    )
    return {
        "id": info.id,
        "name": (job.name if job else None) or info.metadata.get("name"),
        "status": info.status,
        "completed": info.request_counts.completed,
        "failed": info.request_counts.failed,
        # While the API validates it reports no counts yet; the journal knows how many went in.
        "total": info.request_counts.total or (part.requests if part else 0),
        "created_at": created,
        "model": job.model if job else None,
        "output_file_id": info.output_file_id,
        "error_file_id": info.error_file_id,
        "errors": [{"line": e.line, "message": e.message} for e in info.errors],
    }


def _line(row: dict[str, Any]) -> str:
    counts = f"{row['completed']}/{row['failed']}/{row['total']}"
    parts = [
        row["id"],
        row["status"],
        counts,
        row.get("created_at") or "-",
        row.get("model") or "-",
        row.get("name") or "",
    ]
    return "  ".join(str(p) for p in parts).rstrip()
