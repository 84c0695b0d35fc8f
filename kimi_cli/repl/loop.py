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

import contextlib
import functools
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, ThreadedCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import create_input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from kimi_cli.conversation import Conversation, TurnResult
from kimi_cli.errors import APIRequestError, KimiError, UsageError
from kimi_cli.render.terminal import DIM, is_tty, note, print_error, style, warn
from kimi_cli.repl.commands import CommandEnv, classify, completions, role_names, run_command
from kimi_cli.repl.state import Message, ReplState, money
from kimi_cli.repl.toolbar import toolbar_text
from kimi_cli.repl.view import TurnView

if TYPE_CHECKING:
    from kimi_cli.api.types import Model
    from kimi_cli.repl import ReplConfig

PROMPT = "> "
#: Inputs larger than this are measured with the tokenizer endpoint before sending (as in
#: one-shot chat), so a conversation that cannot fit is refused with the numbers.
MEASURE_ABOVE_BYTES = 64 * 1024


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
        )
        self._tty: TextIO | None = None  # /dev/tty, when stdin was a pipe
        self._prefill = ""
        self._model_ids: list[str] | None = None

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        try:
            session = self._session()
            self._greet()
            first = self.config.first_message
            if first or self.config.first_images:
                message = Message(first or "", self.config.first_images)
                self._guarded(functools.partial(self._send, message))
            while True:
                default, self._prefill = self._prefill, ""
                try:
                    line = session.prompt(PROMPT, default=default)
                except KeyboardInterrupt:
                    continue  # Ctrl-C at the prompt: a fresh, empty line
                except EOFError:
                    return 0  # Ctrl-D
                if not self._guarded(functools.partial(self._handle, line)):
                    return 0
        finally:
            if self._tty is not None:
                self._tty.close()

    def _guarded(self, work: Callable[[], bool | None]) -> bool:
        """Run one step; print any failure as one line. False means: leave the REPL."""
        try:
            return work() is not False
        except KimiError as exc:
            print_error(exc)
        except KeyboardInterrupt:
            note(style("kimi: interrupted", DIM, sys.stderr))
        except Exception as exc:  # a bug: one line, and the REPL goes on
            print_error(
                f"internal error ({type(exc).__name__}: {exc}) — rerun with --debug and report it"
            )
        return True

    def _handle(self, line: str) -> bool:
        item = classify(line)
        if item is None:
            return True
        if isinstance(item, Message):
            self._send(item)
            return True
        outcome = run_command(self.state, self.env, item)
        if outcome.prefill is not None:
            self._prefill = outcome.prefill
        if outcome.send is not None:
            self._send(outcome.send)
        return not outcome.exit

    def _greet(self) -> None:
        conversation = self.state.conversation
        if conversation.conversation_id is not None:
            turns = sum(1 for m in conversation.earlier if m.role == "user")
            self._out(
                f"continuing conversation {conversation.conversation_id}"
                f" ({turns} message{'' if turns == 1 else 's'})",
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
        conversation = state.conversation
        input_tokens = self._measure(conversation, message.text)
        state.last_message = message
        before = conversation.last
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
                    stream=self.config.stream,
                    input_tokens=input_tokens,
                )
            finally:
                view.finish()
        except KeyboardInterrupt:
            turn = conversation.last if conversation.last is not before else None
            state.keep_partial(message.text, turn)
            self._interrupted(conversation, turn)
            self._out("")
            return
        except KimiError:
            if conversation.last is not before and conversation.last is not None:
                state.last_reasoning = conversation.last.reasoning
            raise
        state.record(result)
        self._after(result)
        self._out("")

    def _measure(self, conversation: Conversation, text: str) -> int | None:
        """Tokens of a large input (the tokenizer endpoint); refuse one that cannot fit."""
        model = conversation.model
        context = model.context_length
        messages = conversation.messages_for(text)
        size = sum(len(str(m.get("content", "")).encode()) for m in messages)
        near = bool(context) and (self.state.context_used or 0) + len(text.encode()) // 2 >= (
            context or 0
        )
        if size <= MEASURE_ABOVE_BYTES and not near:
            return None
        try:
            tokens = conversation.client.estimate_tokens(model.id, messages)
        except KimiError:
            return None  # no estimate: let the API decide
        if context and tokens >= context:
            raise UsageError(
                f"the conversation and this message are {tokens:,} tokens; "
                f"{model.id} takes at most {context:,}",
                hint="/clear starts a new conversation; /model can pick a larger context",
            )
        return tokens

    def _after(self, result: TurnResult) -> None:
        if result.finish_reason == "length":
            if not result.content:
                print_error(
                    APIRequestError(
                        "no answer within the token budget: reasoning used all of it",
                        hint="raise it with --max-tokens, or /effort low",
                    )
                )
            else:
                warn("the answer was cut at the token limit")
        if self.config.usage_lines:
            usage = result.usage
            if usage is None:
                note("kimi: usage: the API reported no token counts")
            else:
                cost = money(result.cost.amount, result.cost.currency) if result.cost else None
                note(
                    f"kimi: usage: {usage.input_tokens} in ({usage.cached_tokens} cached), "
                    f"{usage.output_tokens} out · {cost or 'cost unknown'}"
                )

    def _interrupted(self, conversation: Conversation, turn: TurnResult | None) -> None:
        where = conversation.conversation_id
        if turn is not None and where is not None:
            kept = "the partial answer is kept" if turn.content else "nothing had arrived"
            text = f"kimi: interrupted — {kept} (kimi history show {where})"
        else:
            text = "kimi: interrupted"
        note(style(text, DIM, sys.stderr))

    # --- what commands use ------------------------------------------------------------------

    def _out(self, text: str, *, dim: bool = False) -> None:
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
        """Compose in $VISUAL / $EDITOR (vi, or notepad on Windows); return the text."""
        default = "notepad" if os.name == "nt" else "vi"
        editor = (os.environ.get("VISUAL") or os.environ.get("EDITOR") or "").strip() or default
        command = shlex.split(editor, posix=os.name != "nt")
        fd, name = tempfile.mkstemp(prefix="kimi-", suffix=".md")
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(initial)
            try:
                done = subprocess.run([*command, str(path)], stdin=self._tty, check=False)
            except OSError as exc:
                raise UsageError(
                    f"cannot run the editor {command[0]!r} ({exc.strerror})",
                    hint="set $EDITOR (or $VISUAL)",
                ) from None
            if done.returncode != 0:
                raise UsageError(
                    f"the editor {command[0]!r} exited with {done.returncode}",
                    hint="nothing was sent",
                )
            return path.read_text(encoding="utf-8", errors="replace")
        finally:
            with contextlib.suppress(OSError):
                path.unlink()

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
            bottom_toolbar=lambda: toolbar_text(self.state),
            prompt_continuation=_continuation,
            enable_open_in_editor=self._tty is None,  # its editor would read the pipe
            tempfile_suffix=".md",
            input=keyboard,
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
