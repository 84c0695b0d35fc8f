"""The job journal: ``batch.db`` (SQLite) in the data dir.

It remembers, for every job: the input fingerprint, model, name, the source of every
``custom_id`` (so results map back to inputs in input order), each part's upload and
batch IDs with their status, and for ``run`` every finished ``custom_id`` with its result,
so a rerun sends only what is missing. Every step is committed before the next network
call, which is what lets a killed ``submit`` resume without losing or duplicating a batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from kimi_cli.errors import HistoryError

_T = TypeVar("_T")
ITEM_CHUNK = 2000

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, fingerprint TEXT NOT NULL,
        model TEXT NOT NULL, name TEXT, requests INTEGER NOT NULL, created_at TEXT NOT NULL,
        schema TEXT)""",
    "CREATE INDEX IF NOT EXISTS jobs_by_input ON jobs (kind, fingerprint)",
    """CREATE TABLE IF NOT EXISTS items (
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, seq INTEGER NOT NULL,
        custom_id TEXT NOT NULL, source TEXT NOT NULL, from_file INTEGER NOT NULL,
        part INTEGER NOT NULL, PRIMARY KEY (job_id, seq))""",
    """CREATE TABLE IF NOT EXISTS parts (
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, part INTEGER NOT NULL,
        requests INTEGER NOT NULL, filename TEXT NOT NULL, file_id TEXT, batch_id TEXT,
        status TEXT NOT NULL, counts TEXT, updated_at TEXT NOT NULL,
        PRIMARY KEY (job_id, part))""",
    "CREATE INDEX IF NOT EXISTS parts_by_batch ON parts (batch_id)",
    """CREATE TABLE IF NOT EXISTS finished (
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        custom_id TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (job_id, custom_id))""",
    """CREATE TABLE IF NOT EXISTS recorded (
        batch_id TEXT PRIMARY KEY, recorded_at TEXT NOT NULL)""",
)
#: The answers of ``run`` whose spend is in history. A journal made before this table
#: existed had its spend recorded by the run itself: those answers count as billed.
_BILLED = (
    """CREATE TABLE billed (
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        custom_id TEXT NOT NULL, PRIMARY KEY (job_id, custom_id))""",
    "INSERT INTO billed (job_id, custom_id) SELECT job_id, custom_id FROM finished",
)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str  # "submit" | "run"
    fingerprint: str
    model: str
    name: str | None
    requests: int
    created_at: str
    schema: str | None = None  # the JSON Schema of --schema, answers are checked against

    @property
    def schema_dict(self) -> dict[str, Any] | None:
        return json.loads(self.schema) if self.schema else None


