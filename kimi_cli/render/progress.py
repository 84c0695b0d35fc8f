"""An upload's progress bar on stderr (terminals only, and only for uploads that take a
moment). Standard library only: it draws a line, nothing more."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from kimi_cli.render.terminal import is_tty

#: Smaller uploads finish before a bar could say anything.
SHOW_ABOVE_BYTES = 4 * 1024 * 1024
_WIDTH = 24
_EVERY_S = 0.1


class UploadBar:
    """``bar(sent, total)`` draws ``name [#####-----]  42%  21.0/50.0 MB``, then, once every
    byte is out, ``name: 50.0 MB sent, waiting for the API…``; ``close`` erases it."""

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self._name = name
        self._stream = stream or sys.stderr
        self._drawn_at = 0.0
        self._shown = False

    def __call__(self, sent: int, total: int) -> None:
        now = time.monotonic()
        if sent < total and now - self._drawn_at < _EVERY_S:
            return
        self._drawn_at = now
        share = sent / total if total else 1.0
        filled = int(share * _WIDTH)
        mb = 1024 * 1024
        line = (
            f"\r{self._name} [{'#' * filled}{'-' * (_WIDTH - filled)}] {share:4.0%}"
            f"  {sent / mb:.1f}/{total / mb:.1f} MB"
        )
        if sent >= total:
            # Every byte is out; the API still stores it (and extracts its text, which can
            # take a while): the line says so until the caller closes it.
            line = f"\r\x1b[2K{self._name}: {total / mb:.1f} MB sent, waiting for the API…"
        try:
            self._stream.write(line)
            self._stream.flush()
            self._shown = True
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        if not self._shown:
            return
        self._shown = False
        try:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()
        except (OSError, ValueError):
            pass


def upload_bar(name: str, size: int) -> Callable[[int, int], None] | None:
    """A bar for an upload of ``size`` bytes when stderr is a terminal; else None."""
    if size <= SHOW_ABOVE_BYTES or not is_tty(sys.stderr) or os.environ.get("TERM") == "dumb":
        return None
    return UploadBar(name)
