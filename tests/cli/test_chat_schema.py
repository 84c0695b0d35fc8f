"""`kimi chat --schema`, as a user runs it: the console script's entry point against the
emulator."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.emulator.openapi import assert_valid_chat_request
from tests.helpers import history_at, invoke, run_process

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
}


def _bodies(emu: Emulator) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = emu.stats()["chat_requests"]
    return bodies


def test_an_inline_schema_gives_a_valid_document_alone(configured: Emulator) -> None:
    out = invoke("chat", "--schema", json.dumps(PERSON), "who wrote Hamlet?")
    assert out.code == 0, out.stderr
    jsonschema.validate(json.loads(out.stdout), PERSON)
    (body,) = _bodies(configured)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "strict": True, "schema": PERSON},
    }
    assert_valid_chat_request(body)


def test_a_short_form_and_a_file(configured: Emulator, tmp_path: Path) -> None:
    out = invoke("chat", "--schema", "title, year int, tags: list of topics", "a book")
    assert out.code == 0, out.stderr
    document = json.loads(out.stdout)
    assert set(document) == {"title", "year", "tags"} and isinstance(document["year"], int)
    schema = _bodies(configured)[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["tags"]["description"] == "list of topics"
    assert schema["additionalProperties"] is False
    path = tmp_path / "movie.json"
    path.write_text(json.dumps(PERSON), encoding="utf-8")
    out = invoke("chat", "--schema", str(path), "a movie")
    assert out.code == 0 and json.loads(out.stdout) == {"name": "example name"}
    assert _bodies(configured)[1]["response_format"]["json_schema"]["name"] == "movie"


def test_the_document_passes_through_jq_style_readers_unchanged(configured: Emulator) -> None:
    answer = '{"name": "# **Ada**"}'
    out = invoke("chat", "--schema", json.dumps(PERSON), f"ECHO {answer}")
    assert out.stdout == answer + "\n"


def test_an_answer_that_breaks_the_schema_exits_1_naming_the_path(
    configured: Emulator, isolated_env: Path
) -> None:
    configured.configure(faults=[{"name": "schema_broken"}])
    out = invoke("chat", "--schema", json.dumps(PERSON), "who?")
    line = out.assert_one_error_line(1)
    assert "$.name" in line and "'name' is a required property" in line
    assert out.stdout == ""
    # the raw answer is kept: in history, and in --json
    store = history_at(isolated_env)
    (summary,) = store.recent()
    raw = store.messages(summary.id)[-1].content
    assert "name" not in json.loads(raw)
    out = invoke("chat", "--json", "--schema", json.dumps(PERSON), "who?")
    assert out.code == 1
    data = json.loads(out.stdout)
    assert data["content"] == raw
    assert data["schema"] == {
        "name": "answer",
        "valid": False,
        "violation": {"path": "$.name", "message": "'name' is a required property"},
    }


@pytest.mark.parametrize(
    "schema",
    [
        '{"type": "array", "items": {"type": "string"}}',
        '{"type": "object", "properties": {"a": {"type": "text"}}}',
        "{not json",
        "name, age decimal",
    ],
)
def test_an_invalid_schema_exits_2_with_nothing_sent(configured: Emulator, schema: str) -> None:
    out = invoke("chat", "--schema", schema, "x")
    out.assert_one_error_line(2)
    assert "--schema" in out.stderr
    assert "chat" not in configured.stats()["endpoints"]


def test_schema_and_format_json_are_refused_together(configured: Emulator) -> None:
    out = invoke("chat", "--schema", "name", "--format", "json", "x")
    assert "--schema" in out.assert_one_error_line(2)
    assert "chat" not in configured.stats()["endpoints"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_on_a_terminal_the_document_is_not_rendered(configured: Emulator) -> None:
    answer = '{"name": "# **Ada**"}'
    env = {**os.environ, "TERM": "xterm-256color"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kimi_cli", "chat", "--reasoning", "hide", "--schema", "name", f"ECHO {answer}"],
        env=env,
        dimensions=(40, 100),
        timeout=20,
        encoding="utf-8",
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # stderr shares the pty: the spinner (erased by ESC [2K) may precede the document
    after_spinner = (child.before or "").rsplit("\x1b[2K", 1)[-1]
    assert after_spinner.replace("\r\n", "\n") == answer + "\n"


def test_a_document_cut_at_the_token_limit_blames_the_limit_not_the_model(
    configured: Emulator, isolated_env: Path
) -> None:
    # Eight tokens cannot hold the document: the JSON breaks off. The one line says why and
    # what to do (raise --max-tokens), not "the answer does not match the schema … loosen it".
    out = run_process(
        "chat", "-m", "kimi-k2.6", "--no-thinking", "--max-tokens", "8",
        "--schema", "name, born int, bio: a long biography", "who",
    )  # fmt: skip
    line = out.assert_one_error_line(1)
    assert "the answer was cut at the token limit (8 tokens) before the JSON was complete" in line
    assert "raise it with --max-tokens" in line and "loosen the schema" not in line
    assert out.stderr.count("kimi: ") == 1, out.stderr  # no separate warning about the cut
    assert out.stdout == ""
    (summary,) = history_at(isolated_env).recent()
    _, answer = history_at(isolated_env).messages(summary.id)
    assert answer.content.startswith('{"name": ') and answer.finish_reason == "length"
