"""Tables for people on a terminal (rich)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from kimi_cli.api.types import Model


def _yes(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def print_models(models: Sequence[Model], configured: str | None) -> None:
    table = Table(box=None, pad_edge=False)
    table.add_column("")
    table.add_column("model")
    table.add_column("context", justify="right")
    table.add_column("reasoning")
    table.add_column("vision")
    for model in models:
        mark = "*" if model.id == configured else ""
        context = f"{model.context_length:,}" if model.context_length else "?"
        table.add_row(
            mark, model.id, context, _yes(model.supports_reasoning), _yes(model.supports_image_in)
        )
    console = Console()
    console.print(table)
    if configured and all(m.id != configured for m in models):
        Console(stderr=True).print(
            f"[yellow]the configured model {configured} is not in this list[/] "
            "— pick one with 'kimi models use ID'"
        )
