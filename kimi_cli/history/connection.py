"""Opening the history file: created private, WAL, migrated; or read-only for reads."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from kimi_cli.errors import HistoryError
from kimi_cli.history.failures import rollback, translate

__all__ = ["SCHEMA_VERSION", "connect", "connect_read_only"]

#: The schema this kimi reads and writes: ``len(schema.MIGRATIONS)``. A file already at this
#: version (every open but the first) is used as it is, without importing the migrations.
SCHEMA_VERSION = 4


def connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """The database at ``path``, created (0600, dir 0700) and migrated if needed."""
    try:
        _prepare_files(path)
        db = sqlite3.connect(
            path,
            timeout=busy_timeout_s,
            isolation_level=None,  # BEGIN/COMMIT are issued by the store
            check_same_thread=False,  # the store's lock guards it
        )
    except (OSError, sqlite3.Error) as exc:
        raise translate(exc, path) from exc
    try:
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        _migrate(db, path)
    except BaseException as exc:
        db.close()
        if isinstance(exc, sqlite3.Error):
            raise translate(exc, path) from exc
        raise
    return db


def connect_read_only(path: Path, failure: HistoryError) -> sqlite3.Connection | None:
    """``path`` opened for reading only, None when nothing is stored in it (no file, or a
    file made by a run that could not migrate it: a full disk, a kill); else ``failure``,
    also when the file has an older schema, which only a write could bring up to date."""
    if not path.is_file():
        return None
    # Plain read-only first; "immutable" when even the WAL index cannot be created.
    for mode in ("ro", "ro&immutable=1"):
        try:
            db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode={mode}",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            tables = db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error:
            continue
        if version >= SCHEMA_VERSION:
            return db
        db.close()
        if version == 0 and tables == 0:
            return None
        raise failure
    raise failure


def _prepare_files(path: Path) -> None:
    parent = path.parent
    if not parent.exists():
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir's mode is cut by the umask
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process was faster
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    with contextlib.suppress(PermissionError):  # not ours; sqlite says if it can use it
        os.chmod(path, 0o600)  # also when the umask let the file be created looser


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Run the migrations from ``PRAGMA user_version`` up, in one write transaction."""
    latest = SCHEMA_VERSION
    if db.execute("PRAGMA user_version").fetchone()[0] == latest:
        return
    from kimi_cli.history.schema import MIGRATIONS

    db.execute("BEGIN IMMEDIATE")
    try:
        # Read under the write lock: another process may have migrated meanwhile.
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > latest:
            raise HistoryError(
                f"history database {path} has schema version {version}, "
                f"newer than this kimi knows ({latest})",
                hint="upgrade kimi, or move the file aside",
            )
        for step in range(version, latest):
            MIGRATIONS[step](db)
            db.execute(f"PRAGMA user_version = {step + 1}")
        db.execute("COMMIT")
    except BaseException:
        rollback(db)
        raise
