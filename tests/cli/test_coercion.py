"""kimi's plain converter gives what Typer's own gives, for every parameter of every command."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import typer

pytest.importorskip("typer._coercion")  # Typer before 0.29 converts without pydantic

from typer._coercion import build_runtime_param

from kimi_cli.cli import coercion
from kimi_cli.cli.app import app

STRINGS = ["", "x", "ECHO hi", "ünï 雪", "-", "--", "a\x00b", " padded "]
INTS = ["0", "12", "0012", "-1", "+3", " 5", "5 ", "1.5", "1e3", "abc", "", "1_000"]
INTS += ["99999999999999999999", "٣", 5, 0]
FLOATS = ["0", "1.5", "0.50", "1e3", ".5", "5.", "-1", "+1", "inf", "nan", "abc", "", " 1"]
FLOATS += ["1_0.5", "٣.٣", "0.1000000000000000055511151231257827"]


def _params(command: Any, path: str = "kimi") -> list[tuple[str, Any, Any]]:
    found = [(f"{path} {p.name}", command, p) for p in command.params]
    for name, sub in getattr(command, "commands", {}).items():
        found += _params(sub, f"{path} {name}")
    return found


def _samples(annotation: Any, tmp: Path) -> list[Any]:
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        leaves = _samples(item, tmp)
        return [(), tuple(leaves[:3]), tuple(leaves), [leaves[0]], leaves[0]]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        values = [m.value for m in annotation]
        return [*values, *(v.upper() for v in values), "bogus", "", next(iter(annotation))]
    if annotation is bool:  # Typer passes bools by; other values go to its converter
        return [True, False, "true", "1", "no", ""]
    if annotation is int:
        return INTS
    if annotation is float:
        return FLOATS
    if annotation is Path:
        (tmp / "file.txt").write_text("x", encoding="utf-8")
        return [str(tmp / "file.txt"), str(tmp / "missing"), str(tmp), "", "-", "a\x00b"]
    return STRINGS


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
        return "ok", (type(result), repr(result))  # repr: nan == nan
    except Exception as exc:  # compare the very error Typer raises
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return type(exc).__name__, message


PARAMS = _params(typer.main.get_command(app))


@pytest.mark.parametrize(("name", "command", "param"), PARAMS, ids=[p[0] for p in PARAMS])
def test_plain_converter_matches_typer(name: str, command: Any, param: Any, tmp_path: Path) -> None:
    descriptor = param.type_descriptor
    plain = coercion.PlainRuntimeParam(descriptor)
    ctx = typer.Context(command)
    for value in [None, *_samples(descriptor.annotation, tmp_path)]:
        expected = _outcome(build_runtime_param(descriptor), value, param, ctx)
        param._runtime_param = None
        got = _outcome(plain, value, param, ctx)
        param._runtime_param = None
        assert got == expected, (name, value)


def test_install_reaches_every_parameter() -> None:
    command = typer.main.get_command(app)
    coercion.install(command)
    for name, _, param in _params(command):
        assert isinstance(param._runtime_param, coercion.PlainRuntimeParam), name
