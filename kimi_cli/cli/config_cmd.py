"""``kimi config show|path|set|unset``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kimi_cli.cli.common import print_json, state_of
from kimi_cli.cli.completion import complete_config_keys
from kimi_cli.config import CONFIG_KEYS, coerce_value, resolve_settings

app = typer.Typer(
    help="Show or change the saved settings (config.toml).\n\nExample: kimi config set timeout 60",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config")


@app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print {KEY: {value, source}}.")] = False,
) -> None:
    """Every setting in effect and where it came from (the key masked).

    Example: kimi config show --json
    """
    state = state_of(ctx)  # api_key_cmd is not run: show says where the key would come from
    settings = resolve_settings(state.options, state.env, state.store(), run_key_cmd=False)
    rows = settings.describe()
    if as_json:
        print_json(rows)
        return
    width = max(len(k) for k in rows)
    lines = [
        f"{key.ljust(width)}  {_shown(row['value'])}  ({row['source']})"
        for key, row in rows.items()
    ]
    sys.stdout.write("\n".join(lines) + f"\n{'file'.ljust(width)}  {settings.config_path}\n")


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print the path of the config file.

    Example: $EDITOR "$(kimi config path)"
    """
    sys.stdout.write(f"{state_of(ctx).store().path}\n")


@app.command("set", context_settings={"ignore_unknown_options": True})
def set_(
    ctx: typer.Context,
    key: Annotated[
        str,
        typer.Argument(
            help="One of: " + ", ".join(CONFIG_KEYS), autocompletion=complete_config_keys
        ),
    ],
    value: Annotated[str, typer.Argument(help="The new value.")],
) -> None:
    """Save one setting. A model is verified against GET /models first; the API key is
    never taken on the command line (use 'kimi setup --key-stdin').

    Example: kimi config set region cn
    """
    state = state_of(ctx)
    store = state.store()
    coerced = coerce_value(key, value)  # a negative number is a value here, not an option
    if key == "model":
        from kimi_cli.cli.models_cmd import verify_and_store

        verify_and_store(state, str(coerced))
        return
    store.set(key, coerced)
    shown = coerced if key != "api_key_cmd" else value
    sys.stderr.write(f"kimi: {key} set to {_shown(shown)} in {store.path}\n")


@app.command("unset")
def unset(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The setting to remove.")],
) -> None:
    """Remove one setting from the config file (its default applies again).

    Example: kimi config unset base_url
    """
    store = state_of(ctx).store()
    removed = store.unset(key)
    sys.stderr.write(f"kimi: {key} {'removed' if removed else 'was not set'} in {store.path}\n")
