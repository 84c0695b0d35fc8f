"""What reading the history asks and gets back: conversation summaries, full-text search,
usage sums, and the id a prefix stands for.

Only readers need this: the store imports it in the methods that read (and in the writes
that take an id prefix), so a chat, which only appends, neither loads it nor defines the
values it returns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kimi_cli.errors import UsageError
from kimi_cli.history.records import StoredMessage
from kimi_cli.history.schema import has_fts

__all__ = [
    "GROUPINGS",
    "ConversationSummary",
    "SearchHit",
    "UsageTotals",
    "messages",
    "recent",
    "resolve_id",
    "search",
    "summary",
    "usage_totals",
]


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    model: str  # the model used last
    created_at: str
    updated_at: str
    messages: int  # every stored message, the system prompt included


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    message_id: int
    role: str
    created_at: str
    title: str
    snippet: str  # the matched words between « and »


@dataclass(frozen=True)
class UsageTotals:
    """Sums over ``usage`` rows sharing a group, a model, a currency, a kind, and
    whether their price was known: ``cost`` is None for the rows without one (their
    requests and tokens are counted, their money is not guessed)."""

    group: str  # the day, the model or the conversation id, by what was asked
    model: str | None
    currency: str | None
    kind: str  # "chat" | "repl" | "batch" | "search"
    requests: int
    searches: int
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    cost: float | None


_SUMMARY_SQL = """SELECT c.id, c.title, c.model, c.created_at, c.updated_at,
    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) FROM conversations c"""
_MESSAGE_SQL = """SELECT id, role, content, reasoning, model, created_at, partial,
    finish_reason, input_tokens, output_tokens, cached_tokens, cost, currency, tool_steps
    FROM messages WHERE conversation_id = ? ORDER BY id"""


def summary(db: sqlite3.Connection, conversation_id: str) -> ConversationSummary | None:
    """The conversation with this exact id, or None."""
    row = db.execute(_SUMMARY_SQL + " WHERE c.id = ?", (conversation_id,)).fetchone()
    return None if row is None else ConversationSummary(*row)


def recent(db: sqlite3.Connection, limit: int | None) -> list[ConversationSummary]:
    """Conversations, most recently used first (all of them when ``limit`` is None)."""
    tail = " ORDER BY c.used_seq DESC, c.rowid DESC LIMIT ?"
    rows = db.execute(_SUMMARY_SQL + tail, (-1 if limit is None else limit,))
    return [ConversationSummary(*row) for row in rows]


def messages(db: sqlite3.Connection, conversation_id: str) -> list[StoredMessage]:
    """The messages of the conversation with this exact id, oldest first."""
    rows = db.execute(_MESSAGE_SQL, (conversation_id,)).fetchall()
    return [_stored_message(row) for row in rows]


def each_message(db: sqlite3.Connection, conversation_id: str) -> Iterator[StoredMessage]:
    """The same, one at a time from the cursor: a transcript of 100,000 messages is written
    without holding them all."""
    for row in db.execute(_MESSAGE_SQL, (conversation_id,)):
        yield _stored_message(row)


def _stored_message(row: Any) -> StoredMessage:
    values = list(row)
    values[6] = bool(values[6])  # partial
    return StoredMessage(*values)


_OPEN, _CLOSE = "«", "»"
_SNIPPET_WORDS = 12


def _fts_query(text: str) -> str:
    """Every word of ``text`` as a quoted FTS5 string: user input is words, not syntax."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def search(db: sqlite3.Connection, text: str, limit: int) -> list[SearchHit]:
    """Messages containing every word of ``text``, newest first.

    With FTS5 the newest matches come straight from the index (ids grow with time, so
    ``ORDER BY rowid DESC`` is the index's own order). Without FTS5, or when the index
    finds nothing for text it cannot split into words (Chinese has no spaces), a
    substring scan answers instead.
    """
    if not text.split():
        return []
    hits: list[SearchHit] = []
    if has_fts(db):
        rows = db.execute(
            f"""SELECT m.conversation_id, m.id, m.role, m.created_at, c.title, f.snippet
            FROM (SELECT rowid, snippet(messages_fts, 0, '{_OPEN}', '{_CLOSE}', '…',
                    {_SNIPPET_WORDS}) AS snippet
                  FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) f
            JOIN messages m ON m.id = f.rowid
            JOIN conversations c ON c.id = m.conversation_id
            ORDER BY m.id DESC""",
            (_fts_query(text), limit),
        ).fetchall()
        hits = [SearchHit(*row) for row in rows]
    if hits or (has_fts(db) and text.isascii()):
        return hits
    return _scan(db, text, limit)


def _scan(db: sqlite3.Connection, text: str, limit: int) -> list[SearchHit]:
    words = text.split()
    where = " AND ".join("instr(lower(m.content), ?) > 0" for _ in words)
    rows: list[tuple[str, int, str, str, str, str]] = db.execute(
        f"""SELECT m.conversation_id, m.id, m.role, m.created_at, c.title, m.content
        FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE m.role != 'system' AND {where} ORDER BY m.id DESC LIMIT ?""",
        (*(w.lower() for w in words), limit),
    ).fetchall()
    return [
        SearchHit(c, i, r, at, title, _snippet(text, words[0])) for c, i, r, at, title, text in rows
    ]


def _snippet(content: str, word: str, width: int = 60) -> str:
    at = content.lower().find(word.lower())
    start = max(at - width // 2, 0)
    end = at + len(word)
    piece = content[start:at] + _OPEN + content[at:end] + _CLOSE + content[end : end + width // 2]
    more = end + width // 2 < len(content)
    return ("…" if start else "") + " ".join(piece.split()) + ("…" if more else "")


#: What ``kimi usage --by`` can group on, and the column each means.
GROUPINGS = {
    "day": "day",
    "model": "COALESCE(model, '')",
    "conversation": "COALESCE(conversation_id, '')",
}


def usage_totals(db: sqlite3.Connection, since_day: str | None, by: str) -> list[UsageTotals]:
    """Sums of ``usage`` since ``since_day`` (YYYY-MM-DD, UTC, inclusive), per ``by``."""
    group = GROUPINGS[by]
    where, params = ("WHERE day >= ?", (since_day,)) if since_day else ("", ())
    rows = db.execute(
        f"""SELECT {group} AS g, model, currency, kind, SUM(requests), SUM(searches),
            SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens),
            CASE WHEN cost IS NULL THEN NULL ELSE SUM(cost) END
        FROM usage {where}
        GROUP BY g, model, currency, kind, cost IS NULL
        ORDER BY g, model, currency, kind""",
        params,
    ).fetchall()
    return [UsageTotals(*row) for row in rows]


def resolve_id(db: sqlite3.Connection, conversation_id: str) -> str | None:
    """The full id for an id or a unique prefix of one (case-insensitive)."""
    wanted = conversation_id.strip().lower()
    if not wanted:
        return None
    if db.execute("SELECT 1 FROM conversations WHERE id = ?", (wanted,)).fetchone():
        return wanted
    matches = [
        row[0]
        for row in db.execute(
            "SELECT id FROM conversations WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 11",
            (len(wanted), wanted),
        )
    ]
    if len(matches) > 1:
        shown = ", ".join(matches[:10]) + (", …" if len(matches) > 10 else "")
        raise UsageError(
            f"conversation id {conversation_id.strip()!r} is ambiguous: {shown}",
            hint="type more of the id",
        )
    return matches[0] if matches else None
