"""Structured output: read a ``--schema`` argument, check it, validate an answer against it.

``--schema`` takes a JSON Schema file, inline JSON, or a short form::

    name, age int, tags str[]: the main topics

Fields are separated by commas or newlines. Each field is ``NAME [TYPE][: DESCRIPTION]``;
TYPE is ``str`` (the default), ``int``, ``float`` or ``bool``, and a ``[]`` suffix (or
the word ``list`` alone, meaning ``str[]``) makes it an array. Every field is required,
and no other field is allowed: the API's strict mode needs both.

jsonschema is imported only when a schema is used, so other commands do not pay for it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kimi_cli.errors import APIRequestError, UsageError

_SHORT_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "boolean": {"type": "boolean"},
}
_FIELD = re.compile(r"^(?P<name>[A-Za-z_][\w-]*)(?:\s+(?P<type>[A-Za-z]+(?:\[\])?))?$")
_NAME = re.compile(r"[^A-Za-z0-9_-]+")
SCHEMA_HELP = "a JSON Schema file, inline JSON, or a short form such as 'name, age int'"


@dataclass(frozen=True)
class OutputSchema:
    """A checked schema and the name it is sent under."""

    name: str
    schema: dict[str, Any]

    def response_format(self) -> dict[str, Any]:
        return {
            "type": "json_schema",
            "json_schema": {"name": self.name, "strict": True, "schema": self.schema},
        }


@dataclass(frozen=True)
class SchemaViolation:
    """The first way an answer breaks its schema."""

    path: str
    message: str


def load_schema(argument: str) -> OutputSchema:
    """Read ``--schema`` as a file, inline JSON or a short form, and check it (exit 2)."""
    text = argument.strip()
    if not text:
        raise UsageError("--schema is empty", hint=f"give {SCHEMA_HELP}")
    name = "answer"
    path = Path(text) if "\n" not in text and not text.startswith("{") else None
    if path is not None and (path.suffix == ".json" or _is_file(path)):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the schema file {path}: {_reason(exc)}") from exc
        name = _NAME.sub("_", path.stem).strip("_") or name
        schema = _parse_json(text, where=str(path))
    elif text.startswith("{"):
        schema = _parse_json(text, where="--schema")
    else:
        schema = parse_short_form(text)
    check_schema(schema)
    return OutputSchema(name=str(schema.get("title") or name)[:64], schema=schema)


def parse_short_form(text: str) -> dict[str, Any]:
    """Turn ``'name, age int, tags str[]: topics'`` into an object schema."""
    properties: dict[str, Any] = {}
    for raw in re.split(r"[,\n]", text):
        field = raw.strip()
        if not field:
            continue
        spec, _, description = field.partition(":")
        match = _FIELD.match(spec.strip())
        if match is None:
            raise UsageError(
                f"--schema: cannot read the field {field!r}",
                hint="write NAME [str|int|float|bool][[]][: description], separated by commas",
            )
        name = match["name"]
        if name in properties:
            raise UsageError(f"--schema: the field {name!r} is given twice")
        properties[name] = _short_type(match["type"] or "str", field)
        if description.strip():
            properties[name]["description"] = description.strip()
    if not properties:
        raise UsageError("--schema names no field", hint=f"give {SCHEMA_HELP}")
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def check_schema(schema: object) -> None:
    """Refuse, before sending, what the API is known to refuse (exit 2)."""
    if not isinstance(schema, dict):
        raise UsageError("--schema must be a JSON object (a JSON Schema)")
    if schema.get("type") != "object":
        raise UsageError(
            '--schema: the root of the schema must be an object ({"type": "object", …})',
            hint="wrap the value in an object with one property",
        )
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = _json_path(list(exc.absolute_path))
        raise UsageError(f"--schema is not a valid JSON Schema at {where}: {exc.message}") from exc


def first_violation(schema: dict[str, Any], answer: str) -> SchemaViolation | None:
    """The first error of ``answer`` against ``schema``, or None when it validates."""
    try:
        document = json.loads(answer)
    except json.JSONDecodeError as exc:
        return SchemaViolation("$", f"the answer is not JSON ({exc.msg} at character {exc.pos})")
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        # The path of what is missing, not of the object that misses it.
        missing = [n for n in error.validator_value if n not in error.instance]
        path += missing[:1]
    return SchemaViolation(_json_path(path), error.message)


def violation_error(violation: SchemaViolation, *, cut_at: str | None = None) -> APIRequestError:
    """The one line for an answer that breaks the schema. ``cut_at`` (the token limit, as
    " (N tokens)" or "") when the answer stopped at it: then the limit is the cause, not the
    model or the schema."""
    if cut_at is not None:
        return APIRequestError(
            f"the answer was cut at the token limit{cut_at} before the JSON was complete",
            hint="raise it with --max-tokens; the raw answer is kept in history"
            " (kimi history show)",
        )
    return APIRequestError(
        f"the answer does not match the schema at {violation.path}: {violation.message}",
        hint="the raw answer is kept in history (kimi history show); retry or loosen the schema",
    )


def _short_type(word: str, field: str) -> dict[str, Any]:
    if word == "list":
        return {"type": "array", "items": {"type": "string"}}
    is_array = word.endswith("[]")
    base = _SHORT_TYPES.get(word.removesuffix("[]").lower())
    if base is None:
        raise UsageError(
            f"--schema: unknown type {word!r} in {field!r}",
            hint="use str, int, float or bool, with [] for a list",
        )
    return {"type": "array", "items": dict(base)} if is_array else dict(base)


def _parse_json(text: str, *, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a JSON object (a JSON Schema)")
    return value


def _json_path(parts: list[Any]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL byte, is no file
        return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return getattr(exc, "strerror", None) or type(exc).__name__
