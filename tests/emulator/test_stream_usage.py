"""Usage in a stream as recorded live traffic shows it: always in the finish chunk's
``choices[0].usage``, and with ``stream_options.include_usage`` once more, in a ``choices: []``
chunk. kimi counts it once, whichever arrives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from kimi_cli.api.client import KimiClient
from kimi_cli.api.types import Usage
from kimi_cli.conversation.exchange import one_request
from kimi_cli.conversation.outcome import TurnObserver, TurnResult
from kimi_cli.emulator import Emulator
from tests.helpers import run_process

from .helpers import KEY, parse_sse, user

QUESTION = "ECHO one two three four five"


def once(client: httpx.Client) -> dict[str, int]:
    """The numbers of the same request without a stream: what must be counted."""
    body = {"model": "kimi-k2.6", "messages": user(QUESTION)}
    return dict(client.post("/chat/completions", json=body).json()["usage"])


def test_include_usage_puts_usage_in_the_choice_and_again_at_the_top(
    client: httpx.Client,
) -> None:
    body = {
        "model": "kimi-k2.6",
        "messages": user(QUESTION),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    stream = parse_sse(client.post("/chat/completions", json=body).text)
    with_usage = [
        e
        for e in stream.events
        if e.get("usage") or (e["choices"][0:1] and "usage" in e["choices"][0])
    ]
    assert len(with_usage) == 2
    finish, extra = with_usage
    assert finish is stream.finish and finish["usage"] is None
    assert extra["choices"] == [] and extra is stream.events[-1]
    assert finish["choices"][0]["usage"] == extra["usage"] == once(client)


class Heard(TurnObserver):
    def __init__(self) -> None:
        self.usages: list[Usage] = []

    def usage(self, usage: Usage) -> None:
        self.usages.append(usage)


def test_kimi_counts_a_stream_s_usage_once_when_it_comes_twice(
    emulator: Emulator, client: httpx.Client
) -> None:
    expected = once(client)
    kimi = KimiClient(emulator.base_url, KEY, max_retries=0)
    result, heard = TurnResult(), Heard()
    body: dict[str, Any] = {
        "model": "kimi-k2.6",
        "messages": user(QUESTION),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    for _ in range(2):  # a turn of two requests (a search turn) adds one per request
        one_request(kimi, dict(body), result, heard, stream=True)
    kimi.close()
    single = Usage.from_json(expected)
    assert heard.usages == [single, single]
    assert result.usage is not None
    assert result.usage.input_tokens == 2 * expected["prompt_tokens"]
    assert result.usage.output_tokens == 2 * expected["completion_tokens"]


def test_chat_and_batch_run_count_usage_once_in_json_and_in_kimi_usage(
    configured: Emulator, client: httpx.Client, tmp_path: Path
) -> None:
    expected = once(client)
    out = run_process("chat", "--json", QUESTION)
    assert out.code == 0, out.stderr
    usage = json.loads(out.stdout)["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (
        expected["prompt_tokens"],
        expected["completion_tokens"],
    )
    lines = tmp_path / "lines.txt"
    lines.write_text(f"{QUESTION}\n{QUESTION}\n", encoding="utf-8")
    ran = run_process("batch", "run", "--lines", str(lines))
    assert ran.code == 0, ran.stderr
    [total] = json.loads(run_process("usage", "--json").stdout)["totals"]
    assert (total["requests"], total["input_tokens"], total["output_tokens"]) == (
        3,
        3 * expected["prompt_tokens"],
        3 * expected["completion_tokens"],
    )
