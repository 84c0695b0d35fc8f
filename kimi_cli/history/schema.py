"""The history schema and its migrations, keyed by ``PRAGMA user_version``.

``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``, so a new version is
one more function at the end of that list, and ``SCHEMA_VERSION`` (in ``connection``) one
higher: opening a file compares its version with that number and imports this module only
when they differ. Never edit a released migration: old files look like what it made.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

__all__ = ["MIGRATIONS", "has_fts"]


def _migrate_to_1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE conversations (
            id TEXT PRIMARY KEY, title TEXT NOT NULL, model TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            used_seq INTEGER NOT NULL DEFAULT 0)"""
    )
    db.execute("CREATE INDEX conversations_by_use ON conversations (used_seq)")
    db.execute(
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL, reasoning TEXT, model TEXT, created_at TEXT NOT NULL,
            partial INTEGER NOT NULL DEFAULT 0, finish_reason TEXT,
            input_tokens INTEGER, output_tokens INTEGER, cached_tokens INTEGER,
            cost REAL, currency TEXT)"""
    )
    db.execute("CREATE INDEX messages_by_conversation ON messages (conversation_id, id)")


def _migrate_to_2(db: sqlite3.Connection) -> None:
    """Spend and search.

    ``usage`` has one row per billed thing (a chat or REPL answer, a batch result, a set
    of web searches), so ``kimi usage`` sums one small indexed table instead of every
    message. Rows outlive their conversation (the money was spent): deleting one only
    clears the link. ``messages_fts`` indexes prompts and answers when SQLite has FTS5;
    without it, search falls back to a slower substring scan.
    """
    db.execute(
        """CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL, day TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('chat', 'repl', 'batch', 'search')),
            conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
            message_id INTEGER REFERENCES messages (id) ON DELETE SET NULL,
            ref TEXT, model TEXT,
            requests INTEGER NOT NULL DEFAULT 1, searches INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0, cached_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost REAL, currency TEXT)"""
    )
    db.execute("CREATE INDEX usage_by_day ON usage (day)")
    db.execute("CREATE INDEX usage_by_conversation ON usage (conversation_id)")
    db.execute("CREATE INDEX usage_by_message ON usage (message_id)")
    db.execute(
        """INSERT INTO usage (at, day, kind, conversation_id, message_id, model,
            input_tokens, cached_tokens, output_tokens, cost, currency)
        SELECT created_at, substr(created_at, 1, 10), 'chat', conversation_id, id, model,
            COALESCE(input_tokens, 0), COALESCE(cached_tokens, 0), COALESCE(output_tokens, 0),
            cost, currency
        FROM messages WHERE role = 'assistant'
            AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cost IS NOT NULL)"""
    )
    try:
        db.execute(
            "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages',"
            " content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
    except sqlite3.OperationalError as exc:
        if "fts5" not in str(exc):
            raise
        return  # this SQLite has no FTS5: search scans instead
    db.execute("INSERT INTO messages_fts (rowid, content) SELECT id, content FROM messages")
    db.execute(
        """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content); END"""
    )
    db.execute(
        """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content); END"""
    )


def _migrate_to_3(db: sqlite3.Connection) -> None:
    """Tool steps: an answer reached through web searches keeps, as a JSON list of API
    messages, the assistant tool calls (with their reasoning) and the tool results that
    came before it, so a continued conversation sends them again."""
    db.execute("ALTER TABLE messages ADD COLUMN tool_steps TEXT")


def _migrate_to_4(db: sqlite3.Connection) -> None:
    """Documents of a conversation (``chat -f report.pdf``).

    A document is a ``system`` message holding its extracted text; this table says which
    system messages are documents, and where they came from, so a resumed conversation
    sends them again in their place without uploading, and ``history show`` lists them.
    """
    db.execute(
        """CREATE TABLE IF NOT EXISTS documents (
            message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            name TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
            file_id TEXT NOT NULL)"""
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS documents_by_conversation ON documents (conversation_id)"
    )


# MIGRATIONS[n] upgrades version n to n + 1. Append; never edit a released one.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migrate_to_1,
    _migrate_to_2,
    _migrate_to_3,
    _migrate_to_4,
]


def has_fts(db: sqlite3.Connection) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'").fetchone()
    return row is not None
