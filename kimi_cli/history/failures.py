"""Every ``sqlite3`` (or file system) failure as one line naming the file and what to do.

Imported where a failure is handled: a write that succeeds never loads it.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

from kimi_cli.errors import HistoryError, os_error_fix

_CORRUPT = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_NO_ACCESS: tuple[int, ...] = (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)
_NO_ACCESS += (sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH, sqlite3.SQLITE_IOERR)


def primary_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None  # extended -> primary code


def is_write_failure(exc: BaseException) -> bool:
    """The file or its directory cannot be written (read-only, full, not ours)."""
    if isinstance(exc, OSError):
        return True
    primary = primary_code(exc)
    return primary == sqlite3.SQLITE_FULL or primary in _NO_ACCESS


def translate(
    exc: BaseException, path: Path, what: str = "history database", *, kept: str = ""
) -> HistoryError:
    """One line for any sqlite3 (or file system) failure on ``path``, the ``what`` (also
    the batch journal). ``kept``: what survives moving a corrupt file aside, said with it."""
    detail = str(exc).strip() or type(exc).__name__
    primary = primary_code(exc)
    if primary in _CORRUPT:
        message = f"{what} {path} is corrupt"
        hint = f"move it aside; kimi will start a new one{kept}"
    elif primary in _LOCKED:
        message, hint = f"{what} {path} is locked by another process", "retry"
    elif primary == sqlite3.SQLITE_FULL or (primary in _NO_ACCESS and _no_space(path)):
        message, hint = f"could not write {what} {path}", "free disk space"
    elif isinstance(exc, OSError):  # a full disk or a read-only mount is no permission problem
        message, hint = f"could not write {what} {path}", os_error_fix(exc, path)
    elif primary in _NO_ACCESS:
        message, hint = f"could not write {what} {path}", "check permissions"
    else:
        message = f"{what} {path} failed"
        hint = "retry; if it persists, move the file aside and kimi will start a new one"
    return HistoryError(f"{message} ({detail})", hint=hint)


def _no_space(path: Path) -> bool:
    """A full disk shows as an I/O error when SQLite grows its -shm file: check for room."""
    with contextlib.suppress(OSError):
        return shutil.disk_usage(path.parent).free == 0
    return False


def rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:  # the first error is the one worth reporting
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
