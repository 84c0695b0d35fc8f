"""Conversations in SQLite (stdlib ``sqlite3``), with schema migrations.

One file (``history.db`` in the data dir; the caller passes its path). Several ``kimi``
processes may append to it at once: WAL, a busy timeout and short ``BEGIN IMMEDIATE``
write transactions keep every row. The schema version lives in ``PRAGMA user_version``;
``_MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``, so a new version is
one more function at the end of that list.

Each exchange is stored as it happens: the caller writes the user message when the turn
starts and the assistant message when it ends (``partial=True`` for a cut or interrupted
answer). "Last used" is a counter bumped by every write to a conversation, so it is exact
even when two writes share a timestamp or the clock steps back.

Every ``sqlite3`` error is translated into a one-line ``HistoryError`` naming the file
and what to do. The API key is never stored: there is no column for it.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import secrets
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from kimi_cli.errors import HistoryError

if TYPE_CHECKING:  # kimi_cli.api's package imports httpx; only the type is needed
    from kimi_cli.api.types import Usage

__all__ = ["ROLES", "SCHEMA_VERSION", "ConversationSummary", "HistoryStore", "StoredMessage"]

ROLES = ("system", "user", "assistant")
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case, URL-safe
_ID_LENGTH = 8  # 40 random bits; uniqueness is checked under the write lock
_T = TypeVar("_T")


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


# _MIGRATIONS[n] upgrades version n to n + 1. Append; never edit a released one.
_MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_to_1]
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class StoredMessage:
    id: int
    role: str  # "system" | "user" | "assistant"
    content: str
    reasoning: str | None
    model: str | None
    created_at: str  # ISO 8601, UTC, microseconds
    partial: bool
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    cost: float | None
    currency: str | None


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    model: str  # the model used last
    created_at: str
    updated_at: str
    messages: int  # every stored message, the system prompt included


_SUMMARY_SQL = """SELECT c.id, c.title, c.model, c.created_at, c.updated_at,
    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) FROM conversations c"""
_MESSAGE_SQL = """SELECT id, role, content, reasoning, model, created_at, partial,
    finish_reason, input_tokens, output_tokens, cached_tokens, cost, currency
    FROM messages WHERE conversation_id = ? ORDER BY id"""
_INSERT_MESSAGE_SQL = """INSERT INTO messages (created_at, conversation_id, role, content,
    reasoning, model, partial, finish_reason, input_tokens, output_tokens, cached_tokens,
    cost, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_NEXT_SEQ = "(SELECT COALESCE(MAX(used_seq), 0) + 1 FROM conversations)"


def _message(row: Any) -> StoredMessage:
    values = list(row)
    values[6] = bool(values[6])  # partial
    return StoredMessage(*values)


_SURROGATE = re.compile("[\ud800-\udfff]")


@overload
def _text(value: str) -> str: ...
@overload
def _text(value: None) -> None: ...
def _text(value: str | None) -> str | None:
    """``value`` with lone surrogates (JSON can carry "\\ud800") made U+FFFD: SQLite wants UTF-8."""
    return value if value is None or value.isascii() else _SURROGATE.sub("\ufffd", value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


_CORRUPT = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_NO_ACCESS: tuple[int, ...] = (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)
_NO_ACCESS += (sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH, sqlite3.SQLITE_IOERR)


def _translate(exc: BaseException, path: Path) -> HistoryError:
    """One line for any sqlite3 (or file system) failure on ``path``."""
    detail = str(exc).strip() or type(exc).__name__
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None  # extended -> primary code
    if primary in _CORRUPT:
        message = f"history database {path} is corrupt"
        hint = "move it aside; kimi will start a new one"
    elif primary in _LOCKED:
        message, hint = f"history database {path} is locked by another process", "retry"
    elif primary == sqlite3.SQLITE_FULL or (primary in _NO_ACCESS and _no_space(path)):
        message, hint = f"could not write history database {path}", "free disk space"
    elif primary in _NO_ACCESS or isinstance(exc, OSError):
        message, hint = f"could not write history database {path}", "check permissions"
    else:
        message = f"history database {path} failed"
        hint = "retry; if it persists, move the file aside and kimi will start a new one"
    return HistoryError(f"{message} ({detail})", hint=hint)


def _no_space(path: Path) -> bool:
    """A full disk shows as an I/O error when SQLite grows its -shm file: check for room."""
    with contextlib.suppress(OSError):
        return shutil.disk_usage(path.parent).free == 0
    return False


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:  # the first error is the one worth reporting
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


class HistoryStore:
    """The history database at ``path``; opened on first use, or by ``open()``.

    Methods that take a conversation id also take a unique prefix of one (like git), except
    ``add_message``, which wants the exact id ``new_conversation`` returned.
    """

    def __init__(self, path: Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # one connection, shared by threads one at a time

    def open(self) -> None:
        """Create the file (0600, dir 0700) if needed, set WAL and migrate the schema."""
        with self._lock:
            if self._db is not None:
                return
            try:
                self._prepare_files()
                db = sqlite3.connect(
                    self.path,
                    timeout=self.busy_timeout_s,
                    isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                    check_same_thread=False,  # guarded by self._lock
                )
            except (OSError, sqlite3.Error) as exc:
                raise _translate(exc, self.path) from exc
            try:
                db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
                db.execute("PRAGMA foreign_keys = ON")
                self._migrate(db)
            except BaseException as exc:
                db.close()
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path) from exc
                raise
            self._db = db

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                try:
                    db.close()
                except sqlite3.Error as exc:
                    raise _translate(exc, self.path) from exc

    def __enter__(self) -> HistoryStore:
        self.open()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _prepare_files(self) -> None:
        parent = self.path.parent
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(parent, 0o700)  # mkdir's mode is cut by the umask
        if not self.path.exists():
            with contextlib.suppress(FileExistsError):  # another process was faster
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        with contextlib.suppress(PermissionError):  # not ours; sqlite says if it can use it
            os.chmod(self.path, 0o600)  # also when the umask let the file be created looser

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Run the migrations from ``PRAGMA user_version`` up, in one write transaction."""
        latest = len(_MIGRATIONS)
        if db.execute("PRAGMA user_version").fetchone()[0] == latest:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            # Read under the write lock: another process may have migrated meanwhile.
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > latest:
                raise HistoryError(
                    f"history database {self.path} has schema version {version}, "
                    f"newer than this kimi knows ({latest})",
                    hint="upgrade kimi, or move the file aside",
                )
            for step in range(version, latest):
                _MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {step + 1}")
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    @contextlib.contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        """The open connection, under the lock, with sqlite3 errors translated."""
        with self._lock:
            self.open()
            assert self._db is not None
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from exc

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in one short ``BEGIN IMMEDIATE`` transaction."""
        with self._session() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
                db.execute("COMMIT")
            except BaseException:
                _rollback(db)
                raise
            return result

    def new_conversation(self, *, model: str, title: str, system: str | None = None) -> str:
        """Create a conversation (with its system prompt as first message); return its id."""
        model, title, system = _text(model), _text(title), _text(system)

        def work(db: sqlite3.Connection) -> str:
            conversation_id = _new_id()
            while db.execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone():
                conversation_id = _new_id()
            now = _now()
            db.execute(
                "INSERT INTO conversations (id, title, model, created_at, updated_at, used_seq)"
                f" VALUES (?, ?, ?, ?, ?, {_NEXT_SEQ})",
                (conversation_id, title, model, now, now),
            )
            if system is not None:
                db.execute(
                    "INSERT INTO messages (conversation_id, role, content, created_at)"
                    " VALUES (?, 'system', ?, ?)",
                    (conversation_id, system, now),
                )
            return conversation_id

        return self._write(work)

    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        reasoning: str | None = None,
        model: str | None = None,
        usage: Usage | None = None,
        cost: float | None = None,
        currency: str | None = None,
        partial: bool = False,
        finish_reason: str | None = None,
    ) -> int:
        """Append a message; the conversation becomes the last used (and takes ``model``).

        Returns the message's id. An unknown conversation is a ``HistoryError``; a role
        outside ``ROLES`` is a ``ValueError`` (a bug in the caller).
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        counts: tuple[int | None, ...] = (None, None, None)
        if usage is not None:
            counts = (usage.input_tokens, usage.output_tokens, usage.cached_tokens)
        content, reasoning, model = _text(content), _text(reasoning), _text(model)
        values = (conversation_id, role, content, reasoning, model, int(partial), finish_reason)

        def work(db: sqlite3.Connection) -> int:
            now = _now()
            touched = db.execute(
                "UPDATE conversations SET updated_at = ?, model = COALESCE(?, model),"
                f" used_seq = {_NEXT_SEQ} WHERE id = ?",
                (now, model, conversation_id),
            ).rowcount
            if touched == 0:
                raise HistoryError(
                    f"no conversation {conversation_id} in {self.path}",
                    hint="start a new conversation",
                )
            cursor = db.execute(_INSERT_MESSAGE_SQL, (now, *values, *counts, cost, currency))
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return self._write(work)

    def messages(self, conversation_id: str) -> builtins.list[StoredMessage]:
        """The messages of a conversation, oldest first; [] if there is no such conversation."""
        with self._session() as db:
            resolved = self._resolve(db, conversation_id)
            rows = [] if resolved is None else db.execute(_MESSAGE_SQL, (resolved,)).fetchall()
        return [_message(row) for row in rows]

    def get(self, conversation_id: str) -> ConversationSummary | None:
        """The conversation, or None. An ambiguous prefix is a HistoryError naming the matches."""
        with self._session() as db:
            resolved = self._resolve(db, conversation_id)
            if resolved is None:
                return None
            rows = self._summaries(db, " WHERE c.id = ?", (resolved,))
        return rows[0] if rows else None

    def last_used(self) -> ConversationSummary | None:
        """The conversation written to most recently (not the one created last)."""
        rows = self.list(limit=1)
        return rows[0] if rows else None

    def list(self, limit: int | None = None) -> builtins.list[ConversationSummary]:
        """Conversations, most recently used first."""
        with self._session() as db:
            tail = " ORDER BY c.used_seq DESC, c.rowid DESC LIMIT ?"
            return self._summaries(db, tail, (-1 if limit is None else limit,))

    def set_title(self, conversation_id: str, title: str) -> bool:
        """Rename a conversation; False if there is none."""
        title = _text(title)

        def work(db: sqlite3.Connection) -> bool:
            resolved = self._resolve(db, conversation_id)
            if resolved is not None:
                db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, resolved))
            return resolved is not None

        return self._write(work)

    def delete(self, conversation_id: str) -> bool:
        """Delete a conversation and its messages; False if there is none."""

        def work(db: sqlite3.Connection) -> bool:
            resolved = self._resolve(db, conversation_id)
            if resolved is not None:
                db.execute("DELETE FROM conversations WHERE id = ?", (resolved,))
            return resolved is not None

        return self._write(work)

    def delete_all(self) -> int:
        """Delete every conversation; return how many there were."""

        def work(db: sqlite3.Connection) -> int:
            db.execute("DELETE FROM messages")
            return db.execute("DELETE FROM conversations").rowcount

        return self._write(work)

    def _resolve(self, db: sqlite3.Connection, conversation_id: str) -> str | None:
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
            raise HistoryError(
                f"conversation id {conversation_id.strip()!r} is ambiguous: {shown}",
                hint="type more of the id",
            )
        return matches[0] if matches else None

    @staticmethod
    def _summaries(
        db: sqlite3.Connection, tail: str, params: Sequence[object]
    ) -> builtins.list[ConversationSummary]:
        return [ConversationSummary(*row) for row in db.execute(_SUMMARY_SQL + tail, params)]
