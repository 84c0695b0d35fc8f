"""The documents of a conversation: system messages that hold a file's extracted text, and
where that text came from (name, size, SHA-256, file ID).

The store imports this module when a document is added or read: most chats send none.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

__all__ = ["StoredDocument", "documents_of", "insert_document"]


@dataclass(frozen=True)
class StoredDocument:
    message_id: int  # the system message that holds the text
    name: str
    bytes: int
    sha256: str
    file_id: str


def insert_document(
    db: sqlite3.Connection,
    conversation_id: str,
    now: str,
    *,
    content: str,
    name: str,
    size: int,
    sha256: str,
    file_id: str,
) -> int:
    """The system message and its document row, in the caller's transaction."""
    cursor = db.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at)"
        " VALUES (?, 'system', ?, ?)",
        (conversation_id, content, now),
    )
    assert cursor.lastrowid is not None
    db.execute(
        "INSERT INTO documents (message_id, conversation_id, name, bytes, sha256, file_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (cursor.lastrowid, conversation_id, name, size, sha256, file_id),
    )
    return cursor.lastrowid


def documents_of(db: sqlite3.Connection, conversation_id: str) -> list[StoredDocument]:
    try:
        rows = db.execute(
            "SELECT message_id, name, bytes, sha256, file_id FROM documents"
            " WHERE conversation_id = ? ORDER BY message_id",
            (conversation_id,),
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # a file of an older version opened read-only: no documents table yet
    return [StoredDocument(*row) for row in rows]
