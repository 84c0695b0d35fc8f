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
    """The document, all of it or ``BrokenPipeError`` (exit 141): a large write cut short by
    a reader that went away (``| head -c1``) comes back as a short count, not an error, so
    what is left is written again until it is all out or the pipe refuses."""
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # a caller's text-only stream
        out.write(text)
        out.flush()
        return
    out.flush()
    rest = memoryview(text.encode(out.encoding or "utf-8", "replace"))
    while rest:
        rest = rest[buffer.write(rest) or 0 :]
    buffer.flush()
