"""Progress of a batch on stderr: a bar redrawn in place on a terminal, otherwise one
line per change of status (so a log or a pipe gets a readable history, not a flood)."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO

from kimi_cli.render.terminal import is_tty

BAR_WIDTH = 24
REDRAW_EVERY_S = 0.1


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, *, terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        if terminal is None:
            terminal = is_tty(self.stream) and os.environ.get("TERM") != "dumb"
        self.terminal = terminal
        self.started = time.monotonic()
        self._last_status: str | None = None
        self._last_draw = 0.0
        self._drawn = False
        self._latest: tuple[int, int, int, str] | None = None
        self._lock = threading.Lock()

    def update(
        self, done: int, failed: int, total: int, status: str, *, force: bool = False
    ) -> None:
        with self._lock:
            self._latest = (done, failed, total, status)
            if self.terminal:
                now = time.monotonic()
                if force or now - self._last_draw >= REDRAW_EVERY_S or status != self._last_status:
                    self._last_draw = now
                    self.stream.write("\r\x1b[2K" + self._bar(done, failed, total, status))
                    self.stream.flush()
                    self._drawn = True
            elif status != self._last_status:
                self.stream.write(
                    f"kimi: {status}: {done + failed}/{total} done ({failed} failed)\n"
                )
                self.stream.flush()
            self._last_status = status

    def _bar(self, done: int, failed: int, total: int, status: str) -> str:
        share = (done + failed) / total if total else 0.0
        filled = int(share * BAR_WIDTH)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        elapsed = int(time.monotonic() - self.started)
        clock = f"{elapsed // 60}:{elapsed % 60:02d}"
        return f"{bar} {done + failed}/{total} ({failed} failed) · {status} · {clock}"

    def finish(self) -> None:
        with self._lock:
            if self.terminal and self._drawn:
                if self._latest is not None:  # the last state, which the clock may have skipped
                    self.stream.write("\r\x1b[2K" + self._bar(*self._latest))
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


class UploadLine:
    """``uploading 12.3 of 40.0 MB`` redrawn in place on a terminal; nothing elsewhere."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._last = 0.0

    def __call__(self, sent: int, total: int) -> None:
        now = time.monotonic()
        if sent < total and now - self._last < REDRAW_EVERY_S:
            return
        self._last = now
        mb = 1_000_000
        self.stream.write(f"\r\x1b[2Kkimi: uploading {sent / mb:.1f} of {total / mb:.1f} MB")
        if sent >= total:
            self.stream.write("\r\x1b[2K")
        self.stream.flush()
