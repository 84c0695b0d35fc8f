"""``kimi setup``: verify a key with GET /models, pick a model from the live list, save.

Interactive setup forgives typos: a wrong region or model is explained and asked again, and a
verified key is saved before the model is chosen, so nothing typed later can lose it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer

from kimi_cli.api.types import Model
from kimi_cli.cli.common import state_of
from kimi_cli.cli.completion import complete_model_ids
from kimi_cli.cli.prompts import ask, confirm
from kimi_cli.cli.state import MODELS_SPINNER, AppState, Connection
from kimi_cli.config import REGIONS_BY_NAME, Settings, mask_key
from kimi_cli.errors import ExitCode, KimiError, UsageError, WrongRegionError
from kimi_cli.render.terminal import note, print_error, warn

T = TypeVar("T")

#: What people type for a region, and the region they mean.
REGION_ALIASES = {
    "china": "cn",
    "zh": "cn",
    "intl": "global",
    "international": "global",
    "world": "global",
    **{r.host: r.name for r in REGIONS_BY_NAME.values()},
    **{r.console: r.name for r in REGIONS_BY_NAME.values()},
}


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
    keyring: Annotated[
        bool,
        typer.Option(
            "--keyring",
            help="Keep the key in the OS keychain (keyring), not in the config file.",
        ),
    ] = False,
) -> None:
    """Verify an API key against the region's GET /models, choose a model, save both.

    The region is the global option --region (global or cn); interactive setup asks.

    Example: pass show moonshot | kimi setup --key-stdin --region global --model kimi-k3.1-pro
    """
    saved: list[str] = []  # where the verified key went, once it is saved
    try:
        _setup(state_of(ctx), key_stdin, model, keyring, saved)
    except (KeyboardInterrupt, EOFError, typer.Abort):  # Ctrl-C, or Ctrl-D at a prompt
        print_error(_stopped_line(saved))
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


def _stopped_line(saved: list[str]) -> str:
    """What a setup stopped half-way leaves, and what to do next."""
    if not saved:
        return "setup stopped: nothing was saved — run 'kimi setup' again"
    return (
        f"setup stopped: the key is saved ({saved[0]}), but no model — pick one: kimi models use ID"
    )


def _setup(
    state: AppState, key_stdin: bool, model: str | None, keyring: bool, saved: list[str]
) -> None:
    interactive = not key_stdin and sys.stdin.isatty()
    if not key_stdin and not interactive:
        raise UsageError(
            "no terminal to ask for the key",
            hint="pipe it in: kimi setup --key-stdin — see 'kimi setup --help'",
        )
    settings = _settings(state)
    if interactive and state.options.region is None and settings.region is not None:
        settings = _settings(state, region=_ask(lambda: _ask_region(state)))
    # --key-stdin on a terminal: the key is still asked hidden, not read visibly (nor waited
    # for without a word until Ctrl-D); the rest stays as a script has it.
    key = _ask(_ask_key) if interactive or sys.stdin.isatty() else _read_key()
    connection, models = _verified(
        state, settings, key, key_stdin=key_stdin, interactive=interactive
    )
    settings = connection.settings
    _save_key(state, settings, key, keyring=keyring)
    saved.append(_where(settings))
    note(f"kimi: key {mask_key(key)} verified on {_where(settings)} ({len(models)} models)")
    chosen = _choose_model(models, model or settings.model, interactive, explicit=model is not None)
    if chosen is not None:
        state.store().save_verified_model(
            chosen.id, base_url=settings.base_url, verified_at=datetime.now(UTC)
        )
        note(f'kimi: model {chosen.id} saved — try: kimi chat "hello"')
        from kimi_cli.catalog.retirements import retirement_line

        retiring = retirement_line(chosen.id, [m.id for m in models])
        if retiring:  # chosen knowingly, or by a script: either way, said once
            warn(f"{chosen.id} is {retiring}")
    if settings.api_key_source and settings.api_key_source.is_env:
        warn(f"{settings.api_key_source} is set and overrides the key just saved")
    if not settings.region:
        warn(f"the base URL {settings.base_url} is not saved; keep KIMI_BASE_URL set to use it")


def _where(settings: Settings) -> str:
    return f"region {settings.region}" if settings.region else settings.base_url


def _settings(state: AppState, region: str | None = None) -> Settings:
    """The settings, without the key they would hold: setup replaces it, and must work when
    the old one cannot be had (a failing api_key_cmd, a locked keychain)."""
    from dataclasses import replace

    from kimi_cli.config import resolve_settings

    options = replace(state.options, region=region) if region else state.options
    return resolve_settings(
        options, state.env, state.store(), run_key_cmd=False, read_keyring=False
    )


def _verified(
    state: AppState, settings: Settings, key: str, *, key_stdin: bool, interactive: bool
) -> tuple[Connection, list[Model]]:
    """A connection whose key /models accepted, and the models; on a wrong-region key, offer
    the other region."""
    from kimi_cli.catalog.access import is_kimi_code_key, kimi_code_key_error, list_models_checked
    from kimi_cli.render.spinner import waiting

    if is_kimi_code_key(key):
        raise kimi_code_key_error()
    keyed = _with_key(settings, key)
    connection = state.connect(keyed)
    fix = f"kimi setup{' --key-stdin' if key_stdin else ''} --region {{region}}"
    try:
        with waiting(MODELS_SPINNER):
            models = list_models_checked(
                connection.client,
                api_key=key,
                cache=connection.cache,
                find_other_region=lambda: connection.find_other_region(fix),
                base_url_source=settings.base_url_source,
            )
    except WrongRegionError as exc:
        if not interactive:
            raise
        note(f"kimi: {exc.message}")
        region = exc.region
        if not _ask(lambda: confirm(f"Use region {region}?", default=True)):
            raise
        switched = state.connect(_with_key(_settings(state, region), key))
        return switched, switched.list_models()
    return connection, models


def _with_key(settings: Settings, key: str) -> Settings:
    from dataclasses import replace

    return replace(settings, api_key=key)


def _save_key(state: AppState, settings: Settings, key: str, *, keyring: bool) -> None:
    """Save the verified key (file or OS keychain) and the region, before anything else."""
    store = state.store()
    values: dict[str, object] = {"region": settings.region} if settings.region else {}
    if keyring:
        from kimi_cli.config.keychain import STORE_NAME, store_key

        backend = store_key(key)
        store.update({**values, "api_key_store": STORE_NAME}, remove=["api_key"])
        note(f"kimi: key stored in the OS keychain ({backend}); the config file only says so")
        return
    store.update({**values, "api_key": key}, remove=["api_key_store"])


def _ask(question: Callable[[], T]) -> T:
    """Ask until the answer is usable: a typo is explained and asked again, never fatal."""
    while True:
        try:
            return question()
        except UsageError as exc:
            sys.stderr.write(f"kimi: {exc.line()}\n")
        except (KeyboardInterrupt, EOFError, typer.Abort):
            sys.stderr.write("\n")  # end the prompt's line before the error line
            sys.stderr.flush()
            raise


def _ask_region(state: AppState) -> str:
    saved = state.store().get("region")
    current = saved if isinstance(saved, str) and saved in REGIONS_BY_NAME else "global"
    listed = " or ".join(f"{r.name} ({r.console}, {r.host})" for r in REGIONS_BY_NAME.values())
    choice = ask(f"Region: {listed}", default=current)
    word = choice.strip().lower()
    if word in REGIONS_BY_NAME:
        return word
    meant = REGION_ALIASES.get(word)
    if meant is not None:
        raise UsageError(f"{choice.strip()!r} is not a region name", hint=f"answer {meant}")
    consoles = ", ".join(f"{r.name} if it came from {r.console}" for r in REGIONS_BY_NAME.values())
    raise UsageError(f"unknown region {choice.strip()!r}", hint=f"answer {consoles}")


def _ask_key() -> str:
    key = ask("API key (input hidden)", hidden=True)
    return _checked_key(key, hint="paste only the key")


#: More than any key: what is read of stdin at most (``yes | kimi setup --key-stdin`` ends).
MAX_KEY_INPUT = 64 * 1024


def _read_key() -> str:
    data = sys.stdin.buffer.read(MAX_KEY_INPUT + 1)
    if len(data) > MAX_KEY_INPUT:
        raise UsageError(
            f"the input on stdin is too large for a key (more than {MAX_KEY_INPUT // 1024} KiB)",
            hint="pipe in only the key: pass show moonshot | kimi setup --key-stdin",
        )
    try:
        text = data.decode("utf-8-sig")  # -sig: a key file a Windows editor saved
    except UnicodeDecodeError:
        raise UsageError(
            "the key on stdin is not UTF-8 text",
            hint="pipe in only the key: pass show moonshot | kimi setup --key-stdin",
        ) from None
    lines = len(text.strip().splitlines())
    if lines > 1:  # a password manager's entry with more than the key (login, URL …)
        raise UsageError(
            f"the input on stdin has {lines} lines, not just the key",
            hint="pipe in only the key, e.g. its first line: "
            "pass show moonshot | head -n 1 | kimi setup --key-stdin",
        )
    return _checked_key(text, hint="pipe the key in: kimi setup --key-stdin")


def _checked_key(text: str, *, hint: str) -> str:
    from kimi_cli.config_store import key_problem

    key = text.strip()
    problem = key_problem(key)
    if problem is not None:
        raise UsageError(f"the key {problem}", hint=hint if not key else "paste only the key")
    return key


def _choose_model(
    models: list[Model], wanted: str | None, interactive: bool, *, explicit: bool
) -> Model | None:
    from kimi_cli.catalog import verify

    if explicit and wanted and not interactive:
        return verify(wanted, models)  # a script asked for this model: not listed is exit 5
    if not models:  # nothing to choose from: no question that cannot be answered
        warn(
            "no model saved: this key sees no models at all — check the account on the console"
            " that issued the key, then: kimi models"
        )
        return None
    current = next((m for m in models if m.id == wanted), None) if wanted else None
    if not interactive:
        if current is None:
            ids = ", ".join(m.id for m in models)
            warn(f"no model saved; available: {ids} — pick one: kimi models use ID")
        return current
    if explicit and wanted:
        try:
            return verify(wanted, models)
        except KimiError as exc:
            sys.stderr.write(f"kimi: {exc.line()}\n")
    from kimi_cli.catalog.retirements import retirement_line

    live = [m.id for m in models]
    for number, m in enumerate(models, 1):
        context = f"{m.context_length:,} tokens" if m.context_length else "context ?"
        retiring = retirement_line(m.id, live)
        after = f" — {retiring}" if retiring else ""
        sys.stderr.write(f"  {number}. {m.id}  ({context}){after}\n")
    default = (models.index(current) + 1) if current else 1
    return _ask(lambda: _pick(models, default))


def _pick(models: list[Model], default: int) -> Model:
    from kimi_cli.catalog import verify

    answer = ask("Model number or ID", default=str(default)).strip()
    if answer.isdigit():
        if 1 <= int(answer) <= len(models):
            return models[int(answer) - 1]
        raise UsageError(f"there is no model {answer}", hint=f"answer 1 to {len(models)} or an ID")
    try:
        return verify(answer, models)
    except KimiError as exc:
        from kimi_cli.catalog import diagnose

        right = diagnose(answer, [m.id for m in models]).suggestion
        raise UsageError(exc.message, hint=f"answer {right}" if right else exc.hint) from None
