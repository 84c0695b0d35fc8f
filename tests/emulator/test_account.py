"""Model retirement, prompt caching by key, concurrency statistics and the 429 storm."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from kimi_cli.emulator import Emulator

from .helpers import client_for, user
from .openapi import assert_valid_chat_request

LONG = "LOREM 400"  # a prompt of more than 256 tokens once answered and sent back


def _chat(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/chat/completions", json=body)


def test_retired_model_leaves_the_list_and_chat(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(retired=["kimi-k2.6"])
    ids = [m["id"] for m in client.get("/models").json()["data"]]
    assert "kimi-k2.6" not in ids and "kimi-k3" in ids
    response = _chat(client, model="kimi-k2.6", messages=user("hi"))
    assert response.status_code == 404
    assert response.json()["error"] == {
        "type": "resource_not_found_error",
        "message": "Not found the model kimi-k2.6 or Permission denied",
    }
    body = {"model": "kimi-k2.6", "messages": user("hi")}
    assert client.post("/tokenizers/estimate-token-count", json=body).status_code == 404
    assert emulator.config()["retired"] == ["kimi-k2.6"]
    emulator.configure(retired=[])
    assert _chat(client, model="kimi-k2.6", messages=user("hi")).status_code == 200


def _history(client: httpx.Client, key: str | None) -> tuple[list[dict[str, Any]], int]:
    """A first turn long enough to be cached, and the messages of the second turn."""
    extra = {"prompt_cache_key": key} if key else {}
    first = user(f"{LONG} " + "context " * 300)
    reply = _chat(client, model="kimi-k2.6", messages=first, **extra).json()
    assert reply["usage"]["prompt_tokens"] > 256
    message = reply["choices"][0]["message"]
    messages = [*first, {"role": "assistant", "content": message["content"]}]
    return [*messages, *user("and then?")], reply["usage"]["prompt_tokens"]


def test_prompt_cache_key_hits_the_shared_prefix(client: httpx.Client, emulator: Emulator) -> None:
    messages, first_prompt = _history(client, "conv-1")
    body = {"model": "kimi-k2.6", "messages": messages, "prompt_cache_key": "conv-1"}
    usage = _chat(client, **body, prompt_cache_options={"ttl": "1h"}).json()["usage"]
    assert 0 < usage["cached_tokens"] < usage["prompt_tokens"]
    assert usage["cached_tokens"] == first_prompt  # the whole first prompt is the shared prefix
    assert_valid_chat_request(emulator.stats()["bodies"]["chat"][-1])
    other = _chat(client, **{**body, "prompt_cache_key": "conv-2"}).json()["usage"]
    assert other["cached_tokens"] == 0
    again = _chat(client, **body).json()["usage"]
    assert again["cached_tokens"] == again["prompt_tokens"]  # the identical request before


def test_short_prompts_are_not_cached(client: httpx.Client) -> None:
    body = {"model": "kimi-k2.6", "messages": user("short"), "prompt_cache_key": "k"}
    _chat(client, **body)
    second = {**body, "messages": [*user("short"), {"role": "assistant", "content": "a"}]}
    assert _chat(client, **second).json()["usage"]["cached_tokens"] == 0


@pytest.mark.parametrize(
    ("field", "value"), [("prompt_cache_key", 5), ("prompt_cache_options", "1h")]
)
def test_prompt_cache_fields_are_checked(client: httpx.Client, field: str, value: Any) -> None:
    response = _chat(client, model="kimi-k3", messages=user("hi"), **{field: value})
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]


def test_in_flight_statistics(emulator: Emulator) -> None:
    emulator.configure(latency=1.0)
    statuses: list[int] = []

    def one() -> None:
        with client_for(emulator.base_url) as client:
            statuses.append(_chat(client, model="kimi-k3", messages=user("hi")).status_code)

    threads = [threading.Thread(target=one) for _ in range(5)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 0.9
    during = 0
    while during < 5 and time.monotonic() < deadline:
        during = emulator.stats()["chat_in_flight"]
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    stats = emulator.stats()
    assert statuses == [200] * 5
    assert during == 5
    assert stats["chat_max_in_flight"] == 5
    assert stats["chat_in_flight"] == 0


def test_rate_limit_storm(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(storm_size=3, faults=["rate_limit_storm:once"])
    codes = []
    for _ in range(5):
        response = _chat(client, model="kimi-k3", messages=user("hi"))
        codes.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "1"
            assert response.json()["error"]["type"] == "rate_limit_reached_error"
    assert codes == [429, 429, 429, 200, 200]
    assert emulator.stats()["rate_limited"] == 3
    emulator.configure(rate_limit_storm=2)
    assert _chat(client, model="kimi-k3", messages=user("hi")).status_code == 429
    assert emulator.config()["rate_limit_storm"] == 1


def test_bodies_keep_the_last_n(client: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(keep_bodies=2)
    for word in ("one", "two", "three"):
        _chat(client, model="kimi-k3", messages=user(word))
    bodies = emulator.stats()["bodies"]["chat"]
    assert [b["messages"][0]["content"] for b in bodies] == ["two", "three"]
    assert emulator.stats()["endpoints"]["chat"] == 3
