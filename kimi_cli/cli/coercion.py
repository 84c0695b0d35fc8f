"""Typer's conversion of parameter values, without pydantic on the common path.

Typer (0.29) converts every value of an invoked command through a pydantic ``TypeAdapter``
that it builds on first use: importing pydantic and building the adapters costs about 0.1 s
on every run of every command (measured in docs/performance.md), a third of a one-shot chat.
kimi's parameters are plain (str, int, float, a StrEnum, a Path, lists of these; bools do not
reach the adapters), so ``install`` gives each parameter a converter that handles valid plain
values the way the adapters do, in plain Python, and hands everything else, every invalid
value included, to Typer's own converter, so that results and error messages stay Typer's.

It relies on private names of Typer (``_TyperParameter._runtime_param``, ``typer._coercion``,
``typer._param_types``), so it is fenced three ways: pyproject.toml caps Typer below the next
minor release; if the names are not there, or anything at all goes wrong while installing,
``install`` leaves Typer's own conversion in place; and a conversion that fails in any way
other than "not a plain value" is handed to Typer's own converter too. Typer before 0.29 has
no pydantic and no ``typer._coercion``: there this module does nothing. Tests:
``tests/cli/test_coercion.py`` checks, for every parameter of every command, that both ways
give the same result, and that kimi works when the private names are gone.
"""

from __future__ import annotations

import contextlib
import re
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

_INT = re.compile(r"[0-9]{1,18}")
_FLOAT = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")


#: What the plain converter returns for a value that is not plainly valid: Typer converts it
#: then (and words any error).
_UNSURE: Any = object()


try:
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path

    class PlainRuntimeParam(RuntimeParam):
        """Converts plain values itself; anything else goes to Typer's converter.

        Not a dataclass of its own: making one costs more than a run uses it for."""

        descriptor: TypeDescriptor

        def __init__(self, descriptor: TypeDescriptor) -> None:
            super().__init__(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
            object.__setattr__(self, "descriptor", descriptor)  # frozen, like its base

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                plain = _convert(self.annotation, self.parameter_info, value, param, ctx)
            except Exception:  # a Typer whose private helpers changed
                plain = _UNSURE
            if plain is not _UNSURE:
                return plain
            typer_own = build_runtime_param(self.descriptor)
            param._runtime_param = typer_own  # this parameter's later values go there too
            return typer_own._coerce_value(value, param=param, ctx=ctx)

except Exception:  # another Typer: keep its own conversion
    _AVAILABLE = False
else:
    _AVAILABLE = True


def install(command: Any) -> None:
    """Give every parameter of ``command`` and its subcommands the plain converter (the
    help option too, which Click makes when a command is first parsed)."""
    if not _AVAILABLE:
        return
    try:
        _install(command)
    except Exception:  # a Typer whose internals changed: its own conversion stays
        _uninstall(command)


def _install(command: Any) -> None:
    for param in getattr(command, "params", ()):
        if getattr(param, "_runtime_param", "absent") is None:  # Typer builds it on first use
            param._runtime_param = PlainRuntimeParam(param.type_descriptor)
    make_help_option = getattr(command, "get_help_option", None)
    if make_help_option is not None:

        def get_help_option(ctx: Any) -> Any:
            option = make_help_option(ctx)
            if getattr(option, "_runtime_param", "absent") is None:
                with contextlib.suppress(Exception):
                    option._runtime_param = PlainRuntimeParam(option.type_descriptor)
            return option

        command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        _install(sub)


def _uninstall(command: Any) -> None:
    for param in getattr(command, "params", ()):
        param._runtime_param = None  # as before install: Typer builds its own on first use
    for sub in getattr(command, "commands", {}).values():
        _uninstall(sub)


def _convert(annotation: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    if get_origin(annotation) is list:
        (item_type,) = get_args(annotation)
        if not isinstance(value, list | tuple):
            return _UNSURE
        items = []
        for item in value:
            converted = _leaf(item_type, info, item, param, ctx)
            if converted is _UNSURE:
                return _UNSURE
            items.append(converted)
        return items
    return _leaf(annotation, info, value, param, ctx)


def _leaf(annotation: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    if info.parser is not None or not isinstance(annotation, type):
        return _UNSURE
    if issubclass(annotation, Enum):
        try:
            return coerce_cli_choice(
                value, choices=tuple(annotation), case_sensitive=info.case_sensitive, ctx=ctx
            )
        except ValueError:
            return _UNSURE
    if annotation is str:
        if type(value) is str:
            return value
        return _UNSURE
    if annotation is int or annotation is float:
        if info.min is not None or info.max is not None or info.clamp:
            return _UNSURE
        if type(value) is str and (_INT if annotation is int else _FLOAT).fullmatch(value):
            return annotation(value)
        if annotation is int and type(value) is int:
            return value
        return _UNSURE
    if annotation is not bool and routes_to_path(annotation, info):
        path_type = info.path_type or annotation
        if path_type is Path and type(value) is str and value and "\x00" not in value:
            return coerce_cli_path(Path(value), info, path_type=path_type, param=param, ctx=ctx)
    return _UNSURE
