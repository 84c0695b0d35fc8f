"""One answer on the screen: a spinner while waiting, the reasoning dim while it streams,
folded to one line when the answer starts, then the answer (Markdown or plain).

On an interactive terminal the spinner and the reasoning live in one transient ``rich``
``Live`` area on stderr that shows the last rows of the reasoning (so a long one never
scrolls past the screen), and is erased when the answer starts; a dim line stays in its
place: ``thought for 3.2 s · 57 words — /thinking shows it``. On a dumb terminal
(``TERM=dumb``) the reasoning is written dim as it arrives, as one-shot chat does.
With ``NO_COLOR`` the reasoning is not dimmed either, as everywhere else in ``kimi``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kimi_cli.conversation.turn import TurnObserver
from kimi_cli.render.answer import AnswerSink, PlainSink, ReasoningPrinter
from kimi_cli.render.terminal import one_line, shown_controls, wants_color

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live

#: Characters of reasoning kept for the live view; far more than a screen can show.
TAIL_CHARS = 16_000


class _Thinking:
    """The live area: a spinner line, then the last rows of the reasoning, dim."""

    def __init__(self, waiting: str, dim: str) -> None:
        from rich.spinner import Spinner

        self._dim = dim
        self._spinner = Spinner("dots", style=dim)
        self.waiting = waiting
        self.started = time.monotonic()  # of the reasoning, once it streams
        self.tail = ""  # replaced whole by the main thread; read by rich's refresh thread
        self.reasoning = False
        self.show_text = True

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment
        from rich.text import Text

        seconds = time.monotonic() - self.started
        label = f"thinking… {seconds:.0f} s" if self.reasoning else self.waiting
        self._spinner.update(text=Text(label, style=self._dim))
        yield self._spinner
        tail = self.tail
        if not (self.show_text and tail):
            return
        rows = console.render_lines(Text(shown_controls(tail), style=self._dim), options, pad=False)
        keep = max(3, options.size.height // 2)
        for row in rows[-keep:]:
            yield from row
            yield Segment.line()


class TurnView(TurnObserver):
    """The REPL's view of one turn; call ``start`` before sending, ``finish`` after (also
    when the turn raised)."""

    def __init__(self, *, markdown: bool, show_reasoning: bool, model_id: str) -> None:
        from rich.console import Console

        self._err = Console(stderr=True, highlight=False)
        self._live_ok = self._err.is_terminal and not self._err.is_dumb_terminal
        self._dim = "dim" if wants_color(sys.stderr) else ""  # NO_COLOR: no styling at all
        self.sink: AnswerSink
        if markdown:
            from kimi_cli.render.markdown_stream import MarkdownSink

            self.sink = MarkdownSink()
        else:
            self.sink = PlainSink()
        self._show = show_reasoning
        self._model_id = model_id
        self._reasoning: list[str] = []
        self._tail = ""
        self._answering = False
        self._started = time.monotonic()
        self._thought: float | None = None
        self._live: Live | None = None
        self._thinking: _Thinking | None = None  # while the live area is wanted
        self._undo_hold: Callable[[], None] | None = None
        plain = show_reasoning and not self._live_ok
        self._printer = ReasoningPrinter(sys.stderr) if plain else None

    @property
    def reasoning_text(self) -> str:
        return "".join(self._reasoning)

    def start(self) -> None:
        self._started = time.monotonic()
        if not self._live_ok:
            return
        self._thinking = _Thinking(f"waiting for {self._model_id}…", self._dim)
        self._thinking.show_text = self._show
        self._start_live()
        from kimi_cli.render.job_control import hold_terminal

        # Ctrl-Z while waiting: the area is erased and the cursor shown before the shell's
        # prompt comes back; after fg a new area is drawn below what the shell printed.
        self._undo_hold = hold_terminal(self._err.file, self._end_live, self._start_live)

    def _start_live(self) -> None:
        if self._thinking is None or self._live is not None:
            return  # the answer has started: nothing to draw again
        from rich.live import Live

        self._live = Live(
            self._thinking,
            console=self._err,
            transient=True,
            auto_refresh=True,
            refresh_per_second=10,
            vertical_overflow="crop",
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start(refresh=True)

    def _end_live(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def reasoning(self, text: str) -> None:
        if not self._reasoning:  # thinking starts now, not when the request left
            self._started = time.monotonic()
        self._reasoning.append(text)
        if self._thinking is not None:
            self._thinking.started = self._started
            self._thinking.reasoning = True
            self._tail = (self._tail + text)[-TAIL_CHARS:]
            self._thinking.tail = self._tail
        elif self._printer is not None:
            self._printer.reasoning(text)

    def content(self, text: str) -> None:
        if not self._answering:
            self._answering = True
            self._end_thinking()
        self.sink.content(text)

    def notice(self, text: str) -> None:
        if self._thinking is not None:
            self._thinking.waiting = text
        else:
            self._err.print(text, style=self._dim, highlight=False, markup=False)

    def search(self, query: str) -> None:
        """A search stays on screen, above the live reasoning (Live prints above itself)."""
        line = f"searching: {one_line(query)}"
        self._err.print(line, style=self._dim, highlight=False, markup=False)

    def finish(self) -> None:
        """End the turn on screen: whatever arrived is drawn, the terminal left clean."""
        self._end_thinking()
        self.sink.finish()

    def _end_thinking(self) -> None:
        if self._thought is None and self._reasoning:
            self._thought = time.monotonic() - self._started
        thinking, self._thinking = self._thinking, None
        if self._undo_hold is not None:
            self._undo_hold()
            self._undo_hold = None
        self._end_live()
        if thinking is not None and self._show and self._reasoning:
            self._err.print(self.fold_line(), style=self._dim, highlight=False, markup=False)
        if self._printer is not None:
            self._printer.close()

    def fold_line(self) -> str:
        seconds = self._thought or 0.0
        words = len(self.reasoning_text.split())
        return f"thought for {seconds:.1f} s · {words} words — /thinking shows it"
