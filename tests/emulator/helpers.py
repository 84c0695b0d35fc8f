"""Small helpers for the emulator tests: an authenticated client and an SSE reader."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

KEY = "sk-emulator"


def client_for(base_url: str, key: str | None = KEY, **kwargs: Any) -> httpx.Client:
    """A client for the emulator (plain HTTP: no certificates to load, which saves 0.1 s)."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    kwargs.setdefault("timeout", 10)
    return httpx.Client(base_url=base_url, headers=headers, verify=False, **kwargs)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@dataclass
class Stream:
    """A parsed SSE body: JSON events in order, raw lines that were not JSON, and [DONE]."""

    events: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)
    done: bool = False

    def deltas(self, key: str) -> list[str]:
        return [
            e["choices"][0]["delta"][key]
            for e in self.events
            if e.get("choices") and key in e["choices"][0].get("delta", {})
        ]

    def text(self, key: str = "content") -> str:
        return "".join(self.deltas(key))

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return [e for e in self.events if "error" not in e]

    @property
    def finish(self) -> dict[str, Any]:
        return next(e for e in self.events if e.get("choices") and e["choices"][0]["finish_reason"])


def parse_sse(body: str) -> Stream:
    stream = Stream()
    assert body.endswith("\n\n") or not body, f"body does not end with a blank line: {body[-50:]!r}"
    for block in body.split("\n\n"):
        if not block:
            continue
        assert block.startswith("data: "), block
        data = block[len("data: ") :]
        assert not stream.done, "an event after [DONE]"
        if data == "[DONE]":
            stream.done = True
            continue
        try:
            stream.events.append(json.loads(data))
        except ValueError:
            stream.bad_lines.append(data)
    return stream


def chat_stream(client: httpx.Client, **body: Any) -> tuple[httpx.Response, Stream]:
    """POST a streaming chat and parse the whole body."""
    response = client.post("/chat/completions", json={"stream": True, **body})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    return response, parse_sse(response.text)
