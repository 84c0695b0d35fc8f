"""The search Formula's tool cache and the tool steps a continued conversation sends again."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from kimi_cli.api.client import KimiClient
from kimi_cli.conversation.search import TOOLS_TTL_S, WebSearch, complete_steps

TOOLS = [{"type": "function", "function": {"name": "web_search", "parameters": {}}}]


def _searcher(cache: Path, base_url: str = "http://h/v1") -> tuple[WebSearch, list[str]]:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(200, json={"tools": TOOLS})

    client = KimiClient(base_url, "sk-x", transport=httpx.MockTransport(handler), max_retries=0)
    return WebSearch(client, cache), asked


def test_the_tool_list_is_cached_per_base_url(tmp_path: Path) -> None:
    first, asked = _searcher(tmp_path)
    assert first.tools() == TOOLS and first.names() == {"web_search"}
    again, asked_again = _searcher(tmp_path)
    assert again.tools() == TOOLS and asked_again == []
    other, asked_other = _searcher(tmp_path, "http://other/v1")
    assert other.tools() == TOOLS
    assert asked == asked_other == ["/v1/formulas/moonshot/web-search:latest/tools"]


def test_a_stale_or_broken_cache_is_fetched_again(tmp_path: Path) -> None:
    first, _ = _searcher(tmp_path)
    first.tools()
    (path,) = tmp_path.glob("formula-tools-*.json")
    old = time.time() - TOOLS_TTL_S - 1
    os.utime(path, (old, old))
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "fetched_at": old}))
    stale, asked = _searcher(tmp_path)
    assert stale.tools() == TOOLS and len(asked) == 1
    path.write_text("{not json")
    broken, asked = _searcher(tmp_path)
    assert broken.tools() == TOOLS and len(asked) == 1


def _call(call_id: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": "web_search", "arguments": "{}"},
    }


def _result(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "name": "web_search", "content": "r"}


def test_only_calls_with_every_result_are_sent_again() -> None:
    first: dict[str, Any] = {
        "role": "assistant",
        "content": "",
        "tool_calls": [_call("a"), _call("b")],
    }
    second: dict[str, Any] = {"role": "assistant", "content": "", "tool_calls": [_call("c")]}
    whole = [first, _result("a"), _result("b")]
    assert complete_steps(whole) == whole
    assert complete_steps([*whole, second]) == whole  # the cap stopped it: no result
    assert complete_steps([first, _result("a")]) == []  # a failed fiber: half the results
    assert complete_steps([*whole, second, _result("c")]) == [*whole, second, _result("c")]
