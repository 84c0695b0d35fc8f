"""Where an answer goes as it streams: the screen, a pipe, or a JSON document.

stdout carries the answer and nothing else. In a pipe it is written byte for byte as it
arrives (plus a final newline if it lacks one); on a terminal it is rendered as Markdown
(``markdown_stream.MarkdownSink``, imported only then: it draws with rich); reasoning goes to
stderr, dim, and never to stdout.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Protocol, TextIO

from kimi_cli.conversation.turn import TurnObserver
from kimi_cli.render.terminal import (
    DIM,
    RESET,
    is_tty,
    note,
    one_line,
    shown_controls,
    style,
    wants_color,
)

if TYPE_CHECKING:
    from kimi_cli.render.spinner import Spinner


class AnswerSink(Protocol):
    def content(self, text: str) -> None: ...
    def finish(self) -> None: ...


class PlainSink:
    """Raw text to a stream, flushed as it arrives: byte for byte in a pipe; on a terminal
    (``--raw``, ``TERM=dumb``) control characters are shown, not obeyed."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._write = self._stream.write  # bound once: this runs for every piece
        self._flush = self._stream.flush
        self._shown = is_tty(self._stream)
        self._last = ""  # the last piece written

    def content(self, text: str) -> None:
        self._write(shown_controls(text) if self._shown else text)
        self._flush()
        if text:
            self._last = text

    def finish(self) -> None:
        if self._last and not self._last.endswith("\n"):
            self._stream.write("\n")
        self._stream.flush()


class BufferSink:
    """Keeps the answer for a format that needs all of it (``--json``, ``--extract``)."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def content(self, text: str) -> None:
        self.pieces.append(text)

    def finish(self) -> None:
        return None

    @property
    def text(self) -> str:
        return "".join(self.pieces)


class ReasoningPrinter:
    """Reasoning, dim on stderr, ended by a newline before the answer starts."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._color = wants_color(self._stream)
        self._shown = is_tty(self._stream)
        self._open = False

    def reasoning(self, text: str) -> None:
        if not self._open:
            self._open = True
            if self._color:
                self._stream.write(DIM)
        self._stream.write(shown_controls(text) if self._shown else text)
        self._stream.flush()

    def close(self) -> None:
        if self._open:
            self._open = False
            self._stream.write((RESET if self._color else "") + "\n\n")
            self._stream.flush()


class AnswerPrinter(TurnObserver):
    """One-shot chat's view of a turn: reasoning to stderr, the answer to its sink; stops
    the spinner (if any) at the first piece of either."""

    def __init__(
        self, sink: AnswerSink, reasoning: ReasoningPrinter | None, spinner: Spinner | None = None
    ) -> None:
        self.sink = sink
        self.reasoning_printer = reasoning
        self.spinner = spinner

    def reasoning(self, text: str) -> None:
        if self.spinner is not None:
            self._stop_spinner()
        if self.reasoning_printer is not None:
            self.reasoning_printer.reasoning(text)

    def content(self, text: str) -> None:
        if self.spinner is not None:
            self._stop_spinner()
        if self.reasoning_printer is not None:
            self.reasoning_printer.close()
        self.sink.content(text)

    def notice(self, text: str) -> None:
        if self.spinner is not None:
            self._stop_spinner()
        if self.reasoning_printer is not None:
            self.reasoning_printer.close()
        note(style(one_line(text), DIM, sys.stderr))

    def finish(self) -> None:
        self._stop_spinner()
        if self.reasoning_printer is not None:
            self.reasoning_printer.close()
        self.sink.finish()

    def _stop_spinner(self) -> None:
        if self.spinner is not None:
            self.spinner.stop()
            self.spinner = None


_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[^\n]*\n", re.MULTILINE)


def first_code_block(text: str) -> str | None:
    """The body of the first fenced code block, or None. An unclosed fence runs to the end."""
    opening = _FENCE.search(text)
    if opening is None:
        return None
    fence = opening.group("fence")
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
    end = closing.search(text, opening.end())
    body = text[opening.end() : end.start() if end else len(text)]
    return body
