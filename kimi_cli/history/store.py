"""Conversations in SQLite (stdlib ``sqlite3``), with schema migrations.

One file (``history.db`` in the data dir; the caller passes its path). Several ``kimi``
processes may append to it at once: WAL, a busy timeout and short ``BEGIN IMMEDIATE``
write transactions keep every row. The schema version lives in ``PRAGMA user_version``
(``kimi_cli.history.schema``).

Each exchange is stored as it happens: the caller writes the user message when the turn
starts and the assistant message when it ends (``partial=True`` for a cut or interrupted
answer). "Last used" is a counter bumped by every write to a conversation, so it is exact
even when two writes share a timestamp or the clock steps back. Every billed thing (an
answer, a batch result, a set of web searches) is also a row of ``usage``, which
``kimi usage`` and the budgets sum.

Reading never needs to write: when the data dir is read-only or full, reads open the
file read-only (or find no file: no conversations yet). Every ``sqlite3`` error is
translated (by ``failures``) into a one-line ``HistoryError`` naming the file and what to
do. The API key is never stored: there is no column for it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kimi_cli.errors import HistoryError
from kimi_cli.history.connection import connect, connect_read_only
from kimi_cli.history.failures import is_write_failure, rollback, translate
from kimi_cli.history.records import clean_text, new_id, now_iso, token_triple

if TYPE_CHECKING:  # kimi_cli.api's package imports httpx; only the type is needed
    from kimi_cli.api.types import Usage
    from kimi_cli.history.documents import StoredDocument
    from kimi_cli.history.queries import ConversationSummary, SearchHit, UsageTotals
    from kimi_cli.history.records import StoredMessage

__all__ = ["KINDS", "ROLES", "HistoryStore"]

ROLES = ("system", "user", "assistant")

#: The most rows a listing returns (``recent``, ``search``): more than anyone reads, and far
#: below SQLite's 64-bit LIMIT, which a larger Python int overflows.
MOST_LISTED = 10_000
KINDS = ("chat", "repl", "batch", "search")  # what a usage row was billed for
_T = TypeVar("_T")


_INSERT_MESSAGE_SQL = """INSERT INTO messages (created_at, conversation_id, role, content,
    reasoning, model, partial, finish_reason, input_tokens, output_tokens, cached_tokens,
    cost, currency, tool_steps) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_INSERT_USAGE_SQL = """INSERT INTO usage (at, day, kind, conversation_id, message_id, ref,
    model, requests, searches, input_tokens, cached_tokens, output_tokens, cost, currency)
    VALUES (?, substr(?, 1, 10), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_NEXT_SEQ = "(SELECT COALESCE(MAX(used_seq), 0) + 1 FROM conversations)"


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
            if self._db is None:
                self._db = connect(self.path, self.busy_timeout_s)

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                try:
                    db.close()
                except sqlite3.Error as exc:
                    raise translate(exc, self.path) from exc

    def __enter__(self) -> HistoryStore:
        self.open()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        """The open connection, under the lock, with sqlite3 errors translated."""
        with self._lock:
            self.open()
            assert self._db is not None
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """Like ``_session``, but a data dir that cannot be written does not stop a read:
        the file is opened read-only, and no file at all is None (nothing stored yet)."""
        with self._lock:
            if self._db is None:
                try:
                    self.open()
                except HistoryError as exc:
                    if exc.__cause__ is None or not is_write_failure(exc.__cause__):
                        raise
                    self._db = connect_read_only(self.path, exc)
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` in one short ``BEGIN IMMEDIATE`` transaction."""
        with self._session() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
                db.execute("COMMIT")
            except BaseException:
                rollback(db)
                raise
            return result

    def new_conversation(self, *, model: str, title: str, system: str | None = None) -> str:
        """Create a conversation (with its system prompt as first message); return its id."""
        model, title, system = clean_text(model), clean_text(title), clean_text(system)

        def work(db: sqlite3.Connection) -> str:
            conversation_id = new_id()
            while db.execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone():
                conversation_id = new_id()
            now = now_iso()
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
        kind: str = "chat",
        requests: int = 1,
        tool_steps: str | None = None,
    ) -> int:
        """Append a message; the conversation becomes the last used (and takes ``model``).

        An assistant message with ``usage`` or ``cost`` is also a ``usage`` row of
        ``kind`` ("chat" or "repl"), counting ``requests`` API requests (a turn with a
        tool loop takes several). ``tool_steps`` is the JSON list of the tool calls and
        results that led to an assistant message. Returns the message's id. An unknown
        conversation is a
        ``HistoryError``; a role outside ``ROLES`` is a ``ValueError`` (a bug in the caller).
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        _check_kind(kind)
        counts: tuple[int | None, ...] = (None, None, None)
        if usage is not None:
            counts = (usage.input_tokens, usage.output_tokens, usage.cached_tokens)
        content, reasoning, model = clean_text(content), clean_text(reasoning), clean_text(model)
        values = (conversation_id, role, content, reasoning, model, int(partial), finish_reason)
        billed = role == "assistant" and (usage is not None or cost is not None)

        def work(db: sqlite3.Connection) -> int:
            now = now_iso()
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
            cursor = db.execute(
                _INSERT_MESSAGE_SQL, (now, *values, *counts, cost, currency, clean_text(tool_steps))
            )
            assert cursor.lastrowid is not None
            if billed:
                row = (now, now, kind, conversation_id, cursor.lastrowid, None, model, requests)
                db.execute(_INSERT_USAGE_SQL, (*row, 0, *token_triple(usage), cost, currency))
            return cursor.lastrowid

        return self._write(work)

    def add_document(
        self,
        conversation_id: str,
        *,
        content: str,
        name: str,
        size: int,
        sha256: str,
        file_id: str,
    ) -> int:
        """Append a document: a system message with its extracted text, and its source."""
        from kimi_cli.history.documents import insert_document

        content, name = clean_text(content), clean_text(name)

        def work(db: sqlite3.Connection) -> int:
            return insert_document(
                db,
                conversation_id,
                now_iso(),
                content=content,
                name=name,
                size=size,
                sha256=sha256,
                file_id=file_id,
            )

        return self._write(work)

    def documents(self, conversation_id: str) -> list[StoredDocument]:
        """The documents of a conversation, in the order they were sent."""
        from kimi_cli.history import queries
        from kimi_cli.history.documents import documents_of

        with self._reading() as db:
            resolved = None if db is None else queries.resolve_id(db, conversation_id)
            return [] if db is None or resolved is None else documents_of(db, resolved)

    def record_usage(
        self,
        *,
        kind: str,
        model: str | None,
        usage: Usage | None = None,
        cost: float | None = None,
        currency: str | None = None,
        requests: int = 1,
        searches: int = 0,
        conversation_id: str | None = None,
        ref: str | None = None,
    ) -> None:
        """Record something billed that is not a stored answer.

        A batch result: ``kind="batch"``, its usage, its cost *at the batch price* (None
        when the price is unknown) and ``ref`` = the batch id (with the custom id, e.g.
        ``"batch_abc/request-1"``). Web searches: ``kind="search"``, ``requests=0``,
        ``searches=n``, the per-call fee as ``cost`` and the conversation they served.
        """
        _check_kind(kind)
        model, ref = clean_text(model), clean_text(ref)

        def work(db: sqlite3.Connection) -> None:
            now = now_iso()
            row = (now, now, kind, conversation_id, None, ref, model, requests, searches)
            db.execute(_INSERT_USAGE_SQL, (*row, *token_triple(usage), cost, currency))

        self._write(work)

    def record_batch_result(
        self,
        batch_id: str,
        custom_id: str,
        *,
        model: str | None,
        usage: Usage | None,
        cost: float | None,
        currency: str | None,
    ) -> None:
        """One result line of a finished batch job (``cost`` at the batch price)."""
        self.record_usage(
            kind="batch",
            model=model,
            usage=usage,
            cost=cost,
            currency=currency,
            ref=f"{batch_id}/{custom_id}",
        )

    def usage_totals(self, *, since_day: str | None = None, by: str = "day") -> list[UsageTotals]:
        """Sums of what was billed since ``since_day`` (YYYY-MM-DD, UTC), grouped ``by``
        "day", "model" or "conversation"; [] when nothing was stored yet."""
        from kimi_cli.history import queries

        if by not in queries.GROUPINGS:
            raise ValueError(f"by must be one of {sorted(queries.GROUPINGS)}, not {by!r}")
        with self._reading() as db:
            return [] if db is None else queries.usage_totals(db, since_day, by)

    def searches_in(self, conversation_id: str) -> int:
        """How many web searches were recorded for the conversation (exact id)."""
        with self._reading() as db:
            if db is None:
                return 0
            sql = "SELECT COALESCE(SUM(searches), 0) FROM usage WHERE conversation_id = ?"
            return int(db.execute(sql, (conversation_id,)).fetchone()[0])

    def search(self, text: str, *, limit: int = 20) -> list[SearchHit]:
        """Messages holding every word of ``text``, newest first."""
        from kimi_cli.history import queries

        with self._reading() as db:
            return [] if db is None else queries.search(db, text, min(limit, MOST_LISTED))

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """The messages of a conversation, oldest first; [] if there is no such conversation."""
        from kimi_cli.history import queries

        with self._reading() as db:
            resolved = None if db is None else queries.resolve_id(db, conversation_id)
            return [] if db is None or resolved is None else queries.messages(db, resolved)

    def each_message(self, conversation_id: str) -> Iterator[StoredMessage]:
        """``messages`` one at a time (exact id), the store held until the last is read."""
        from kimi_cli.history import queries

        with self._reading() as db:
            yield from () if db is None else queries.each_message(db, conversation_id)

    def get(self, conversation_id: str) -> ConversationSummary | None:
        """The conversation, or None. An ambiguous prefix is a UsageError naming the matches."""
        from kimi_cli.history import queries

        with self._reading() as db:
            resolved = None if db is None else queries.resolve_id(db, conversation_id)
            return None if db is None or resolved is None else queries.summary(db, resolved)

    def last_used(self) -> ConversationSummary | None:
        """The conversation written to most recently (not the one created last)."""
        rows = self.recent(limit=1)
        return rows[0] if rows else None

    def recent(self, limit: int | None = None) -> list[ConversationSummary]:
        """Conversations, most recently used first: all of them when ``limit`` is None, else at
        most ``limit`` (and ``MOST_LISTED``)."""
        from kimi_cli.history import queries

        if limit is not None:
            limit = min(limit, MOST_LISTED)
        with self._reading() as db:
            return [] if db is None else queries.recent(db, limit)

    def set_title(self, conversation_id: str, title: str) -> bool:
        """Rename a conversation; False if there is none."""
        from kimi_cli.history import queries

        title = clean_text(title)

        def work(db: sqlite3.Connection) -> bool:
            resolved = queries.resolve_id(db, conversation_id)
            if resolved is not None:
                db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, resolved))
            return resolved is not None

        return self._write(work)

    def delete(self, conversation_id: str) -> bool:
        """Delete a conversation and its messages; False if there is none."""
        from kimi_cli.history import queries

        def work(db: sqlite3.Connection) -> bool:
            resolved = queries.resolve_id(db, conversation_id)
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


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
