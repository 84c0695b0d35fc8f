"""``response_format: json_schema``: the checks the API makes on the schema, and a
deterministic instance of it as the answer.

Facts (docs/api-notes.md, structured output): ``{"type": "json_schema", "json_schema": {"name",
"strict" (default true), "schema"}}``; the schema follows Moonshot's JSON Schema flavour, whose
root is an object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .api_error import ApiError, bad

TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "not", "additionalProperties", "contains")
_FORMATS = {
    "date": "2026-11-30",
    "date-time": "2026-11-30T12:00:00Z",
    "time": "12:00:00",
    "email": "someone@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _invalid(path: str, reason: str) -> ApiError:
    return bad(
        f"Invalid request: response_format.json_schema.schema is invalid at {path}: {reason}"
    )


def check_response_schema(fmt: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema of a ``json_schema`` response format, once it passed the API's checks."""
    spec = fmt.get("json_schema")
    if not isinstance(spec, Mapping):
        raise bad("invalid response_format: json_schema needs a name and a schema object")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise bad("invalid response_format: json_schema.name must be a non-empty string")
    if "strict" in spec and not isinstance(spec["strict"], bool):
        raise bad("invalid response_format: json_schema.strict must be true or false")
    schema = spec.get("schema")
    if not isinstance(schema, Mapping):
        raise bad("invalid response_format: json_schema needs a name and a schema object")
    root = schema.get("type", "object" if "properties" in schema else None)
    if root != "object":
        raise bad(
            "Invalid request: response_format.json_schema.schema must have type object at the root"
        )
    _check_node(schema, schema, "#")
    return schema


def _check_node(node: Any, root: Mapping[str, Any], path: str) -> None:
    if isinstance(node, bool):
        return
    if not isinstance(node, Mapping):
        raise _invalid(path, "a schema must be an object")
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    for one in kinds:
        if one not in TYPES:
            raise _invalid(path, f"unknown type {one!r}")
    if "required" in node:
        required = node["required"]
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise _invalid(path, "required must be a list of property names")
    if "enum" in node and (not isinstance(node["enum"], list) or not node["enum"]):
        raise _invalid(path, "enum must be a non-empty list")
    ref = node.get("$ref")
    if ref is not None and _resolve(ref, root) is None:
        raise _invalid(path, f"$ref {ref!r} does not resolve")
    for key in _SCHEMA_MAPS:
        if key in node:
            children = node[key]
            if not isinstance(children, Mapping):
                raise _invalid(path, f"{key} must be an object")
            for name, child in children.items():
                _check_node(child, root, f"{path}/{key}/{name}")
    for key in _SCHEMA_LISTS:
        if key in node:
            children = node[key]
            if not isinstance(children, list) or not children:
                raise _invalid(path, f"{key} must be a non-empty list")
            for i, child in enumerate(children):
                _check_node(child, root, f"{path}/{key}/{i}")
    for key in _SCHEMA_ONE:
        if key in node:
            _check_node(node[key], root, f"{path}/{key}")


def _resolve(ref: Any, root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node: Any = root
    for part in [p for p in ref[1:].split("/") if p]:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, Mapping) else None


def instance(schema: Mapping[str, Any]) -> Any:
    """A deterministic value that validates against ``schema`` (for the usual keywords)."""
    return _value(schema, schema, "value", 0)


def _value(node: Any, root: Mapping[str, Any], name: str, depth: int) -> Any:
    if not isinstance(node, Mapping) or depth > 12:
        return None if depth > 12 else f"example {name}"
    if "$ref" in node:
        target = _resolve(node["$ref"], root)
        return _value(target, root, name, depth + 1) if target is not None else None
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    for key in ("anyOf", "oneOf"):
        branches = node.get(key)
        if isinstance(branches, list) and branches:
            usable = [
                b for b in branches if not (isinstance(b, Mapping) and b.get("type") == "null")
            ]
            return _value((usable or branches)[0], root, name, depth + 1)
    if isinstance(node.get("allOf"), list) and node["allOf"]:
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            if isinstance(part, Mapping):
                merged.update(part)
        merged.update({k: v for k, v in node.items() if k != "allOf"})
        return _value(merged, root, name, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in node else "array" if "items" in node else "string"
    return _typed(kind, node, root, name, depth)


def _typed(
    kind: str, node: Mapping[str, Any], root: Mapping[str, Any], name: str, depth: int
) -> Any:
    if kind == "object":
        properties = node.get("properties")
        if not isinstance(properties, Mapping):
            return {}
        return {k: _value(v, root, k, depth + 1) for k, v in properties.items()}
    if kind == "array":
        count = max(int(node.get("minItems", 1)), 1)
        if isinstance(node.get("maxItems"), int):
            count = min(count, node["maxItems"])
        item = node.get("items", {"type": "string"})
        return [_value(item, root, name, depth + 1) for _ in range(count)]
    if kind == "string":
        text = _FORMATS.get(str(node.get("format")), f"example {name}")
        minimum, maximum = node.get("minLength"), node.get("maxLength")
        if isinstance(minimum, int) and len(text) < minimum:
            text += "x" * (minimum - len(text))
        if isinstance(maximum, int):
            text = text[:maximum]
        return text
    if kind in ("integer", "number"):
        return _number(node, integer=kind == "integer")
    if kind == "boolean":
        return True
    return None


def _number(node: Mapping[str, Any], *, integer: bool) -> int | float:
    low = node.get("minimum")
    if low is None and isinstance(node.get("exclusiveMinimum"), int | float):
        low = node["exclusiveMinimum"] + (1 if integer else 0.5)
    high = node.get("maximum")
    if high is None and isinstance(node.get("exclusiveMaximum"), int | float):
        high = node["exclusiveMaximum"] - (1 if integer else 0.5)
    value: float = 1 if integer else 1.5
    if isinstance(low, int | float):
        value = max(value, low)
    if isinstance(high, int | float):
        value = min(value, high)
    return int(value) if integer else float(value)


def broken(schema: Mapping[str, Any]) -> Any:
    """An answer that breaks the schema: a required property left out, else a property of the
    wrong type, else an array where an object belongs."""
    value = instance(schema)
    if not isinstance(value, dict):
        return []
    required = schema.get("required")
    if isinstance(required, list) and required and required[0] in value:
        del value[required[0]]
        return value
    if value:
        first = next(iter(value))
        value[first] = (
            12345 if isinstance(value[first], str) else f"not a {type(value[first]).__name__}"
        )
        return value
    return []
