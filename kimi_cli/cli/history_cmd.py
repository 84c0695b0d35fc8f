"""``kimi history list|show|search|export|delete``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from kimi_cli.cli.common import print_json, print_json_items, state_of
from kimi_cli.cli.completion import complete_conversation_ids
from kimi_cli.errors import UsageError
from kimi_cli.render.terminal import shown_controls

if TYPE_CHECKING:
    from kimi_cli.history import (
        ConversationSummary,
        HistoryStore,
    )

app = typer.Typer(
    help="Saved conversations (SQLite in the data dir).\n\nExample: kimi history list --limit 5",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="history")


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Rows in the table (at most 10,000).")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="All conversations as JSON.")] = False,
) -> None:
    """Conversations, most recently used first.

    Example: kimi history list --json | jq -r '.[0].id'
    """
    _check_limit(limit)
    store = state_of(ctx).history()
    if as_json:
        print_json(
            [
                {
                    "id": c.id,
                    "title": c.title,
                    "model": c.model,
                    "updated_at": c.updated_at,
                    "messages": c.messages,
                }
                for c in store.recent()
            ]
        )
        return
    rows = store.recent(limit)
    if not rows:
        sys.stderr.write("kimi: no conversations yet\n")
        return
    shown = _shown_on_terminal()
    lines = [
        f"{c.id}  {c.updated_at[:16].replace('T', ' ')}  {c.model}  {shown(c.title)}" for c in rows
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def _shown_on_terminal() -> Callable[[str], str]:
    """On a terminal, a stored text's escapes are shown, not obeyed; a pipe gets them as
    they are."""
    return shown_controls if sys.stdout.isatty() else str


def _check_limit(limit: int) -> None:
    # 0 would list nothing and say there is no history; -1 would be SQLite's "no limit".
    if limit < 1:
        raise UsageError(f"--limit must be at least 1, not {limit}", hint="e.g. -n 50")


def _found(ctx: typer.Context, conversation_id: str) -> tuple[HistoryStore, ConversationSummary]:
    store = state_of(ctx).history()
    summary = store.get(conversation_id)
    if summary is None:
        raise UsageError(f"no conversation {conversation_id!r}", hint="see 'kimi history list'")
    return store, summary


@app.command("show")
def show(
    ctx: typer.Context,
    conversation_id: Annotated[
        str,
        typer.Argument(help="ID (or a unique prefix).", autocompletion=complete_conversation_ids),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print one conversation (Markdown rendered on a terminal).

    Example: kimi history show 3f9k2a1b
    """
    from kimi_cli.history.export import named_documents

    store, summary = _found(ctx, conversation_id)
    if as_json or not sys.stdout.isatty():
        _write_transcript(store, summary, "json" if as_json else "markdown")
        return
    from kimi_cli.render.transcript import print_conversation

    messages = store.messages(summary.id)
    print_conversation(summary, named_documents(messages, store.documents(summary.id)))


@app.command("export")
def export(
    ctx: typer.Context,
    conversation_id: Annotated[str, typer.Argument(help="ID (or a unique prefix).")],
    fmt: Annotated[
        str, typer.Option("--format", metavar="markdown|json", help="Transcript format.")
    ] = "markdown",
) -> None:
    """Write a readable transcript to stdout: roles, model, times, reasoning folded,
    documents and searches listed.

    Example: kimi history export 3f9k2a1b > chat.md
    """
    if fmt not in ("markdown", "json"):
        raise UsageError(f"--format must be markdown or json, not {fmt!r}")
    store, summary = _found(ctx, conversation_id)
    _write_transcript(store, summary, fmt)


def _write_transcript(store: HistoryStore, summary: ConversationSummary, fmt: str) -> None:
    """The transcript written a message at a time, read from the database as it goes: a
    conversation of 100,000 messages is never held whole."""
    from kimi_cli.history.export import data_head, markdown_pieces, message_data

    searches, documents = store.searches_in(summary.id), store.documents(summary.id)
    messages = store.each_message(summary.id)
    if fmt == "json":
        head = data_head(summary, searches, documents)
        print_json_items(head, "messages", (message_data(m) for m in messages))
        return
    for piece in markdown_pieces(summary, messages, searches, documents):
        sys.stdout.write(piece)
    sys.stdout.flush()


@app.command("search")
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to find (all of them), in any order.")],
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Most hits shown (at most 10,000).")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find prompts and answers containing every word, newest first.

    Example: kimi history search "commit message"
    """
    if not text.split():
        raise UsageError("nothing to search for", hint="give one or more words")
    _check_limit(limit)
    hits = state_of(ctx).history().search(text, limit=limit)
    if as_json:
        print_json([asdict(hit) for hit in hits])
        return
    if not hits:
        sys.stderr.write(f"kimi: no message contains {text!r}\n")
        return
    shown = _shown_on_terminal()
    lines = [
        f"{h.conversation_id}  {h.created_at[:16].replace('T', ' ')}  {h.role:9}  "
        + shown(h.snippet)
        for h in hits
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@app.command("delete")
def delete(
    ctx: typer.Context,
    conversation_id: Annotated[str | None, typer.Argument(help="ID (or a unique prefix).")] = None,
    delete_all: Annotated[bool, typer.Option("--all", help="Delete every conversation.")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (needed for --all off a terminal).")
    ] = False,
) -> None:
    """Delete one conversation, or all of them.

    Example: kimi history delete --all
    """
    if delete_all == (conversation_id is not None):
        raise UsageError(
            "give one conversation ID or --all", hint="see 'kimi history delete --help'"
        )
    store = state_of(ctx).history()
    if delete_all:
        if not yes:
            _confirm_delete_all(len(store.recent()))
        count = store.delete_all()
        sys.stderr.write(f"kimi: deleted {count} conversation{'' if count == 1 else 's'}\n")
        return
    assert conversation_id is not None
    if not store.delete(conversation_id):
        raise UsageError(f"no conversation {conversation_id!r}", hint="see 'kimi history list'")
    sys.stderr.write(f"kimi: deleted {conversation_id}\n")


def _confirm_delete_all(count: int) -> None:
    if not sys.stdin.isatty():
        raise UsageError(
            "history delete --all needs confirmation", hint="add --yes to delete without asking"
        )
    from kimi_cli.cli.prompts import agreed

    if not agreed(f"Delete all {count} conversations?"):
        sys.stderr.write("kimi: nothing deleted\n")
        raise typer.Exit(0)
