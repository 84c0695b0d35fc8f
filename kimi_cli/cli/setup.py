"""``kimi setup``: verify a key with GET /models, pick a model from the live list, save."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from kimi_cli.api.types import Model
from kimi_cli.cli.common import state_of
from kimi_cli.cli.completion import complete_model_ids
from kimi_cli.cli.state import AppState
from kimi_cli.config import REGION_URLS, mask_key, region_url
from kimi_cli.errors import AuthError, UsageError
from kimi_cli.render.terminal import note, warn


def register(root: typer.Typer) -> None:
    root.command("setup")(setup)


def setup(
    ctx: typer.Context,
    key_stdin: Annotated[
        bool, typer.Option("--key-stdin", help="Read the API key from standard input (scripts).")
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model ID to verify and save.",
            autocompletion=complete_model_ids,
        ),
    ] = None,
) -> None:
    """Verify an API key against the region's GET /models, choose a model, save both.

    The region is the global option --region (global or cn); interactive setup asks.

    Example: pass show moonshot | kimi setup --key-stdin --region global --model kimi-k3.1-pro
    """
    from kimi_cli.catalog.access import OtherRegion, list_models_checked

    state = state_of(ctx)
    interactive = not key_stdin and sys.stdin.isatty()
    if not key_stdin and not interactive:
        raise UsageError(
            "no terminal to ask for the key",
            hint="pipe it in: kimi setup --key-stdin — see 'kimi setup --help'",
        )
    settings = state.settings()
    if interactive and state.options.region is None and settings.region is not None:
        settings = state.settings(region=_ask_region(state))
    key = _ask_key() if interactive else _read_key()
    base_url = settings.base_url
    region = settings.region
    other = settings.other_region()
    try:
        models = list_models_checked(
            state.client(base_url, key),
            api_key=key,
            cache=state.model_cache(),
            other_region=(
                OtherRegion(
                    other,
                    region_url(other, state.env),
                    fix=f"kimi setup{' --key-stdin' if key_stdin else ''} --region {other}",
                )
                if other
                else None
            ),
            client_factory=lambda url: state.client(url, key),
        )
    except AuthError as exc:
        switched = _offer_switch(exc, other) if interactive and other else None
        if switched is None:
            raise
        region, base_url = switched, region_url(switched, state.env)
        models = list_models_checked(
            state.client(base_url, key), api_key=key, cache=state.model_cache()
        )
    chosen = _choose_model(models, model or settings.model, interactive, explicit=model is not None)
    store = state.store()
    if region:
        store.update({"region": region})
    store.set_api_key(key)
    where = f"region {region}" if region else base_url
    note(f"kimi: key {mask_key(key)} verified on {where} ({len(models)} models)")
    if chosen is not None:
        store.save_verified_model(chosen.id, base_url=base_url, verified_at=datetime.now(UTC))
        note(f'kimi: model {chosen.id} saved — try: kimi chat "hello"')
    if settings.api_key_source and settings.api_key_source.startswith("env"):
        warn(f"{settings.api_key_source} is set and overrides the key just saved")
    if not region:
        warn(f"the base URL {base_url} is not saved; keep KIMI_BASE_URL set to use it")


def _ask_region(state: AppState) -> str:
    current = state.store().get("region") or "global"
    choice: str = typer.prompt(
        "Region: global (platform.kimi.ai, api.moonshot.ai) or cn (platform.kimi.com, "
        "api.moonshot.cn)",
        default=current,
    )
    choice = choice.strip().lower()
    if choice not in REGION_URLS:
        raise UsageError(f"unknown region {choice!r}", hint="answer global or cn")
    return choice


def _ask_key() -> str:
    key: str = typer.prompt("API key (input hidden)", hide_input=True)
    return _checked_key(key)


def _read_key() -> str:
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(
            "the key on stdin is not UTF-8 text",
            hint="pipe in only the key: pass show moonshot | kimi setup --key-stdin",
        ) from None
    return _checked_key(text)


def _checked_key(text: str) -> str:
    key = text.strip()
    if not key:
        raise UsageError("the key is empty", hint="pipe the key in: kimi setup --key-stdin")
    if any(c.isspace() for c in key) or not key.isprintable():
        raise UsageError("the key contains spaces or control characters", hint="paste only the key")
    return key


def _offer_switch(exc: AuthError, other: str) -> str | None:
    if f"belongs to the {other} region" not in exc.message:
        return None
    note(f"kimi: {exc.message}")
    return other if typer.confirm(f"Use region {other}?", default=True) else None


def _choose_model(
    models: list[Model], wanted: str | None, interactive: bool, *, explicit: bool
) -> Model | None:
    from kimi_cli.catalog import verify

    if explicit and wanted:
        return verify(wanted, models)
    current = next((m for m in models if m.id == wanted), None) if wanted else None
    if not interactive:
        if current is None:
            ids = ", ".join(m.id for m in models)
            warn(f"no model saved; available: {ids} — pick one: kimi models use ID")
        return current
    for number, m in enumerate(models, 1):
        context = f"{m.context_length:,} tokens" if m.context_length else "context ?"
        sys.stderr.write(f"  {number}. {m.id}  ({context})\n")
    default = (models.index(current) + 1) if current else 1
    answer: str = typer.prompt("Model number or ID", default=str(default))
    answer = answer.strip()
    if answer.isdigit() and 1 <= int(answer) <= len(models):
        return models[int(answer) - 1]
    return verify(answer, models)
