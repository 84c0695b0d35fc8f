"""``kimi history show`` on a terminal: drawn as rich draws it, at a cost that does not grow
with rich's per-message layout (100,000 messages took 85 s)."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Sequence

import pytest
from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.text import Text

from kimi_cli.history import ConversationSummary, StoredMessage
from kimi_cli.history.export import short_time
from kimi_cli.render import transcript
from kimi_cli.render.transcript import plain_paragraphs, print_conversation
from tests.helpers import stored_message

SUMMARY = ConversationSummary(
    id="c0000001",
    title="a title",
    model="kimi-k3",
    created_at="2026-09-01T00:00:00+00:00",
    updated_at="2026-09-02T10:11:12+00:00",
    messages=0,
)
WORDS = [
    "alpha",
    "beta",
    "x",
    "commit,",
    "diff.",
    "(rust)",
    "don't",
    "50%",
    "a/b",
    "e-mail",
    "2.",
    "10)",
    "'q'",
]
MARKDOWN = [
    "# Title\n\nSome **bold** and `code`.",
    "- one\n- two\n\n1. first\n2. second",
    "```python\nprint('hi')\n```",
    "> quoted\n\nafter",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Line with two trailing spaces  \nnext",
    "    indented code",
    "Setext\n===",
    "a & b < c",
    "日本語のテキスト and 😀 wide",
    "",
    "\n\n",
    "Ends with a space ",
    "1990 was a year\n2. not a list here",
]


def reference(summary: ConversationSummary, messages: Sequence[StoredMessage], console: Console):
    """What ``history show`` drew before: one rich layout per message (a title too wide for
    its rule wrapped, not cut)."""
    console.print(Text(summary.title, style="bold"))
    console.print(
        Text(f"{summary.id} · {summary.model} · {short_time(summary.updated_at)}", style="dim")
    )
    for message in messages:
        mark = " (partial)" if message.partial else ""
        title = f"{message.role}{mark} · {short_time(message.created_at)}"
        rule = Rule(title, align="left")
        if "".join(s.text for s in console.render(rule)).startswith(title):
            console.print(rule)
        else:  # rich would cut the title: it is wrapped whole instead, without a rule
            console.print(console.render_str(title, style="rule.text"))
        if message.reasoning:
            console.print(Text(f"[reasoning: {len(message.reasoning):,} characters]", style="dim"))
        for query in message.searches:
            console.print(Text(f"searched: {query}", style="dim"))
        console.print(Markdown(message.content, hyperlinks=False))


def prose(rng: random.Random, words: Sequence[str] = WORDS) -> str:
    paragraphs = []
    for _ in range(rng.randint(1, 3)):
        lines = []
        for _ in range(rng.randint(1, 3)):
            line = [rng.choice(words) for _ in range(rng.randint(1, 30))]
            if rng.random() < 0.2:
                line.append("L" + "o" * rng.randint(10, 130) + "ng")
            lines.append(("  " if rng.random() < 0.2 else " ").join(line))
        paragraphs.append("\n".join(lines))
    return ("\n\n\n" if rng.random() < 0.2 else "\n\n").join(paragraphs)


def searched(query: str) -> str:
    arguments = json.dumps({"query": query})
    call = {
        "id": "c",
        "type": "function",
        "function": {"name": "$web_search", "arguments": arguments},
    }
    return json.dumps([{"role": "assistant", "tool_calls": [call]}])


def conversation(rng: random.Random, count: int) -> list[StoredMessage]:
    messages = []
    for n in range(count):
        content = prose(rng) if rng.random() < 0.6 else rng.choice(MARKDOWN)
        day, second = rng.randint(1, 28), rng.randint(0, 86399)
        messages.append(
            stored_message(
                role=rng.choice(["user", "assistant", "system"]),
                content=content,
                created_at=f"2026-09-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}"
                f":{second % 60:02d}.{rng.randint(0, 999999):06d}+00:00",
                partial=rng.random() < 0.1,
                reasoning="r" * rng.randint(1, 5000) if rng.random() < 0.4 else None,
                tool_steps=searched(rng.choice(["kimi price", "日本 search", "q" * 200]))
                if rng.random() < 0.2
                else None,
                id=n,
            )
        )
    return messages


#: Four widths and colour modes in the fast set (a narrow one that folds words, a plain one, the
#: usual ones); every other pair in the slow set.
_FAST = {(12, "truecolor"), (47, None), (80, "standard"), (120, "truecolor")}


@pytest.mark.parametrize(
    ("width", "colors"),
    [
        pytest.param(width, colors, marks=() if (width, colors) in _FAST else pytest.mark.slow)
        for width in (12, 30, 47, 80, 120)
        for colors in ("truecolor", "standard", None)
    ],
)
def test_drawn_as_rich_drew_each_message(width: int, colors: str | None) -> None:
    messages = conversation(random.Random(width), 300)
    drawn = []
    for draw in (reference, print_conversation):
        out = io.StringIO()
        console = Console(
            file=out, width=width, force_terminal=True, color_system=colors, no_color=not colors
        )
        draw(SUMMARY, messages, console)
        drawn.append(out.getvalue())
    assert drawn[0] == drawn[1]


def test_plain_prose_takes_no_rich_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    # The per-message Markdown parse was most of the 85 s: plain prose must not pay it.
    laid_out: list[str] = []
    monkeypatch.setattr(
        transcript, "Markdown", lambda text, **_: laid_out.append(text) or Markdown(text)
    )
    words = [w for w in WORDS if w not in ("2.", "10)")]  # no numbered item
    messages = [stored_message(content=prose(random.Random(n), words), id=n) for n in range(500)]
    messages.append(stored_message(content="**bold**", id=500))
    console = Console(file=io.StringIO(), width=80, force_terminal=True)
    print_conversation(SUMMARY, messages, console)
    assert laid_out == ["**bold**"]


def test_what_counts_as_plain_prose() -> None:
    assert plain_paragraphs("one line\nand more\n\nsecond one.") == [
        "one line and more",
        "second one.",
    ]
    for text in MARKDOWN:
        assert plain_paragraphs(text) is None, text
