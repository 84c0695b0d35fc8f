"""A conversation as a readable transcript (Markdown) or as data (JSON-ready dict)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kimi_cli.history.records import ConversationSummary, StoredMessage

__all__ = ["short_time", "to_data", "to_markdown"]


def short_time(iso: str) -> str:
    """``2026-11-30T14:05:09.123456+00:00`` -> ``2026-11-30 14:05:09 UTC``."""
    return iso[:19].replace("T", " ") + (" UTC" if iso.endswith("+00:00") else "")


def _fold(reasoning: str) -> list[str]:
    return ["<details><summary>Reasoning</summary>", "", reasoning.strip(), "", "</details>", ""]


def to_markdown(
    summary: ConversationSummary, messages: list[StoredMessage], searches: int = 0
) -> str:
    """Roles, models and times, the reasoning folded away, the searches listed."""
    out = [
        f"# {summary.title}",
        "",
        f"- conversation: `{summary.id}`",
        f"- model: {summary.model}",
        f"- started: {short_time(summary.created_at)}",
        f"- last used: {short_time(summary.updated_at)}",
    ]
    if searches:
        out.append(f"- web searches: {searches}")
    out.append("")
    for message in messages:
        mark = " (partial)" if message.partial else ""
        model = f" · {message.model}" if message.model and message.role == "assistant" else ""
        out += [f"## {message.role}{mark}{model} · {short_time(message.created_at)}", ""]
        if message.reasoning:
            out += _fold(message.reasoning)
        out += [f"> searched: {query}" for query in message.searches]
        if message.searches:
            out.append("")
        out += [message.content, ""]
    return "\n".join(out)


def to_data(
    summary: ConversationSummary, messages: list[StoredMessage], searches: int = 0
) -> dict[str, Any]:
    return {
        **asdict(summary),
        "searches": searches,
        "messages": [{**asdict(m), "tool_steps": m.steps} for m in messages],
    }
