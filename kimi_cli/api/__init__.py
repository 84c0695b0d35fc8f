"""The HTTP layer: KimiClient over httpx, SSE decoding, retries, typed results."""

from kimi_cli.api.client import ChatStream, KimiClient
from kimi_cli.api.types import Balance, ChatChunk, Completion, Model, ThinkEfforts, Usage

__all__ = [
    "Balance",
    "ChatChunk",
    "ChatStream",
    "Completion",
    "KimiClient",
    "Model",
    "ThinkEfforts",
    "Usage",
]
