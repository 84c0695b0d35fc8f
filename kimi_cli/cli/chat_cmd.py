"""``kimi chat``: one-shot, piped, or interactive."""

# No ``from __future__ import annotations``: Typer reads the annotations of ``chat`` on
# every run, and evaluating them from strings costs more than the rest of parsing
# (docs/performance.md).

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kimi_cli.cli.common import state_of
from kimi_cli.cli.completion import complete_model_ids
from kimi_cli.cli.state import AppState
from kimi_cli.errors import UsageError

if TYPE_CHECKING:
    from decimal import Decimal

    from kimi_cli.schema import OutputSchema

HELP = """Ask a model. The message is: each -f file (fenced, headed by its path), then piped
stdin, a blank line, then PROMPT. With no prompt on a terminal it opens the REPL (-f files go
with the first message); '-f -' reads standard input. A -f document (PDF, Word …) is
uploaded once and its extracted text sent as a system message (docs/files.md).

Example: git diff | kimi chat "write a commit message" > msg.txt
"""


class Effort(StrEnum):
    low = "low"
    high = "high"
    max = "max"


class ReasoningShow(StrEnum):
    show = "show"
    hide = "hide"


class Format(StrEnum):
    json = "json"


def register(root: typer.Typer) -> None:
    root.command("chat", help=HELP)(chat)


def chat(
    ctx: typer.Context,
    prompt: Annotated[
        list[str] | None, typer.Argument(help="The prompt (words are joined).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model ID (verified).", autocompletion=complete_model_ids
        ),
    ] = None,
    system: Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")] = None,
    role: Annotated[
        str | None, typer.Option("--role", "-r", help="Saved system prompt: roles/NAME.md.")
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option(
            "--file", "-f", help="Text file, image or document (PDF, Word …); repeatable."
        ),
    ] = None,
    cont: Annotated[
        bool, typer.Option("--continue", "-c", help="Continue the last used conversation.")
    ] = False,
    session: Annotated[
        str | None, typer.Option("--session", help="Continue conversation ID.")
    ] = None,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Wait for the whole answer.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    markdown: Annotated[
        bool | None,
        typer.Option(
            "--markdown/--raw", help="Render Markdown (default: when stdout is a terminal)."
        ),
    ] = None,
    extract: Annotated[
        bool, typer.Option("--extract", "-x", help="Print only the first fenced code block.")
    ] = False,
    response_format: Annotated[
        Format | None, typer.Option("--format", help="json: ask for a JSON object.")
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema",
            help="Answer JSON of this schema (file, inline JSON, or 'name, age int'); validated.",
        ),
    ] = None,
    web_search: Annotated[
        bool | None,
        typer.Option(
            "--web-search/--no-web-search",
            help="Let the model search the web (default: config web_search).",
        ),
    ] = None,
    max_searches: Annotated[
        int, typer.Option("--max-searches", help="Searches one answer may run (with --web-search).")
    ] = 5,
    thinking: Annotated[
        bool | None, typer.Option("--thinking/--no-thinking", help="Turn reasoning on or off.")
    ] = None,
    effort: Annotated[Effort | None, typer.Option("--effort", help="Reasoning effort.")] = None,
    reasoning: Annotated[
        ReasoningShow | None,
        typer.Option(
            "--reasoning", help="Show reasoning on stderr (default: when it is a terminal)."
        ),
    ] = None,
    usage: Annotated[
        bool, typer.Option("--usage", "-u", help="Tokens and cost on stderr.")
    ] = False,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Output budget (max_completion_tokens).")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option("--temperature", help="Sampling temperature (0..1).")
    ] = None,
    max_cost: Annotated[
        str | None,
        typer.Option(
            "--max-cost",
            metavar="AMOUNT",
            help="Send nothing when an answer could cost more (region's currency).",
        ),
    ] = None,
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Stay in the REPL after the first answer.")
    ] = False,
    no_stdin: Annotated[
        bool, typer.Option("--no-stdin", help="Do not read standard input.")
    ] = False,
    no_log: Annotated[bool, typer.Option("--no-log", help="Do not save to history.")] = False,
) -> None:
    from kimi_cli.catalog.policy import ChatOptions
    from kimi_cli.cli.chat_run import ChatRequest, run_chat

    state = state_of(ctx)
    if model is not None and not model.strip():  # -m "$MODEL" with MODEL unset
        raise UsageError("the model ID is empty", hint="drop -m, or give an ID ('kimi models')")
    if cont and session:
        raise UsageError("--continue and --session both pick a conversation", hint="use one")
    if extract and as_json:
        raise UsageError("--extract and --json both shape the output", hint="use one")
    if schema is not None and extract:
        raise UsageError("--schema and --extract both shape the output", hint="use one")
    stdin_is_tty = sys.stdin is None or sys.stdin.isatty()
    # No prompt on a terminal is the REPL, also with -f (the files go with the first message);
    # with stdout redirected, -f alone is sent as it is (an image alone, without a text part).
    wants_repl = interactive or (
        not prompt
        and stdin_is_tty
        and (not files or sys.stdout.isatty())
        and "-" not in map(str, files or [])
    )
    if wants_repl and not (sys.stdout.isatty() and _terminal_for_input(stdin_is_tty)):
        raise UsageError(
            "the interactive REPL needs a terminal",
            hint="give a prompt or pipe input in — see 'kimi chat --help'",
        )
    request = ChatRequest(
        prompt_words=prompt or [],
        model=model,
        system=system,
        role=role,
        files=files or [],
        continue_last=cont,
        session=session,
        stream=not no_stream,
        as_json=as_json,
        markdown=markdown,
        extract=extract,
        show_reasoning=None if reasoning is None else reasoning is ReasoningShow.show,
        usage=usage,
        interactive=wants_repl,
        no_stdin=no_stdin or (wants_repl and not prompt and stdin_is_tty),
        log=not no_log,
        web_search=web_search,
        max_cost=None if max_cost is None else _max_cost(max_cost),
        options=ChatOptions(
            thinking=thinking,
            effort=effort.value if effort else None,
            temperature=temperature,
            max_tokens=max_tokens,
            json_object=response_format is Format.json,
            schema=None if schema is None else _schema(schema),
            max_searches=max_searches,
        ),
    )
    code = run_chat(state, request)
    if code:
        raise typer.Exit(code)


def _schema(argument: str) -> "OutputSchema":
    """``--schema``, read and checked before anything is sent (exit 2)."""
    from kimi_cli.schema import load_schema

    return load_schema(argument)


def _max_cost(argument: str) -> "Decimal | None":
    """``--max-cost``, checked before anything is sent (exit 2)."""
    from kimi_cli.budget import parse_max_cost

    return parse_max_cost(argument)


def _terminal_for_input(stdin_is_tty: bool) -> bool:
    """Keyboard input for the REPL: stdin itself, or the controlling terminal after a pipe."""
    if stdin_is_tty:
        return True
    try:
        with open("/dev/tty", encoding="utf-8"):
            return True
    except OSError:
        return False


def run_bare(ctx: typer.Context, state: AppState) -> None:
    """Bare ``kimi``: the REPL on a terminal once set up; help otherwise."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        typer.echo(ctx.get_help())
        return
    settings = state.settings()
    if not settings.api_key:
        typer.echo(ctx.get_help())
        sys.stderr.write("kimi: not set up yet — run 'kimi setup'\n")
        return
    ctx.invoke(chat, ctx=ctx)
