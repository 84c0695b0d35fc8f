"""Running ``kimi chat``: pick the model and conversation, send one turn, shape the output."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from kimi_cli.catalog.policy import ChatOptions, check_options, policy_for
from kimi_cli.cli.chat_input import ChatInput, gather
from kimi_cli.cli.common import print_json
from kimi_cli.config import Source
from kimi_cli.conversation.lifecycle import ModelWatch
from kimi_cli.conversation.rules import MEASURE_ABOVE_BYTES as MEASURE_ABOVE_BYTES
from kimi_cli.conversation.rules import (
    check_fit,
    failed_usage_line,
    stopped_note,
    usage_line,
    verdict,
)
from kimi_cli.conversation.turn import Conversation, TurnError, TurnResult, partial_of
from kimi_cli.errors import ConfigError, ExitCode, ModelNotFoundError, UsageError
from kimi_cli.render.answer import (
    AnswerPrinter,
    AnswerSink,
    BufferSink,
    PlainSink,
    ReasoningPrinter,
    first_code_block,
)
from kimi_cli.render.terminal import is_tty, note, print_error, warn

if TYPE_CHECKING:
    from pathlib import Path

    from kimi_cli.api.types import Model
    from kimi_cli.cli.state import AppState, Connection
    from kimi_cli.conversation.budgets import BudgetGuard
    from kimi_cli.documents import Document
    from kimi_cli.history import ConversationSummary, HistoryStore


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
    #: ``--max-cost``: the most one answer may cost (the config's budgets apply as well).
    max_cost: Decimal | None = None


@dataclass(frozen=True)
class ChatSetup:
    """What one ``kimi chat`` is wired with, resolved once and passed down."""

    state: AppState
    #: The settings, the key, the client and the model cache.
    connection: Connection
    model: Model
    #: Where turns are saved; None with --no-log or history off.
    history: HistoryStore | None
    #: The stored conversation that -c or --session continues.
    resumed: ConversationSummary | None
    #: ``--max-cost`` (the config's budgets are in the settings).
    max_cost: Decimal | None = None
    #: A refusal's hint by flag, for a setting that came from elsewhere.
    fixes: dict[str, str] = field(default_factory=dict)


def run_chat(state: AppState, request: ChatRequest) -> int:
    connection = state.connect()
    settings = connection.settings
    searching = settings.web_search if request.web_search is None else request.web_search
    options = replace(request.options, web_search=searching)
    fixes = {}  # a refusal of a saved setting names the setting, not the flag
    if options.max_tokens is None and settings.max_tokens is not None:
        options = replace(options, max_tokens=settings.max_tokens)
        fixes["--max-tokens"] = settings.sources["max_tokens"].refused_fix(
            "max_tokens", "--max-tokens"
        )
    if request.web_search is None and searching:
        fixes["--web-search"] = settings.sources["web_search"].refused_fix(
            "web_search", "--no-web-search"
        )
    request = replace(request, options=options)
    if request.files:
        from kimi_cli.documents import check_sizes

        check_sizes(request.files)  # a file the Files API would refuse: before any request
    resumed = _stored(state, request) if request.continue_last or request.session else None
    try:
        return _run(state, request, connection, resumed, fixes)
    except ModelNotFoundError as exc:
        if request.model or resumed is None or not exc.move_to:
            raise
        from kimi_cli.catalog.retirements import move_hint

        how = "-c" if request.continue_last else f"--session {resumed.id}"
        command = f"continue with it: kimi chat {how} -m {exc.move_to}"
        exc.hint = move_hint(exc.move_to, exc.successor_named, command)
        raise


def _run(
    state: AppState,
    request: ChatRequest,
    connection: Connection,
    resumed: ConversationSummary | None,
    fixes: dict[str, str],
) -> int:
    settings = connection.settings
    setup = ChatSetup(
        state=state,
        connection=connection,
        model=_chosen_model(connection, request, resumed),
        history=state.history() if request.log and settings.history else None,
        resumed=resumed,
        max_cost=request.max_cost,
        fixes=fixes,
    )
    if request.interactive:
        from kimi_cli.cli.chat_repl import run_repl_chat

        return run_repl_chat(setup, request)
    chat_input = gather(
        prompt_words=request.prompt_words,
        files=request.files,
        no_stdin=request.no_stdin,
        system=request.system,
        role=request.role,
        roles_dir=state.roles_dir(),
    )
    conversation = new_conversation(setup, chat_input)
    documents: tuple[Document, ...] = ()
    if chat_input.documents:
        check_options(conversation.policy, request.options)  # a refused flag: no upload
        documents = prepare_documents(setup, chat_input)
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
        from kimi_cli.render.spinner import Spinner

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
            from kimi_cli.cli.chat_json import result_json

            print_json(result_json(exc.result, request.options.schema))
        spent = failed_usage_line(exc.result, conversation.currency) if request.usage else None
        if spent:
            note(spent)
        raise exc.error from None
    except KeyboardInterrupt as exc:
        printer.finish()
        return _stopped(request, partial_of(exc), ExitCode.INTERRUPTED)
    except BrokenPipeError:
        raise
    except Exception:
        printer.finish()
        raise
    except BaseException as exc:  # SIGTERM: the one line says what was kept, as Ctrl-C's does
        printer.finish()
        return _stopped(request, partial_of(exc), ExitCode.TERMINATED)
    printer.finish()
    return _after(conversation, request, result, printer)


def _stopped(request: ChatRequest, partial: TurnResult | None, code: ExitCode) -> int:
    """Ctrl-C or SIGTERM: with --json, what arrived is the document (as a cut stream's is);
    then the line that says where it was saved."""
    terminated = code is ExitCode.TERMINATED
    if request.as_json and partial is not None and (partial.content or partial.searches):
        from kimi_cli.cli.chat_json import result_json

        document = result_json(partial, request.options.schema)
        kind = "terminated" if terminated else "interrupted"
        document["partial"] = True
        document["error"] = {"type": kind, "exit_code": int(code), "message": kind}
        print_json(document)
    note(stopped_note(partial, terminated=terminated))
    return int(code)


def _after(
    conversation: Conversation, request: ChatRequest, result: TurnResult, printer: AnswerPrinter
) -> int:
    code = 0
    max_tokens = request.options.max_tokens
    judged = verdict(result, max_tokens)
    schema = request.options.schema
    violation = None
    if schema is not None and judged.error is None:
        from kimi_cli.schema import first_violation, violation_error

        violation = first_violation(schema.schema, result.content)
    if judged.error is not None:
        print_error(judged.error)
        code = int(judged.error.exit_code)
    elif violation is not None:  # one line: a cut document is the limit's doing
        cut = f" ({max_tokens} tokens)" if max_tokens else ""
        error = violation_error(violation, cut_at=cut if judged.warning is not None else None)
        print_error(error)
        code = int(error.exit_code)
    elif judged.warning is not None:
        warn(judged.warning)
    if request.as_json:
        from kimi_cli.cli.chat_json import result_json

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
    elif request.markdown if request.markdown is not None else markdown_default():
        from kimi_cli.render.markdown_stream import MarkdownSink

        sink = MarkdownSink()
    else:
        sink = PlainSink()
    show = request.show_reasoning
    if show is None:
        show = is_tty(sys.stderr) and not request.as_json
    return AnswerPrinter(sink, ReasoningPrinter() if show else None)


def markdown_default() -> bool:
    return is_tty(sys.stdout) and os.environ.get("TERM") != "dumb"


def _stored(state: AppState, request: ChatRequest) -> ConversationSummary:
    """The conversation --session names, or the last used one for --continue."""
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
    connection: Connection, request: ChatRequest, resumed: ConversationSummary | None
) -> Model:
    settings = connection.settings
    model_id = request.model or (resumed.model if resumed else None) or settings.model
    if not model_id:
        ids = [m.id for m in connection.list_models()]
        raise ConfigError(
            "no model chosen",
            hint=f"pick one: kimi models use ID (available: {', '.join(ids) or 'none'})",
        )
    if request.model:
        source: Source | None = Source.flag("--model")
    else:
        source = None if resumed and resumed.model else settings.model_source
    return connection.resolve_model(model_id, source)


def new_conversation(setup: ChatSetup, chat_input: ChatInput) -> Conversation:
    """The conversation a turn goes to: a new one, or the stored one -c/--session names."""
    connection = setup.connection
    settings = connection.settings
    conversation = Conversation(
        client=connection.client,
        model=setup.model,
        policy=policy_for(setup.model),
        history=setup.history,
        currency=settings.currency,
        warn=warn,
        system=chat_input.system,
        image_dir=settings.data_dir / "images",
        cache_dir=settings.cache_dir,  # the search Formula's tool list, cached per base URL
        budget=_budget(setup),
        watch=ModelWatch(connection.cache, settings.cache_dir),
        fixes=setup.fixes,
    )
    if setup.resumed is not None:
        conversation.resume(setup.resumed.id, setup.state.history())
        if chat_input.system:
            conversation.system = chat_input.system
    return conversation


def _budget(setup: ChatSetup) -> BudgetGuard | None:
    """The budgets checked before each request; None when none is set."""
    settings = setup.connection.settings
    if setup.max_cost is None and settings.budget_daily is None and settings.budget_monthly is None:
        return None
    from kimi_cli.budget import Limits
    from kimi_cli.conversation.budgets import BudgetGuard

    # What was spent is read from the history, also when this chat saves nothing to it.
    return BudgetGuard(Limits.of(settings, setup.max_cost), setup.state.history(), warn)


def prepare_documents(setup: ChatSetup, chat_input: ChatInput) -> tuple[Document, ...]:
    """The -f documents, uploaded when the Files API does not have them yet."""
    from kimi_cli.cli.chat_documents import prepare_documents as prepare

    connection = setup.connection
    return prepare(connection.client, connection.settings.cache_dir, chat_input.documents)


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
