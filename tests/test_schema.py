"""--schema: the three ways to give a schema, the checks before sending, the answer's check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kimi_cli.errors import ExitCode, UsageError
from kimi_cli.schema import first_violation, load_schema, parse_short_form

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name"],
}


def test_short_form_gives_strict_object_with_types_and_descriptions() -> None:
    schema = parse_short_form("name, age int, score float, ok bool, tags str[]: the main topics")
    assert schema["required"] == ["name", "age", "score", "ok", "tags"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["name"] == {"type": "string"}
    assert props["age"] == {"type": "integer"}
    assert props["score"] == {"type": "number"}
    assert props["ok"] == {"type": "boolean"}
    assert props["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "the main topics",
    }


def test_short_form_description_keeps_commas_out_and_newlines_separate() -> None:
    schema = parse_short_form("title: a short title\nyear int")
    assert schema["properties"]["title"]["description"] == "a short title"
    assert schema["properties"]["year"] == {"type": "integer"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name, age integr", "unknown type 'integr'"),
        ("name, name", "given twice"),
        ("9lives", "cannot read the field"),
        (" , ", "names no field"),
    ],
)
def test_short_form_mistakes_are_usage_errors(text: str, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_schema(text)
    assert words in caught.value.message
    assert caught.value.exit_code == ExitCode.USAGE


def test_inline_json_and_file_give_the_same_schema(tmp_path: Path) -> None:
    path = tmp_path / "person.json"
    path.write_text(json.dumps(PERSON), encoding="utf-8")
    from_file = load_schema(str(path))
    inline = load_schema(json.dumps(PERSON))
    assert from_file.schema == inline.schema == PERSON
    assert from_file.name == "person"
    body = from_file.response_format()
    assert body == {
        "type": "json_schema",
        "json_schema": {"name": "person", "strict": True, "schema": PERSON},
    }


@pytest.mark.parametrize(
    ("argument", "words"),
    [
        ('{"type": "array", "items": {"type": "string"}}', "root of the schema must be an object"),
        ('{"type": "object", "properties": {"a": {"type": "strin"}}}', "not a valid JSON Schema"),
        ('{"type": "object",', "not valid JSON"),
        ("missing.json", "cannot read the schema file"),
    ],
)
def test_schemas_the_api_refuses_are_refused_before_sending(argument: str, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_schema(argument)
    assert words in caught.value.message


def test_answer_that_validates_has_no_violation() -> None:
    assert first_violation(PERSON, '{"name": "Ada", "age": 36}') is None


def test_violation_names_the_json_path_of_the_first_error() -> None:
    schema = parse_short_form("name, tags int[]")
    violation = first_violation(schema, '{"name": "Ada", "tags": [1, "two"]}')
    assert violation is not None
    assert violation.path == "$.tags[1]"
    assert "'two' is not of type 'integer'" in violation.message


def test_an_answer_that_is_not_json_is_a_violation_at_the_root() -> None:
    violation = first_violation(PERSON, "Sure! Here it is: {")
    assert violation is not None
    assert violation.path == "$"
    assert "not JSON" in violation.message


def test_a_very_long_short_form_is_not_mistaken_for_a_path() -> None:
    text = ", ".join(f"field{i} int" for i in range(200))
    assert len(load_schema(text).schema["properties"]) == 200


def test_a_missing_property_is_named_by_its_own_path() -> None:
    schema = parse_short_form("name, address: where they live")
    schema["properties"]["address"] = {**PERSON, "required": ["name", "age"]}
    violation = first_violation(schema, '{"name": "Ada", "address": {"name": "x"}}')
    assert violation is not None
    assert violation.path == "$.address.age"
    assert "'age' is a required property" in violation.message
