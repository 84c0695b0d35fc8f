"""The HTTP layer: KimiClient over httpx, SSE decoding, retries, typed results.

Names are loaded on first use, so importing ``kimi_cli.api.types`` (history, pricing)
does not import httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.stream import ChatStream
    from kimi_cli.api.types import (
        Balance,
        ChatChunk,
        Completion,
        Model,
        ThinkEfforts,
        ToolCall,
        Usage,
    )

_HOMES = {
    "ChatStream": "kimi_cli.api.stream",
    "KimiClient": "kimi_cli.api.client",
    "Balance": "kimi_cli.api.types",
    "ChatChunk": "kimi_cli.api.types",
    "Completion": "kimi_cli.api.types",
    "Model": "kimi_cli.api.types",
    "ThinkEfforts": "kimi_cli.api.types",
    "ToolCall": "kimi_cli.api.types",
    "Usage": "kimi_cli.api.types",
}

__all__ = [
    "Balance",
    "ChatChunk",
    "ChatStream",
    "Completion",
    "KimiClient",
    "Model",
    "ThinkEfforts",
    "ToolCall",
    "Usage",
]


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
