"""Questions to the user (``kimi setup``'s, and "delete these?"), asked on stderr and
answered on the terminal.

stdout carries data only: ``kimi setup > setup.log`` or ``kimi files rm … > log`` must still
show their questions, and leave nothing of them in the file (Typer's prompts write their last
character to stdout).
"""

from __future__ import annotations

import sys

from kimi_cli.errors import UsageError


def ask(text: str, *, default: str | None = None, hidden: bool = False) -> str:
    """The answer to ``text`` (``default`` when the user just presses Enter; an empty answer
    without a default is asked again). Ctrl-C and Ctrl-D propagate (KeyboardInterrupt,
    EOFError) without ending the prompt's line: the caller does."""
    shown = f"{text} [{default}]: " if default is not None else f"{text}: "
    while True:
        if hidden:
            import getpass

            value = getpass.getpass(shown, stream=sys.stderr)
        else:
            sys.stderr.write(shown)
            sys.stderr.flush()
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            value = line.rstrip("\r\n")
        if value.strip():
            return value
        if default is not None:
            return default


def confirm(text: str, *, default: bool) -> bool:
    """A yes/no question; anything else is explained and asked again by the caller."""
    answer = ask(text, default="Y/n" if default else "y/N").strip().lower()
    if answer in ("y/n", ""):
        return default
    if answer in ("y", "yes"):
        return True
    if answer in ("n", "no"):
        return False
    raise UsageError(f"{answer!r} is not an answer", hint="answer y or n")


def agreed(text: str) -> bool:
    """A question whose answer is no unless the user types y or yes; Ctrl-D is a no, and
    Ctrl-C (KeyboardInterrupt) ends the question's line before it goes on."""
    try:
        answer = ask(text, default="y/N")
    except EOFError:
        sys.stderr.write("\n")
        return False
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise
    return answer.strip().lower() in ("y", "yes")
