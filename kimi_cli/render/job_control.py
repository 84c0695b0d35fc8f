"""The terminal while something is drawn live: Ctrl-C and Ctrl-Z leave it clean.

A live area is redrawn by moving the cursor up over the lines it drew last and erasing them.
Two things break that count:

- the terminal echoes what is typed (the ECHO mode), and a control key as ``^C`` or ``^Z``
  (ECHOCTL); a line typed ahead while an answer streams, or a ``^C`` after a line that fills
  the screen's width, moves the cursor down, so the erase that follows misses the area's top
  lines and they show twice or three times. While a live area is up, the echo is turned off
  (only in the foreground: changing the mode from the background would stop the process),
  and turned back on when the area ends. What is typed ahead is not lost: the terminal keeps
  it for whoever reads next (the REPL's prompt shows it, or the shell);
- Ctrl-Z stops the process where it is: the shell's prompt comes back without a cursor, and
  after ``fg`` the next redraw erases the shell's lines instead of its own. So SIGTSTP first
  ends the live area (``on_stop``: erase it, show the cursor) and gives the terminal its mode
  back, then stops the process as the default would; once continued, the caller draws a new
  live area below whatever the shell printed (at its next refresh, or in ``on_continue``
  for an area that has nothing new to draw until then, such as a spinner while waiting).

Standard library only. Nothing changes where it cannot or should not: no termios or SIGTSTP
(Windows), not the main thread, a stream that is no terminal, a SIGTSTP handler someone
else set (SIG_IGN included).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import IO, Any

try:
    import termios
except ImportError:  # pragma: no cover - Windows
    termios = None  # type: ignore[assignment]

__all__ = ["hold_terminal"]


def hold_terminal(
    stream: IO[str],
    on_stop: Callable[[], None],
    on_continue: Callable[[], None] | None = None,
) -> Callable[[], None]:
    """Quiet the echo of keys on ``stream``'s terminal and call ``on_stop`` before each
    stop by Ctrl-Z (and ``on_continue`` after it), from now on; return what undoes both."""
    echo = _Echo.of(stream)
    echo.quiet()
    stop = getattr(signal, "SIGTSTP", None)
    if stop is None or threading.current_thread() is not threading.main_thread():
        return echo.restore
    if signal.getsignal(stop) is not signal.SIG_DFL:
        return echo.restore

    def handler(signum: int, frame: FrameType | None) -> None:
        on_stop()
        echo.restore()
        signal.signal(stop, signal.SIG_DFL)
        os.kill(os.getpid(), stop)  # stopped here, until the shell's fg continues it
        signal.signal(stop, handler)
        echo.quiet()
        if on_continue is not None:
            on_continue()

    signal.signal(stop, handler)

    def undo() -> None:
        if signal.getsignal(stop) is handler:
            signal.signal(stop, signal.SIG_DFL)
        echo.restore()

    return undo


class _Echo:
    """The echo modes of one terminal: turned off and back on, never left changed."""

    def __init__(self, fd: int | None, saved: list[Any] | None) -> None:
        self._fd = fd
        self._saved = saved
        self._quiet = False

    @classmethod
    def of(cls, stream: IO[str]) -> _Echo:
        if termios is None or not hasattr(termios, "ECHOCTL"):
            return cls(None, None)
        try:
            fd = stream.fileno()
            return cls(fd, termios.tcgetattr(fd))
        except (AttributeError, ValueError, OSError, termios.error):
            return cls(None, None)

    def quiet(self) -> None:
        if self._fd is None or self._saved is None or self._quiet or not self._foreground():
            return
        lflag = self._saved[3]
        echo = termios.ECHO | termios.ECHOCTL
        if not isinstance(lflag, int) or not lflag & echo:
            return
        changed = list(self._saved)
        changed[3] = lflag & ~echo
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(self._fd, termios.TCSANOW, changed)
            self._quiet = True

    def restore(self) -> None:
        if not self._quiet or self._fd is None or self._saved is None:
            return
        self._quiet = False
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(self._fd, termios.TCSANOW, self._saved)

    def _foreground(self) -> bool:
        assert self._fd is not None
        try:
            return os.tcgetpgrp(self._fd) == os.getpgrp()
        except OSError:
            return False
