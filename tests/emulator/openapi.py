"""Check captured request bodies against the official OpenAPI document (tests/data).

The document's chat request is a ``oneOf`` keyed by ``model``; a model it does not list yet
(the K3 family, K2.7 Code) is checked against the shared ``ChatRequestBase``. Its ``Message``
predates tool turns (roles system/user/assistant, content required), so a body carrying
``tool`` messages or assistant tool calls is checked with ``tool_turns=True``: those messages
against the tool-calling guide's shape, every other message against ``Message``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "moonshot-openapi.json"

_TOOL_CALL = {
    "type": "object",
    "required": ["id", "type", "function"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name", "arguments"],
            "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
        },
    },
}
TOOL_TURN_MESSAGE = {
    "oneOf": [
        {
            "type": "object",
            "required": ["role", "tool_calls"],
            "properties": {
                "role": {"const": "assistant"},
                "content": {"type": "string"},
                "reasoning_content": {"type": "string"},
                "tool_calls": {"type": "array", "minItems": 1, "items": _TOOL_CALL},
            },
        },
        {
            "type": "object",
            "required": ["role", "tool_call_id", "content"],
            "properties": {
                "role": {"const": "tool"},
                "tool_call_id": {"type": "string", "minLength": 1},
                "name": {"type": "string"},
                "content": {"type": "string"},
            },
        },
    ]
}


@cache
def spec() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return value


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": spec()["components"]})


def chat_request_schema(model: str) -> dict[str, Any]:
    """The document's request schema for ``model`` (``ChatRequestBase`` when unlisted)."""
    body = spec()["paths"]["/v1/chat/completions"]["post"]["requestBody"]
    mapping = body["content"]["application/json"]["schema"]["discriminator"]["mapping"]
    ref = mapping.get(model, "#/components/schemas/ChatRequestBase")
    return {"$ref": ref}


def chat_request_errors(body: dict[str, Any], *, tool_turns: bool = False) -> list[str]:
    """Every violation, as ``path: message``; ``[]`` when the body passes."""
    errors: list[str] = []
    if not isinstance(body.get("model"), str):
        errors.append("model: a string is required")
    checked = dict(body)
    if tool_turns:
        messages = list(body.get("messages") or [])
        turn = Draft202012Validator(TOOL_TURN_MESSAGE)
        plain = []
        for i, message in enumerate(messages):
            if message.get("role") == "tool" or message.get("tool_calls"):
                errors += [
                    f"messages/{i}/{e.json_path}: {e.message}" for e in turn.iter_errors(message)
                ]
            else:
                plain.append(message)
        checked["messages"] = plain
    validator = _validator(chat_request_schema(str(body.get("model"))))
    errors += [f"{e.json_path}: {e.message}" for e in validator.iter_errors(checked)]
    return errors


def assert_valid_chat_request(body: dict[str, Any], *, tool_turns: bool = False) -> None:
    errors = chat_request_errors(body, tool_turns=tool_turns)
    assert not errors, "the request breaks the official OpenAPI schema:\n" + "\n".join(errors)


def assert_valid(schema_name: str, value: Any) -> None:
    """A response body against one of the document's component schemas."""
    validator = _validator({"$ref": f"#/components/schemas/{schema_name}"})
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(value)]
    assert not errors, f"not a valid {schema_name}:\n" + "\n".join(errors)
