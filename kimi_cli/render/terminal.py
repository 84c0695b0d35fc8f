"""Lines for people on stderr, and what the terminal can take. Standard library only,
so an error line never pays for importing rich."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Mapping
from typing import TextIO

from kimi_cli.errors import KimiError, UsageError

DIM = "\x1b[2m"
BOLD_RED = "\x1b[1;31m"
YELLOW = "\x1b[33m"
RESET = "\x1b[0m"


def reconfigure_utf8() -> None:
    """Print any answer whatever the locale (Windows GBK/cp1252 consoles, C locale)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(encoding="utf-8", errors="replace")


def utf8_text(text: str, what: str, hint: str) -> str:
    """``text`` from the terminal or argv, where bytes the decoder could not read arrive as
    surrogate escapes: UTF-8 bytes (a locale that is not UTF-8) are read as UTF-8; anything
    else is a usage error naming ``what`` ("the argument"), its bytes and the byte offset,
    before it can reach a request, a file or the history."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no decoding of bytes makes
        raw = text.encode("utf-8", "surrogatepass")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
    shown = "".join(c if c.isprintable() else " " for c in raw.decode("utf-8", "backslashreplace"))
    if len(shown) > 60:
        shown = shown[:59] + "…"
    raise UsageError(f"{what} '{shown}' is not valid UTF-8 (byte offset {offset})", hint=hint)


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def wants_color(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    return is_tty(stream)


def style(text: str, code: str, stream: TextIO) -> str:
    return f"{code}{text}{RESET}" if wants_color(stream) else text


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

# A model's text (an answer, its reasoning, a stored title) may quote a hostile file: ESC and
# the other controls would reach a terminal as commands (retitle the window, clear the screen,
# write the clipboard with OSC 52). On a terminal they are drawn as their Unicode control
# pictures; tabs and line breaks stay, and a carriage return goes (as rich drops it), so it
# cannot hide the start of a line by writing over it.
# (Built without a comprehension: this module is imported by every command, and a one-shot
# chat's traced function count, bench/trace.py, stays as it was.)
_CONTROL_PICTURES: dict[int, int | None] = dict(zip(range(32), range(0x2400, 0x2420), strict=True))
_CONTROL_PICTURES |= {0x09: 0x09, 0x0A: 0x0A, 0x0D: None, 0x7F: 0x2421}
_CONTROL_PICTURES |= dict.fromkeys(range(0x80, 0xA0), 0xFFFD)


def shown_controls(text: str) -> str:
    """``text`` with its control characters drawn, not obeyed (tabs and newlines kept)."""
    return text.translate(_CONTROL_PICTURES)


def one_line(text: str) -> str:
    """``text`` as one line: line breaks and runs of white space become one space, and
    control characters (a terminal escape in a server's message) are dropped."""
    return _CONTROL.sub("", " ".join(text.split()))


def error_line(error: KimiError | str) -> str:
    text = error.line() if isinstance(error, KimiError) else error
    return f"kimi: error: {one_line(text)}"


def print_error(error: KimiError | str) -> None:
    _write_err(style(error_line(error), BOLD_RED, sys.stderr))


def warn(text: str) -> None:
    _write_err(style(f"kimi: warning: {one_line(text)}", YELLOW, sys.stderr))


def note(text: str) -> None:
    """Information for people: always stderr, never stdout."""
    _write_err(text)


def _write_err(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr closed: nothing more can be said
