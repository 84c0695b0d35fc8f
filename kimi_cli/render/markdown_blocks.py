"""Split streaming Markdown into finished top-level blocks, incrementally.

This is the pure half of the streaming renderer (no rich): it decides *when a block is
finished*, so that :mod:`kimi_cli.render.markdown_stream` can print it once and never draw it
again. It looks at each line exactly once, when its newline arrives; a partial last line is only
stored (as a list of chunks), so feeding an answer of n characters costs O(n) however it is cut.

The rule is CommonMark's block structure, simplified on one side only: a boundary is declared
only where CommonMark certainly has one, and where it is unsure the splitter keeps lines
together. Rendering a larger group is always correct (the renderer parses the group as one
document); cutting through a construct is not. Boundaries:

- a paragraph (tables, HTML and indented code are kept as paragraph-like text) or a block quote
  ends at a blank line, which belongs to it; a paragraph also ends where a heading, a fence, a
  rule, a quote or a list item that may interrupt a paragraph (a bullet, or an ordered item
  numbered 1, with content) begins; a setext underline (``===`` / ``---``) ends it, included;
- an ATX heading or a thematic break is a block of its own, finished at its newline;
- a fenced code block ends at its closing fence: the same character (`````` ` `````` or ``~``),
  at least as long as the opening one, nothing after it but spaces, indented at most 3 spaces.
  Blank lines and anything else inside the fence belong to it;
- **lists (the continuation rule):** a list goes on across blank lines while the next non-blank
  line is indented by two or more columns or is itself a list item; it ends at the first
  non-blank line indented by less that is not an item (after a blank line, or a heading, fence,
  rule or quote even without one). So a list is only known to be finished when the following
  block starts, and the blank lines between belong to the list. A fence inside an item is
  followed to its closing fence, so a blank line inside that code does not end the list.

Blank lines before a block belong to that block, so the blocks and the tail always concatenate
back to exactly the text fed (:func:`split_blocks` is lossless). Limitation: a link reference
definition (``[x]: https://…``) only applies inside its own block.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["paragraph", "heading", "rule", "fence", "list", "quote"]

_FENCE_OPEN = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_ATX = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*")
_QUOTE = re.compile(r" {0,3}>")
_ITEM = re.compile(r" {0,3}(?:([-+*])|(\d{1,9})[.)])(?:[ \t]+(.*)|$)")


@dataclass(frozen=True, slots=True)
class Block:
    """A finished top-level block: its kind and its source text, trailing newline included."""

    kind: BlockKind
    text: str


@dataclass(frozen=True, slots=True)
class Fence:
    """An opening code fence: what closes it, how far its content is indented, its language.

    ``line`` is the index of the opening line among the lines of its block (blank lines may
    come first), so a caller can find the code lines that followed it.
    """

    char: str
    length: int
    indent: int
    info: str
    line: int = 0

    @property
    def lang(self) -> str:
        """The first word of the info string (```` ```python title=x ```` → ``python``)."""
        words = self.info.split(maxsplit=1)
        return words[0] if words else ""

    def closed_by(self, line: str) -> bool:
        """True when ``line`` (without its newline) is a closing fence for this one."""
        match = _FENCE_CLOSE.fullmatch(line)
        return (
            match is not None
            and match.group(1)[0] == self.char
            and len(match.group(1)) >= self.length
        )


def _open_fence(line: str, index: int = 0) -> Fence | None:
    match = _FENCE_OPEN.fullmatch(line)
    if match is None:
        return None
    marker, info = match.group(2), match.group(3)
    if marker[0] == "`" and "`" in info:
        return None  # CommonMark: a backtick fence's info string holds no backtick
    return Fence(marker[0], len(marker), len(match.group(1)), info.strip(), index)


def _item_content(line: str) -> str | None:
    """The text after a list marker, or None when ``line`` is not a list item."""
    match = _ITEM.fullmatch(line)
    return None if match is None else (match.group(3) or "")


def _may_interrupt(line: str) -> bool:
    """True when ``line`` starts a block even right after paragraph text (no blank line)."""
    if _ATX.match(line) or _RULE.fullmatch(line) or _QUOTE.match(line) or _open_fence(line):
        return True
    match = _ITEM.fullmatch(line)
    return (
        match is not None
        and bool((match.group(3) or "").strip())
        and (match.group(1) is not None or int(match.group(2)) == 1)
    )


def _indent(line: str) -> int:
    """Columns of leading whitespace, a tab advancing to the next multiple of 4."""
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += 4 - column % 4
        else:
            break
    return column


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` with their ``\\n`` kept; only ``\\n`` ends a line (unlike splitlines)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def fence_code(lines: Sequence[str], fence: Fence) -> list[str]:
    """The code in ``lines`` (the lines after the opening fence, closing fence included or not),
    with up to ``fence.indent`` spaces removed from each line as CommonMark does, and ``\\r\\n``
    line ends made ``\\n``."""
    if lines and fence.closed_by(lines[-1].rstrip("\r\n")):
        lines = lines[:-1]
    code = [line[:-2] + "\n" if line.endswith("\r\n") else line for line in lines]
    if not fence.indent:
        return code
    return [line[min(fence.indent, len(line) - len(line.lstrip(" "))) :] for line in code]


def parse_fence_block(text: str) -> tuple[Fence, list[str]]:
    """The fence and code lines of a ``fence`` block's text (closed or cut off)."""
    lines = split_lines(text)
    for index, line in enumerate(lines):
        if line.strip():
            fence = _open_fence(line.rstrip("\r\n"), index)
            if fence is not None:
                return fence, fence_code(lines[index + 1 :], fence)
            break
    raise ValueError("not a fenced code block")


class BlockSplitter:
    """Incremental splitter: :meth:`feed` deltas, get back the blocks each delta finished.

    The unfinished block is kept as a list of complete lines plus the chunks of the partial
    last line; nothing already decided is looked at again.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._partial: list[str] = []
        self._kind: BlockKind | None = None  # None: only blank lines so far
        self._fence: Fence | None = None  # the open top-level fence
        self._inner_fence: Fence | None = None  # an open fence inside a list item
        self._list_gap = False  # a blank line has been seen since the list's last text

    @property
    def open_fence(self) -> Fence | None:
        """The fence of the unfinished block when that block is fenced code, else None."""
        return self._fence

    @property
    def pending_lines(self) -> Sequence[str]:
        """The complete lines of the unfinished block (read only)."""
        return self._lines

    @property
    def tail(self) -> str:
        """Everything fed that no finished block holds yet. Costs O(len(tail))."""
        return "".join(self._lines) + "".join(self._partial)

    def tail_suffix(self, max_chars: int, first_line: int = 0) -> tuple[str, bool]:
        """The last ``max_chars`` characters of the tail from pending line ``first_line`` on,
        and whether anything before them was left out. Costs O(max_chars), not O(tail): a
        live preview of a huge unfinished block stays cheap."""
        pieces: list[str] = []
        room = max_chars
        sources = (self._partial, self._lines)
        for source, stop in zip(sources, (0, first_line), strict=True):
            for index in range(len(source) - 1, stop - 1, -1):
                piece = source[index]
                if len(piece) >= room:
                    pieces.append(piece[len(piece) - room :] if room else "")
                    return "".join(reversed(pieces)), True
                pieces.append(piece)
                room -= len(piece)
        return "".join(reversed(pieces)), False

    def feed(self, text: str) -> list[Block]:
        """Take a delta (cut anywhere); return the blocks it finished, in order."""
        done: list[Block] = []
        start = 0
        while (end := text.find("\n", start)) >= 0:
            line = text[start : end + 1]
            if self._partial:
                self._partial.append(line)
                line = "".join(self._partial)
                self._partial.clear()
            self._take(line, done)
            start = end + 1
        if start < len(text):
            self._partial.append(text[start:])
        return done

    def close(self) -> list[Block]:
        """The input is complete: finish the partial last line and the unfinished block.
        Trailing blank lines, holding nothing to draw, are dropped."""
        done: list[Block] = []
        if self._partial:
            line = "".join(self._partial)
            self._partial.clear()
            self._take(line, done)
        if self._kind is not None:
            done.append(self._emit())
        self._lines = []
        return done

    def _emit(self, kind: BlockKind | None = None) -> Block:
        block_kind = kind or self._kind
        assert block_kind is not None, "only a block with content is emitted"
        block = Block(block_kind, "".join(self._lines))
        self._lines = []  # a new list: pending_lines handed out earlier stay valid
        self._kind = None
        self._fence = self._inner_fence = None
        self._list_gap = False
        return block

    def _take(self, line: str, done: list[Block]) -> None:
        text = line.rstrip("\r\n")
        blank = not text.strip()
        kind = self._kind
        if kind is None:
            if blank:
                self._lines.append(line)
            else:
                self._start(line, text, done)
        elif kind == "fence":
            self._lines.append(line)
            assert self._fence is not None
            if self._fence.closed_by(text):
                done.append(self._emit())
        elif kind == "list":
            self._list_line(line, text, blank, done)
        elif blank:
            self._lines.append(line)
            done.append(self._emit())
        elif kind == "paragraph" and _SETEXT.fullmatch(text):
            self._lines.append(line)
            done.append(self._emit("heading"))
        elif kind == "quote" and _QUOTE.match(text):
            self._lines.append(line)
        elif _may_interrupt(text):
            done.append(self._emit())
            self._start(line, text, done)
        else:
            self._lines.append(line)  # paragraph text, or a lazy continuation of a quote

    def _start(self, line: str, text: str, done: list[Block]) -> None:
        """``line`` is the first non-blank line of a new block."""
        fence = _open_fence(text, len(self._lines))
        self._lines.append(line)
        if fence is not None:
            self._kind, self._fence = "fence", fence
        elif _ATX.match(text):
            done.append(self._emit("heading"))
        elif _RULE.fullmatch(text):
            done.append(self._emit("rule"))
        elif _QUOTE.match(text):
            self._kind = "quote"
        elif (content := _item_content(text)) is not None:
            self._kind = "list"
            self._inner_fence = _open_fence(content.lstrip())
        else:
            self._kind = "paragraph"

    def _list_line(self, line: str, text: str, blank: bool, done: list[Block]) -> None:
        if self._inner_fence is not None:
            self._lines.append(line)
            if self._inner_fence.closed_by(text.lstrip()):
                self._inner_fence = None
        elif blank:
            self._lines.append(line)
            self._list_gap = True
        elif _indent(text) >= 2:
            self._lines.append(line)
            self._list_gap = False
            content = text.lstrip()
            item = _item_content(content)
            self._inner_fence = _open_fence((content if item is None else item).lstrip())
        elif not _RULE.fullmatch(text) and (item_text := _item_content(text)) is not None:
            self._lines.append(line)
            self._list_gap = False
            self._inner_fence = _open_fence(item_text.lstrip())
        elif self._list_gap or _may_interrupt(text):
            done.append(self._emit())
            self._start(line, text, done)
        else:
            self._lines.append(line)  # lazy continuation of the item's paragraph


def split_blocks(markdown: str) -> tuple[list[str], str]:
    """Split ``markdown`` into (finished blocks, the unfinished tail), as a stream would.

    ``"".join(blocks) + tail == markdown`` always holds.
    """
    splitter = BlockSplitter()
    blocks = splitter.feed(markdown)
    return [block.text for block in blocks], splitter.tail
