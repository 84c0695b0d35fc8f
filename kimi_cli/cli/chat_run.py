"""Running ``kimi chat``: pick the model and conversation, send one turn, shape the output."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimi_cli.api.types import Model
from kimi_cli.catalog import ChatOptions, check_options, policy_for
from kimi_cli.catalog.access import list_models_checked, resolve_model
from kimi_cli.cli.chat_input import ChatInput, gather
from kimi_cli.cli.common import client_factory, other_region, print_json
from kimi_cli.cli.state import AppState
from kimi_cli.config import Settings, Source
from kimi_cli.conversation.images import ImageStore
from kimi_cli.conversation.rules import MEASURE_ABOVE_BYTES as MEASURE_ABOVE_BYTES
from kimi_cli.conversation.rules import (
    check_fit,
    search_cost_json,
    stopped_note,
    usage_line,
    verdict,
)
from kimi_cli.conversation.search import WebSearch
from kimi_cli.conversation.turn import Conversation, TurnError, TurnResult, partial_of
from kimi_cli.documents import Document, check_sizes
from kimi_cli.errors import ConfigError, ExitCode, UsageError
from kimi_cli.history import ConversationSummary, HistoryStore
from kimi_cli.render.answer import (
    AnswerPrinter,
    AnswerSink,
    BufferSink,
    MarkdownSink,
    PlainSink,
    ReasoningPrinter,
    first_code_block,
)
from kimi_cli.render.spinner import Spinner
from kimi_cli.render.terminal import is_tty, note, print_error, warn
from kimi_cli.schema import OutputSchema, SchemaViolation, first_violation, violation_error

if TYPE_CHECKING:
    from kimi_cli.repl.state import Message


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
    #: ``--web-search``/``--no-web-search``; None: the ``web_search`` config key.
    web_search: bool | None = None


def run_chat(state: AppState, request: ChatRequest) -> int:
    settings = state.settings()
    searching = settings.web_search if request.web_search is None else request.web_search
    request = replace(request, options=replace(request.options, web_search=searching))
    key = state.require_key(settings)
    check_sizes(request.files)  # a file the Files API would refuse: before any request
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
    documents = _documents(conversation, settings, chat_input)
    input_tokens = _measure(conversation, chat_input, documents)
    return send_turn(conversation, request, chat_input, input_tokens, documents)


def send_turn(
    conversation: Conversation,
    request: ChatRequest,
    chat_input: ChatInput,
    input_tokens: int | None = None,
    documents: tuple[Document, ...] = (),
) -> int:
    """One turn with one-shot output rules; returns the exit code."""
    printer = _printer(request)
    if is_tty(sys.stderr) and os.environ.get("TERM") != "dumb":
        printer.spinner = Spinner(f"waiting for {conversation.model.id}…").start()
    try:
        result = conversation.send(
            chat_input.text,
            request.options,
            printer,
            images=chat_input.images,
            documents=documents,
            stream=request.stream,
            input_tokens=input_tokens,
        )
    except TurnError as exc:
        printer.finish()
        if request.as_json and (exc.result.content or exc.result.searches):
            print_json(result_json(exc.result, request.options.schema))
        raise exc.error from None
    except KeyboardInterrupt as exc:
        printer.finish()
        note(stopped_note(partial_of(exc)))
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        raise
    except Exception:
        printer.finish()
        raise
    except BaseException as exc:  # SIGTERM: the one line says what was kept, as Ctrl-C's does
        printer.finish()
        note(stopped_note(partial_of(exc), terminated=True))
        return int(ExitCode.TERMINATED)
    printer.finish()
    return _after(conversation, request, result, printer)


def _after(
    conversation: Conversation, request: ChatRequest, result: TurnResult, printer: AnswerPrinter
) -> int:
    code = 0
    judged = verdict(result, request.options.max_tokens)
    schema = request.options.schema
    if judged.error is not None:
        print_error(judged.error)
        code = int(judged.error.exit_code)
    elif judged.warning is not None:
        warn(judged.warning)
    violation = None
    if schema is not None and judged.error is None:
        violation = first_violation(schema.schema, result.content)
        if violation is not None:
            error = violation_error(violation)
            print_error(error)
            code = int(error.exit_code)
    if request.as_json:
        print_json(result_json(result, schema, violation))
    elif schema is not None:
        if code == 0:  # the document alone, whatever stdout is: `| jq` always works
            sys.stdout.write(result.content.strip() + "\n")
            sys.stdout.flush()
    elif request.extract:
        assert isinstance(printer.sink, BufferSink)
        block = first_code_block(printer.sink.text)
        if block is None:
            print_error("the answer has no fenced code block — it is saved in 'kimi history'")
            code = code or int(ExitCode.API_ERROR)
        else:
            sys.stdout.write(block)
            sys.stdout.flush()
    if request.usage:
        note(usage_line(result, conversation.currency))
    return code


def _printer(request: ChatRequest) -> AnswerPrinter:
    sink: AnswerSink
    if request.as_json or request.extract or request.options.schema is not None:
        sink = BufferSink()
    elif request.markdown if request.markdown is not None else _markdown_default():
        sink = MarkdownSink()
    else:
        sink = PlainSink()
    show = request.show_reasoning
    if show is None:
        show = is_tty(sys.stderr) and not request.as_json
    return AnswerPrinter(sink, ReasoningPrinter() if show else None)


def _markdown_default() -> bool:
    return is_tty(sys.stdout) and os.environ.get("TERM") != "dumb"


def result_json(
    result: TurnResult,
    schema: OutputSchema | None = None,
    violation: SchemaViolation | None = None,
) -> dict[str, Any]:
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
        "searches": [{"query": query} for query in result.searches],
        "search_cost": search_cost_json(result),
    }
    if schema is not None:
        data["schema"] = {
            "name": schema.name,
            "valid": violation is None and result.error is None,
            "violation": (
                {"path": violation.path, "message": violation.message} if violation else None
            ),
        }
    if result.error is not None:
        code = result.error.exit_code
        data["error"] = {
            # The API's own error type when it gave one, else the kind of docs/exit-codes.md.
            "type": result.error.error_type or code.name.lower(),
            "exit_code": int(code),
            "message": result.error.message,
        }
    return data


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
    if request.model:
        source: Source | None = Source.flag("--model")
    else:
        source = None if resumed and resumed.model else settings.model_source
    return resolve_model(model_id, client, cache=state.model_cache(), model_source=source, **common)


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
        "images": ImageStore(settings.data_dir / "images", warn),
        "web_search": _searcher(state, settings),
    }
    if resumed is not None:
        conversation = Conversation.resume(resumed.id, state.history(), **common)
        conversation.history = history
        if chat_input.system:
            conversation.system = chat_input.system
        return conversation
    return Conversation(history=history, system=chat_input.system, **common)


def _searcher(state: AppState, settings: Settings) -> WebSearch:
    """The search Formula, its tool list cached per base URL."""
    return WebSearch(state.client(), settings.cache_dir)


def _documents(
    conversation: Conversation, settings: Settings, chat_input: ChatInput
) -> tuple[Document, ...]:
    if not chat_input.documents:
        return ()
    from kimi_cli.cli.chat_documents import prepare_documents

    return prepare_documents(conversation.client, settings.cache_dir, chat_input.documents)


def _attached(conversation: Conversation, settings: Settings, path: Path) -> Message:
    """``/file PATH`` in the REPL: what ``-f PATH`` would send, as a message to attach."""
    from kimi_cli.cli.chat_documents import prepare_documents
    from kimi_cli.cli.chat_input import compose_text, read_files
    from kimi_cli.repl.state import Message

    check_sizes([path])
    texts, images, local = read_files([path])
    documents = prepare_documents(conversation.client, settings.cache_dir, local)
    return Message(compose_text(texts, None, ""), tuple(images), documents)


def _measure(
    conversation: Conversation, chat_input: ChatInput, documents: tuple[Document, ...] = ()
) -> int | None:
    """Count tokens of a large input (documents included) with the API's tokenizer; refuse
    what cannot fit."""
    return check_fit(
        conversation.model,
        conversation.messages_for(chat_input.text, documents=documents),
        conversation.client.estimate_tokens,
        hint=(
            "shorten the input or start a new conversation (without -c or --session)"
            if conversation.earlier
            else "shorten the input (or split it over several messages)"
        ),
    )


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
    from kimi_cli.repl.state import Message

    if request.as_json or request.extract or request.options.schema is not None:
        raise UsageError(
            "--json, --extract and --schema shape one answer; the REPL does not take them",
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
    documents = _documents(conversation, settings, chat_input)
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
        usage_lines=request.usage,
        attach_file=lambda path: _attached(conversation, settings, path),
    )
    if request.prompt_words or chat_input.has_prompt:
        config.first_message = chat_input.text or None
        config.first_images = chat_input.images
        config.first_documents = documents
    elif chat_input.file_text or chat_input.images or documents:
        config.attach_first = Message(chat_input.file_text, chat_input.images, documents)
        config.attach_names = tuple(str(p) for p in request.files)
    return run_repl(conversation, config)
