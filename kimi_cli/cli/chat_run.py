"""Running ``kimi chat``: pick the model and conversation, send one turn, shape the output."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_cli.api.types import Model
from kimi_cli.catalog import ChatOptions, check_options, policy_for
from kimi_cli.catalog.access import list_models_checked, resolve_model
from kimi_cli.cli.chat_input import ChatInput, gather
from kimi_cli.cli.common import client_factory, other_region, print_json
from kimi_cli.cli.state import AppState
from kimi_cli.config import Settings
from kimi_cli.conversation import Conversation, TurnResult
from kimi_cli.errors import APIRequestError, ConfigError, ExitCode, KimiError, UsageError
from kimi_cli.history import ConversationSummary, HistoryStore
from kimi_cli.render.answer import (
    AnswerSink,
    BufferSink,
    ChunkRouter,
    MarkdownSink,
    PlainSink,
    ReasoningPrinter,
    first_code_block,
)
from kimi_cli.render.spinner import Spinner
from kimi_cli.render.terminal import is_tty, note, print_error, warn

#: Inputs larger than this are measured with the tokenizer endpoint before sending, so one
#: that cannot fit the model's context is refused with the numbers instead of a 400.
MEASURE_ABOVE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ChatRequest:
    prompt_words: list[str]
    model: str | None
    system: str | None
    role: str | None
    files: list[Path]
    continue_last: bool
    session: str | None
    stream: bool
    as_json: bool
    markdown: bool | None
    extract: bool
    show_reasoning: bool | None
    usage: bool
    interactive: bool
    no_stdin: bool
    log: bool
    options: ChatOptions = field(default_factory=ChatOptions)


def run_chat(state: AppState, request: ChatRequest) -> int:
    settings = state.settings()
    key = state.require_key(settings)
    resumed = _conversation_to_resume(state, request)
    model = _chosen_model(state, settings, request, resumed, key)
    history = state.history() if request.log and settings.history else None
    if request.interactive:
        return _run_repl(state, settings, request, model, history, resumed, key)
    chat_input = gather(
        prompt_words=request.prompt_words,
        files=request.files,
        no_stdin=request.no_stdin,
        system=request.system,
        role=request.role,
        roles_dir=state.roles_dir(),
    )
    conversation = _conversation(state, settings, model, history, resumed, chat_input)
    input_tokens = _measure(conversation, chat_input)
    return send_turn(conversation, request, chat_input, input_tokens)


def send_turn(
    conversation: Conversation,
    request: ChatRequest,
    chat_input: ChatInput,
    input_tokens: int | None = None,
) -> int:
    """One turn with one-shot output rules; returns the exit code."""
    router = _router(request)
    if is_tty(sys.stderr) and os.environ.get("TERM") != "dumb":
        router.spinner = Spinner(f"waiting for {conversation.model.id}…").start()
    try:
        result = conversation.send(
            chat_input.text,
            request.options,
            router,
            images=chat_input.images,
            stream=request.stream,
            input_tokens=input_tokens,
        )
    except KimiError as exc:
        router.finish()
        partial = conversation.last
        if request.as_json and partial is not None and partial.content:
            partial.error = exc
            print_json(result_json(partial))
        raise
    except KeyboardInterrupt:
        router.finish()
        _interrupted_note(conversation)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        raise
    except BaseException:
        router.finish()
        raise
    router.finish()
    return _after(conversation, request, result, router)


def _after(
    conversation: Conversation, request: ChatRequest, result: TurnResult, router: ChunkRouter
) -> int:
    code = 0
    if result.finish_reason == "length":
        budget = request.options.max_tokens
        limit = f" ({budget} tokens)" if budget else ""
        if not result.content:
            print_error(
                APIRequestError(
                    f"no answer within the token budget{limit}: reasoning used all of it",
                    hint="raise it with --max-tokens",
                )
            )
            code = int(ExitCode.API_ERROR)
        else:
            warn(f"the answer was cut at the token limit{limit} — raise it with --max-tokens")
    if request.as_json:
        print_json(result_json(result))
    elif request.extract:
        assert isinstance(router.sink, BufferSink)
        block = first_code_block(router.sink.text)
        if block is None:
            print_error("the answer has no fenced code block — it is saved in 'kimi history'")
            code = code or int(ExitCode.API_ERROR)
        else:
            sys.stdout.write(block)
            sys.stdout.flush()
    if request.usage:
        note(usage_line(result, conversation.currency))
    return code


def _router(request: ChatRequest) -> ChunkRouter:
    sink: AnswerSink
    if request.as_json or request.extract:
        sink = BufferSink()
    elif request.markdown if request.markdown is not None else _markdown_default():
        sink = MarkdownSink()
    else:
        sink = PlainSink()
    show = request.show_reasoning
    if show is None:
        show = is_tty(sys.stderr) and not request.as_json
    return ChunkRouter(sink, ReasoningPrinter() if show else None)


def _markdown_default() -> bool:
    return is_tty(sys.stdout) and os.environ.get("TERM") != "dumb"


def result_json(result: TurnResult) -> dict[str, Any]:
    usage = result.usage
    data: dict[str, Any] = {
        "model": result.model,
        "content": result.content,
        "reasoning": result.reasoning,
        "finish_reason": result.finish_reason,
        "usage": {
            "input_tokens": usage.input_tokens if usage else None,
            "cached_tokens": usage.cached_tokens if usage else None,
            "output_tokens": usage.output_tokens if usage else None,
        },
        "cost": (
            {"amount": result.cost.amount, "currency": result.cost.currency}
            if result.cost
            else None
        ),
        "request_id": result.request_id,
        "conversation_id": result.conversation_id,
        "partial": result.partial,
    }
    if result.error is not None:
        data["error"] = {
            "type": result.error.error_type or type(result.error).__name__,
            "message": result.error.message,
        }
    return data


def usage_line(result: TurnResult, currency: str | None) -> str:
    usage = result.usage
    if usage is None:
        return "kimi: usage: the API reported no token counts"
    tokens = f"{usage.input_tokens} in ({usage.cached_tokens} cached), {usage.output_tokens} out"
    if result.cost is not None:
        return f"kimi: usage: {tokens} · {result.cost.amount:.6f} {result.cost.currency}"
    if currency is None:
        why = "the currency of this base URL is unknown: kimi config set currency USD"
    else:
        why = f"no listed {currency} price for {result.model}"
    return f"kimi: usage: {tokens} · cost unknown ({why})"


def _interrupted_note(conversation: Conversation) -> None:
    where = conversation.conversation_id
    last = conversation.last
    what = "the partial answer is" if last is not None and last.pieces else "the question is"
    kept = f" — {what} saved: kimi history show {where}" if where else ""
    note(f"kimi: interrupted{kept}")


def _conversation_to_resume(state: AppState, request: ChatRequest) -> ConversationSummary | None:
    if not (request.continue_last or request.session):
        return None
    store = state.history()
    if request.session:
        found = store.get(request.session)
        if found is None:
            raise UsageError(f"no conversation {request.session!r}", hint="see 'kimi history list'")
        return found
    last = store.last_used()
    if last is None:
        raise UsageError("no conversation to continue yet", hint="start one with 'kimi chat'")
    return last


def _chosen_model(
    state: AppState,
    settings: Settings,
    request: ChatRequest,
    resumed: ConversationSummary | None,
    key: str,
) -> Model:
    model_id = request.model or (resumed.model if resumed else None) or settings.model
    client = state.client()
    common: dict[str, Any] = {
        "api_key": key,
        "other_region": other_region(state, settings),
        "client_factory": client_factory(state, key),
    }
    if not model_id:
        ids = [m.id for m in list_models_checked(client, cache=state.model_cache(), **common)]
        raise ConfigError(
            "no model chosen",
            hint=f"pick one: kimi models use ID (available: {', '.join(ids) or 'none'})",
        )
    return resolve_model(model_id, client, cache=state.model_cache(), **common)


def _conversation(
    state: AppState,
    settings: Settings,
    model: Model,
    history: HistoryStore | None,
    resumed: ConversationSummary | None,
    chat_input: ChatInput,
) -> Conversation:
    common: dict[str, Any] = {
        "client": state.client(),
        "model": model,
        "policy": policy_for(model),
        "currency": settings.currency,
        "warn": warn,
    }
    if resumed is not None:
        conversation = Conversation.resume(resumed.id, state.history(), **common)
        conversation.history = history
        if chat_input.system:
            conversation.system = chat_input.system
        return conversation
    return Conversation(history=history, system=chat_input.system, **common)


def _measure(conversation: Conversation, chat_input: ChatInput) -> int | None:
    """Count tokens of a large input with the API's tokenizer; refuse what cannot fit."""
    messages = conversation.messages_for(chat_input.text)
    size = sum(len(str(m.get("content", "")).encode()) for m in messages)
    if size <= MEASURE_ABOVE_BYTES:
        return None
    model = conversation.model
    tokens = conversation.client.estimate_tokens(model.id, messages)
    context = model.context_length
    if context and tokens >= context:
        raise UsageError(
            f"the input is {tokens:,} tokens; {model.id} takes at most {context:,}",
            hint="shorten the input or start a new conversation (without -c)",
        )
    return tokens


