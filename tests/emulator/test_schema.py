"""``response_format: json_schema``: an answer that is an instance of the schema, the API's
refusals, and the fault that breaks the schema."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from kimi_cli.emulator import Emulator

from .helpers import chat_stream, user
from .openapi import assert_valid_chat_request

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18},
        "score": {"type": "number", "maximum": 1},
        "member": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "level": {"enum": ["low", "high"]},
        "born": {"type": "string", "format": "date"},
        "address": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 4}},
            "required": ["city"],
        },
        "nick": {"type": ["string", "null"], "minLength": 20},
        "pet": {"$ref": "#/$defs/pet"},
        "either": {"anyOf": [{"type": "null"}, {"type": "integer", "exclusiveMinimum": 5}]},
    },
    "required": ["name", "age", "tags"],
    "$defs": {"pet": {"type": "object", "properties": {"kind": {"const": "cat"}}}},
}


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _format(schema: Any, name: str = "person", **extra: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, **extra}}


def _ask(client: httpx.Client, fmt: dict[str, Any], prompt: str = "who?") -> httpx.Response:
    return client.post(
        "/chat/completions",
        json={"model": "kimi-k3", "messages": user(prompt), "response_format": fmt},
    )


def test_answer_is_an_instance_of_the_schema(client: httpx.Client, emulator: Emulator) -> None:
    response = _ask(client, _format(PERSON, strict=True))
    assert response.status_code == 200
    document = json.loads(response.json()["choices"][0]["message"]["content"])
    jsonschema.validate(document, PERSON)
    assert document["age"] == 18
    assert document["level"] == "low"
    assert document["born"] == "2026-11-30"
    assert document["pet"] == {"kind": "cat"}
    assert len(document["tags"]) == 2
    assert (
        _ask(client, _format(PERSON)).json()["choices"][0]["message"]["content"]
        == (response.json()["choices"][0]["message"]["content"])
    )  # deterministic
    assert_valid_chat_request(emulator.stats()["bodies"]["chat"][-1])


def test_streamed_instance(client: httpx.Client) -> None:
    _, stream = chat_stream(
        client, model="kimi-k2.6", messages=user("x"), response_format=_format(PERSON)
    )
    jsonschema.validate(json.loads(stream.text()), PERSON)


def test_echo_still_echoes(client: httpx.Client) -> None:
    response = _ask(client, _format(PERSON), prompt='ECHO {"name": 1}')
    assert response.json()["choices"][0]["message"]["content"] == '{"name": 1}'


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        (_format({"type": "array", "items": {}}), "must have type object at the root"),
        (_format({"type": "string"}), "must have type object at the root"),
        (_format(_object(a={"type": "text"})), "unknown type 'text'"),
        (_format({"type": "object", "required": "a"}), "required must be a list"),
        (_format(_object(a={"$ref": "#/$defs/x"})), "does not resolve"),
        (_format(_object(a={"enum": []})), "enum must be a non-empty"),
        (_format({"type": "object", "properties": []}), "properties must be an object"),
        (_format({"type": "object"}, name=""), "json_schema.name must be a non-empty string"),
        (_format({"type": "object"}, strict="yes"), "strict must be true or false"),
        ({"type": "json_schema"}, "json_schema needs a name and a schema object"),
    ],
)  # fmt: skip
def test_refused_schemas(client: httpx.Client, fmt: dict[str, Any], message: str) -> None:
    response = _ask(client, fmt)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert message in error["message"]


def test_schema_broken_fault(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(faults=["schema_broken:once"])
    document = json.loads(_ask(client, _format(PERSON)).json()["choices"][0]["message"]["content"])
    assert "name" not in document  # the first required property is left out
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, PERSON)
    emulator.configure(faults=["schema_broken:once"])
    loose = {"type": "object", "properties": {"n": {"type": "integer"}}}
    content = _ask(client, _format(loose)).json()["choices"][0]["message"]["content"]
    assert json.loads(content) == {"n": "not a int"}
    fixed = _ask(client, _format(loose)).json()["choices"][0]["message"]["content"]
    assert json.loads(fixed) == {"n": 1}
