"""Small helpers every command uses."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from kimi_cli.cli.state import AppState


def state_of(ctx: typer.Context) -> AppState:
    return ctx.ensure_object(AppState)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
