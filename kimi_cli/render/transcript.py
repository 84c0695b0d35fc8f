"""A stored conversation on a terminal: Markdown rendered, times to the second."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.text import Text

from kimi_cli.history import ConversationSummary, StoredMessage
from kimi_cli.history.export import short_time


def print_conversation(summary: ConversationSummary, messages: Sequence[StoredMessage]) -> None:
    console = Console()
    console.print(Text(summary.title, style="bold"))
    console.print(
        Text(f"{summary.id} · {summary.model} · {short_time(summary.updated_at)}", style="dim")
    )
    for message in messages:
        mark = " (partial)" if message.partial else ""
        console.print(
            Rule(f"{message.role}{mark} · {short_time(message.created_at)}", align="left")
        )
        if message.reasoning:
            console.print(Text(f"[reasoning: {len(message.reasoning):,} characters]", style="dim"))
        for query in message.searches:
            console.print(Text(f"searched: {query}", style="dim"))
        console.print(Markdown(message.content, hyperlinks=False))
