"""Reliability: fuzzing the three places where bytes from outside come in — the config file,
the event stream, and the API's error (and success) bodies. Whatever arrives, kimi either
works or raises a KimiError, which the CLI prints as one line with its exit code."""

from __future__ import annotations

import itertools
import json
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_cli.api import KimiClient
from kimi_cli.api.types import ChatChunk, Usage
from kimi_cli.errors import KimiError
from kimi_cli.render.terminal import error_line
from tests.helpers import invoke

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
BODY: dict[str, Any] = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}
SQLITE_INT = 2**63

# -- the config file ---------------------------------------------------------------------------

KEYS = ["region", "base_url", "model", "api_key", "api_key_cmd", "history", "timeout"]
KEYS += ["max_retries", "max_tokens", "currency", "verified", "api-key", "[verified]", ""]
TOML_VALUES = st.one_of(
    st.sampled_from(['"global"', '"cn"', '"http://127.0.0.1:9/v1"', "true", "0", "-1", "1e999"]),
    st.sampled_from(['"kimi-k3"', "[1, 2]", "{a = 1}", "2026-01-01T00:00:00", '""', '"\\u0000"']),
    st.sampled_from(["nan", "'''x"]),
    st.integers().map(str),
    st.floats().map(repr),
    st.text(max_size=20).map(json.dumps),
)
TOML_LINES = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(KEYS), TOML_VALUES).map(lambda kv: f"{kv[0]} = {kv[1]}"),
        st.sampled_from(["[verified]", "[x]", "# comment", "", "[[a]]", "= 1", "model ="]),
    ),
    max_size=8,
).map("\n".join)
CONFIG_BYTES = st.one_of(
    st.binary(max_size=200),
    TOML_LINES.map(str.encode),
    st.tuples(TOML_LINES, st.binary(max_size=8)).map(lambda t: t[0].encode() + t[1]),
)
OFFLINE_COMMANDS = [
    ("config", "show"),
    ("config", "show", "--json"),
    ("config", "set", "timeout", "12"),
    ("config", "unset", "model"),
    ("history", "list", "--json"),
]


@settings(FUZZ, max_examples=50)
@given(data=CONFIG_BYTES, command=st.sampled_from(OFFLINE_COMMANDS))
def test_any_config_file_works_or_is_one_line_and_exit_3(
    data: bytes, command: tuple[str, ...]
) -> None:
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "config" / "config.toml"
        config.parent.mkdir()
        config.write_bytes(data)
        env = {
            "KIMI_CONFIG_DIR": str(config.parent),
            "KIMI_DATA_DIR": f"{home}/data",
            "KIMI_CACHE_DIR": f"{home}/cache",
            "KIMI_API_KEY": "sk-fuzz-0123456789",  # so no api_key_cmd from the file ever runs
        }
        out = invoke(*command, env=env)
        if out.code != 0:
            out.assert_one_error_line(3)
            assert str(config) in out.stderr
            assert config.read_bytes() == data  # a file kimi cannot read is never rewritten


# -- the event stream --------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _delta(fields: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c", "choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


EVENT_JSON = st.one_of(
    st.text(max_size=12).map(lambda t: _delta({"content": t})),
    st.text(max_size=12).map(lambda t: _delta({"reasoning_content": t})),
    st.dictionaries(st.sampled_from(["content", "reasoning_content", "role"]), JSON_VALUES).map(
        _delta
    ),
    st.tuples(JSON_VALUES, JSON_VALUES).map(
        lambda t: {"choices": [{"index": 0, "delta": {}, "finish_reason": t[0], "usage": t[1]}]}
    ),
    st.fixed_dictionaries(
        {
            "usage": st.dictionaries(
                st.sampled_from(
                    ["prompt_tokens", "completion_tokens", "cached_tokens", "prompt_tokens_details"]
                ),
                JSON_VALUES,
            )
        },
        optional={"choices": JSON_VALUES, "model": JSON_VALUES},
    ),
    JSON_VALUES.map(lambda v: {"error": v}),
    JSON_VALUES,
)
EVENTS = st.one_of(
    EVENT_JSON.map(lambda e: f"data: {json.dumps(e)}\n\n".encode()),
    st.just(b"data: [DONE]\n\n"),
    st.sampled_from([b": keep-alive\n\n", b"data: {not json\n\n", b"event: x\nid: 1\n", b"\r\n"]),
    st.binary(max_size=16),
)


@st.composite
def split_stream(draw: st.DrawFn) -> list[bytes]:
    whole = b"".join(draw(st.lists(EVENTS, max_size=12)))
    cuts = sorted(draw(st.lists(st.integers(0, len(whole)), max_size=6)))
    edges = [0, *cuts, len(whole)]
    return [whole[a:b] for a, b in itertools.pairwise(edges)]


