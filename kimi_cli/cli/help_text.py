"""What ``--help`` calls things: plain names for values (``--file PATH``, ``MODEL``) instead
of type names (``<list[Path]>``, ``{model_id}``), and each command's first sentence whole in
``kimi --help``. Applied to the built command tree, so every command gets it, new ones too;
a ``metavar=`` written on a parameter wins."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

#: Options whose value is better named than by the option itself.
OPTION_VALUES = {
    "--base-url": "URL",
    "--file": "PATH",
    "--limit": "N",
    "--max-tokens": "N",
    "--port-file": "PATH",
    "--role": "NAME",
    "--session": "ID",
    "--system": "TEXT",
    "--timeout": "SECONDS",
    "--token-delay": "SECONDS",
}
#: Arguments likewise (by parameter name); others are their name in capitals.
ARGUMENT_VALUES = {"model_id": "MODEL", "conversation_id": "ID"}


def humanize(command: Any) -> None:
    """Name the values of ``command`` and of every command under it."""
    for param in getattr(command, "params", ()):
        with contextlib.suppress(Exception):  # a Typer that draws help otherwise keeps its own
            _name_value(param)
    for sub in getattr(command, "commands", {}).values():
        if sub.short_help is None and sub.help:
            # Click cuts the first sentence at ~45 characters; the list wraps a longer one.
            paragraph = sub.help.split("\n\n", 1)[0].replace("\n", " ").strip()
            sentence, stop, _ = paragraph.partition(". ")
            sub.short_help = sentence + "." if stop else paragraph
        humanize(sub)


def _name_value(param: Any) -> None:
    if getattr(param, "is_flag", False) or _is_choice(param):
        return
    if param.param_type_name == "argument":
        name = param.metavar or ARGUMENT_VALUES.get(param.name, param.name.upper())
        param.metavar = name
        usage = name if param.required or name.startswith("[") else f"[{name}]"
        usage += "..." if param.nargs != 1 else ""
        param.get_usage_pieces = lambda ctx: [usage]
        param.display_type_rich = lambda ctx: None  # the name says it; no "<str>" after it
        return
    if param.metavar is not None:
        return
    long = max(param.opts, key=len)
    param.metavar = OPTION_VALUES.get(long) or (
        "PATH" if _annotation(param) is Path else long.lstrip("-").upper().replace("-", "_")
    )


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    args = getattr(annotation, "__args__", None)  # list[Path] -> Path
    return args[0] if args else annotation


def _is_choice(param: Any) -> bool:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return bool(descriptor.is_choice)
    return type(getattr(param, "type", None)).__name__ == "Choice"
