"""``kimi batch submit|run`` (this module) and ``status|list|cancel|wait|results``
(``batch_jobs``): bulk work on the Batch API, or run here with a concurrency limit."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from kimi_cli.cli import batch_support
from kimi_cli.cli.app import Terminated
from kimi_cli.cli.batch_jobs import JsonLinesOpt, OutDirOpt
from kimi_cli.cli.chat_cmd import Effort, Format
from kimi_cli.cli.common import print_json, state_of
from kimi_cli.cli.state import AppState
from kimi_cli.errors import TemporaryError, UsageError
from kimi_cli.render.terminal import note

app = typer.Typer(
    help=(
        "Bulk work: many requests from a JSONL file, files or lines. 'submit' sends them "
        "to the Batch API (60 % of the list price, done within the window); 'run' sends "
        "them now, several at a time.\n\n"
        'Example: kimi batch submit -p "summarise" docs/*.md'
    ),
    no_args_is_help=True,
)

_PICKS_UP = "it picks up this job, with no second upload or batch"
#: Characters per token for the cost estimate before upload (the API counts after).
CHARS_PER_TOKEN = 4


def register(root: typer.Typer) -> None:
    from kimi_cli.cli import batch_jobs

    batch_jobs.add_commands(app)
    root.add_typer(app, name="batch")


InputsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="INPUT.jsonl (or - for stdin); with -p, the files to send.",
        metavar="INPUT",
        show_default=False,
    ),
]
PromptOpt = Annotated[
    str | None,
    typer.Option("--prompt", "-p", help="Prompt sent after each file (or line).", metavar="PROMPT"),
]
LinesOpt = Annotated[
    str | None,
    typer.Option("--lines", help="One request per non-empty line of FILE.", metavar="FILE"),
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model ID (verified).")]
SystemOpt = Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")]
FormatOpt = Annotated[Format | None, typer.Option("--format", help="json: ask for a JSON object.")]
ThinkingOpt = Annotated[
    bool | None, typer.Option("--thinking/--no-thinking", help="Turn reasoning on or off.")
]
EffortOpt = Annotated[Effort | None, typer.Option("--effort", help="Reasoning effort.")]
MaxTokensOpt = Annotated[
    int | None, typer.Option("--max-tokens", help="Output budget (max_completion_tokens).")
]
TemperatureOpt = Annotated[
    float | None, typer.Option("--temperature", help="Sampling temperature (0..1).")
]
NameOpt = Annotated[str | None, typer.Option("--name", help="A name for the job.")]
MaxCostOpt = Annotated[
    str | None,
    typer.Option(
        "--max-cost",
        help="Send nothing (exit 6) if the worst case could cost more than AMOUNT.",
        metavar="AMOUNT",
    ),
]
SchemaOpt = Annotated[
    str | None,
    typer.Option(
        "--schema",
        help="Answer as JSON matching this schema (file, inline JSON, short form).",
        metavar="SCHEMA",
    ),
]


def _args(
    inputs: list[str] | None,
    prompt: str | None,
    lines: str | None,
    model: str | None,
    system: str | None,
    response_format: Format | None,
    thinking: bool | None,
    effort: Effort | None,
    max_tokens: int | None,
    temperature: float | None,
    schema: str | None,
    max_cost: str | None,
) -> batch_support.InputArgs:
    from kimi_cli.catalog.policy import ChatOptions

    return batch_support.InputArgs(
        inputs=list(inputs or []),
        prompt=prompt,
        lines=lines,
        model=model,
        system=system,
        options=ChatOptions(
            thinking=thinking,
            effort=effort.value if effort else None,
            temperature=temperature,
            max_tokens=max_tokens,
            json_object=response_format is Format.json,
        ),
        schema=schema,
        max_cost=max_cost,
    )


@app.command("submit")
def submit_cmd(
    ctx: typer.Context,
    inputs: InputsArg = None,
    prompt: PromptOpt = None,
    lines: LinesOpt = None,
    model: ModelOpt = None,
    system: SystemOpt = None,
    response_format: FormatOpt = None,
    thinking: ThinkingOpt = None,
    effort: EffortOpt = None,
    max_tokens: MaxTokensOpt = None,
    temperature: TemperatureOpt = None,
    schema: SchemaOpt = None,
    max_cost: MaxCostOpt = None,
    window: Annotated[
        str, typer.Option("--window", help="Completion window (the API takes 12h to 7d).")
    ] = "24h",
    name: NameOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count everything; upload nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Submit even if this input already has a live job.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Check every request, upload the input and create the batch(es); print the batch ID(s).

    Example: kimi batch submit --lines questions.txt -m kimi-k2.6 --name faq
    """
    from kimi_cli.batch.lock import job_lock
    from kimi_cli.batch.submit import submit

    _check_window(window)
    state = state_of(ctx)
    args = _args(
        inputs,
        prompt,
        lines,
        model,
        system,
        response_format,
        thinking,
        effort,
        max_tokens,
        temperature,
        schema,
        max_cost,
    )
    with tempfile.TemporaryDirectory(prefix="kimi-batch-") as tmp:
        staged, models = batch_support.stage_input(state, args, Path(tmp), one_model=True)
        batch_support.check_budget(state, args, staged, models, batch=True)
        estimate = _estimate_line(state, staged.requests, staged.text_chars, models[0])
        if dry_run:
            note(f"kimi: dry run: {estimate}; {len(staged.parts)} file(s); nothing uploaded")
            if as_json:
                print_json(
                    {
                        "requests": staged.requests,
                        "files": len(staged.parts),
                        "model": models[0],
                        "batch_ids": [],
                        "reused": False,
                        "dry_run": True,
                    }
                )
            return
        with (
            batch_support.journal(state) as journal,
            job_lock(journal.path.parent, "submit", staged.fingerprint),
        ):
            try:
                done = submit(
                    staged,
                    journal,
                    batch_support.remote(state, show_upload=True),
                    model=models[0],
                    name=name,
                    window=window,
                    force=force,
                    schema=args.schema_dict(),
                )
            except TemporaryError as exc:  # the job is journaled: a rerun finishes it
                exc.hint = f"run the same command again later: {_PICKS_UP}"
                raise
            except (KeyboardInterrupt, Terminated):
                note(f"kimi: stopped; run the same command again to finish: {_PICKS_UP}")
                raise
    if done.reused:
        note(
            f"kimi: this input was submitted already ({', '.join(done.batch_ids)}): "
            "nothing sent — 'kimi batch wait ID', or --force to submit it again"
        )
    else:
        note(f"kimi: submitted {estimate}")
    if as_json:
        print_json(
            {
                "requests": staged.requests,
                "files": len(staged.parts),
                "model": models[0],
                "batch_ids": done.batch_ids,
                "reused": done.reused,
                "dry_run": False,
            }
        )
    else:
        typer.echo("\n".join(done.batch_ids))