@dataclass(frozen=True)
class PartRow:
    job_id: int
    part: int
    requests: int
    filename: str
    file_id: str | None
    batch_id: str | None
    status: str  # "pending" (nothing sent yet), "uploaded", then the batch's own status
    counts: dict[str, int] | None
    updated_at: str


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    def __enter__(self) -> Journal:
        self._open()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _open(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            if not self.path.parent.exists():
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            db = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            for statement in _SCHEMA:
                db.execute(statement)
            _add_billed(db)
        except (OSError, sqlite3.Error) as exc:
            raise self._error(exc) from exc
        self._db = db
        return db

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                db.close()

    def _error(self, exc: BaseException) -> HistoryError:
        from kimi_cli.history.failures import translate

        kept = " (submitted batches stay on the platform: 'kimi batch status ID')"
        return translate(exc, self.path, "batch journal", kept=kept)

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._open().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def _write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            db = self._open()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    result = work(db)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            return result

    # -- jobs ----------------------------------------------------------------------------

    def add_job(
        self,
        *,
        kind: str,
        fingerprint: str,
        model: str,
        name: str | None,
        items: Iterable[tuple[int, str, str, bool, int]],
        parts: Iterable[tuple[int, int, str]] = (),
        schema: dict[str, Any] | None = None,
    ) -> Job:
        """A job with its items and (for submit) its parts ``(part, requests, filename)``,
        in one transaction: it exists completely or not at all."""
        created = now()
        schema_text = json.dumps(schema) if schema is not None else None

        def work(db: sqlite3.Connection) -> Job:
            cursor = db.execute(
                "INSERT INTO jobs (kind, fingerprint, model, name, requests, created_at, schema)"
                " VALUES (?, ?, ?, ?, 0, ?, ?)",
                (kind, fingerprint, model, name, created, schema_text),
            )
            job_id = int(cursor.lastrowid or 0)
            count = 0
            for chunk in _chunks(items, ITEM_CHUNK):
                db.executemany(
                    "INSERT INTO items (job_id, seq, custom_id, source, from_file, part)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(job_id, s, c, src, int(f), p) for s, c, src, f, p in chunk],
                )
                count += len(chunk)
            db.execute("UPDATE jobs SET requests = ? WHERE id = ?", (count, job_id))
            db.executemany(
                "INSERT INTO parts (job_id, part, requests, filename, status, updated_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?)",
                [(job_id, p, n, f, created) for p, n, f in parts],
            )
            return Job(job_id, kind, fingerprint, model, name, count, created, schema_text)

        return self._write(work)

    def find_jobs(self, kind: str, fingerprint: str) -> list[Job]:
        """Jobs made from this input, newest first."""
        rows = self._read(
            "SELECT * FROM jobs WHERE kind = ? AND fingerprint = ? ORDER BY id DESC",
            (kind, fingerprint),
        )
        return [Job(*row) for row in rows]

    def job(self, job_id: int) -> Job | None:
        rows = self._read("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return Job(*rows[0]) if rows else None

    def jobs(self, kind: str) -> list[Job]:
        return [Job(*r) for r in self._read("SELECT * FROM jobs WHERE kind = ?", (kind,))]

    def items(self, job_id: int) -> Iterator[tuple[int, str, str, bool, int]]:
        """``(seq, custom_id, source, from_file, part)`` in input order, read in chunks."""
        last = -1
        while True:
            rows = self._read(
                "SELECT seq, custom_id, source, from_file, part FROM items"
                " WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (job_id, last, ITEM_CHUNK),
            )
            if not rows:
                return
            for seq, custom_id, source, from_file, part in rows:
                yield int(seq), str(custom_id), str(source), bool(from_file), int(part)
            last = int(rows[-1][0])

    # -- parts (submit) ------------------------------------------------------------------

    def parts(self, job_id: int) -> list[PartRow]:
        rows = self._read("SELECT * FROM parts WHERE job_id = ? ORDER BY part", (job_id,))
        return [_part_row(row) for row in rows]

    def part_of_batch(self, batch_id: str) -> PartRow | None:
        rows = self._read("SELECT * FROM parts WHERE batch_id = ?", (batch_id,))
        return _part_row(rows[0]) if rows else None

    def all_parts(self) -> list[PartRow]:
        rows = self._read("SELECT * FROM parts WHERE batch_id IS NOT NULL ORDER BY updated_at")
        return [_part_row(row) for row in rows]

    def update_part(self, job_id: int, part: int, **changes: Any) -> None:
        allowed = {"file_id", "batch_id", "status", "counts"}
        assert set(changes) <= allowed, changes
        if "counts" in changes and changes["counts"] is not None:
            changes["counts"] = json.dumps(changes["counts"])
        columns = ", ".join(f"{name} = ?" for name in changes)

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                f"UPDATE parts SET {columns}, updated_at = ? WHERE job_id = ? AND part = ?",
                (*changes.values(), now(), job_id, part),
            )

        self._write(work)

    # -- finished requests (run) ---------------------------------------------------------

    def finish(self, job_id: int, custom_id: str, result: dict[str, Any]) -> None:
        text = json.dumps(result, ensure_ascii=False)
        self._write(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO finished (job_id, custom_id, result) VALUES (?, ?, ?)",
                (job_id, custom_id, text),
            )
        )

    def finished_ids(self, job_id: int) -> set[str]:
        rows = self._read("SELECT custom_id FROM finished WHERE job_id = ?", (job_id,))
        return {str(row[0]) for row in rows}

    def finished_result(self, job_id: int, custom_id: str) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT result FROM finished WHERE job_id = ? AND custom_id = ?", (job_id, custom_id)
        )
        return json.loads(rows[0][0]) if rows else None

    def unbilled(self, job_id: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(custom_id, result)`` of the answers whose spend is not in history yet: this
        run's, and those of a run killed before it could record them. Read ``ITEM_CHUNK``
        at a time: 50,000 answers are not all held at once to add up their usage."""
        last = ""
        while True:
            rows = self._read(
                "SELECT f.custom_id, f.result FROM finished f LEFT JOIN billed b"
                " ON b.job_id = f.job_id AND b.custom_id = f.custom_id"
                " WHERE f.job_id = ? AND b.custom_id IS NULL AND f.custom_id > ?"
                " ORDER BY f.custom_id LIMIT ?",
                (job_id, last, ITEM_CHUNK),
            )
            if not rows:
                return
            for custom_id, result in rows:
                yield str(custom_id), json.loads(result)
            last = str(rows[-1][0])

    def mark_billed(self, job_id: int, custom_ids: Iterable[str]) -> None:
        def work(db: sqlite3.Connection) -> None:
            for chunk in _chunks(custom_ids, ITEM_CHUNK):
                db.executemany(
                    "INSERT OR IGNORE INTO billed (job_id, custom_id) VALUES (?, ?)",
                    [(job_id, custom_id) for custom_id in chunk],
                )

        self._write(work)

    # -- history bookkeeping -------------------------------------------------------------

    def mark_recorded(self, batch_id: str) -> bool:
        """True the first time for ``batch_id``: its cost goes into history once."""

        def work(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "INSERT OR IGNORE INTO recorded (batch_id, recorded_at) VALUES (?, ?)",
                (batch_id, now()),
            )
            return cursor.rowcount == 1

        return self._write(work)


def _add_billed(db: sqlite3.Connection) -> None:
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'billed'").fetchone()
    if exists:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'billed'").fetchone():
            for statement in _BILLED:
                db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _part_row(row: Any) -> PartRow:
    values = list(row)
    values[7] = json.loads(values[7]) if values[7] else None
    return PartRow(*values)


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    chunk: list[_T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
