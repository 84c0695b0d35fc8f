"""Slash commands: parsing, completion candidates, and what each does to the session.

No terminal here. The loop reads a line, :func:`classify` says whether it is a message or a
command, :func:`run_command` changes the :class:`ReplState` and returns an :class:`Outcome`
(send a message, put text in the next prompt, exit). A refusal is a ``KimiError``; the loop
prints it as one line and carries on. The state itself lives in ``state.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from kimi_cli.api.types import Model
from kimi_cli.catalog import ChatOptions, ModelPolicy, check_options, policy_for, verify
from kimi_cli.catalog.retirements import retirement_line
from kimi_cli.config.roles import read_role, role_names
from kimi_cli.conversation.rules import money
from kimi_cli.errors import ModelNotFoundError, UsageError
from kimi_cli.history import MOST_LISTED, ConversationSummary
from kimi_cli.repl.state import Message, ReplState, context_left, cost_text

EFFORT_WORDS = ("low", "high", "max", "default")
THINKING_WORDS = ("on", "off", "default")
NO_SYSTEM = "none"  # /system none removes the system prompt


@dataclass(frozen=True)
class Command:
    name: str
    arg: str = ""


@dataclass(frozen=True)
class Outcome:
    send: Message | None = None  # a message to send now (/retry)
    attach: Message | None = None  # files for the next message (/file)
    prefill: str | None = None  # text for the next prompt (/edit)
    exit: bool = False


# --- parsing ----------------------------------------------------------------------------------

_COMMAND = re.compile(r"/(?P<name>[A-Za-z][A-Za-z0-9_-]*)(?:[ \t]+(?P<arg>.*))?\Z", re.DOTALL)


def classify(line: str) -> Message | Command | None:
    """A command (``/name args``), a message, or None for an empty line.

    A line is a command when its first word is ``/`` and a name (letters first). ``//text``
    sends ``/text``; a path such as ``/etc/hosts: what is this`` is a message.
    """
    if not line.strip():
        return None
    if line.startswith("//"):
        return Message(line[1:])
    first = line.split(None, 1)[0]
    if line.startswith("/") and "/" not in first[1:]:
        match = _COMMAND.match(line.rstrip())
        if match:
            return Command(match.group("name").lower(), (match.group("arg") or "").strip())
        raise UsageError(f"not a command: {first}", hint=HELP_HINT)
    return Message(line)


HELP_HINT = "/help lists the commands; start with // to send a message that begins with /"


# --- the environment commands act in ----------------------------------------------------------


class Output(Protocol):
    def __call__(self, text: str, *, dim: bool = False) -> None: ...


@dataclass
class CommandEnv:
    out: Output
    list_models: Callable[[], list[Model]]
    recent: Callable[[int], list[ConversationSummary]]
    roles_dir: Path
    edit: Callable[[str], str]  # compose in $EDITOR, starting from the given text
    attach_file: Callable[[Path], Message] | None = None  # /file: read, upload if a document


Handler = Callable[[ReplState, CommandEnv, str], Outcome]


@dataclass(frozen=True)
class Spec:
    name: str
    usage: str
    summary: str
    handler: Handler


def run_command(state: ReplState, env: CommandEnv, command: Command) -> Outcome:
    spec = COMMANDS.get(ALIASES.get(command.name, command.name))
    if spec is None:
        raise UsageError(f"unknown command /{command.name}", hint=HELP_HINT)
    return spec.handler(state, env, command.arg)


# --- handlers ---------------------------------------------------------------------------------

KEYS_HELP = (
    ("Enter", "send"),
    ("Alt-Enter, Esc Enter, Ctrl-J", "new line (a paste keeps its newlines)"),
    ("Ctrl-C", "stop the answer (kept, marked partial); at the prompt: clear the line"),
    ("Ctrl-D", "exit (on an empty line)"),
    ("Ctrl-Z", "stop kimi; the shell's fg brings it back"),
    ("Tab", "complete a /command"),
    ("Up/Down", "input history"),
)


def _help(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    width = max(len(s.usage) for s in COMMANDS.values())
    for spec in COMMANDS.values():
        env.out(f"  {spec.usage.ljust(width)}  {spec.summary}")
    env.out("")
    key_width = max(len(k) for k, _ in KEYS_HELP)
    for key, what in KEYS_HELP:
        env.out(f"  {key.ljust(key_width)}  {what}", dim=True)
    return Outcome()


def _exit(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    return Outcome(exit=True)


def _model(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    conversation = state.conversation
    if not arg:
        env.out(f"model: {conversation.model.id}{_context_note(conversation.model)}")
        ids = [m.id for m in env.list_models()]
        env.out("available: " + ", ".join(ids), dim=True)
        return Outcome()
    live = env.list_models()
    try:
        model = verify(arg, live)
    except ModelNotFoundError as exc:
        hint = (exc.hint or "").replace("kimi models use ", "/model ")
        raise ModelNotFoundError(exc.message, hint=hint or None) from None
    policy = policy_for(model)
    options, dropped = fit_options(policy, state.options)
    state.conversation = replace(conversation, model=model, policy=policy)
    state.options = options
    env.out(f"model: {model.id}{_context_note(model)}")
    retiring = retirement_line(model.id, [m.id for m in live])
    if retiring:  # switched as asked; its date is said once, here
        env.out(f"{model.id} is {retiring}", dim=True)
    for label in dropped:
        env.out(f"{label} is back to the default: {model.id} does not take it", dim=True)
    return Outcome()


_Reset = tuple[str, Callable[[ChatOptions], bool], Callable[[ChatOptions], ChatOptions]]
_RESETS: tuple[_Reset, ...] = (
    ("/effort", lambda o: o.effort is not None, lambda o: replace(o, effort=None)),
    ("/thinking", lambda o: o.thinking is not None, lambda o: replace(o, thinking=None)),
    ("--temperature", lambda o: o.temperature is not None, lambda o: replace(o, temperature=None)),
    ("/search", lambda o: o.web_search, lambda o: replace(o, web_search=False)),
)


def fit_options(policy: ModelPolicy, options: ChatOptions) -> tuple[ChatOptions, list[str]]:
    """Options for a new model: what it does not take goes back to the default (named).
    Raises UsageError when even that does not fit."""
    dropped: list[str] = []
    for label, is_set, reset in _RESETS:
        try:
            check_options(policy, options)
            break
        except UsageError:
            if is_set(options):
                options = reset(options)
                dropped.append(label)
    check_options(policy, options)
    return options, dropped


def _context_note(model: Model) -> str:
    return f" ({model.context_length:,} tokens of context)" if model.context_length else ""


def _set_options(state: ReplState, options: ChatOptions) -> None:
    """Apply new options if the model takes them; otherwise refuse, changing nothing."""
    try:
        check_options(state.conversation.policy, options)
    except UsageError as exc:
        raise _as_command_error(exc) from None
    state.options = options


_FLAG_WORDS = (("--no-thinking", "/thinking off"), ("--thinking", "/thinking on"))


def _as_command_error(exc: UsageError) -> UsageError:
    """A flag refusal, reworded for the REPL: name the command; nothing was changed."""
    message = exc.message
    for flag, command in (*_FLAG_WORDS, ("--effort", "/effort"), ("--web-search", "/search on")):
        message = message.replace(flag, command)
    hint = exc.hint or ""
    fix = "nothing changed" if not hint or hint.startswith("drop") else f"{hint}; nothing changed"
    return UsageError(message, hint=fix)


def _thinking(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    word = arg.lower()
    if not word:
        if state.last_reasoning:
            env.out(state.last_reasoning.rstrip("\n"), dim=True)
        else:
            env.out("no reasoning yet: the last answer came without any", dim=True)
        return Outcome()
    if word not in THINKING_WORDS:
        raise UsageError(f"/thinking takes on, off or default, not {arg!r}")
    value = None if word == "default" else word == "on"
    _set_options(state, replace(state.options, thinking=value))
    env.out(f"thinking: {word}", dim=True)
    return Outcome()


def _effort(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    word = arg.lower()
    policy = state.conversation.policy
    if not word:
        takes = ", ".join(policy.efforts) if policy.efforts else "none"
        current = state.options.effort or "default"
        env.out(f"effort: {current} ({policy.model_id} takes: {takes})", dim=True)
        return Outcome()
    if word not in EFFORT_WORDS:
        raise UsageError(f"/effort takes low, high, max or default, not {arg!r}")
    _set_options(state, replace(state.options, effort=None if word == "default" else word))
    env.out(f"effort: {word}", dim=True)
    return Outcome()


def _search(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    word = arg.lower()
    if word not in ("", "on", "off"):
        raise UsageError(f"/search takes on or off, not {arg!r}")
    if word:
        _set_options(state, replace(state.options, web_search=word == "on"))
    env.out(f"web search: {'on' if state.options.web_search else 'off'}", dim=True)
    return Outcome()


def _system(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    conversation = state.conversation
    if not arg:
        env.out(conversation.system or "no system prompt", dim=True)
        return Outcome()
    conversation.system = None if arg.lower() == NO_SYSTEM else arg
    _say_system(state, env, "system prompt removed" if arg.lower() == NO_SYSTEM else "")
    return Outcome()


def _say_system(state: ReplState, env: CommandEnv, what: str) -> None:
    what = what or "system prompt set"
    if state.conversation.conversation_id is not None:
        what += " for the next messages (history keeps the one it started with)"
    env.out(what, dim=True)


def _role(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    if not arg:
        names = role_names(env.roles_dir)
        env.out("roles: " + (", ".join(names) or f"none yet (add NAME.md to {env.roles_dir})"))
        return Outcome()
    text = read_role(env.roles_dir, arg)
    if not text:
        raise UsageError(f"role {arg!r} is empty", hint=f"write it to {env.roles_dir / arg}.md")
    state.conversation.system = text
    _say_system(state, env, f"role {arg}: system prompt set")
    return Outcome()


def _edit(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    text = env.edit(arg).rstrip("\n")
    if not text.strip():
        env.out("nothing written, nothing sent", dim=True)
        return Outcome()
    return Outcome(prefill=text)


def _file(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    if not arg:
        raise UsageError("/file needs a path", hint="/file report.pdf")
    if env.attach_file is None:
        raise UsageError("/file is not available here")
    attached = env.attach_file(Path(arg).expanduser())
    env.out(f"attached to your next message: {arg}", dim=True)
    return Outcome(attach=attached)


def _retry(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    if state.last_message is None:
        raise UsageError("nothing to retry yet", hint="send a message first")
    state.forget_last_exchange()
    return Outcome(send=state.last_message)


def _clear(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    state.conversation = replace(
        state.conversation,
        conversation_id=None,
        earlier=[],
        session_key=None,  # a new prompt-cache key, made on first use
        last_setting=None,
        resumed_model=None,
    )
    state.last_message = None  # /retry has nothing to send into the new conversation
    state.last_in_context = False
    state.context_used = None
    state.last_reasoning = ""
    state.last_result = None
    env.out("new conversation (the last one is kept: /history)", dim=True)
    return Outcome()


def _usage(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    totals = state.totals
    tokens = (
        f"{totals.input_tokens:,} in ({totals.cached_tokens:,} cached), "
        f"{totals.output_tokens:,} out"
    )
    answers = f"{totals.turns} answer{'' if totals.turns == 1 else 's'}"
    if totals.failed:
        answers += f" ({totals.failed} failed)"
    env.out(f"this session: {answers} · {tokens} · {cost_text(totals)}")
    last = state.last_result
    if last is not None and last.usage is not None:
        usage = last.usage
        cost = money(last.cost.amount, last.cost.currency) if last.cost else "cost unknown"
        env.out(
            f"last answer: {usage.input_tokens:,} in ({usage.cached_tokens:,} cached), "
            f"{usage.output_tokens:,} out · {cost}"
        )
    left = context_left(state)
    if left is not None:
        env.out(f"context: {left[0]:,} of {left[1]:,} tokens left")
    return Outcome()


def _history(state: ReplState, env: CommandEnv, arg: str) -> Outcome:
    try:
        limit = int(arg) if arg else 10
    except ValueError:
        raise UsageError(f"/history takes a number, not {arg!r}") from None
    if limit < 1:
        raise UsageError(f"/history takes a whole number from 1, not {arg!r}")
    rows = env.recent(min(limit, MOST_LISTED))
    if not rows:
        env.out("no conversations yet", dim=True)
        return Outcome()
    current = state.conversation.conversation_id
    for row in rows:
        mark = "*" if row.id == current else " "
        when = row.updated_at[:16].replace("T", " ")
        env.out(f"{mark} {row.id}  {when}  {row.model:<18} {row.messages:>4}  {row.title}")
    env.out("continue one: kimi chat --session ID   (* = this one)", dim=True)
    return Outcome()


# --- the table --------------------------------------------------------------------------------

COMMANDS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec("help", "/help", "commands and keys", _help),
        Spec("model", "/model [ID]", "switch model (checked against the live list)", _model),
        Spec("system", "/system [TEXT|none]", "show or set the system prompt", _system),
        Spec("role", "/role [NAME]", "use a saved system prompt (roles/NAME.md)", _role),
        Spec("thinking", "/thinking [on|off]", "reasoning on/off; alone: show the last", _thinking),
        Spec("effort", "/effort [low|high|max]", "reasoning effort (models with efforts)", _effort),
        Spec("search", "/search [on|off]", "let the model search the web", _search),
        Spec("edit", "/edit [TEXT]", "write in $EDITOR, then review it at the prompt", _edit),
        Spec("file", "/file PATH", "attach a text file, image or document (PDF…)", _file),
        Spec("retry", "/retry", "ask the last message again, in place of its answer", _retry),
        Spec("clear", "/clear", "start a new conversation", _clear),
        Spec("usage", "/usage", "tokens and cost so far", _usage),
        Spec("history", "/history [N]", "recent conversations", _history),
        Spec("exit", "/exit", "leave (also Ctrl-D)", _exit),
    )
}  # fmt: skip
ALIASES = {"quit": "exit", "q": "exit", "new": "clear", "reset": "clear"}
