"""The read-side queries that are more than a lookup: full-text search and usage sums."""

from __future__ import annotations

import sqlite3

from kimi_cli.errors import UsageError
from kimi_cli.history.records import SearchHit, UsageTotals
from kimi_cli.history.schema import has_fts

__all__ = ["GROUPINGS", "search", "usage_totals"]

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
