"""What the ``kimi batch`` commands share: checking and staging the input, the journal,
the API client(s), and recording spend in history."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimi_cli.cli.state import AppState
from kimi_cli.config import state_dirs
from kimi_cli.errors import UsageError
from kimi_cli.render.terminal import is_tty, warn

if TYPE_CHECKING:
    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.types import Model, Usage
    from kimi_cli.batch.journal import Journal
    from kimi_cli.batch.remote import Remote
    from kimi_cli.batch.staging import Staged
    from kimi_cli.catalog.policy import ChatOptions


@dataclass(frozen=True)
class InputArgs:
    inputs: list[str]
    prompt: str | None
    lines: str | None
    model: str | None
    system: str | None
    options: ChatOptions
    schema: str | None = None  # the --schema argument
    max_cost: str | None = None  # the --max-cost argument

    def schema_dict(self) -> dict[str, Any] | None:
        """The checked JSON Schema of --schema (exit 2 for a bad one), or None."""
        if self.schema is None:
            return None
        from kimi_cli.schema import load_schema

        if self.options.json_object:
            raise UsageError("--schema and --format json both shape the answer", hint="use one")
        return load_schema(self.schema).schema

    def response_format(self) -> dict[str, Any] | None:
        if self.schema is None:
            return None
        from kimi_cli.schema import load_schema

        return load_schema(self.schema).response_format()


def stage_input(
    state: AppState, args: InputArgs, directory: Path, *, one_model: bool
) -> tuple[Staged, list[str]]:
    """Check every request and write them to ``directory``; the model IDs used.

    Any problem is raised before anything is uploaded or sent."""
    from kimi_cli.batch.checks import Preparer
    from kimi_cli.batch.inputs import select_items
    from kimi_cli.batch.staging import stage
    from kimi_cli.cli.chat_input import compose_text

    connection = state.connect()
    settings, client = connection.settings, connection.client
    options = args.options
    if options.max_tokens is None and settings.max_tokens is not None:  # as chat takes it
        options = replace(options, max_tokens=settings.max_tokens)

    def resolve(model_id: str) -> Model:
        return connection.resolve_model(model_id, None)

    preparer = Preparer(
        resolve=resolve,
        default_model=args.model or settings.model,
        system=args.system,
        options=options,
        count_tokens=client.estimate_tokens,
        one_model=one_model,
        response_format=args.response_format(),
        document_message=lambda path: _document_message(state, path),
        image_part=_image_part,
    )
    items = select_items(args.inputs, args.prompt, args.lines, compose_text)
    staged = stage(preparer.prepare_all(items), directory)
    staged.output_budget = preparer.output_budget
    return staged, preparer.model_ids


def _image_part(path: Path) -> dict[str, Any]:
    """What ``chat -f`` sends for an image: an image part, read by its bytes and refused
    before anything is sent when broken or larger than the API takes."""
    from kimi_cli.cli.chat_input import read_image

    return read_image(path).part()


def _document_message(state: AppState, path: Path) -> dict[str, Any]:
    """What ``chat -f`` sends for a document: its extracted text as a ``system`` message,
    from the document index when these bytes were uploaded before."""
    from kimi_cli.cli.chat_documents import prepare_documents
    from kimi_cli.documents import LocalDocument

    local = LocalDocument(path=path, name=str(path), size=path.stat().st_size)
    (document,) = prepare_documents(state.client(), state.settings().cache_dir, [local])
    return document.message()


def check_budget(
    state: AppState, args: InputArgs, staged: Staged, models: list[str], *, batch: bool
) -> None:
    """``--max-cost`` and the daily and monthly budgets, on the worst case of the whole
    input (every character a token, every request using its whole output budget); over
    one: exit 6 with nothing sent. ``submit`` is checked at the batch price."""
    from decimal import Decimal

    from kimi_cli.budget import parse_amount, verdict_before_sending

    settings = state.settings()
    try:
        max_cost = parse_amount(args.max_cost) if args.max_cost is not None else None
    except ValueError as exc:
        raise UsageError(f"--max-cost: {exc}") from None
    daily, monthly = settings.budget_daily, settings.budget_monthly
    if max_cost is None and daily is None and monthly is None:
        return
    if len(models) != 1:
        warn("budget not checked: the input uses more than one model")
        return
    verdict = verdict_before_sending(
        state.history() if settings.history else None,
        model=models[0],
        currency=settings.currency,
        input_tokens=staged.text_chars,
        completion_budget=staged.output_budget,
        daily=Decimal(repr(daily)) if daily is not None else None,
        monthly=Decimal(repr(monthly)) if monthly is not None else None,
        max_cost=max_cost,
        batch=batch,
    )
    verdict.raise_if_refused()
    if verdict.message:
        warn(verdict.message)


def journal(state: AppState) -> Journal:
    from kimi_cli.batch.journal import Journal

    _, data_dir, _ = state_dirs(state.env)
    return Journal(data_dir / "batch.db")


def sending_client(state: AppState) -> KimiClient:
    """A client for ``run``: the engine retries and slows down itself, so this one never
    retries on its own."""
    from kimi_cli.api.client import KimiClient

    base = state.client()  # the configured endpoint's checks, once
    settings = state.settings()
    return KimiClient(
        base.base_url,
        state.require_key(settings),
        timeout=settings.timeout,
        max_retries=0,
        trace=_trace if state.debug else None,
    )


def _trace(line: str) -> None:
    sys.stderr.write(f"kimi: debug: {line}\n")


def remote(state: AppState, *, show_upload: bool = False) -> Remote:
    """The Files and Batch APIs; with ``show_upload`` an upload draws its progress on a
    terminal."""
    from kimi_cli.batch.remote import ApiRemote

    progress = None
    if show_upload and is_tty(sys.stderr) and os.environ.get("TERM") != "dumb":
        from kimi_cli.cli.batch_progress import UploadLine

        progress = UploadLine()
    return ApiRemote(state.client(), progress)


def record_spend(
    state: AppState,
    *,
    kind: str,
    ref: str,
    model: str | None,
    requests: int,
    usage: Usage,
    cost: float | None,
    currency: str | None,
) -> None:
    """What a batch (``kind="batch"``, at the batch price) or a run (``"chat"``) billed,
    as one row of history's usage, so ``kimi usage`` counts it; a failure only warns."""
    from kimi_cli.errors import KimiError

    settings = state.settings()
    if not settings.history or requests == 0:
        return
    try:
        state.history().record_usage(
            kind=kind,
            model=model,
            usage=usage,
            cost=cost,
            currency=currency if cost is not None else None,
            requests=requests,
            ref=ref,
        )
    except KimiError as exc:
        warn(f"the batch spend was not saved to history ({exc.message})")