class Chunks(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


def _client(handler: Any) -> KimiClient:
    return KimiClient(
        "https://api.example/v1", "sk-fuzz", transport=httpx.MockTransport(handler), max_retries=0
    )


def _well_typed(chunk: ChatChunk) -> None:
    assert isinstance(chunk.content, str) and isinstance(chunk.reasoning, str)
    assert chunk.finish_reason is None or isinstance(chunk.finish_reason, str)
    assert chunk.model is None or isinstance(chunk.model, str)
    if chunk.usage is not None:
        _usage_fits(chunk.usage)


def _usage_fits(usage: Usage) -> None:
    for count in (usage.input_tokens, usage.output_tokens, usage.cached_tokens):
        assert isinstance(count, int) and 0 <= count < SQLITE_INT  # history can store it


def _one_line(error: KimiError) -> None:
    line = error.line()
    assert line and len(line.splitlines()) == 1, line
    printed = error_line(error)  # no escape sequence from a server reaches the terminal
    assert not [c for c in printed if unicodedata.category(c) == "Cc"], printed


@pytest.mark.slow
@settings(FUZZ, max_examples=300)
@given(chunks=split_stream())
def test_any_event_stream_gives_chunks_or_a_kimi_error(chunks: list[bytes]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, stream=Chunks(chunks), headers={"content-type": "text/event-stream"}
        )

    with _client(handler) as client:
        try:
            with client.stream_chat(BODY) as stream:
                for chunk in stream:
                    _well_typed(chunk)
        except KimiError as exc:
            _one_line(exc)


# -- error and success bodies ------------------------------------------------------------------

FIELDS = st.dictionaries(
    st.sampled_from(["id", "context_length", "think_efforts", "available_balance", "content"])
    | st.sampled_from(["voucher_balance", "total_tokens", "reasoning_content", "message"]),
    JSON_VALUES,
    max_size=4,
)
SHAPED = st.one_of(  # the right envelope around the wrong insides
    st.lists(FIELDS | JSON_VALUES, max_size=3).map(lambda items: {"data": items}),
    FIELDS.map(lambda fields: {"data": fields}),
    st.tuples(FIELDS | JSON_VALUES, JSON_VALUES, JSON_VALUES).map(
        lambda t: {"choices": [{"message": t[0], "finish_reason": t[1]}], "usage": t[2]}
    ),
)
BODIES = st.one_of(
    SHAPED.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.tuples(st.one_of(st.none(), st.text(max_size=30), JSON_VALUES), JSON_VALUES).map(
        lambda t: json.dumps({"error": {"type": t[1], "message": t[0]}}).encode()
    ),
    st.text(max_size=40).map(lambda t: json.dumps({"error": {"type": "x", "message": t}}).encode()),
    st.sampled_from([b"<html><h1>502 Bad Gateway</h1></html>", b"", b"null", b"[]"]),
)
HEADERS = st.dictionaries(
    st.sampled_from(["content-type", "retry-after", "x-trace-id"]),
    st.sampled_from(["text/html", "application/json", "text/event-stream", "1", "1e999", "-3"])
    | st.sampled_from(["nan", "soon", "Wed, 21 Oct 2015 07:28:00 GMT", "abc-123", ""]),
)
CALLS = ["models", "balance", "tokens", "chat", "stream"]


def _call(client: KimiClient, which: str) -> None:
    if which == "models":
        for model in client.list_models():
            assert isinstance(model.id, str)
    elif which == "balance":
        client.balance()
    elif which == "tokens":
        client.estimate_tokens("kimi-k2.6", BODY["messages"])
    elif which == "chat":
        done = client.chat(BODY)
        assert isinstance(done.content, str) and isinstance(done.reasoning, str)
        assert done.finish_reason is None or isinstance(done.finish_reason, str)
        if done.usage is not None:
            _usage_fits(done.usage)
    else:
        with client.stream_chat(BODY) as stream:
            for chunk in stream:
                _well_typed(chunk)


@pytest.mark.slow
@settings(FUZZ, max_examples=300)
@given(
    status=st.integers(400, 599),
    body=BODIES,
    headers=HEADERS,
    which=st.sampled_from(CALLS),
)
def test_any_error_answer_is_a_one_line_kimi_error(
    status: int, body: bytes, headers: dict[str, str], which: str
) -> None:
    with _client(lambda request: httpx.Response(status, content=body, headers=headers)) as client:
        try:
            _call(client, which)
        except KimiError as exc:
            _one_line(exc)
        else:
            raise AssertionError(f"HTTP {status} was taken for a success")


@pytest.mark.slow
@settings(FUZZ, max_examples=200)
@given(body=BODIES, headers=HEADERS, which=st.sampled_from(CALLS))
def test_any_success_body_parses_or_is_a_one_line_kimi_error(
    body: bytes, headers: dict[str, str], which: str
) -> None:
    with _client(lambda request: httpx.Response(200, content=body, headers=headers)) as client:
        try:
            _call(client, which)
        except KimiError as exc:
            _one_line(exc)
