"""The interactive REPL (``kimi chat`` on a terminal, bare ``kimi``, ``kimi chat -i``).

The CLI builds the :class:`Conversation` and a :class:`ReplConfig` (everything the REPL needs
from settings, the HTTP client and the history store, as values and callables) and calls
:func:`run_repl`. Nothing here imports ``kimi_cli.cli``.

Modules: ``state`` (the session: conversation, settings, totals), ``commands`` (slash
commands; no terminal), ``completion`` (candidates for Tab), ``toolbar`` (the bottom line),
``view`` (one answer on the screen: spinner, folded reasoning, Markdown) and ``loop``
(prompt_toolkit: keys, completion, the read-send loop). prompt_toolkit and rich are imported
only when :func:`run_repl` runs, so one-shot chat never pays for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kimi_cli.catalog.policy import ChatOptions
from kimi_cli.conversation.images import Attachment
from kimi_cli.conversation.turn import Conversation
from kimi_cli.documents import Document
from kimi_cli.repl.state import Message

if TYPE_CHECKING:
    from kimi_cli.api.types import Model
    from kimi_cli.errors import KimiError
    from kimi_cli.history import ConversationSummary

__all__ = ["ReplConfig", "run_repl"]


@dataclass
class ReplConfig:
    """What the REPL takes from the command line, settings and state."""

    history_file: Path  # prompt_toolkit input history (created 0600)
    roles_dir: Path  # saved system prompts: NAME.md
    options: ChatOptions  # already checked against the conversation's model
    markdown: bool  # render answers as Markdown (else written as they arrive)
    show_reasoning: bool  # reasoning dim above the answer while it streams
    stream: bool
    list_models: Callable[[], list[Model]]  # live GET /models (for /model and its completion)
    recent: Callable[[int], list[ConversationSummary]]  # for /history
    #: Adds what the layers below cannot word (where a setting came from) to an error's hint.
    fit_hint: Callable[[KimiError], None] | None = None
    first_message: str | None = None  # prompt and/or piped context sent before the first prompt
    first_images: tuple[Attachment, ...] = ()
    usage_lines: bool = False  # -u: tokens and cost after each answer
    #: -f files given with no prompt on a terminal: they go with the first message typed.
    attach_first: Message | None = None
    attach_names: tuple[str, ...] = ()
    first_documents: tuple[Document, ...] = ()  # -f documents with the first message
    #: ``/file PATH``: the file read (a document uploaded or found in the index) as a message.
    attach_file: Callable[[Path], Message] | None = None


def run_repl(conversation: Conversation, config: ReplConfig) -> int:
    """Run the REPL until /exit or Ctrl-D; return the exit code (0)."""
    from kimi_cli.repl.loop import Repl

    conversation.kind = "repl"  # its answers are billed as REPL turns in `kimi usage`
    return Repl(conversation, config).run()
