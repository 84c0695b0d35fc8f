"""A conversation as a readable transcript (Markdown) or as data (JSON-ready dict).

A document's extracted text is long and the user has the file: the transcript names it
(name, size, SHA-256, file ID) where it was sent, and lists the documents at the top; the
data carries them as ``documents``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, replace
from typing import Any

from kimi_cli.history.documents import StoredDocument
from kimi_cli.history.queries import ConversationSummary
from kimi_cli.history.records import StoredMessage

__all__ = [
    "data_head",
    "markdown_pieces",
    "message_data",
    "named_documents",
    "short_time",
    "to_data",
    "to_markdown",
]


def short_time(iso: str) -> str:
    """``2026-11-30T14:05:09.123456+00:00`` -> ``2026-11-30 14:05:09 UTC``."""
    return iso[:19].replace("T", " ") + (" UTC" if iso.endswith("+00:00") else "")


def _fold(reasoning: str) -> list[str]:
    return ["<details><summary>Reasoning</summary>", "", reasoning.strip(), "", "</details>", ""]


def named_documents(
    messages: Iterable[StoredMessage], documents: Sequence[StoredDocument]
) -> list[StoredMessage]:
    """The messages, each document's extracted text replaced by one line naming it."""
    return list(each_named(messages, documents))


def each_named(
    messages: Iterable[StoredMessage], documents: Sequence[StoredDocument]
) -> Iterator[StoredMessage]:
    by_message = {d.message_id: d for d in documents}
    return (_named(m, by_message[m.id]) if m.id in by_message else m for m in messages)


def _named(message: StoredMessage, document: StoredDocument) -> StoredMessage:
    return replace(
        message,
        content=(
            f"document {document.name} · {document.bytes:,} bytes · sha256 "
            f"{document.sha256[:16]}… · {document.file_id} · "
            f"{len(message.content):,} characters of extracted text"
        ),
    )


def to_markdown(
    summary: ConversationSummary,
    messages: Iterable[StoredMessage],
    searches: int = 0,
    documents: Sequence[StoredDocument] = (),
) -> str:
    """Roles, models and times, the reasoning folded away, the documents and searches
    listed."""
    return "".join(markdown_pieces(summary, messages, searches, documents))


def markdown_pieces(
    summary: ConversationSummary,
    messages: Iterable[StoredMessage],
    searches: int = 0,
    documents: Sequence[StoredDocument] = (),
) -> Iterator[str]:
    """``to_markdown`` a message at a time, to be written as it comes."""
    out = [
        f"# {summary.title}",
        "",
        f"- conversation: `{summary.id}`",
        f"- model: {summary.model}",
        f"- started: {short_time(summary.created_at)}",
        f"- last used: {short_time(summary.updated_at)}",
    ]
    for document in documents:
        out.append(f"- document: {document.name} ({document.bytes:,} bytes, {document.file_id})")
    if searches:
        out.append(f"- web searches: {searches}")
    out.append("")
    yield "\n".join(out)
    for message in each_named(messages, documents):
        mark = " (partial)" if message.partial else ""
        model = f" · {message.model}" if message.model and message.role == "assistant" else ""
        out = ["", f"## {message.role}{mark}{model} · {short_time(message.created_at)}", ""]
        if message.reasoning:
            out += _fold(message.reasoning)
        out += [f"> searched: {query}" for query in message.searches]
        if message.searches:
            out.append("")
        out += [message.content, ""]
        yield "\n".join(out)


def to_data(
    summary: ConversationSummary,
    messages: Iterable[StoredMessage],
    searches: int = 0,
    documents: Sequence[StoredDocument] = (),
) -> dict[str, Any]:
    return {
        **data_head(summary, searches, documents),
        "messages": [message_data(m) for m in messages],
    }


def data_head(
    summary: ConversationSummary, searches: int = 0, documents: Sequence[StoredDocument] = ()
) -> dict[str, Any]:
    """``to_data`` without its last key, ``messages`` (``message_data`` of each)."""
    return {**asdict(summary), "searches": searches, "documents": [asdict(d) for d in documents]}


def message_data(message: StoredMessage) -> dict[str, Any]:
    return {**asdict(message), "tool_steps": message.steps}
