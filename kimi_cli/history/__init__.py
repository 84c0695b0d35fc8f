"""Conversations, messages and what they cost, in one SQLite file.

``HistoryStore`` is the way in. A chat only writes (``store``, ``records``, ``connection``),
so what only reading uses is loaded on first use: the summaries, search hits and usage sums
come from ``queries``, with the queries that make them, and ``StoredDocument`` from
``documents``. The store and its connection likewise import ``queries`` in the methods that
read, ``documents`` when one is added or read, ``schema`` (the migrations) when a file is not
at ``SCHEMA_VERSION``. The failure translation (``failures``) is loaded with the store: it
must work when the failure is that no file can be opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kimi_cli.history.connection import SCHEMA_VERSION
from kimi_cli.history.records import StoredMessage
from kimi_cli.history.store import KINDS, MOST_LISTED, ROLES, HistoryStore

if TYPE_CHECKING:
    from kimi_cli.history.documents import StoredDocument
    from kimi_cli.history.queries import ConversationSummary, SearchHit, UsageTotals

_HOMES = {
    "ConversationSummary": "kimi_cli.history.queries",
    "SearchHit": "kimi_cli.history.queries",
    "UsageTotals": "kimi_cli.history.queries",
    "StoredDocument": "kimi_cli.history.documents",
}

__all__ = [
    "KINDS",
    "MOST_LISTED",
    "ROLES",
    "SCHEMA_VERSION",
    "ConversationSummary",
    "HistoryStore",
    "SearchHit",
    "StoredDocument",
    "StoredMessage",
    "UsageTotals",
]


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
