"""``kimi models`` and ``kimi models use ID``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from kimi_cli.api.types import Model
from kimi_cli.cli.common import print_json, state_of
from kimi_cli.cli.completion import complete_model_ids
from kimi_cli.cli.state import AppState
from kimi_cli.errors import UsageError

app = typer.Typer(
    help=(
        "List the models this key can use (always asks the API), or pick one with "
        "'kimi models use ID'.\n\nExample: kimi models --json | jq -r '.[].id'"
    ),
    no_args_is_help=False,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="models")


def live_models(state: AppState) -> list[Model]:
    """GET /models with the diagnosis of every refusal; refreshes the cache."""
    return state.connect().list_models()


def _retirement_json(model_id: str, live_ids: list[str]) -> dict[str, Any] | None:
    from kimi_cli.catalog.retirements import retirement_for, successor_for

    retirement = retirement_for(model_id)
    if retirement is None:
        return None
    successor, named = successor_for(model_id, live_ids)
    return {
        "date": retirement.on.isoformat(),
        "certainty": retirement.certainty,
        "source": retirement.source,
        "successor": successor if named else None,
        "suggested": None if named else successor,
    }


def model_json(
    model: Model, configured: str | None, live_ids: list[str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = dict(model.raw)
    data.update(
        id=model.id,
        context_length=model.context_length,
        supports_reasoning=model.supports_reasoning,
        supports_image_in=model.supports_image_in,
        supports_video_in=model.supports_video_in,
        configured=model.id == configured,
        retirement=_retirement_json(model.id, live_ids or []),
    )
    return data


@app.callback(invoke_without_command=True)
def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Rewrite the cache (every listing already does).")
    ] = False,
) -> None:
    """List the live models; the configured one is marked.

    Example: kimi models --json | jq -r '.[].id'
    """
    if ctx.invoked_subcommand is not None:
        return
    state = state_of(ctx)
    found = live_models(state)
    configured = state.settings().model
    ids = [m.id for m in found]
    if as_json:
        print_json([model_json(m, configured, ids) for m in found])
    elif sys.stdout.isatty():
        from kimi_cli.catalog.retirements import retirement_line
        from kimi_cli.render.tables import print_models

        notes = {m: line for m in ids if (line := retirement_line(m, ids))}
        print_models(found, configured, notes)
    else:
        sys.stdout.write("".join(f"{m.id}\n" for m in found))


@app.command("use")
def use(
    ctx: typer.Context,
    model_id: Annotated[
        str,
        typer.Argument(
            help="A model ID exactly as 'kimi models' lists it.",
            autocompletion=complete_model_ids,
        ),
    ],
) -> None:
    """Verify MODEL_ID against GET /models and store it as the model to use.

    Example: kimi models use kimi-k3.1-pro
    """
    if not model_id.strip():
        raise UsageError("the model ID is empty", hint="see 'kimi models' for the IDs")
    state = state_of(ctx)
    verify_and_store(state, model_id)


def verify_and_store(state: AppState, model_id: str) -> Model:
    from kimi_cli.catalog import verify
    from kimi_cli.render.terminal import note

    models = live_models(state)
    model = verify(model_id, models)
    settings = state.settings()
    state.store().save_verified_model(
        model.id, base_url=settings.base_url, verified_at=datetime.now(UTC)
    )
    note(f"kimi: model set to {model.id} (verified against {settings.base_url})")
    from kimi_cli.catalog.retirements import retirement_line
    from kimi_cli.render.terminal import warn

    retiring = retirement_line(model.id, [m.id for m in models])
    if retiring:  # saved as asked: the choice is the user's, the date is theirs to know
        warn(f"{model.id} is {retiring}")
    if settings.model_source and settings.model_source.is_env:
        warn(f"{settings.model_source} still overrides the saved model")
    return model
