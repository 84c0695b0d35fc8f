"""Conversations, messages and what they cost, in one SQLite file.

``HistoryStore`` is the way in; the values it hands out live in ``records``.
"""

from kimi_cli.history.documents import StoredDocument
from kimi_cli.history.records import ConversationSummary, SearchHit, StoredMessage, UsageTotals
from kimi_cli.history.schema import MIGRATIONS
from kimi_cli.history.store import KINDS, ROLES, HistoryStore

SCHEMA_VERSION = len(MIGRATIONS)

__all__ = [
    "KINDS",
    "ROLES",
    "SCHEMA_VERSION",
    "ConversationSummary",
    "HistoryStore",
    "SearchHit",
    "StoredDocument",
    "StoredMessage",
    "UsageTotals",
]
