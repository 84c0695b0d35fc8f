"""``kimi tokens``: how many tokens a text is, and how much of the model's context that is."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kimi_cli.cli.chat_input import MAX_INPUT_BYTES, decode_utf8, read_file, too_large
from kimi_cli.cli.common import print_json, state_of
from kimi_cli.cli.completion import complete_model_ids
from kimi_cli.errors import APIRequestError, ConfigError, UsageError

HELP = """Count the tokens of FILE (or of standard input, or '-') with the API's tokenizer
(POST /v1/tokenizers/estimate-token-count), as one user message, and show the share of the
model's context it takes. The model is -m or the configured one, verified like chat's.

Example: git diff | kimi tokens -m kimi-k3.1-pro --json | jq .share
"""


def register(root: typer.Typer) -> None:
    root.command("tokens", help=HELP)(tokens)


def tokens(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(metavar="[FILE|-]", help="A text file; '-' or nothing reads stdin."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model ID (verified).", autocompletion=complete_model_ids
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {model, tokens, context_length, share}.")
    ] = False,
) -> None:
    from kimi_cli.render.terminal import warn

    state = state_of(ctx)
    text = read_text(source)
    connection = state.connect(state.settings(model=model) if model else None)
    settings = connection.settings
    if not settings.model:
        raise ConfigError(
            "no model chosen", hint="pass -m ID, or pick one: kimi models use ID ('kimi models')"
        )
    found = connection.resolve_model(settings.model, settings.model_source)
    client = connection.client
    try:
        count = client.estimate_tokens(found.id, [{"role": "user", "content": text}])
    except APIRequestError as exc:
        if exc.status_code not in (400, 404) or exc.error_type == "content_filter":
            raise
        said = exc.message.removeprefix("the API refused the request: ")
        raise APIRequestError(
            f"the token counter (POST /tokenizers/estimate-token-count) refused {found.id}"
            f" (HTTP {exc.status_code}: {said})",
            hint="it lists the models it counts for; try another: kimi tokens -m ID",
            request_id=exc.request_id,
        ) from exc
    context = found.context_length
    share = count / context if context else None
    if as_json:
        print_json(tokens_json(found.id, count, context, share))
    else:
        sys.stdout.write(describe(found.id, count, context, share) + "\n")
        sys.stdout.flush()
    if context and count >= context:
        warn(f"{count:,} tokens do not fit {found.id}'s context of {context:,}")


def tokens_json(model: str, count: int, context: int | None, share: float | None) -> dict[str, Any]:
    return {"model": model, "tokens": count, "context_length": context, "share": share}


def percent(share: float) -> str:
    value = share * 100
    if 0 < value < 0.01:
        return "<0.01%"
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def describe(model: str, count: int, context: int | None, share: float | None) -> str:
    noun = "token" if count == 1 else "tokens"
    if context is None or share is None:
        return f"{count:,} {noun} ({model}: context length unknown)"
    return f"{count:,} {noun} ({percent(share)} of {model}'s {context:,}-token context)"


def read_text(source: str | None) -> str:
    """The text to count: FILE, or stdin ('-', or nothing when stdin is piped)."""
    if source is None or source == "-":
        stdin = sys.stdin
        if stdin is None or (source is None and stdin.isatty()):
            raise UsageError(
                "nothing to count",
                hint="give a FILE, or pipe text in: cat notes.md | kimi tokens",
            )
        data, where = stdin.buffer.read(MAX_INPUT_BYTES + 1), "standard input"
        if len(data) > MAX_INPUT_BYTES:
            raise too_large(where)
    else:
        path = Path(source)
        where = str(path)
        data = read_file(path)
    text = decode_utf8(data, where, binary_hint="it looks binary; kimi tokens counts text only")
    if "\x00" in text:
        raise UsageError(f"{where} contains NUL bytes", hint="kimi tokens counts text only")
    if not text.strip():
        raise UsageError(f"{where} is empty", hint="there is nothing to count")
    return text
