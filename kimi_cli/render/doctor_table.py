"""``kimi doctor``'s report: a rich table on a terminal, plain lines in a pipe.

Rows are anything with ``id``, ``title``, ``status``, ``detail`` and ``fix`` (the doctor's
``Check``): render sits below the doctor and does not import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

MARKS = {"pass": "✓", "warn": "!", "fail": "✗", "skip": "-"}
STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


class CheckRow(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def fix(self) -> str | None: ...


def summary(checks: Sequence[CheckRow], exit_code: int, stopped: str | None = None) -> str:
    """``9 passed, 1 skipped — exit 0``; ``stopped`` (``interrupted after 10 of 18 checks``)
    comes before the exit code of a run that did not finish."""
    counts = {s: sum(1 for c in checks if c.status == s) for s in MARKS}
    parts = [f"{counts['pass']} passed"]
    for status, word in (("warn", "warning"), ("fail", "failed"), ("skip", "skipped")):
        if counts[status]:
            label = f"{word}s" if status == "warn" and counts[status] > 1 else word
            parts.append(f"{counts[status]} {label}")
    ending = f"{stopped}, exit {exit_code}" if stopped else f"exit {exit_code}"
    return ", ".join(parts) + f" — {ending}"


def plain_report(checks: Sequence[CheckRow], exit_code: int, stopped: str | None = None) -> str:
    """One line per check (``PASS  title: detail``), an indented ``fix:`` line, a summary."""
    lines: list[str] = []
    width = max((len(c.title) for c in checks), default=0)
    for check in checks:
        lines.append(f"{check.status.upper():<4}  {check.title:<{width}}  {check.detail}")
        if check.fix and check.status in ("warn", "fail"):
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    lines.append(summary(checks, exit_code, stopped))
    return "\n".join(lines) + "\n"


def print_checks(
    checks: Sequence[CheckRow],
    exit_code: int,
    console: Console | None = None,
    stopped: str | None = None,
) -> None:
    """The report as a table, for a terminal."""
    console = console or Console()
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("what was seen / what to do", overflow="fold")
    for check in checks:
        style = STYLES.get(check.status, "")
        mark = Text(f"{MARKS.get(check.status, '?')} {check.status}", style=style)
        cell = Text(check.detail, style="dim" if check.status == "skip" else "")
        if check.fix and check.status in ("warn", "fail"):
            cell.append("\nfix: ", style="bold")
            cell.append(check.fix, style=style)
        table.add_row(mark, Text(check.title), cell)
    if checks:  # stopped before the first check ended: the summary alone says so
        console.print(table)
    style = "bold red" if exit_code else "green"
    console.print(Text(summary(checks, exit_code, stopped), style=style))


@contextmanager
def progress() -> Iterator[Callable[[str], None]]:
    """A spinner on stderr saying what is being checked (a terminal only; else silent)."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda doing: None
        return
    with console.status("kimi doctor", spinner="dots") as status:
        yield lambda doing: status.update(f"kimi doctor: {doing}…")
