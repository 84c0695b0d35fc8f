"""A KimiClient over httpx.MockTransport, recording the sleeps it would take."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from kimi_cli.api import KimiClient

KEY = "sk-test-0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, **kw: object) -> tuple[KimiClient, list[float]]:
    sleeps: list[float] = []
    client = KimiClient(
        "https://api.example/v1",
        KEY,
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        **kw,  # type: ignore[arg-type]
    )
    return client, sleeps


def error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"type": kind, "message": message}}, headers=headers or {}
    )
