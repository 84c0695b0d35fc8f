"""The read-send loop, on prompt_toolkit.

Keys: Enter sends; Alt-Enter (Esc Enter) and Ctrl-J insert a newline; a bracketed paste keeps
its newlines and is sent as one message; Ctrl-C at the prompt clears the line; Ctrl-D on an
empty line exits 0. During an answer the terminal is in its normal mode, so Ctrl-C is SIGINT:
``Conversation.send`` saves the partial answer and re-raises, and the loop returns to the
prompt. No failure ends the loop: each ``KimiError`` is one ``kimi: error:`` line.

When stdin was a pipe (``echo context | kimi chat -i``) keys are read from ``/dev/tty``.
This module is imported only by :func:`kimi_cli.repl.run_repl`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, ThreadedCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import create_input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.utils import is_dumb_terminal

from kimi_cli.config.roles import role_names
from kimi_cli.conversation.images import stored_text
from kimi_cli.conversation.rules import (
    check_fit,
    failed_usage_line,
    stopped_note,
    usage_line,
    verdict,
)
from kimi_cli.conversation.turn import (
    Conversation,
    TurnError,
    TurnInterrupted,
    TurnResult,
    partial_of,
)
from kimi_cli.errors import ExitCode, KimiError
from kimi_cli.render.terminal import (
    DIM,
    is_tty,
    note,
    print_error,
    shown_controls,
    style,
    utf8_text,
    warn,
)
from kimi_cli.repl.commands import CommandEnv, classify, run_command
from kimi_cli.repl.completion import completions
from kimi_cli.repl.editor import edit_text
from kimi_cli.repl.state import Message, ReplState, stored_count
from kimi_cli.repl.toolbar import toolbar_text
from kimi_cli.repl.view import TurnView

if TYPE_CHECKING:
    from kimi_cli.api.types import Model
    from kimi_cli.repl import ReplConfig

PROMPT = "> "


class _Leave(BaseException):
    """End the REPL with an exit code (SIGTERM during an answer), past ``_guarded``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Repl:
    def __init__(self, conversation: Conversation, config: ReplConfig) -> None:
        self.config = config
        self.state = ReplState(conversation, config.options)
        self.env = CommandEnv(
            out=self._out,
            list_models=self._list_models,
            recent=config.recent,
            roles_dir=config.roles_dir,
            edit=self._edit,
            attach_file=config.attach_file,
        )
        self._tty: TextIO | None = None  # /dev/tty, when stdin was a pipe
        self._prefill = ""
        self._model_ids: list[str] | None = None
        #: -f files given with no prompt: attached to the first message typed.
        self._attach: Message | None = config.attach_first

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        try:
            session = self._session()
            self._greet()
            first = self.config.first_message
            if first or self.config.first_images or self.config.first_documents:
                message = Message(
                    first or "", self.config.first_images, self.config.first_documents
                )
                self._guarded(functools.partial(self._send, message))
            while True:
                default, self._prefill = self._prefill, ""
                try:
                    line = session.prompt(PROMPT, default=default)
                except KeyboardInterrupt:
                    self._echo(session.default_buffer.text)
                    continue  # Ctrl-C at the prompt: a fresh, empty line
                except EOFError:
                    return 0  # Ctrl-D
                self._echo(line)
                if not self._guarded(functools.partial(self._handle, line)):
                    return 0
        except _Leave as leave:
            return leave.code
        finally:
            if self._tty is not None:
                self._tty.close()

    def _guarded(self, work: Callable[[], bool | None]) -> bool:
        """Run one step; print any failure as one line. False means: leave the REPL."""
        try:
            return work() is not False
        except KimiError as exc:
            if self.config.fit_hint is not None:
                self.config.fit_hint(exc)
            print_error(exc)
        except KeyboardInterrupt:
            note(style("kimi: interrupted", DIM, sys.stderr))
        except Exception as exc:  # a bug: one line, and the REPL goes on
            print_error(
                f"internal error ({type(exc).__name__}: {exc}) — rerun with --debug and report it"
            )
        return True

    def _handle(self, line: str) -> bool:
        line = utf8_text(line, "the message", "set the terminal's character encoding to UTF-8")
        item = classify(line)
        if item is None:
            return True
        if isinstance(item, Message):
            self._send(item)
            return True
        outcome = run_command(self.state, self.env, item)
        if outcome.prefill is not None:
            self._prefill = outcome.prefill
        if outcome.attach is not None:
            self._attach_next(outcome.attach)
        if outcome.send is not None:
            self._send(outcome.send)
        return not outcome.exit

    def _attach_next(self, files: Message) -> None:
        """``/file``: the file goes with the next message sent (with any attached before)."""
        before = self._attach or Message("")
        self._attach = Message(
            "\n\n".join(t for t in (before.text, files.text) if t),
            before.images + files.images,
            before.documents + files.documents,
        )

    def _echo(self, text: str) -> None:
        """What was typed, printed once. prompt_toolkit erases its own drawing on Enter
        (``erase_when_done``): redrawn whole, an input taller than the screen appeared twice.
        On a dumb terminal it erases nothing: what was typed is on the screen already."""
        if is_dumb_terminal():
            return
        first, *rest = shown_controls(text).split("\n")
        lines = [PROMPT + first, *(_continuation(len(PROMPT), 0, 0) + line for line in rest)]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()

    def _greet(self) -> None:
        conversation = self.state.conversation
        if self._attach is not None:
            self._out(f"attached to your first message: {', '.join(self.config.attach_names)}")
        if conversation.conversation_id is not None:
            count = stored_count(conversation)
            self._out(
                f"continuing conversation {conversation.conversation_id}"
                f" ({count} message{'' if count == 1 else 's'})",
                dim=True,
            )
        self._out(
            f"{conversation.model.id} · /help for commands · Alt-Enter for a new line · "
            "Ctrl-D to leave",
            dim=True,
        )

    # --- one turn ---------------------------------------------------------------------------

    def _send(self, message: Message) -> None:
        state = self.state
        if self._attach is not None:  # -f files given with no prompt: they go with this one
            message = Message(
                "\n\n".join(t for t in (self._attach.text, message.text) if t),
                self._attach.images + message.images,
                self._attach.documents + message.documents,
            )
            self._attach = None
        conversation = state.conversation
        input_tokens = check_fit(
            conversation.model,
            conversation.messages_for(message.text, message.images, message.documents),
            conversation.client.estimate_tokens,
            used=state.context_used,
            new_text=message.text,
            hint="/clear starts a new conversation; /model can pick a larger context",
        )
        state.last_message = message
        view = TurnView(
            markdown=self.config.markdown,
            show_reasoning=self.config.show_reasoning,
            model_id=conversation.model.id,
        )
        try:
            view.start()
            try:
                result = conversation.send(
                    message.text,
                    state.options,
                    view,
                    images=message.images,
                    documents=message.documents,
                    stream=self.config.stream,
                    input_tokens=input_tokens,
                )
            finally:
                view.finish()
        except TurnInterrupted as exc:
            state.keep_partial(
                stored_text(message.text, message.images), exc.result, message.documents
            )
            note(style(stopped_note(exc.result), DIM, sys.stderr))
            self._out("")  # one blank line before the prompt, as after an answer
            return
        except TurnError as exc:
            state.failed(exc.result)
            spent = failed_usage_line(exc.result, state.conversation.currency)
            if spent and self.config.usage_lines:
                note(spent)
            raise exc.error from None
        except Exception:
            raise
        except BaseException as exc:  # SIGTERM: the REPL ends, saying what it kept
            note(stopped_note(partial_of(exc), terminated=True))
            raise _Leave(int(ExitCode.TERMINATED)) from None
        state.record(result)
        self._after(result)
        self._out("")

    def _after(self, result: TurnResult) -> None:
        judged = verdict(result, self.state.options.max_tokens)
        if judged.error is not None:
            print_error(judged.error)
        elif judged.warning is not None:
            warn(judged.warning)
        if self.config.usage_lines:
            note(usage_line(result, self.state.conversation.currency))

    # --- what commands use ------------------------------------------------------------------

    def _out(self, text: str, *, dim: bool = False) -> None:
        text = shown_controls(text)  # a system prompt, a role, a reasoning: shown, not obeyed
        sys.stdout.write((style(text, DIM, sys.stdout) if dim and text else text) + "\n")
        sys.stdout.flush()

    def _list_models(self) -> list[Model]:
        models = self.config.list_models()
        self._model_ids = [m.id for m in models]
        return models

    def model_ids(self) -> list[str]:
        """For completion: the live list, asked once per session."""
        if self._model_ids is None:
            try:
                self._list_models()
            except KimiError:
                self._model_ids = []
        return self._model_ids or []

    def role_names(self) -> list[str]:
        return role_names(self.config.roles_dir)

    def _edit(self, initial: str) -> str:
        return edit_text(initial, self._tty)

    # --- prompt_toolkit ---------------------------------------------------------------------

    def _session(self) -> PromptSession[str]:
        keyboard = None
        if not is_tty(sys.stdin):  # stdin was piped in (-i): keys come from the terminal
            self._tty = open("/dev/tty", encoding="utf-8")  # noqa: SIM115 (closed in run)
            keyboard = create_input(stdin=self._tty)
        return PromptSession(
            history=self._history(),
            multiline=True,
            key_bindings=_bindings(),
            completer=ThreadedCompleter(_SlashCompleter(self)),
            complete_while_typing=True,
            bottom_toolbar=lambda: toolbar_text(self.state, get_app().output.get_size().columns),
            prompt_continuation=_continuation,
            enable_open_in_editor=self._tty is None,  # its editor would read the pipe
            tempfile_suffix=".md",
            input=keyboard,
            erase_when_done=True,
            # Ctrl-Z stops the REPL as it stops any program (fg brings it back), instead of
            # typing a ^Z into the message.
            enable_suspend=True,
        )

    def _history(self) -> History:
        """Input history in the data dir, file 0600 (it holds what was typed)."""
        path = self.config.history_file
        try:
            if not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
            if os.name != "nt":
                os.chmod(path, 0o600)
        except OSError as exc:
            warn(f"input history is not saved: cannot write {path} ({exc.strerror})")
            return InMemoryHistory()
        return FileHistory(path)


def _bindings() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("enter")
    def _submit(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        menu = buffer.complete_state
        if menu is not None and menu.current_completion is not None:
            buffer.complete_state = None  # Enter on a completion takes it; a second one sends
            return
        buffer.validate_and_handle()

    @keys.add("escape", "enter")
    @keys.add("c-j")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return keys


def _continuation(width: int, line_number: int, wrap_count: int) -> str:
    return ". ".rjust(width)


class _SlashCompleter(Completer):
    """Slash commands, and their arguments (models from the live list, role names)."""

    def __init__(self, repl: Repl) -> None:
        self._repl = repl

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        word = text if " " not in text else text.rsplit(" ", 1)[1]
        for insert, display, meta in completions(text, self._repl.model_ids, self._repl.role_names):
            yield Completion(insert, start_position=-len(word), display=display, display_meta=meta)
