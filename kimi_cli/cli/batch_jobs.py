"""``kimi batch status|list|cancel|wait|results``: following a submitted job."""

from __future__ import annotations

import typer


def add_commands(app: typer.Typer) -> None:
    return None
