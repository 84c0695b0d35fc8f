"""The streaming Markdown renderer: the pure block splitter, then what reaches a terminal.

What a user sees on a terminal is not the byte stream (the live area is drawn and erased many
times) but the screen those bytes leave behind, so the terminal tests replay the output on a
small screen model (`_Screen`) that knows the few controls rich's ``Live`` uses, wraps at the
width and cannot move the cursor above the top of the screen: a live area taller than the
screen leaves garbage in the scrollback there, as it would in a real terminal.
"""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from kimi_cli.render.markdown_blocks import BlockSplitter, parse_fence_block
from kimi_cli.render.markdown_stream import MarkdownStream, split_blocks

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------------------------
# helpers


_CONTROL = re.compile(
    r"\x1b\[([?0-9;]*)([A-Za-z])"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (hyperlinks)
    r"|\x1b[^\[\]]"
    r"|[\s\S]"
)
_POSITION_CURSOR = re.compile(r"\r\x1b\[2K((?:\x1b\[1A\x1b\[2K)*)")
_SGR = re.compile(r"\x1b\[([0-9;]*)m")


class _Screen:
    """Just enough of a terminal: printable cells, CR, LF, cursor up, erase line, auto-wrap."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.rows: list[list[str]] = [[]]
        self.wrapped = [False]  # the row continues the one above (a soft wrap)
        self.row = self.col = self.top = 0

    def _down(self, *, wrapped: bool) -> None:
        self.row += 1
        if self.row == len(self.rows):
            self.rows.append([])
            self.wrapped.append(False)
        self.wrapped[self.row] = wrapped
        self.top = max(self.top, self.row - self.height + 1)

    def feed(self, data: str) -> _Screen:
        for match in _CONTROL.finditer(data):
            token, command = match.group(0), match.group(2)
            if command:
                count = int(match.group(1)) if match.group(1).isdigit() else 1
                if command == "A":
                    self.row = max(self.top, self.row - count)
                elif command == "K" and match.group(1) == "2":
                    self.rows[self.row], self.wrapped[self.row] = [], False
                elif command == "K":
                    del self.rows[self.row][self.col :]
                elif command == "G":
                    self.col = count - 1
            elif token == "\r":
                self.col = 0
            elif token == "\n":
                self._down(wrapped=False)
                self.col = 0
            elif token == "\t":
                self.col = min(self.width, (self.col // 8 + 1) * 8)
            elif not token.startswith("\x1b"):
                width = cell_len(token)
                if self.col + width > self.width:
                    self._down(wrapped=True)
                    self.col = 0
                cells = self.rows[self.row]
                cells.extend(" " * (self.col - len(cells)))
                cells[self.col : self.col + width] = [token] + [""] * (width - 1)
                self.col += width
        return self

    def lines(self) -> list[str]:
        """Logical lines (soft-wrapped rows joined) to the cursor's, trailing spaces removed;
        rows below the cursor only if something is left on them."""
        end = max([self.row] + [index for index, cells in enumerate(self.rows) if "".join(cells)])
        out: list[str] = []
        for cells, wrapped in zip(self.rows[: end + 1], self.wrapped, strict=False):
            if wrapped and out:
                out[-1] += "".join(cells)
            else:
                out.append("".join(cells))
        return [line.rstrip() for line in out]

    def text(self) -> str:
        return "\n".join(self.lines())


def _terminal(width: int = 80, height: int = 24) -> Console:
    return Console(
        file=io.StringIO(),
        force_terminal=True,
        width=width,
        height=height,
        color_system=None,
        _environ={},
    )


def _output(console: Console) -> str:
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def _words(text: str) -> list[str]:
    """Deltas of one word each (with the whitespace before it), as a model streams."""
    return re.findall(r"\s*\S+|\s+$", text)


def _stream(console: Console, deltas: list[str], **options: float) -> str:
    with MarkdownStream(console, refresh_per_second=options.get("fps", 1e9)) as stream:
        for delta in deltas:
            stream.feed(delta)
    return _output(console)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[?0-9;]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)", "", text)


def _max_live_rows(raw: str) -> int:
    """The tallest live area drawn: rich erases it with CR, EL, then (CUU, EL) per extra row."""
    return max((1 + m.group(1).count("\x1b[1A") for m in _POSITION_CURSOR.finditer(raw)), default=0)


DOC = textwrap.dedent(
    """\
    # Heading MARK01

    A first paragraph MARK02 with **bold**, `code` and a [link](https://example.com).
    It goes on a second line.

    - item MARK03
    - item MARK04

      continued MARK05
    - item MARK06

    ```python
    def f(x):  # MARK07

        return x  # MARK08
    ```

    | column | value |
    |--------|-------|
    | MARK09 | 1     |

    > quoted MARK10
    > still quoted

    ---

    Closing paragraph MARK11 with 中文 and 😀 in it.
    """
)
MARKERS = [f"MARK{i:02d}" for i in range(1, 12)]


# ---------------------------------------------------------------------------------------------
# split_blocks: the pure splitter


@pytest.mark.parametrize(
    ("markdown", "blocks", "tail"),
    [
        ("a\nb\n\nc", ["a\nb\n\n"], "c"),
        ("a\nb", [], "a\nb"),
        ("# H\npara", ["# H\n"], "para"),
        ("# H", [], "# H"),
        ("\n\n## H\n", ["\n\n## H\n"], ""),
        ("---\n***\n", ["---\n", "***\n"], ""),
        ("para\n---\nnext", ["para\n---\n"], "next"),  # a setext heading, not a rule
        ("para\n***\n", ["para\n", "***\n"], ""),
        ("Here:\n```py\nx\n```\nafter", ["Here:\n", "```py\nx\n```\n"], "after"),
        ("```py\nx\n\n\ny\n```\n", ["```py\nx\n\n\ny\n```\n"], ""),  # blank lines inside
        ("```\n# not a heading\n---\n```\n", ["```\n# not a heading\n---\n```\n"], ""),
        ("~~~\n```\nstill code\n~~~\n", ["~~~\n```\nstill code\n~~~\n"], ""),
        ("```\n~~~\nstill code\n```\n", ["```\n~~~\nstill code\n```\n"], ""),
        ("````\n```\nstill code\n````\n", ["````\n```\nstill code\n````\n"], ""),
        ("```\ncode\n`````\n", ["```\ncode\n`````\n"], ""),  # longer closes
        ("```\ncode\n``` x\n", [], "```\ncode\n``` x\n"),  # an info string does not close
        ("```\ncode\n    ```\n", [], "```\ncode\n    ```\n"),  # 4 spaces: code, not a fence
        ("  ```\n  x\n  ```\n", ["  ```\n  x\n  ```\n"], ""),
        ("```\nunclosed\n\ncode", [], "```\nunclosed\n\ncode"),
        (
            "| a | b |\n|---|---|\n| 1 | 2 |\n\nnext",
            ["| a | b |\n|---|---|\n| 1 | 2 |\n\n"],
            "next",
        ),
        ("| a |\n|---|\n# H\n", ["| a |\n|---|\n", "# H\n"], ""),
        ("> a\n> b\n\nc", ["> a\n> b\n\n"], "c"),
        ("> a\nlazy\n\n", ["> a\nlazy\n\n"], ""),
        ("> a\n# H\n", ["> a\n", "# H\n"], ""),
        ("> ```\n> x\n>\n> ```\n\n", ["> ```\n> x\n>\n> ```\n\n"], ""),
        ("foo\n2. bar\n\n", ["foo\n2. bar\n\n"], ""),  # only "1." may interrupt a paragraph
        ("foo\n1. bar\n\n", ["foo\n"], "1. bar\n\n"),
        ("a\r\n\r\nb\r\n", ["a\r\n\r\n"], "b\r\n"),
    ],
)
def test_split_blocks(markdown: str, blocks: list[str], tail: str) -> None:
    assert split_blocks(markdown) == (blocks, tail)


@pytest.mark.parametrize(
    ("markdown", "blocks", "tail"),
    [
        # A list is finished only by the first line after it that is neither indented nor an
        # item: blank lines inside it, and between it and the next block, belong to it.
        ("- a\n- b\n\n", [], "- a\n- b\n\n"),
        ("- a\n- b\n\nAfter\n", ["- a\n- b\n\n"], "After\n"),
        (
            "- a\n\n- b\n\n  more b\n\n\n- c\n\nEnd\n",
            ["- a\n\n- b\n\n  more b\n\n\n- c\n\n"],
            "End\n",
        ),
        ("1. a\n2. b\n\n10. c\n\nEnd\n", ["1. a\n2. b\n\n10. c\n\n"], "End\n"),
        ("- a\nlazy\n- b\n\nEnd\n", ["- a\nlazy\n- b\n\n"], "End\n"),
        ("- a\n  - nested\n\n    deeper\n\nEnd\n", ["- a\n  - nested\n\n    deeper\n\n"], "End\n"),
        ("- a\n# H\n", ["- a\n", "# H\n"], ""),
        ("- a\n---\n", ["- a\n", "---\n"], ""),
        ("- a\n```\nx\n```\n", ["- a\n", "```\nx\n```\n"], ""),
        ("- a\n> q\n", ["- a\n"], "> q\n"),
        # A fence inside an item is followed to its end: its blank lines do not end the list.
        (
            "1. step\n   ```sh\n   a\n\nnot indented\n   ```\n2. next\n\nEnd\n",
            ["1. step\n   ```sh\n   a\n\nnot indented\n   ```\n2. next\n\n"],
            "End\n",
        ),
        ("- ```\n  x\n\n  ```\n\nEnd\n", ["- ```\n  x\n\n  ```\n\n"], "End\n"),
    ],
)
def test_list_continuation(markdown: str, blocks: list[str], tail: str) -> None:
    assert split_blocks(markdown) == (blocks, tail)


def test_block_kinds_and_fence_parsing() -> None:
    splitter = BlockSplitter()
    blocks = splitter.feed(
        "# H\n\ntext\n\n- i\n\n> q\n\n---\n\n  ~~~ python x\n  a\n b\nc\n  ~~~\n"
    )
    blocks += splitter.close()
    assert [block.kind for block in blocks] == [
        "heading",
        "paragraph",
        "list",
        "quote",
        "rule",
        "fence",
    ]
    fence, code = parse_fence_block(blocks[-1].text)
    assert (fence.char, fence.length, fence.lang) == ("~", 3, "python")
    assert code == ["a\n", "b\n", "c\n"]  # up to the fence's indentation removed


def test_close_finishes_the_tail_and_drops_trailing_blank_lines() -> None:
    splitter = BlockSplitter()
    assert [block.text for block in splitter.feed("para\n\n```py\nx = 1")] == ["para\n\n"]
    closed = splitter.close()
    assert [(block.kind, block.text) for block in closed] == [("fence", "```py\nx = 1")]
    splitter = BlockSplitter()
    splitter.feed("- a\n\n\n")
    assert [block.text for block in splitter.close()] == ["- a\n\n\n"]
    splitter = BlockSplitter()
    splitter.feed("text\n\n\n\n")
    assert splitter.close() == []


def test_tail_suffix_is_bounded() -> None:
    splitter = BlockSplitter()
    splitter.feed("```\n" + "".join(f"line {i}\n" for i in range(1000)))
    for word in ["par", "tial"]:
        splitter.feed(word)
    text, cut = splitter.tail_suffix(20)
    assert (text, cut) == ("line 998\nline 999\npartial"[-20:], True)
    assert splitter.tail_suffix(10**6, first_line=999) == ("line 998\nline 999\npartial", False)


_PIECES = st.sampled_from(
    [
        "Plain paragraph text.\n",
        "a second line\n",
        "\n",
        "\n\n",
        "# Heading\n",
        "## Sub heading\n",
        "Setext\n===\n",
        "---\n",
        "* * *\n",
        "- item\n",
        "* other item\n",
        "-\n",
        "1. first\n",
        "2) second\n",
        "  indented continuation\n",
        "    four spaces\n",
        "\tcode after a tab\n",
        "```python\n",
        "   ```\n",
        "```\n",
        "~~~\n",
        "````\n",
        "~~~~ text\n",
        "> quote\n",
        ">\n",
        "| a | b |\n",
        "|---|---|\n",
        "x\r\n",
        "中文 😀\n",
        "`inline` code\n",
    ]
)
DOCUMENTS = st.lists(
    st.one_of(_PIECES, st.text(alphabet="`~#-*>|1. \n\tab", max_size=12)), max_size=40
).map("".join)


@given(doc=DOCUMENTS, data=st.data())
def test_any_split_into_deltas_gives_the_one_shot_split(doc: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(0, len(doc)), max_size=25)))
    expected_blocks, expected_tail = split_blocks(doc)
    assert "".join(expected_blocks) + expected_tail == doc  # lossless
    splitter = BlockSplitter()
    committed: list[str] = []
    for start, end in zip([0, *cuts], [*cuts, len(doc)], strict=True):
        committed += [block.text for block in splitter.feed(doc[start:end])]
        # Committed blocks only ever grow: what was committed is never revised.
        assert committed == expected_blocks[: len(committed)]
        assert "".join(committed) + splitter.tail == doc[:end]
    assert (committed, splitter.tail) == (expected_blocks, expected_tail)
    rest = "".join(block.text for block in splitter.close())
    assert doc.startswith("".join(committed) + rest)
    assert not doc[len("".join(committed) + rest) :].strip()


def test_every_single_cut_of_the_sample_document() -> None:
    expected = split_blocks(DOC)
    for cut in range(len(DOC) + 1):
        splitter = BlockSplitter()
        blocks = splitter.feed(DOC[:cut]) + splitter.feed(DOC[cut:])
        assert ([block.text for block in blocks], splitter.tail) == expected


# ---------------------------------------------------------------------------------------------
# MarkdownStream on consoles


def test_each_block_reaches_the_terminal_once() -> None:
    console = _terminal()
    raw = _stream(console, _words(DOC))
    screen = _Screen(80, 24).feed(raw).text()
    for marker in MARKERS:
        assert screen.count(marker) == 1, marker
    assert "It goes on a second line." in screen
    assert "中文 and 😀" in screen
    assert "```" not in screen  # fences are drawn as code, not as their markers
    assert raw.count(MARKERS[0]) > 1  # the live area was really drawn (and erased) meanwhile


def test_delta_boundaries_do_not_change_the_final_screen() -> None:
    one_shot = _Screen(80, 24).feed(_stream(_terminal(), [DOC])).lines()
    by_char = _Screen(80, 24).feed(_stream(_terminal(), list(DOC))).lines()
    assert by_char == one_shot


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=DOCUMENTS, data=st.data())
def test_any_split_renders_like_the_one_shot(doc: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(0, len(doc)), max_size=15)))
    deltas = [doc[a:b] for a, b in zip([0, *cuts], [*cuts, len(doc)], strict=True)]
    height = data.draw(st.integers(5, 30))
    expected = _Screen(40, height).feed(_stream(_terminal(40, height), [doc])).lines()
    got = _Screen(40, height).feed(_stream(_terminal(40, height), deltas)).lines()
    assert got == expected
    plain = Console(file=io.StringIO(), width=40)
    assert _stream(plain, deltas) == _stream(Console(file=io.StringIO(), width=40), [doc])


def test_not_a_terminal_prints_each_block_when_it_finishes_and_nothing_live() -> None:
    console = Console(file=io.StringIO(), width=80)
    assert not console.is_terminal
    stream = MarkdownStream(console)
    stream.feed("First paragraph MARK01 still growing")
    assert _output(console) == ""
    stream.feed("\n\nSecond MARK02")
    assert "MARK01" in _output(console)
    assert "MARK02" not in _output(console)
    stream.finish()
    raw = _output(console)
    assert "\x1b" not in raw
    assert raw.count("MARK01") == raw.count("MARK02") == 1
    assert raw.endswith("\n")


def test_every_marker_once_on_a_file_console() -> None:
    raw = _stream(Console(file=io.StringIO(), width=80), _words(DOC))
    for marker in MARKERS:
        assert raw.count(marker) == 1, marker


def test_long_code_lines_are_never_hard_wrapped() -> None:
    long_line = "value = " + "+".join(f"item_{i}" for i in range(40))
    assert len(long_line) > 300
    doc = f"Code:\n\n```python\n{long_line}\n\tindented_with_a_tab()\n```\n\nAfter.\n"
    console = Console(file=io.StringIO(), force_terminal=True, width=80, color_system="truecolor")
    raw = _stream(console, _words(doc))
    plain_lines = _strip_ansi(raw).replace("\r", "\n").split("\n")
    assert long_line in plain_lines  # one line: no newline inside, no padding after
    assert "\tindented_with_a_tab()" in plain_lines  # tabs are kept for copy and paste
    assert long_line in _Screen(80, 24).feed(raw).lines()


def test_control_characters_in_the_answer_are_shown_not_obeyed() -> None:
    hostile = "title \x1b]0;pwned\x07 clipboard \x1b]52;c;SGVsbG8=\x07 end"
    console = _terminal()
    raw = _stream(console, _words(f"{hostile}\n\n```\n{hostile}\n```\n"))
    assert "\x1b]0;" not in raw
    assert "\x1b]52" not in raw
    assert _Screen(80, 24).feed(raw).text().count("␛]52;c;SGVsbG8=␇") == 2


def test_crlf_line_ends_in_code() -> None:
    console = Console(file=io.StringIO(), width=80)
    assert _stream(console, ["```\r\nx = 1\r\ny = 2\r\n```\r\n"]) == "x = 1\ny = 2\n"


def test_code_is_highlighted_by_language_and_plain_when_unknown() -> None:
    def colours(lang: str) -> int:
        console = Console(file=io.StringIO(), force_terminal=True, width=80, color_system="256")
        raw = _stream(console, [f"```{lang}\ndef f(): return 1\n```\n"])
        return len(_SGR.findall(raw))

    assert colours("python") > colours("no-such-language") >= 0
    assert colours("no-such-language") <= 2


def test_finish_inside_an_unclosed_fence_draws_the_code() -> None:
    console = _terminal()
    stream = MarkdownStream(console)
    for delta in _words("Intro MARK01\n\n```python\ndef f():\n    return 1  # cut her"):
        stream.feed(delta)
    stream.finish()
    stream.finish()  # idempotent
    lines = _Screen(80, 24).feed(_output(console)).lines()
    assert lines == ["Intro MARK01", "", "def f():", "    return 1  # cut her", ""]
    with pytest.raises(RuntimeError):
        stream.feed("more")


def test_keyboard_interrupt_leaves_the_terminal_clean() -> None:
    console = _terminal()
    with pytest.raises(KeyboardInterrupt), MarkdownStream(console) as stream:
        for delta in _words("Done MARK01\n\nhalf a sent"):
            stream.feed(delta)
        raise KeyboardInterrupt
    raw = _output(console)
    screen = _Screen(80, 24).feed(raw)
    assert screen.lines() == ["Done MARK01", "", "half a sent", ""]
    assert (screen.col, screen.rows[screen.row]) == (0, [])  # cursor on a fresh line
    assert raw.rindex("\x1b[?25h") > raw.rindex("\x1b[?25l")  # cursor shown again
    assert stream.text == "Done MARK01\n\nhalf a sent"


def test_a_tall_paragraph_never_overflows_the_screen() -> None:
    words = [f"w{i}" for i in range(600)]
    doc = "Start MARK01 " + " ".join(words) + " end MARK02\n\nAfter MARK03\n"
    console = _terminal(width=40, height=10)
    raw = _stream(console, _words(doc))
    assert 1 < _max_live_rows(raw) <= 10
    screen = _Screen(40, 10).feed(raw).text()
    for marker in ("MARK01", "MARK02", "MARK03"):
        assert screen.count(marker) == 1
    assert re.findall(r"w\d+", screen) == words


def test_a_tall_code_block_is_committed_before_it_overflows() -> None:
    code = [f"line_{i:03d} = {i}" for i in range(200)]
    doc = "Before MARK01\n\n```python\n" + "\n".join(code) + "\n```\n\nAfter MARK02\n"
    console = _terminal(width=40, height=10)
    raw = _stream(console, _words(doc))
    assert _max_live_rows(raw) <= 10
    screen = _Screen(40, 10).feed(raw).lines()
    assert [line for line in screen if line.startswith("line_")] == code
    assert screen.count("") == 3  # one blank line before and after the code, and the last line


def test_a_tall_open_fence_is_printed_for_good_while_it_streams() -> None:
    console = _terminal(width=40, height=10)
    stream = MarkdownStream(console, refresh_per_second=1e9)
    for delta in _words("```python\n" + "".join(f"line_{i:03d} = {i}\n" for i in range(100))):
        stream.feed(delta)
    # Without early commits only the last screenful would be visible, all of it live.
    lines = _Screen(40, 10).feed(_output(console)).lines()
    assert lines[:50] == [f"line_{i:03d} = {i}" for i in range(50)]
    stream.finish()


def test_nothing_caches_the_width() -> None:
    console = Console(file=io.StringIO(), width=80)
    stream = MarkdownStream(console)
    paragraph = " ".join(["word"] * 14)  # 69 columns
    stream.feed(paragraph + " ONE\n\n")
    console.width = 40  # what a SIGWINCH does to rich's Console on a terminal
    stream.feed(paragraph + " TWO\n\n")
    stream.finish()
    lines = _output(console).splitlines()
    first = [line for line in lines if "ONE" in line]
    assert len(first) == 1 and first[0].startswith("word")
    second = lines[lines.index(first[0]) + 2 :]
    assert len([line for line in second if line.strip()]) == 2
    assert all(cell_len(line.rstrip()) <= 40 for line in second)


def test_wide_characters_are_measured_in_cells() -> None:
    cjk = "中文字符测试" * 5 + "😀😀"  # 64 columns
    console = Console(file=io.StringIO(), width=20)
    raw = _stream(console, list(cjk + "\n\n"))
    lines = [line.rstrip() for line in raw.splitlines() if line.strip()]
    assert len(lines) == 4
    assert all(cell_len(line) <= 20 for line in lines)
    assert "".join(lines) == cjk


def test_no_color_means_no_colour_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    def colour_codes() -> list[str]:
        console = Console(file=io.StringIO(), force_terminal=True, width=80)
        raw = _stream(console, _words(DOC))
        codes = [code for params in _SGR.findall(raw) for code in params.split(";") if code]
        return [code for code in codes if re.fullmatch(r"3[0-9]|4[0-9]|9[0-7]|10[0-7]", code)]

    monkeypatch.setenv("TERM", "xterm-256color")
    assert colour_codes()  # the check below can fail
    monkeypatch.setenv("NO_COLOR", "1")
    assert colour_codes() == []


def test_dumb_terminal_gets_no_escape_codes_and_no_live_area(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "dumb")
    console = Console(file=io.StringIO(), force_terminal=True, width=80)
    raw = _stream(console, _words(DOC))
    assert "\x1b" not in raw
    for marker in MARKERS:
        assert raw.count(marker) == 1, marker


def test_refresh_is_throttled() -> None:
    console = _terminal()
    _stream(console, _words("word " * 300), fps=1e-3)
    assert _max_live_rows(_output(console)) <= 1
    assert _output(console).count("\x1b[2K") <= 4  # the first frame and the final erase only


def test_text_is_everything_fed() -> None:
    stream = MarkdownStream(Console(file=io.StringIO()))
    assert stream.text == ""
    for delta in _words(DOC):
        stream.feed(delta)
    assert stream.text == DOC
    stream.finish()
    assert stream.text == DOC


# ---------------------------------------------------------------------------------------------
# a real terminal

_CHILD = """
import sys, time
from kimi_cli.render.markdown_stream import MarkdownStream
from rich.console import Console

words = open(sys.argv[1], encoding="utf-8").read().split(" ")
with MarkdownStream(Console(), refresh_per_second=200) as stream:
    for index, word in enumerate(words):
        stream.feed(word if index == 0 else " " + word)
        time.sleep(0.001)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_through_a_pty_nothing_is_printed_twice(tmp_path: Path) -> None:
    import fcntl
    import struct
    import termios

    doc = DOC + "\n" + "\n\n".join(f"Paragraph MARK{i} " + "filler " * 30 for i in range(12, 30))
    source = tmp_path / "answer.md"
    source.write_text(doc, encoding="utf-8")
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(source)],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, "the child stopped writing"
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal (Linux)
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        _, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr.decode()
    raw = b"".join(chunks).decode("utf-8")
    screen = _Screen(80, 24).feed(raw).text()
    markers = [*MARKERS, *(f"MARK{i}" for i in range(12, 30))]
    for marker in markers:
        assert screen.count(marker) == 1, marker
    assert sum(raw.count(marker) for marker in markers) > len(markers)  # live frames were drawn
