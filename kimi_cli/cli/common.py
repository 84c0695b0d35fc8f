"""Small helpers every command uses."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
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


def print_json_items(head: dict[str, Any], key: str, items: Iterable[Any]) -> None:
    """``print_json({**head, key: list(items)})`` byte for byte (``key`` in its place in
    ``head``, or last), written an item at a time, so a document of 100,000 items is never
    held whole."""
    mark = "\x00items\x00"  # in the document's text as "\u0000items\u0000", found once
    text = json.dumps({**head, key: mark}, ensure_ascii=False, indent=2)
    before, after = text.split(json.dumps(mark), 1)
    out = sys.stdout
    out.write(before + "[")
    empty = True
    for item in items:
        piece = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        out.write(("\n    " if empty else ",\n    ") + piece)
        empty = False
    out.write(("]" if empty else "\n  ]") + after + "\n")
    out.flush()
