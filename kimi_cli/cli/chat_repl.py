"""``kimi chat`` on a terminal: the REPL, with a first message (prompt, -f files, piped
stdin) if any."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kimi_cli.catalog.policy import check_options
from kimi_cli.cli.chat_input import compose_text, gather, read_files
from kimi_cli.cli.chat_run import ChatRequest, ChatSetup, markdown_default, new_conversation
from kimi_cli.cli.chat_run import prepare_documents as prepare_first
from kimi_cli.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from kimi_cli.history import ConversationSummary
    from kimi_cli.repl.state import Message


def run_repl_chat(setup: ChatSetup, request: ChatRequest) -> int:
    from kimi_cli.repl import ReplConfig, run_repl
    from kimi_cli.repl.state import Message

    if request.as_json or request.extract or request.options.schema is not None:
        raise UsageError(
            "--json, --extract and --schema shape one answer; the REPL does not take them",
            hint="give a prompt without -i, or drop them",
        )
    state, connection = setup.state, setup.connection
    chat_input = gather(
        prompt_words=request.prompt_words,
        files=request.files,
        no_stdin=request.no_stdin,
        system=request.system,
        role=request.role,
        roles_dir=state.roles_dir(),
        require_text=False,
    )
    conversation = new_conversation(setup, chat_input)
    check_options(conversation.policy, request.options)
    documents = prepare_first(setup, chat_input) if chat_input.documents else ()

    def recent(limit: int) -> list[ConversationSummary]:
        with state.history() as store:
            return store.recent(limit=limit)

    config = ReplConfig(
        history_file=connection.settings.data_dir / "repl_history",
        roles_dir=state.roles_dir(),
        options=request.options,
        markdown=request.markdown if request.markdown is not None else markdown_default(),
        show_reasoning=request.show_reasoning is not False,
        stream=request.stream,
        list_models=connection.list_models,
        recent=recent,
        fit_hint=state.fit_hint,
        usage_lines=request.usage,
        attach_file=lambda path: _attached(setup, path),
    )
    if request.prompt_words or chat_input.has_prompt:
        config.first_message = chat_input.text or None
        config.first_images = chat_input.images
        config.first_documents = documents
    elif chat_input.file_text or chat_input.images or documents:
        config.attach_first = Message(chat_input.file_text, chat_input.images, documents)
        config.attach_names = tuple(str(p) for p in request.files)
    return run_repl(conversation, config)


def _attached(setup: ChatSetup, path: Path) -> Message:
    """``/file PATH`` in the REPL: what ``-f PATH`` would send, as a message to attach."""
    from kimi_cli.cli.chat_documents import prepare_documents
    from kimi_cli.documents import check_sizes
    from kimi_cli.repl.state import Message

    check_sizes([path])
    texts, images, local = read_files([path])
    connection = setup.connection
    documents = prepare_documents(connection.client, connection.settings.cache_dir, local)
    return Message(compose_text(texts, None, ""), tuple(images), documents)
