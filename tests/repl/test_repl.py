"""The REPL: slash commands and state without a terminal, then real sessions in a pty.

The pty tests run ``python -m kimi_cli`` against the emulator exactly as a user would: keys
are bytes on the terminal, Ctrl-C is the terminal's interrupt character, and the terminal
answers prompt_toolkit's cursor-position requests (as real terminals do), so the bottom toolbar
is drawn.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from kimi_cli.api.types import Model, ThinkEfforts, Usage
from kimi_cli.catalog import ChatOptions, policy_for
from kimi_cli.conversation.turn import Conversation, TurnResult
from kimi_cli.emulator import Emulator
from kimi_cli.errors import ModelNotFoundError, UsageError
from kimi_cli.history import ConversationSummary, HistoryStore, StoredMessage
from kimi_cli.pricing import Cost
from kimi_cli.repl import ReplConfig
from kimi_cli.repl.commands import COMMANDS, Command, CommandEnv, classify, run_command
from kimi_cli.repl.completion import completions
from kimi_cli.repl.state import Message, ReplState, context_from_history
from kimi_cli.repl.toolbar import toolbar_text
from tests.helpers import stored_message
from tests.terminal import TIMEOUT, Term, closing

K26 = Model(id="kimi-k2.6", context_length=262_144, supports_thinking_type="both")
K3 = Model(
    id="kimi-k3",
    context_length=1_048_576,
    supports_thinking_type="only",
    think_efforts=ThinkEfforts(
        support=True, valid_efforts=("low", "high", "max"), default_effort="max"
    ),
)
LIVE = [K26, K3]


# --- without a terminal ---------------------------------------------------------------------


def conversation(model: Model = K26, **kw: Any) -> Conversation:
    return Conversation(
        client=cast(Any, None),
        model=model,
        policy=policy_for(model),
        history=None,
        currency="USD",
        warn=lambda text: None,
        **kw,
    )


class Env:
    """A CommandEnv that records what commands print."""

    def __init__(self, roles_dir: Path, *, edited: str = "", recent: list[Any] | None = None):
        self.lines: list[str] = []
        self.edited = edited
        self.env = CommandEnv(
            out=self.out,
            list_models=lambda: list(LIVE),
            recent=lambda limit: (recent or [])[:limit],
            roles_dir=roles_dir,
            edit=lambda initial: self.edited or initial,
        )

    def out(self, text: str, *, dim: bool = False) -> None:
        self.lines.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def run(state: ReplState, env: Env, line: str) -> Any:
    item = classify(line)
    assert isinstance(item, Command), item
    return run_command(state, env.env, item)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path / "roles")


def test_classify_messages_commands_and_escapes() -> None:
    assert classify("") is None
    assert classify("  \n ") is None
    assert classify("hello") == Message("hello")
    assert classify("line1\nline2") == Message("line1\nline2")
    assert classify("/model kimi-k3") == Command("model", "kimi-k3")
    assert classify("/EXIT") == Command("exit", "")
    assert classify("/system be brief\nand kind") == Command("system", "be brief\nand kind")
    assert classify("//help me") == Message("/help me")
    assert classify("/etc/hosts: what is in it?") == Message("/etc/hosts: what is in it?")
    with pytest.raises(UsageError, match="not a command"):
        classify("/?")


def test_unknown_command_is_one_usage_error(env: Env) -> None:
    state = ReplState(conversation(), ChatOptions())
    with pytest.raises(UsageError) as caught:
        run_command(state, env.env, Command("frobnicate"))
    assert "\n" not in caught.value.line()
    assert "/help" in caught.value.line()


def test_help_lists_every_command_and_the_keys(env: Env) -> None:
    run(ReplState(conversation(), ChatOptions()), env, "/help")
    for name in COMMANDS:
        assert f"/{name}" in env.text
    assert "Alt-Enter" in env.text and "Ctrl-D" in env.text


def test_exit_and_quit(env: Env) -> None:
    state = ReplState(conversation(), ChatOptions())
    assert run(state, env, "/exit").exit
    assert run(state, env, "/quit").exit


def test_effort_is_refused_on_a_model_without_efforts(env: Env) -> None:
    state = ReplState(conversation(K26), ChatOptions())
    with pytest.raises(UsageError) as caught:
        run(state, env, "/effort high")
    assert caught.value.line() == "kimi-k2.6 has no reasoning efforts — nothing changed"
    assert state.options == ChatOptions()


def test_effort_on_a_model_with_efforts(env: Env) -> None:
    state = ReplState(conversation(K3), ChatOptions())
    run(state, env, "/effort low")
    assert state.options.effort == "low"
    run(state, env, "/effort")
    assert "low" in env.lines[-1] and "high" in env.lines[-1]
    run(state, env, "/effort default")
    assert state.options.effort is None
    with pytest.raises(UsageError, match="low, high, max or default"):
        run(state, env, "/effort extreme")


def test_thinking_on_off_and_refusals(env: Env) -> None:
    state = ReplState(conversation(K26), ChatOptions())
    run(state, env, "/thinking off")
    assert state.options.thinking is False
    run(state, env, "/thinking on")
    assert state.options.thinking is True
    always = ReplState(conversation(K3), ChatOptions())
    with pytest.raises(UsageError) as caught:
        run(always, env, "/thinking off")
    assert caught.value.line() == "kimi-k3 always thinks — nothing changed"
    assert always.options.thinking is None
    both = ReplState(conversation(K3), ChatOptions(effort="high"))
    with pytest.raises(UsageError, match="/effort and /thinking off contradict"):
        run(both, env, "/thinking off")


def test_thinking_alone_shows_the_last_reasoning(env: Env) -> None:
    state = ReplState(conversation(), ChatOptions())
    run(state, env, "/thinking")
    assert "no reasoning yet" in env.lines[-1]
    state.record(TurnResult(content="42", reasoning="Six times seven."))
    run(state, env, "/thinking")
    assert env.lines[-1] == "Six times seven."


def test_model_verifies_against_the_live_list(env: Env) -> None:
    state = ReplState(conversation(K26), ChatOptions())
    with pytest.raises(ModelNotFoundError) as caught:
        run(state, env, "/model moonshotai/kimi-k2.6")
    line = caught.value.line()
    assert "gateway" in line and "/model kimi-k2.6" in line and "\n" not in line
    assert state.conversation.model is K26
    run(state, env, "/model kimi-k3")
    assert state.conversation.model is K3
    assert state.conversation.policy.efforts == ("low", "high", "max")
    assert "kimi-k3" in env.lines[-1]


def test_model_switch_keeps_the_conversation_and_resets_what_the_new_model_refuses(
    env: Env,
) -> None:
    earlier = [stored_message("user", "hi", id=1, model="kimi-k3")]
    state = ReplState(conversation(K3, conversation_id="abc", earlier=earlier), ChatOptions())
    run(state, env, "/effort high")
    run(state, env, "/model kimi-k2.6")
    assert state.conversation.conversation_id == "abc"
    assert state.conversation.earlier == earlier
    assert state.options.effort is None
    assert any("/effort is back to the default" in line for line in env.lines)
    # switched as asked, and its announced end said once, with a live model to move to
    assert [line for line in env.lines if "retire" in line] == [
        "kimi-k2.6 is reported to retire 2026-12-31; suggested: kimi-k3"
    ]


def test_system_and_role(tmp_path: Path, env: Env) -> None:
    state = ReplState(conversation(), ChatOptions())
    run(state, env, "/system Answer in French.")
    assert state.conversation.system == "Answer in French."
    run(state, env, "/system")
    assert env.lines[-1] == "Answer in French."
    run(state, env, "/system none")
    assert state.conversation.system is None
    roles = tmp_path / "roles"
    roles.mkdir()
    (roles / "shell.md").write_text("Reply with one shell command.\n", encoding="utf-8")
    run(state, env, "/role shell")
    assert state.conversation.system == "Reply with one shell command."
    run(state, env, "/role")
    assert "shell" in env.lines[-1]
    with pytest.raises(UsageError, match=r"no role named 'poet' \(roles: shell\)"):
        run(state, env, "/role poet")


def test_retry_edit_and_clear(tmp_path: Path) -> None:
    env = Env(tmp_path, edited="composed\nin the editor\n")
    state = ReplState(conversation(conversation_id="abc"), ChatOptions())
    with pytest.raises(UsageError, match="nothing to retry"):
        run(state, env, "/retry")
    state.last_message = Message("again")
    assert run(state, env, "/retry").send == Message("again")
    assert run(state, env, "/edit").prefill == "composed\nin the editor"
    env.edited = "  \n"
    outcome = run(state, env, "/edit")
    assert outcome.prefill is None and outcome.send is None
    state.context_used = 1234
    run(state, env, "/clear")
    assert state.conversation.conversation_id is None
    assert state.conversation.earlier == []
    assert state.context_used is None
    # History off: the prompt-cache key stays for the conversation and changes with /clear.
    key = state.conversation.cache_key
    assert key == state.conversation.cache_key and key.startswith("kimi-")
    run(state, env, "/clear")
    assert state.conversation.cache_key != key


def test_usage_toolbar_and_context_left(env: Env) -> None:
    state = ReplState(conversation(K26), ChatOptions())
    assert toolbar_text(state).strip() == (
        "kimi-k2.6 · thinking on · 0 tokens · no cost yet · context left 262,144 (100%)"
    )
    usage = Usage(input_tokens=1000, output_tokens=144, cached_tokens=200)
    state.record(TurnResult(usage=usage, cost=Cost(0.0012, "USD")))
    state.record(TurnResult(usage=usage, cost=Cost(0.0012, "USD")))
    text = toolbar_text(state)
    assert "2,288 tokens" in text
    assert "0.002400 USD" in text
    assert "context left 261,000 (99%)" in text
    run(state, env, "/usage")
    assert "2 answers" in env.text and "2,000 in (400 cached), 288 out" in env.text
    state.record(TurnResult(usage=usage, cost=None))  # no listed price: never guessed
    assert "cost unknown" in toolbar_text(state)
    state.options = ChatOptions(thinking=False)
    assert "thinking off" in toolbar_text(state)
    # Narrow terminals: the least useful parts go first; the model and context left stay.
    state.record(TurnResult(usage=usage, cost=Cost(0.0012, "USD")))
    full = toolbar_text(state).strip()
    assert "last request 20% cached" in full
    assert toolbar_text(state, len(full) + 2) == toolbar_text(state)
    assert toolbar_text(state, 90).strip() == (
        "kimi-k2.6 · thinking off · 4,576 tokens · cost unknown · context left 261,000 (99%)"
    )
    assert toolbar_text(state, 80).strip() == (
        "kimi-k2.6 · thinking off · cost unknown · context left 261,000 (99%)"
    )
    assert (
        toolbar_text(state, 60).strip() == "kimi-k2.6 · thinking off · context left 261,000 (99%)"
    )
    assert toolbar_text(state, 20).strip() == "kimi-k2.6 · context left 261,000 (99%)"


def test_context_of_a_resumed_conversation_comes_from_history() -> None:
    def msg(role: str, i: int | None, o: int | None) -> StoredMessage:
        return stored_message(role, input_tokens=i, output_tokens=o)

    messages = [msg("user", None, None), msg("assistant", 500, 20), msg("user", None, None)]
    assert context_from_history(messages) == 520
    assert context_from_history([]) is None
    state = ReplState(conversation(earlier=messages), ChatOptions())
    assert "context left 261,624" in toolbar_text(state)


def test_history_lists_recent_conversations(tmp_path: Path) -> None:
    day1, day2 = "2026-11-24T10:05:00", "2026-11-23T10:05:00"
    rows = [
        ConversationSummary("abc12345", "first", "kimi-k2.6", day1, day1, 4),
        ConversationSummary("def67890", "second", "kimi-k3", day2, day2, 2),
    ]
    env = Env(tmp_path, recent=rows)
    state = ReplState(conversation(conversation_id="abc12345"), ChatOptions())
    run(state, env, "/history")
    assert env.lines[0].startswith("* abc12345  2026-11-24 10:05")
    assert env.lines[1].startswith("  def67890")
    assert "kimi chat --session ID" in env.lines[-1]
    with pytest.raises(UsageError):
        run(state, env, "/history lots")


def test_history_takes_a_count_sqlite_can_hold(tmp_path: Path) -> None:
    # "/history 99999999999999999999" reached SQLite as LIMIT and ended in an internal error.
    asked: list[int] = []
    env = Env(tmp_path)
    env.env = replace(env.env, recent=lambda limit: asked.append(limit) or [])
    state = ReplState(conversation(), ChatOptions())
    run(state, env, "/history 99999999999999999999")
    assert asked and 1 <= asked[-1] < 2**63
    for bad in ("0", "-3"):
        with pytest.raises(UsageError, match="a whole number from 1"):
            run(state, env, f"/history {bad}")


def test_interrupted_answer_stays_in_the_context() -> None:
    state = ReplState(conversation(), ChatOptions())
    state.keep_partial("question", TurnResult(content="half an ans", reasoning="hm", partial=True))
    assert [(m.role, m.content) for m in state.conversation.earlier] == [
        ("user", "question"),
        ("assistant", "half an ans"),
    ]
    state.keep_partial("nothing came", TurnResult(content="", partial=True))
    assert len(state.conversation.earlier) == 2  # an empty answer is not context


def test_completion_of_commands_and_arguments() -> None:
    def ids() -> list[str]:
        return ["kimi-k2.6", "kimi-k3"]

    def roles() -> list[str]:
        return ["shell"]

    assert [c[0] for c in completions("/mo", ids, roles)] == ["/model"]
    assert {c[0] for c in completions("/", ids, roles)} == {f"/{n}" for n in COMMANDS}
    assert [c[0] for c in completions("/thinking o", ids, roles)] == ["on", "off"]
    assert [c[0] for c in completions("/effort ", ids, roles)] == ["low", "high", "max", "default"]
    assert [c[0] for c in completions("/model kimi-k3", ids, roles)] == ["kimi-k3"]
    assert [c[0] for c in completions("/role s", ids, roles)] == ["shell"]
    assert completions("hello /mo", ids, roles) == []
    assert completions("/system a\n/mo", ids, roles) == []


def repl_config(tmp_path: Path) -> ReplConfig:
    return ReplConfig(
        history_file=tmp_path / "data" / "repl_history",
        roles_dir=tmp_path / "roles",
        options=ChatOptions(),
        markdown=False,
        show_reasoning=True,
        stream=True,
        list_models=lambda: list(LIVE),
        recent=lambda limit: [],
    )


@pytest.mark.skipif(os.name == "nt", reason="POSIX shell editor and file modes")
def test_edit_runs_the_editor_and_history_file_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kimi_cli.repl.loop import Repl

    repl = Repl(conversation(), repl_config(tmp_path))
    script = 'test "$(cat "$1")" = start && printf "written\\nby the editor\\n" > "$1"'
    monkeypatch.setenv("EDITOR", f"sh -c {shlex.quote(script)} sh")
    assert repl._edit("start") == "written\nby the editor\n"
    monkeypatch.setenv("EDITOR", "sh -c 'exit 3' sh")
    with pytest.raises(UsageError, match="exited with 3"):
        repl._edit("")
    monkeypatch.setenv("EDITOR", "no-such-editor-here")
    with pytest.raises(UsageError, match="cannot run the editor"):
        repl._edit("")
    repl._history()
    path = tmp_path / "data" / "repl_history"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- in a pty -------------------------------------------------------------------------------

pytestmark_pty = pytest.mark.skipif(os.name == "nt", reason="pexpect needs a POSIX pty")


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    yield from closing()


def data_dir() -> Path:
    return Path(os.environ["KIMI_DATA_DIR"])


def last_content(emu: Emulator) -> Any:
    return emu.stats()["chat_requests"][-1]["messages"][-1]["content"]


@pytestmark_pty
def test_stream_markdown_interrupt_paste_and_exit(emulator: Emulator, terms: list[Term]) -> None:
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    term.prompt()

    # A streamed Markdown answer: reasoning folded to one line, the heading rendered.
    term.send("LOREM 400\r")
    term.expect(r"thought for \d+\.\d s · \d+ words — /thinking shows it")
    answer = term.prompt()
    assert "Lorem elit labore" in answer
    assert "Do Dolore Quis" in answer  # LOREM 400's fifth block: "## Do Dolore Quis"
    assert "## " not in answer  # the Markdown heading was rendered, not printed

    # Ctrl-C mid-answer (the stream stalls after five words): the prompt comes back and the
    # partial answer is kept in history, marked partial.
    emulator.configure(faults=[{"name": "stall", "once": True}], stall=20)
    term.send("LOREM 300\r")
    term.expect("Lorem")
    term.child.sendintr()
    term.expect(r"kimi: interrupted — the partial answer is saved: kimi history show \w+")
    term.prompt()
    with HistoryStore(data_dir() / "history.db") as store:
        (only,) = store.recent()
        messages = store.messages(only.id)
    assert [(m.role, m.partial) for m in messages] == [
        ("user", False),
        ("assistant", False),
        ("user", False),
        ("assistant", True),
    ]
    assert messages[3].content.startswith("Lorem")
    assert 0 < len(messages[3].content.split()) < 300

    # A bracketed paste of three lines is one message, sent by Enter.
    term.send("\x1b[200~line1\nline2\nline3\x1b[201~")
    term.send("\r")
    term.expect("line3")
    term.prompt()
    assert last_content(emulator) == "line1\nline2\nline3"
    # The next request carries the interrupted exchange as context.
    sent = [m["content"] for m in emulator.stats()["chat_requests"][-1]["messages"]]
    assert sent[:3] == ["LOREM 400", messages[1].content, "LOREM 300"]

    assert term.exit() == 0
    history_file = data_dir() / "repl_history"
    assert "LOREM 300" in history_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(history_file.stat().st_mode) == 0o600


@pytestmark_pty
def test_ctrl_z_stops_the_repl_and_fg_brings_it_back(emulator: Emulator, terms: list[Term]) -> None:
    # An interactive shell, for its job control: Ctrl-Z stops the job, `fg` continues it.
    kimi = f"{shlex.quote(sys.executable)} -m kimi_cli chat"
    term = Term.job_shell(emulator)
    terms.append(term)
    term.send(kimi + "\r")
    term.prompt()
    term.send("ECHO half")
    term.send("\x1a")  # Ctrl-Z
    term.expect("Stopped")
    term.expect(r"\$ ")
    term.send("fg\r")
    term.send(" done\r")
    term.expect("half done")
    term.prompt()
    assert last_content(emulator) == "ECHO half done"  # no ^Z typed into the message
    term.send("\x04")  # Ctrl-D: the REPL ends, the shell is back
    term.expect(r"\$ ")


@pytestmark_pty
def test_bare_kimi_keeps_running_through_ctrl_c_errors_and_refusals(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn([], emulator)  # bare `kimi` on a terminal opens the REPL
    terms.append(term)
    term.prompt()

    # Ctrl-C at the prompt clears the line and does not exit.
    term.send("half a thought")
    term.expect("thought")
    term.send("\x03")
    term.prompt()
    term.send("ECHO after\r")
    term.expect("after")
    term.prompt()
    assert last_content(emulator) == "ECHO after"

    # A gateway ID: the exit-5 error line, and the REPL stays.
    term.send("/model moonshotai/kimi-k2.6\r")
    shown = term.prompt()
    errors = re.findall(r"kimi: error: [^\r\n]*", shown)
    assert len(errors) == 1 and "gateway" in errors[0] and "/model kimi-k2.6" in errors[0]

    # A flag the model refuses: one line.
    term.send("/effort high\r")
    shown = term.prompt()
    errors = re.findall(r"kimi: error: [^\r\n]*", shown)
    assert len(errors) == 1 and "kimi-k2.6 has no reasoning efforts" in errors[0]

    # An API error during a turn: one line, then /retry sends the message again.
    emulator.configure(faults=[{"name": "quota", "once": True}])
    term.send("ECHO paid\r")
    shown = term.prompt()
    errors = re.findall(r"kimi: error: [^\r\n]*", shown)
    assert len(errors) == 1 and "quota" in errors[0]
    term.send("/retry\r")
    term.expect("paid")
    term.prompt()
    assert last_content(emulator) == "ECHO paid"

    # /thinking alone shows the last reasoning again.
    term.send("/thinking\r")
    term.expect("echo their text")
    term.prompt()

    assert term.exit() == 0


@pytest.mark.slow
@pytestmark_pty
def test_interactive_after_a_first_prompt_and_continue_later(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn(["chat", "-i", "ECHO first"], emulator)
    terms.append(term)
    term.expect("first")
    term.prompt()
    term.send("ECHO second\r")
    term.expect("second")
    term.prompt()
    assert term.exit() == 0

    # `kimi chat -c` continues the REPL's conversation: the earlier turns reach the server.
    done = subprocess.run(
        [sys.executable, "-m", "kimi_cli", "chat", "-c", "ECHO third"],
        env=dict(os.environ, KIMI_BASE_URL=emulator.base_url, KIMI_API_KEY="sk-emulator"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert (done.returncode, done.stdout) == (0, "third\n"), done.stderr
    sent = [m["content"] for m in emulator.stats()["chat_requests"][-1]["messages"]]
    assert sent == ["ECHO first", "first", "ECHO second", "second", "ECHO third"]


@pytestmark_pty
def test_piped_context_then_keys_from_the_terminal(emulator: Emulator, terms: list[Term]) -> None:
    kimi = f"{shlex.quote(sys.executable)} -m kimi_cli chat -i"
    term = Term.spawn([], emulator, shell=f"printf 'ECHO piped context' | {kimi}")
    terms.append(term)
    term.expect("piped context")
    term.prompt()
    assert last_content(emulator) == "ECHO piped context"
    term.send("ECHO typed\r")
    term.expect("typed")
    term.prompt()
    assert last_content(emulator) == "ECHO typed"
    assert term.exit() == 0


@pytestmark_pty
def test_dumb_terminal_gets_the_answer_as_sent(emulator: Emulator, terms: list[Term]) -> None:
    term = Term.spawn(["chat"], emulator, TERM="dumb")
    terms.append(term)
    term.expect("Ctrl-D to leave")
    term.expect("> ")
    term.send("ECHO **bold** text\r")
    term.expect("echo their text")
    answer = term.expect(r"\*\*bold\*\* text")
    assert "\x1b[" not in answer
    term.expect("> ")
    assert term.exit() == 0


def test_the_repl_needs_a_terminal(emulator: Emulator) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kimi_cli", "chat", "-i", "ECHO hi"],
        env=dict(os.environ, KIMI_BASE_URL=emulator.base_url, KIMI_API_KEY="sk-emulator"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("kimi: error: the interactive REPL needs a terminal")
    assert emulator.stats()["chat_requests"] == []


@pytestmark_pty
def test_retry_replaces_the_last_exchange(emulator: Emulator, terms: list[Term]) -> None:
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    term.prompt()
    term.send("ECHO first\r")
    term.prompt()
    term.send("ECHO second\r")
    term.prompt()
    term.send("/retry\r")
    term.prompt()
    sent = [(m["role"], m["content"]) for m in emulator.stats()["chat_requests"][-1]["messages"]]
    assert sent == [
        ("user", "ECHO first"),
        ("assistant", "first"),
        ("user", "ECHO second"),  # asked again in place of the last exchange, not after it
    ]
    assert term.exit() == 0


@pytestmark_pty
def test_bytes_that_are_not_utf8_are_refused_and_the_repl_goes_on(
    emulator: Emulator, terms: list[Term]
) -> None:
    # A terminal set to Latin-1 sends "café" as b"caf\xe9".
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    term.prompt()
    os.write(term.child.child_fd, b"ECHO caf\xe9\r")
    shown = term.prompt()
    assert "kimi: error: the message 'ECHO caf\\xe9' is not valid UTF-8 (byte offset 8)" in shown
    assert "internal error" not in shown
    assert emulator.stats()["chat_requests"] == []
    term.send("ECHO still here\r")
    assert "still here" in term.prompt()
    assert term.exit() == 0


@pytestmark_pty
def test_ctrl_x_ctrl_e_sends_what_the_editor_wrote(
    emulator: Emulator, terms: list[Term], tmp_path: Path
) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'ECHO from the editor\\n' > \"$1\"\n", encoding="utf-8")
    editor.chmod(0o755)
    term = Term.spawn(["chat"], emulator, EDITOR=str(editor))
    terms.append(term)
    term.prompt()
    term.send("\x18\x05")  # Ctrl-X Ctrl-E
    term.prompt()
    assert last_content(emulator) == "ECHO from the editor"
    assert term.exit() == 0


@pytestmark_pty
def test_after_ctrl_c_the_toolbar_counts_what_arrived_and_one_blank_line(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    first = term.prompt()
    before = re.findall(r"(\d+) tokens", first)[-1]
    assert before == "0"
    emulator.configure(faults=[{"name": "stall", "once": True}], stall=20)
    term.send("LOREM 300\r")
    term.expect("Lorem")
    term.child.sendintr()
    term.expect(r"kimi: interrupted — the partial answer is saved: kimi history show \w+")
    after_note = term.prompt()
    assert int(re.findall(r"(\d+) tokens", after_note)[-1]) > 0
    assert "context left 262,144 (100%)" not in after_note
    head = after_note[: after_note.index(">")]
    assert head.count("\n") == 2  # the note's line end, then one blank line
    assert term.exit() == 0


@pytestmark_pty
def test_an_input_taller_than_the_screen_is_shown_once_whole(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn(["chat", "--reasoning", "hide"], emulator)
    terms.append(term)
    term.prompt()
    body = "\n".join(f"line{i:02d}" for i in range(60))  # the pty has 40 rows
    term.send("\x1b[200~ECHO ok\n" + body + "\x1b[201~")
    term.expect(r"line59")
    mark = len(term.output.getvalue())
    term.send("\r")
    term.prompt()
    after = term.output.getvalue()[mark:]
    shown = after[: after.index("waiting for")]  # what is left of the input before the answer
    assert [len(re.findall(rf"\. line{i:02d}\b", shown)) for i in range(60)] == [1] * 60
    assert term.exit() == 0


@pytestmark_pty
def test_a_turn_answered_by_a_web_page_names_the_variable_that_holds_the_url(
    emulator: Emulator, terms: list[Term]
) -> None:
    term = Term.spawn(["chat"], emulator, KIMI_MAX_RETRIES="0")
    terms.append(term)
    term.prompt()
    emulator.configure(faults=[{"name": "html", "once": True}])
    term.send("ECHO hi\r")
    shown = term.prompt()
    errors = re.findall(r"kimi: error: [^\r\n]*", shown)
    assert len(errors) == 1 and "HTML page" in errors[0]
    assert "check KIMI_BASE_URL" in errors[0] and "--base-url" not in errors[0]
    assert term.exit() == 0


@pytestmark_pty
def test_retry_after_clear_has_nothing_to_send(emulator: Emulator, terms: list[Term]) -> None:
    # /retry after /clear sent the old conversation's last message into the new one.
    term = Term.spawn(["chat"], emulator)
    terms.append(term)
    term.prompt()
    term.send("ECHO before the clear\r")
    term.prompt()
    term.send("/clear\r")
    term.prompt()
    term.send("/retry\r")
    term.expect("nothing to retry yet")
    term.prompt()
    assert len(emulator.stats()["chat_requests"]) == 1
    assert term.exit() == 0


@pytestmark_pty
def test_the_greeting_counts_the_messages_history_list_counts(
    emulator: Emulator, terms: list[Term]
) -> None:
    # The greeting counted the user's messages only: "(1 message)" where history said 3.
    env = dict(
        os.environ,
        KIMI_BASE_URL=emulator.base_url,
        KIMI_API_KEY="sk-emulator",
        KIMI_MODEL="kimi-k2.6",
    )
    once = [sys.executable, "-m", "kimi_cli", "chat", "--system", "be brief", "ECHO one"]
    assert subprocess.run(once, env=env, capture_output=True, timeout=TIMEOUT).returncode == 0
    listed = subprocess.run(
        [sys.executable, "-m", "kimi_cli", "history", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    [row] = __import__("json").loads(listed.stdout)
    assert row["messages"] == 3  # the system prompt, the question, the answer
    term = Term.spawn(["chat", "-c"], emulator)
    terms.append(term)
    term.expect(rf"continuing conversation {row['id']} \(3 messages\)")
    term.prompt()
    assert term.exit() == 0
