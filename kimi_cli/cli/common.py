"""Small helpers every command uses."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from kimi_cli.cli.state import AppState
from kimi_cli.config import Settings, region_url

if TYPE_CHECKING:  # httpx stays unimported until a command talks to the API
    from collections.abc import Callable

    from kimi_cli.api.client import KimiClient
    from kimi_cli.catalog.access import OtherRegion


def state_of(ctx: typer.Context) -> AppState:
    return ctx.ensure_object(AppState)


def other_region(state: AppState, settings: Settings) -> OtherRegion | None:
    name = settings.other_region()
    if name is None:
        return None
    from kimi_cli.catalog.access import OtherRegion
    from kimi_cli.hints import region_fix

    fix = region_fix(name, settings.base_url_source)
    return OtherRegion(name=name, base_url=region_url(name, state.env), fix=fix)


def client_factory(state: AppState, api_key: str) -> Callable[[str], KimiClient]:
    return lambda base_url: state.client(base_url, api_key)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
