"""The way into kimi, as a user types it: chatting without a command, usage errors in plain
words, help that names values as people do, and completion of config keys and history IDs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import run_process

# --- kimi "question" and echo question | kimi ------------------------------------------------


def test_a_question_without_a_command_is_a_chat(configured: Emulator) -> None:
    out = run_process("ECHO a question")
    assert (out.code, out.stdout, out.stderr) == (0, "a question\n", "")
    words = run_process("ECHO", "several", "words")
    assert (words.code, words.stdout) == (0, "several words\n")


def test_chat_options_and_global_options_work_without_the_command(configured: Emulator) -> None:
    out = run_process("--timeout", "30", "-m", "kimi-k3.1-pro", "--effort", "low", "ECHO opts")
    assert (out.code, out.stdout) == (0, "opts\n"), out.stderr


def test_piped_input_without_a_command_is_a_chat_not_help(configured: Emulator) -> None:
    out = run_process(input="ECHO piped in\n")
    assert (out.code, out.stdout) == (0, "piped in\n"), out.stderr
    assert "Usage" not in out.stdout + out.stderr
    debug = run_process("--debug", input="ECHO with a global option\n")
    assert (debug.code, debug.stdout) == (0, "with a global option\n"), debug.stderr


def test_a_command_name_stays_a_command(configured: Emulator) -> None:
    out = run_process("models")
    assert out.code == 0 and "kimi-k2.6" in out.stdout
    assert configured.stats()["requests"].get("POST /v1/chat/completions", 0) == 0


@pytest.mark.parametrize("typo", ["modles", "histroy", "doctr"])
def test_a_mistyped_command_is_reported_not_sent(configured: Emulator, typo: str) -> None:
    line = run_process(typo).assert_one_error_line(2)
    assert "Did you mean" in line
    assert configured.stats()["total"] == 0


def test_the_rule_is_in_the_help() -> None:
    out = run_process("--help")
    assert out.code == 0
    text = " ".join(out.stdout.split())
    assert "'echo a question | kimi' are 'kimi chat …'" in text
    assert "to ask it, use 'kimi chat WORD'" in text


# --- usage errors in plain words ----------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_an_impossible_emulator_port_is_a_usage_error(port: str) -> None:
    line = run_process("emulator", "--port", port).assert_one_error_line(2)
    assert f"{port} is not a port (0 to 65535)" in line


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["chat", "--effort", "extreme", "hi"], "'extreme' is not low, high or max"),
        (["chat", "--max-tokens", "lots", "hi"], "'--max-tokens': not a whole number"),
        (["chat", "--temperature", "warm", "hi"], "'--temperature': not a number"),
    ],
)
def test_bad_values_are_worded_for_people(args: list[str], wanted: str) -> None:
    line = run_process(*args).assert_one_error_line(2)
    assert wanted in line
    assert "Value error" not in line and "Input should" not in line


# --- help ---------------------------------------------------------------------------------

HELPS = [
    ["--help"],
    ["chat", "--help"],
    ["emulator", "--help"],
    ["models", "use", "--help"],
    ["history", "show", "--help"],
    ["config", "set", "--help"],
    ["tokens", "--help"],
]


@pytest.mark.parametrize("args", HELPS, ids=" ".join)
def test_help_names_values_as_people_do(args: list[str]) -> None:
    out = run_process(*args, env={"COLUMNS": "100"})
    assert out.code == 0
    assert not re.search(r"<(str|int|float|list\[|Path)|\{[a-z_]+\}", out.stdout), out.stdout


def test_help_metavars() -> None:
    chat = run_process("chat", "--help", env={"COLUMNS": "100"}).stdout
    assert re.search(r"-f, --file PATH\s", chat) and re.search(r"--max-tokens N\s", chat)
    assert "Usage: kimi chat [OPTIONS] [PROMPT]..." in chat
    assert re.search(r"--key KEY\s", run_process("emulator", "--help").stdout)
    use = run_process("models", "use", "--help").stdout
    assert "Usage: kimi models use [OPTIONS] MODEL\n" in use
    missing = run_process("models", "use").assert_one_error_line(2)
    assert "Missing argument 'MODEL'" in missing


def test_kimi_help_lists_each_command_with_its_first_sentence_whole() -> None:
    out = run_process("--help", env={"COLUMNS": "80"}).stdout
    commands = out.split("Commands:", 1)[1]
    assert "..." not in commands
    assert "Check the setup step by step" in commands
    doctor = " ".join(commands.split("\n  doctor", 1)[1].split("\n  balance", 1)[0].split())
    assert doctor.endswith("versions.")


# --- completion ---------------------------------------------------------------------------


def _complete(words: str) -> list[str]:
    env = {
        "_KIMI_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    out = run_process(env=env)
    assert out.code == 0 and out.stderr == "", out.stderr
    return out.stdout.split()


def test_config_set_completes_keys() -> None:
    assert _complete("kimi config set ") == _complete("kimi config set ") != []
    assert "base_url" in _complete("kimi config set ")
    assert _complete("kimi config set max_") == ["max_retries", "max_tokens"]


def test_history_show_completes_conversation_ids(configured: Emulator) -> None:
    data = Path(os.environ["KIMI_DATA_DIR"])
    assert _complete("kimi history show ") == []
    assert not (data / "history.db").exists()  # a Tab press creates nothing
    for text in ("ECHO one", "ECHO two"):
        assert run_process("chat", text).code == 0
    listed = run_process("history", "list").stdout.split()
    ids = [word for word in listed if re.fullmatch(r"[0-9a-z]{8}", word)]
    assert len(ids) == 2
    assert _complete("kimi history show ") == ids  # the latest first
    assert _complete(f"kimi history show {ids[1][:5]}") == [ids[1]]