def _check_window(window: str) -> None:
    """The API takes 12h to 7d; a window outside it is refused here, before the upload."""
    match = re.fullmatch(r"(\d+)([hd])", window.strip())
    hours = int(match.group(1)) * (24 if match.group(2) == "d" else 1) if match else 0
    if not 12 <= hours <= 7 * 24:
        raise UsageError(
            f"--window {window} is not one the Batch API takes", hint="use 12h to 7d, e.g. 24h"
        )


def _estimate_line(state: AppState, requests: int, chars: int, model: str) -> str:
    from kimi_cli.api.types import Usage
    from kimi_cli.pricing import cost_of

    tokens = max(1, chars // CHARS_PER_TOKEN)
    cost = cost_of(Usage(input_tokens=tokens), model, state.settings().currency, batch=True)
    money = (
        f"≈ {cost.amount:.6f} {cost.currency} for the input at the batch price "
        "(output billed as generated)"
        if cost is not None
        else "cost unknown (no listed price for this model and currency)"
    )
    return f"{requests} request(s) to {model}, ≈ {tokens:,} input tokens, {money}"


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    inputs: InputsArg = None,
    prompt: PromptOpt = None,
    lines: LinesOpt = None,
    model: ModelOpt = None,
    system: SystemOpt = None,
    response_format: FormatOpt = None,
    thinking: ThinkingOpt = None,
    effort: EffortOpt = None,
    max_tokens: MaxTokensOpt = None,
    temperature: TemperatureOpt = None,
    schema: SchemaOpt = None,
    max_cost: MaxCostOpt = None,
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", "-n", help="Requests in flight at most.", metavar="N"),
    ] = 4,
    out_dir: OutDirOpt = None,
    as_json: JsonLinesOpt = False,
    name: NameOpt = None,
) -> None:
    """Send the requests now through chat completions, resumably; results in input order.

    Example: kimi batch run --lines prompts.txt --concurrency 8 -o answers/
    """
    from kimi_cli.cli.batch_running import run_now

    if not 1 <= concurrency <= 64:
        raise UsageError("--concurrency must be between 1 and 64")
    state = state_of(ctx)
    args = _args(
        inputs,
        prompt,
        lines,
        model,
        system,
        response_format,
        thinking,
        effort,
        max_tokens,
        temperature,
        schema,
        max_cost,
    )
    code = run_now(
        state, args, concurrency=concurrency, out_dir=out_dir, as_json=as_json, name=name
    )
    if code:
        raise typer.Exit(code)
