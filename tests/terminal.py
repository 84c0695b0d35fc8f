"""A kimi process on a pty, for tests of what a terminal user sees (REPL, one-shot on a tty)."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import pexpect

from kimi_cli.emulator import Emulator

CPR_REQUEST = "\x1b[6n"
PROMPT_READY = "context left"  # the bottom toolbar, drawn with each prompt
TIMEOUT = 15
SHELL_PROMPT = r"\$ "  # Term.job_shell's


class Term:
    """A kimi process on a pty that answers cursor-position requests like a terminal."""

    def __init__(self, child: Any) -> None:
        self.child = child
        self.output = io.StringIO()
        child.logfile_read = self.output

    @classmethod
    def spawn(cls, args: list[str], emu: Emulator, *, shell: str | None = None, **env: str) -> Term:
        environ = {
            **os.environ,
            "KIMI_BASE_URL": emu.base_url,
            "KIMI_API_KEY": "sk-emulator",
            "KIMI_MODEL": "kimi-k2.6",
            "TERM": "xterm",
            **env,
        }
        if shell is not None:
            command, argv = "bash", ["-c", shell]
        else:
            command, argv = sys.executable, ["-m", "kimi_cli", *args]
        child = pexpect.spawn(
            command, argv, env=environ, dimensions=(40, 120), encoding="utf-8", timeout=TIMEOUT
        )
        return cls(child)

    @classmethod
    def job_shell(cls, emu: Emulator) -> Term:
        """An interactive bash at its prompt (``$ ``): job control for Ctrl-Z and ``fg``, and
        its own view of the terminal's modes (``stty -a``)."""
        term = cls.spawn([], emu, shell="PS1='$ ' exec bash --norc --noprofile -i")
        term.expect(SHELL_PROMPT)
        return term

    def expect(self, pattern: str) -> str:
        """Wait for ``pattern`` (a regex); return what came before it."""
        seen = ""
        while True:
            index = self.child.expect([pattern, re.escape(CPR_REQUEST)])
            seen += self.child.before
            if index == 0:
                return seen
            self.child.send("\x1b[1;1R")  # the cursor is on row 1: all rows are free

    def prompt(self) -> str:
        return self.expect(PROMPT_READY)

    def send(self, text: str) -> None:
        self.child.send(text)

    def exit(self) -> int:
        self.child.send("\x04")  # Ctrl-D on an empty line
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert "Traceback" not in self.output.getvalue()
        return int(self.child.exitstatus)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def closing() -> Iterator[list[Term]]:
    """For a ``terms`` fixture: kill what a failing test leaves running."""
    opened: list[Term] = []
    yield opened
    for term in opened:
        term.close()


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB0-2]|\r")


def plain(text: str) -> str:
    """Terminal output without escape sequences and carriage returns."""
    return _ANSI.sub("", text)


def spawn_kimi(
    *args: str, term: str = "xterm-256color", columns: int = 100, timeout: float = 20
) -> pexpect.spawn:
    """``python -m kimi_cli ARGS`` on a pty of 40 rows, read as text."""
    env = {**os.environ, "TERM": term, "COLUMNS": str(columns), "LINES": "40"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "kimi_cli", *args],
        env=env,
        dimensions=(40, columns),
        timeout=timeout,
        encoding="utf-8",
    )
