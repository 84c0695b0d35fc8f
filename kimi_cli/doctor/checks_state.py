"""Where kimi keeps what it must not lose: the history database (conversations, usage, the
spend that budgets count). Looked at, never written: a directory that cannot be made or a
file that cannot be written is what a chat would meet, as 'history not saved'.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from kimi_cli.doctor.report import (
    NO_SETTINGS,
    Check,
    DoctorContext,
    Findings,
    passed,
    skipped,
    warned,
)
from kimi_cli.errors import os_error_fix

TITLE = "History"


def _blocked(path: Path) -> tuple[str, int, Path] | None:
    """(what stops kimi from writing ``path``, the errno it would meet, where), or None."""
    if path.is_dir():
        return "it is a directory", errno.EISDIR, path
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "it cannot be written", errno.EACCES, path
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # kimi makes the missing directories: the first one that exists
    if not folder.is_dir():
        return f"{folder} is a file, not a directory", errno.ENOTDIR, path
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder} cannot be written", errno.EACCES, folder
    return None


def check_history(ctx: DoctorContext, found: Findings) -> Check:
    settings = ctx.settings
    if settings is None:
        return skipped("history", TITLE, NO_SETTINGS)
    path = ctx.history_path or settings.data_dir / "history.db"
    blocked = _blocked(path)
    if blocked is not None:
        why, code, where = blocked
        detail = (
            f"{path}: {why}; conversations and their cost are not saved"
            " (every chat warns 'history not saved'), and budgets cannot count what was spent"
        )
        fix = os_error_fix(OSError(code, os.strerror(code)), where)
        if ctx.env.get("KIMI_DATA_DIR"):
            fix = f"{fix}, or point KIMI_DATA_DIR elsewhere"
        return warned("history", TITLE, detail, fix)
    if path.exists():
        return passed("history", TITLE, f"{path} ({path.stat().st_size:,} bytes)")
    return passed("history", TITLE, f"{path} (made by the first chat)")
