"""A stored conversation on a terminal: Markdown rendered, times to the second.

Drawn as rich draws it, but not one rich layout per message: that took about 0.85 ms a
message (a Markdown parser built, the text parsed and wrapped, the console measured), 85 s
for 100,000. Three shapes make up most of a transcript and are drawn without it, to the same
characters and styles:

- the rule over each message: rich draws it once per shape of its title (its digits may
  change, nothing else), and later titles of that shape take its segments;
- a message of plain prose (ASCII letters, digits, spaces and punctuation that Markdown
  leaves alone, no line starting as a list, heading, quote or code does): its paragraphs
  wrapped as rich wraps them (words with their trailing spaces, a word longer than the
  line folded, every line padded to the width);
- a short dim line (the reasoning's size, a search).

Anything else goes through rich. What is drawn is written every ``_BATCH`` messages, so
Ctrl-C stops it at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from rich.console import Console, RenderableType
from rich.markdown import Markdown
from rich.rule import Rule
from rich.segment import Segment, Segments
from rich.style import Style
from rich.text import Text

from kimi_cli.history import ConversationSummary, StoredMessage
from kimi_cli.history.export import short_time
from kimi_cli.render.terminal import shown_controls

#: Messages drawn before they are written out.
_BATCH = 200
#: Prose that Markdown leaves as it is: no emphasis, code, links, escapes, entities, HTML
#: or tables; line starts are checked on their own (lists, headings, quotes, code).
_PROSE = re.compile(r"[A-Za-z0-9 ,.;:?!'\"()/%$@\n-]+")
#: What a line of prose may start with: not a list's -, +, a heading's #, a quote's >, nor
#: the spaces of code; digits only when they are not a numbered item's "1." or "1)".
_LINE_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789('\"")
_NUMBERED = re.compile(r"[0-9]+[.)](?: |$)")
_WORD = re.compile(r"\s*\S+\s*")
_DIGIT = re.compile(r"[0-9]")
_NEWLINE = Segment.line()


def print_conversation(
    summary: ConversationSummary,
    messages: Sequence[StoredMessage],
    console: Console | None = None,
) -> None:
    console = console or Console()
    console.print(Text(shown_controls(summary.title), style="bold"))
    console.print(
        Text(f"{summary.id} · {summary.model} · {short_time(summary.updated_at)}", style="dim")
    )
    drawing = _Drawing(console)
    batch: list[Segment] = []
    for count, message in enumerate(messages, 1):
        batch.extend(drawing.message(message))
        if count % _BATCH == 0:
            console.print(Segments(batch), end="", crop=False)
            batch = []
    console.print(Segments(batch), end="", crop=False)


class _Drawing:
    """The segments of each message, for one console at the width it had at the start."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.width = console.width
        self.options = console.options.update_width(self.width)
        self.rules: dict[str, tuple[str, list[tuple[int, int, Style | None]]]] = {}
        self.dim = console.get_style("dim")

    def message(self, message: StoredMessage) -> Iterator[Segment]:
        mark = " (partial)" if message.partial else ""
        yield from self.rule(f"{message.role}{mark} · {short_time(message.created_at)}")
        if message.reasoning:
            yield from self.dim_line(f"[reasoning: {len(message.reasoning):,} characters]")
        for query in message.searches:
            yield from self.dim_line(f"searched: {shown_controls(query)}")
        content = shown_controls(message.content)
        paragraphs = plain_paragraphs(content)
        if paragraphs is None:
            yield from self.laid_out(Markdown(content, hyperlinks=False))
            return
        for number, paragraph in enumerate(paragraphs):
            if number:
                yield _NEWLINE
            for line in wrap(paragraph, self.width):
                yield Segment(line)
                yield _NEWLINE

    def rule(self, title: str) -> Iterator[Segment]:
        shape = _DIGIT.sub("0", title)  # the same characters but for its digits
        if shape not in self.rules:
            drawn = list(self.laid_out(Rule(title, align="left")))
            text = "".join(segment.text for segment in drawn)
            if not text.startswith(title):  # rich would cut it ("assistant · 2026-…"):
                # on a screen this narrow the title is wrapped whole, without a rule
                yield from self.laid_out(self.console.render_str(title, style="rule.text"))
                return
            cuts, at = [], 0
            for segment in drawn:
                cuts.append((at, at + len(segment.text), segment.style))
                at += len(segment.text)
            self.rules[shape] = (text[len(title) :], cuts)
        rest, cuts = self.rules[shape]
        line = title + rest
        for start, end, style in cuts:
            yield Segment(line[start:end], style)

    def dim_line(self, text: str) -> Iterator[Segment]:
        if text.isascii() and text.isprintable() and len(text) <= self.width:
            yield Segment(text, self.dim)
            yield _NEWLINE
        else:
            yield from self.laid_out(Text(text, style="dim"))

    def laid_out(self, renderable: RenderableType) -> Iterator[Segment]:
        """What ``console.print(renderable)`` writes: rich's layout, cropped to the width."""
        drawn = self.console.render(renderable, self.options)
        for line in Segment.split_and_crop_lines(drawn, self.width, pad=False):
            yield from line


def plain_paragraphs(content: str) -> list[str] | None:
    """The paragraphs of ``content`` as Markdown shows them (lines joined by a space), or
    None when Markdown could show it otherwise."""
    if not content.isascii() or _PROSE.fullmatch(content) is None:
        return None
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in [*content.split("\n"), ""]:
        if not line:
            if lines:
                paragraphs.append(" ".join(lines))
                lines = []
        elif line[0] in _LINE_START and not line.endswith(" ") and not _NUMBERED.match(line):
            lines.append(line)
        else:  # a list, a heading, a quote, code, a hard break: rich draws it
            return None
    return paragraphs or None


def wrap(text: str, width: int) -> list[str]:
    """``text`` (ASCII, one paragraph) in lines of ``width`` as rich wraps and pads them."""
    if len(text) <= width:
        return [text.ljust(width)]
    lines: list[str] = []
    line = ""
    for word in _WORD.findall(text):
        length = len(word.rstrip())
        if len(line) + length <= width:
            line += word
            continue
        if line:
            lines.append(line)
        while len(word) > width and length > width:  # folded over as many lines as it takes
            lines.append(word[:width])
            word = word[width:]
        line = word
    lines.append(line)
    return [each[:width].ljust(width) for each in lines]
