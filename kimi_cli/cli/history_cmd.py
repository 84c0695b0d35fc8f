"""``kimi history list|show|delete``."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated

import typer

from kimi_cli.cli.common import print_json, state_of
from kimi_cli.errors import UsageError

app = typer.Typer(
    help="Saved conversations (SQLite in the data dir).\n\nExample: kimi history list --limit 5",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="history")


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Rows in the table.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="All conversations as JSON.")] = False,
) -> None:
    """Conversations, most recently used first.

    Example: kimi history list --json | jq -r '.[0].id'
    """
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
    lines = [f"{c.id}  {c.updated_at[:16].replace('T', ' ')}  {c.model}  {c.title}" for c in rows]
    sys.stdout.write("\n".join(lines) + "\n")


@app.command("show")
def show(
    ctx: typer.Context,
    conversation_id: Annotated[str, typer.Argument(help="ID (or a unique prefix).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print one conversation.

    Example: kimi history show 3f9k2a1b
    """
    store = state_of(ctx).history()
    summary = store.get(conversation_id)
    if summary is None:
        raise UsageError(f"no conversation {conversation_id!r}", hint="see 'kimi history list'")
    messages = store.messages(summary.id)
    documents = {d.message_id: d for d in store.documents(summary.id)}
    if as_json:
        print_json(
            {
                **asdict(summary),
                "messages": [asdict(m) for m in messages],
                "documents": [asdict(d) for d in documents.values()],
            }
        )
        return
    out = [f"# {summary.title}", f"{summary.id} · {summary.model} · {summary.updated_at}", ""]
    for message in messages:
        document = documents.get(message.id)
        if document is not None:  # its extracted text is long and the user has the file
            out.append(f"## document {document.name}")
            out.append(
                f"{document.bytes:,} bytes · sha256 {document.sha256[:16]}… · "
                f"{document.file_id} · {len(message.content):,} characters of extracted text"
            )
            out.append("")
            continue
        mark = " (partial)" if message.partial else ""
        out.append(f"## {message.role}{mark}")
        out.append(message.content)
        out.append("")
    sys.stdout.write("\n".join(out))


@app.command("delete")
def delete(
    ctx: typer.Context,
    conversation_id: Annotated[str | None, typer.Argument(help="ID (or a unique prefix).")] = None,
    delete_all: Annotated[bool, typer.Option("--all", help="Delete every conversation.")] = False,
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
        sys.stderr.write(f"kimi: deleted {store.delete_all()} conversations\n")
        return
    assert conversation_id is not None
    if not store.delete(conversation_id):
        raise UsageError(f"no conversation {conversation_id!r}", hint="see 'kimi history list'")
    sys.stderr.write(f"kimi: deleted {conversation_id}\n")
