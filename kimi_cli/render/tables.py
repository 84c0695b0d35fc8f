"""Tables for people on a terminal (rich)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console
from rich.table import Table

from kimi_cli.api.types import Model


def _yes(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def _context(model: Model) -> str:
    return f"{model.context_length:,}" if model.context_length else "?"


# Optional columns in the order they are given up when the terminal is narrow (last first):
# the model ID is what people copy, so it is never cut.
_COLUMNS: tuple[tuple[str, Callable[[Model], str], bool], ...] = (
    ("context", _context, True),
    ("reasoning", lambda m: _yes(m.supports_reasoning), False),
    ("vision", lambda m: _yes(m.supports_image_in), False),
)


def _fitting_columns(models: Sequence[Model], width: int) -> int:
    """How many optional columns fit beside the full IDs in ``width`` cells."""
    used = 2 + max((len(m.id) for m in models), default=5)  # mark column + gap, then IDs
    count = 0
    for header, cell, _ in _COLUMNS:
        needed = 2 + max(len(header), *(len(cell(m)) for m in models))
        if used + needed > width:
            break
        used += needed
        count += 1
    return count


def print_models(
    models: Sequence[Model], configured: str | None, notes: dict[str, str] | None = None
) -> None:
    """The model table; ``notes`` (model id -> a line, e.g. a retirement) go below it."""
    console = Console()
    shown = _COLUMNS[: _fitting_columns(models, console.width)]
    table = Table(box=None, pad_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("model", no_wrap=True, overflow="ignore")
    for header, _, right in shown:
        table.add_column(header, justify="right" if right else "left", no_wrap=True)
    for model in models:
        mark = "*" if model.id == configured else ""
        table.add_row(mark, model.id, *(cell(model) for _, cell, _ in shown))
    console.print(table, crop=False)
    for model_id, note in (notes or {}).items():
        console.print(f"{model_id}: {note}", highlight=False, markup=False)
    if configured and all(m.id != configured for m in models):
        Console(stderr=True).print(
            f"[yellow]the configured model {configured} is not in this list[/] "
            "— pick one with 'kimi models use ID'"
        )
