"""A spinner on stderr while waiting: for the first token, for the model list (terminals only).

Ctrl-Z erases it before the process stops, so the shell's prompt comes back on a clean line;
after ``fg`` it spins again (``job_control.hold_terminal``).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from kimi_cli.render.terminal import is_tty

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Spinner:
    def __init__(self, text: str, stream: TextIO | None = None, interval: float = 0.08) -> None:
        self._text = text
        self._stream = stream or sys.stderr
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawing = threading.Lock()  # one write at a time: the thread's or an erase
        self._paused = False
        self._undo_hold: Callable[[], None] | None = None

    def start(self) -> Spinner:
        from kimi_cli.render.job_control import hold_terminal

        self._undo_hold = hold_terminal(self._stream, self._pause, self._resume)
        self._thread = threading.Thread(target=self._spin, name="kimi-spinner", daemon=True)
        self._thread.start()
        return self

    def _spin(self) -> None:
        frame = 0
        while not self._stop.wait(self._interval):
            with self._drawing:
                if self._paused:
                    continue
                try:
                    self._stream.write(f"\r{FRAMES[frame % len(FRAMES)]} {self._text}")
                    self._stream.flush()
                except (OSError, ValueError):
                    return
            frame += 1

    def _pause(self) -> None:
        with self._drawing:
            self._paused = True
            self._erase()

    def _resume(self) -> None:
        self._paused = False

    def stop(self) -> None:
        """Idempotent; erases the spinner line."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        if self._undo_hold is not None:
            self._undo_hold()
            self._undo_hold = None
        self._erase()

    def _erase(self) -> None:
        try:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()
        except (OSError, ValueError):
            pass


@contextmanager
def waiting(text: str) -> Iterator[None]:
    """A spinner saying ``text`` while the block runs, on a terminal's stderr (not
    ``TERM=dumb``); nothing in a pipe, nor off the main thread: there the screen belongs to
    someone else (the REPL's Tab completion asks for the model list from a thread, and a
    spinner erased the prompt line under it)."""
    if (
        not is_tty(sys.stderr)
        or os.environ.get("TERM") == "dumb"
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    spinner = Spinner(text).start()
    try:
        yield
    finally:
        spinner.stop()
