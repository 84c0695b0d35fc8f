"""Draw a model's answer as Markdown while it streams, in O(n) of its length.

Tools that re-render ``Markdown(full_text)`` on every delta pay O(n) per delta, O(n²) per
answer, and flicker. Here :class:`~kimi_cli.render.markdown_blocks.BlockSplitter` decides when a
top-level block (paragraph, list, heading, fenced code, table, quote, rule) is finished; a
finished block is printed once, above the live area, and never drawn again. Only the block
still growing is shown in a transient ``rich.live.Live``, refreshed at most
``refresh_per_second`` times a second, and only on an interactive terminal. Anywhere else
(a file, a dumb terminal) nothing is drawn live and each block is printed when it finishes.

Tall live blocks. ``Live`` can only redraw what fits on the screen: a live area taller than the
terminal scrolls its top into the scrollback, where it can no longer be erased and stays as
garbage. Two measures keep the live area below the terminal height:

- fenced code, the usual tall block, is committed early: once an open fence holds about a
  screenful of complete lines not yet printed, those lines are printed for good and the live
  area starts again below them, so a 500-line code block never redraws more than a screenful
  (and never 500 lines). Each committed chunk is highlighted on its own, so a multi-line string
  spanning two chunks may be coloured slightly differently; the text is exact;
- any other block (a long paragraph, a long list or table) is previewed by its last screenful
  only: the preview renders at most ``2 × width × height`` characters of the block's source
  and keeps the last ``height - 1`` rows. The whole block is printed properly once it is
  finished. Cutting the source may make a preview start mid-structure (a table without its
  header); that is transient, and it bounds the cost of every refresh by the screen's size,
  not the block's, which is what keeps a 20,000-word answer linear.

Fenced code is never hard-wrapped: its lines are written as they are (no fence lines, no
padding, no box, tabs kept), so the terminal soft-wraps them and copying gives back the original
code. The theme's background is kept behind the characters so that its colours stay legible on
light and dark terminals alike. Only top-level fences get this; code nested in a list item or a
quote is drawn by rich inside its container, wrapped to fit it.

Nothing here caches the terminal's size: rich reads it at each render, so a resize (SIGWINCH)
applies from the next block or refresh. ``NO_COLOR``, ``FORCE_COLOR`` and ``TERM=dumb`` are
honoured by the rich Console, which this module never overrides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

from kimi_cli.render.markdown_blocks import (
    Block,
    BlockSplitter,
    fence_code,
    parse_fence_block,
    split_blocks,
    split_lines,
)
from kimi_cli.render.terminal import shown_controls

__all__ = ["MarkdownSink", "MarkdownStream", "split_blocks"]


class _Verbatim:
    """Write a Text's segments as they are: no wrapping, cropping, padding or tab expansion.

    Printed with ``crop=False``, long lines reach the terminal whole and it soft-wraps them.
    """

    def __init__(self, text: Text) -> None:
        self._text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self._text.render(console)


class _NoLeadingBlank:
    """Drop the blank line rich puts before some elements (a list at the top of a document);
    the stream puts exactly one blank line between blocks itself."""

    def __init__(self, renderable: RenderableType) -> None:
        self._renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        segments = iter(console.render(self._renderable, options))
        for segment in segments:
            if segment.text != "\n" or segment.control:
                yield segment
                break
        yield from segments


class _LastRows:
    """The live area: the last ``height - 1`` rows of the preview, at the current size."""

    def __init__(self, preview: Callable[[Console], RenderableType | None]) -> None:
        self._preview = preview

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        preview = self._preview(console)
        if preview is None:
            return
        rows = console.render_lines(preview, options, pad=False)
        for row in rows[-max(1, options.size.height - 1) :]:
            yield from row
            yield Segment.line()


class MarkdownStream:
    """Render a streamed Markdown answer on ``console``: ``feed`` deltas, then ``finish``.

    Use it as a context manager so that an interrupted answer (KeyboardInterrupt) still ends
    with what was received drawn and the terminal clean.
    """

    def __init__(
        self,
        console: Console,
        *,
        code_theme: str = "monokai",
        refresh_per_second: float = 12.0,
    ) -> None:
        if refresh_per_second <= 0:
            raise ValueError("refresh_per_second must be positive")
        self._console = console
        self._code_theme = code_theme
        self._syntax_theme = Syntax.get_theme(code_theme)
        self._interval = 1.0 / refresh_per_second
        self._live_wanted = console.is_terminal and not console.is_dumb_terminal
        self._splitter = BlockSplitter()
        self._chunks: list[str] = []
        self._queue: list[tuple[Block, int]] = []  # finished, not yet printed: (block, skip)
        self._code_printed = 0  # code lines of the open fence already printed
        self._gap = False  # a blank line goes before the next block
        self._lexers: dict[str, Any] = {}
        self._styles: dict[Any, Style] = {}
        self._live: Live | None = None
        self._last_refresh = float("-inf")
        self._finished = False
        self._undo_hold: Callable[[], None] | None = None

    @property
    def text(self) -> str:
        """Everything fed so far (joined on demand, then kept joined)."""
        if len(self._chunks) > 1:
            self._chunks[:] = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    def feed(self, text: str) -> None:
        """Take a delta of the answer, cut anywhere; print the blocks it finished."""
        if self._finished:
            raise RuntimeError("MarkdownStream.feed() after finish()")
        if not text:
            return
        self._chunks.append(text)
        self._enqueue(self._splitter.feed(text))
        if self._queue:
            self._print_queue()
        if self._live_wanted:
            self._commit_code_early()
            self._refresh()

    def finish(self) -> None:
        """The answer is complete or was cut off: draw the rest (an unclosed fence as code),
        stop the live area and leave the cursor at the start of a fresh line. Idempotent."""
        if self._finished:
            return
        self._finished = True
        self._enqueue(self._splitter.close())
        self._end_live()
        if self._undo_hold is not None:
            self._undo_hold()
            self._undo_hold = None
        if self._queue:
            self._print_queue()

    def __enter__(self) -> MarkdownStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.finish()

    def _enqueue(self, blocks: list[Block]) -> None:
        # Only the first block can be the fence whose lines were committed early.
        for block in blocks:
            self._queue.append((block, self._code_printed))
            self._code_printed = 0

    def _print_queue(self) -> None:
        """Print the finished blocks in one call (one redraw of the live area).

        The queue is cleared only once printed, so an interrupt while rendering loses nothing;
        the spacing state is updated first because the live area is redrawn during the print.
        """
        parts: list[RenderableType] = []
        gap = before = self._gap
        for block, skip in self._queue:
            if block.kind == "fence":
                fence, lines = parse_fence_block(block.text)
                if not lines:
                    continue  # an empty code block: nothing to draw, no blank line either
                code = "".join(lines[skip:])
                if code and not code.endswith("\n"):
                    code += "\n"  # cut off mid-line: still end on a fresh line
                body: RenderableType = _Verbatim(self._highlight(code, fence.lang))
            else:
                body = self._markdown(block.text)
            if skip == 0 and gap:
                parts.append(Text())
            parts.append(body)
            gap = block.kind != "rule"  # a rule ends with its own blank line, as in rich
        self._gap = gap
        if not parts:
            self._queue.clear()
            return
        try:
            self._print(parts)
        except BaseException:
            self._gap = before
            raise
        self._queue.clear()

    def _commit_code_early(self) -> None:
        """Print the complete lines of a tall open fence now (see the module docstring)."""
        fence = self._splitter.open_fence
        if fence is None:
            return
        lines = self._splitter.pending_lines
        first = fence.line + 1 + self._code_printed
        ready = len(lines) - first
        if ready <= 0 or ready < self._console.size.height - 4:
            return
        code = "".join(fence_code(lines[first:], fence))
        parts: list[RenderableType] = [Text()] if self._code_printed == 0 and self._gap else []
        parts.append(_Verbatim(self._highlight(code, fence.lang)))
        self._code_printed += ready  # before printing: the live area is redrawn meanwhile
        try:
            self._print(parts)
        except BaseException:
            self._code_printed -= ready
            raise

    def _print(self, parts: list[RenderableType]) -> None:
        """Print above the live area; rich redraws the live area too, which counts as a
        refresh. ``crop=False`` lets code lines through whole."""
        self._console.print(Group(*parts), crop=False)
        if self._live is not None:
            self._last_refresh = time.monotonic()

    def _refresh(self) -> None:
        """Redraw the live area if the last redraw is older than the refresh interval."""
        now = time.monotonic()
        if now - self._last_refresh < self._interval:
            return
        self._last_refresh = now
        if self._live is None:
            if self._undo_hold is None:  # Ctrl-C and Ctrl-Z leave the terminal clean
                from kimi_cli.render.job_control import hold_terminal

                self._undo_hold = hold_terminal(self._console.file, self._suspended)
            self._live = Live(
                _LastRows(self._preview),
                console=self._console,
                auto_refresh=False,
                transient=True,
                vertical_overflow="crop",
                # Redirecting would send other writes to sys.stderr into this console's file
                # (stdout): stray writes may smudge the live area, but never change streams.
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start(refresh=True)
        else:
            self._live.refresh()

    def _end_live(self) -> None:
        if self._live is not None:
            live, self._live = self._live, None
            live.update(Text(), refresh=False)  # erase the preview rather than redraw it
            live.stop()

    def _suspended(self) -> None:
        """Before a stop: end the live area; the next refresh after ``fg`` draws a new one."""
        self._end_live()
        self._last_refresh = float("-inf")

    def _preview(self, console: Console) -> RenderableType | None:
        """The unfinished block as it would look, from a bounded suffix of its source."""
        width, height = console.size
        budget = 2 * width * height
        fence = self._splitter.open_fence
        parts: list[RenderableType] = []
        if fence is not None:
            first = fence.line + 1 + self._code_printed
            source, _ = self._splitter.tail_suffix(budget, first)
            if not source:
                return None
            code = self._highlight("".join(fence_code(split_lines(source), fence)), fence.lang)
            code.overflow = "fold"
            body: RenderableType = code
        else:
            source, cut = self._splitter.tail_suffix(budget)
            if not source.strip():
                return None
            if cut:
                source = _resume_at_line_start(source)
            body = self._markdown(source)
        if self._gap and not (fence is not None and self._code_printed):
            parts.append(Text())
        parts.append(body)
        return Group(*parts)

    def _markdown(self, source: str) -> RenderableType:
        # hyperlinks=False: a link shows its target, "text (url)", as history show does. As
        # a terminal hyperlink the target was hidden (uncopyable where the terminal has no
        # OSC 8), and link text naming one site could lead to another.
        markdown = Markdown(shown_controls(source), code_theme=self._code_theme, hyperlinks=False)
        _keep_line_breaks(markdown.parsed)
        return _NoLeadingBlank(markdown)

    def _highlight(self, code: str, lang: str) -> Text:
        """Colour ``code`` by the Pygments lexer named ``lang`` (plain when unknown).

        Unlike ``Syntax.highlight`` this keeps tabs and leaves newlines unstyled: a newline
        carrying a background colour paints whole rows on terminals that erase with the
        current background.
        """
        code = shown_controls(code)
        text = Text(end="")
        if lang not in self._lexers:
            self._lexers[lang] = Syntax(
                "", lang or "text", theme=self._syntax_theme, tab_size=0
            ).lexer
        lexer = self._lexers[lang]
        if lexer is None:
            text.append(code)
            return text
        for token_type, value in lexer.get_tokens(code):
            style = self._styles.get(token_type)
            if style is None:
                style = self._styles[token_type] = self._syntax_theme.get_style_for_token(
                    token_type
                )
            first, *rest = value.split("\n")
            text.append(first, style)
            for piece in rest:
                text.append("\n")
                text.append(piece, style)
        if not code.endswith("\n"):
            text.right_crop(1)  # the newline Pygments adds to unterminated input
        return text


class MarkdownSink:
    """An answer's sink on a terminal: streamed Markdown on stdout, finished blocks drawn once,
    only the tail live."""

    def __init__(self) -> None:
        self._stream = MarkdownStream(Console())

    def content(self, text: str) -> None:
        self._stream.feed(text)

    def finish(self) -> None:
        self._stream.finish()


def _keep_line_breaks(tokens: Any) -> None:
    """A single newline in an answer is a line break, not a space: poems, addresses and
    line-per-item answers keep their lines (CommonMark would join them)."""
    for token in tokens:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"


def _resume_at_line_start(source: str) -> str:
    """Start a cut preview at a line start, or (one huge line) after a word, marked ``…``."""
    newline = source.find("\n")
    if 0 <= newline < len(source) - 1:
        return source[newline + 1 :]
    space = source.find(" ")
    return "… " + (source[space + 1 :] if space >= 0 else source)