def _run_repl(
    state: AppState,
    settings: Settings,
    request: ChatRequest,
    model: Model,
    history: HistoryStore | None,
    resumed: ConversationSummary | None,
    key: str,
) -> int:
    """The REPL: a first message (prompt, -f files, piped stdin) if any, then the prompt."""
    from kimi_cli.repl import ReplConfig, run_repl

    if request.as_json or request.extract:
        raise UsageError(
            "--json and --extract shape one answer; the REPL does not take them",
            hint="give a prompt without -i, or drop them",
        )
    chat_input = gather(
        prompt_words=request.prompt_words,
        files=request.files,
        no_stdin=request.no_stdin,
        system=request.system,
        role=request.role,
        roles_dir=state.roles_dir(),
        require_text=False,
    )
    conversation = _conversation(state, settings, model, history, resumed, chat_input)
    check_options(conversation.policy, request.options)
    client = state.client()
    region = other_region(state, settings)

    def recent(limit: int) -> list[ConversationSummary]:
        with state.history() as store:
            return store.recent(limit=limit)

    config = ReplConfig(
        history_file=settings.data_dir / "repl_history",
        roles_dir=state.roles_dir(),
        options=request.options,
        markdown=request.markdown if request.markdown is not None else _markdown_default(),
        show_reasoning=request.show_reasoning is not False,
        stream=request.stream,
        list_models=lambda: list_models_checked(
            client,
            api_key=key,
            cache=state.model_cache(),
            other_region=region,
            client_factory=client_factory(state, key),
        ),
        recent=recent,
        first_message=chat_input.text or None,
        first_images=chat_input.images,
        usage_lines=request.usage,
    )
    return run_repl(conversation, config)
