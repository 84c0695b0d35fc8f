"""The shortcuts taken for speed (docs/performance.md) give exactly what the plain way gives."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import fields
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kimi_cli.api.client import chunk_from_json
from kimi_cli.api.sse import ServerSentEvent, SSEDecoder, _event
from kimi_cli.api.types import ChatChunk, Usage, new_chunk
from kimi_cli.cli.app import COMMANDS, build, route
from kimi_cli.render.answer import PlainSink


def test_new_chunk_is_the_dataclass_made_the_usual_way() -> None:
    usage = Usage(input_tokens=3, output_tokens=4, cached_tokens=1)
    fast = new_chunk("a", "b", "stop", usage, "kimi-k3")
    plain = ChatChunk(
        content="a", reasoning="b", finish_reason="stop", usage=usage, model="kimi-k3"
    )
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert vars(fast) == vars(plain)
    assert list(vars(fast)) == [f.name for f in fields(ChatChunk)]  # a new field needs adding


def test_sse_event_is_the_dataclass_made_the_usual_way() -> None:
    fast = _event("x", "note", "7")
    assert fast == ServerSentEvent("x", "note", "7") and vars(fast) == vars(
        ServerSentEvent("x", "note", "7")
    )
    assert list(vars(fast)) == [f.name for f in fields(ServerSentEvent)]


def _decode(stream: bytes, cut: list[int]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    start = 0
    for end in [*sorted(cut), len(stream)]:
        events += decoder.feed(stream[start:end])
        start = end
    return events + decoder.flush()


LINES = st.sampled_from(
    ["data: a", "data:b", "data:  c", "event: e", "id: 9", ": note", "retry: 5", "x", "", "data: ü"]
)


@given(st.lists(LINES, max_size=30), st.lists(st.integers(0, 200), max_size=8))
def test_sse_lines_split_on_newline_decode_as_with_crlf(lines: list[str], cut: list[int]) -> None:
    """The "\\n"-only fast path and the general path (taken when "\\r" is present) agree."""
    lf = "".join(f"{line}\n" for line in lines).encode()
    crlf = "".join(f"{line}\r\n" for line in lines).encode()
    assert _decode(lf, cut) == _decode(crlf, [c + c // 2 for c in cut]) == _decode(lf, [])


OBJECTS: list[dict[str, Any]] = [
    {"choices": [{"delta": {"content": "hi", "reasoning_content": "r"}, "finish_reason": None}]},
    {"choices": [{"delta": {}, "finish_reason": "stop", "usage": {"prompt_tokens": 2}}]},
    {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}, "model": "m"},
    {"choices": [{"delta": None, "finish_reason": ""}], "model": 5},
    {"choices": "nope", "usage": "nope"},
    {"choices": [{"delta": {"content": 7}, "finish_reason": 3}]},
    {},
]


@pytest.mark.parametrize("obj", OBJECTS)
def test_chunk_from_json_reads_any_mapping_alike(obj: dict[str, Any]) -> None:
    def frozen(value: Any) -> Any:
        if isinstance(value, dict):
            return MappingProxyType({k: frozen(v) for k, v in value.items()})
        if isinstance(value, list):
            return [frozen(v) for v in value]
        return value

    assert chunk_from_json(obj) == chunk_from_json(frozen(obj))


def test_plain_sink_writes_and_flushes_every_piece_and_ends_the_line() -> None:
    class Recorder(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    out = Recorder()
    sink = PlainSink(out)
    for piece in ("a", "b\n", "", "c"):
        sink.content(piece)
    assert (out.getvalue(), out.flushes) == ("ab\nc", 4)
    sink.finish()
    assert out.getvalue() == "ab\nc\n"
    ended = Recorder()
    sink = PlainSink(ended)
    sink.content("x\n")
    sink.content("")
    sink.finish()
    assert ended.getvalue() == "x\n"


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["chat", "hi"], "chat"),
        (["--base-url", "http://x/v1", "--debug", "--region=cn", "models", "use"], "models"),
        (["--timeout", "5"], None),
        (["--help"], None),
        (["--version"], None),
        (["chta"], None),
        (["--base-url"], None),
        ([], None),
    ],
)
def test_the_command_is_found_only_when_plain(args: list[str], name: str | None) -> None:
    assert route(args, piped=False) == (args, name)


@pytest.mark.parametrize(
    ("args", "piped", "routed"),
    [
        (
            ["chat", "hi", "--region", "cn", "--debug"],
            False,
            ["--region", "cn", "--debug", "chat", "hi"],
        ),
        (["chat", "--", "--region", "cn"], False, ["chat", "--", "--region", "cn"]),
        (["hello", "there"], False, ["chat", "hello", "there"]),
        (["models"], False, ["models"]),
        (["-m", "x", "hi", "--timeout=5"], False, ["--timeout=5", "chat", "-m", "x", "hi"]),
        (["--", "-x"], False, ["chat", "--", "-x"]),
        ([], True, ["chat"]),
        (["--debug"], True, ["--debug", "chat"]),
        (["--base-url"], True, ["--base-url"]),
        (["--help"], True, ["--help"]),
        ([], False, []),
    ],
)
def test_global_options_move_to_the_front_and_no_command_means_chat(
    args: list[str], piped: bool, routed: list[str]
) -> None:
    assert route(args, piped=piped)[0] == routed


def test_an_app_with_one_command_parses_it_as_the_whole_app_does() -> None:
    import typer

    whole = typer.main.get_command(build())
    for name in COMMANDS:
        alone = typer.main.get_command(build(name))
        assert list(alone.commands) == [name]  # type: ignore[attr-defined]
        one, other = alone.commands[name], whole.commands[name]  # type: ignore[attr-defined]
        assert [p.opts for p in one.params] == [p.opts for p in other.params]
        assert one.help == other.help
    assert [p.opts for p in alone.params] == [p.opts for p in whole.params]


def test_the_program_still_runs_atexit_handlers_and_flushes(tmp_path: Any) -> None:
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
        "from kimi_cli.__main__ import main\n"
        "sys.argv = ['kimi', 'config', 'path']\n"
        "sys.stdout.write('buffered ')\n"
        "sys.exit(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("buffered ") and done.stdout.endswith("\n")
    assert done.stderr.strip().endswith("atexit ran")


def test_every_command_module_follows_the_naming_rule() -> None:
    """``kimi_cli/cli/<command>_cmd.py`` registers ``<command>``, and nothing else does."""
    from pathlib import Path

    import kimi_cli.cli

    folder = Path(kimi_cli.cli.__file__).parent
    registering = {
        path.stem
        for path in folder.glob("*.py")
        if "\ndef register(" in path.read_text(encoding="utf-8")
    }
    assert registering == {f"{name}_cmd" for name in COMMANDS}
