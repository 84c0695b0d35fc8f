"""``/edit``: compose a message in $VISUAL or $EDITOR (vi, or notepad on Windows)."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TextIO

from kimi_cli.errors import UsageError

_SET_EDITOR = "set $EDITOR (or $VISUAL)"


def edit_text(initial: str, stdin: TextIO | None) -> str:
    """Open the editor on a temporary file holding ``initial``; return what it holds after.

    ``stdin`` is the terminal the editor reads keys from (None: kimi's own stdin)."""
    default = "notepad" if os.name == "nt" else "vi"
    editor = (os.environ.get("VISUAL") or os.environ.get("EDITOR") or "").strip() or default
    try:
        command = shlex.split(editor, posix=os.name != "nt")
    except ValueError as exc:  # an unclosed quote
        what = f"cannot read the editor command {editor!r} ({exc})"
        raise UsageError(what, hint=_SET_EDITOR) from None
    fd, name = tempfile.mkstemp(prefix="kimi-", suffix=".md")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(initial)
        try:
            done = subprocess.run([*command, str(path)], stdin=stdin, check=False)
        except OSError as exc:
            raise UsageError(
                f"cannot run the editor {command[0]!r} ({exc.strerror})", hint=_SET_EDITOR
            ) from None
        if done.returncode != 0:
            raise UsageError(
                f"the editor {command[0]!r} exited with {done.returncode}",
                hint="nothing was sent",
            )
        return path.read_text(encoding="utf-8", errors="replace")
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
