"""Interactive ``kimi setup`` on a real terminal: a typo is explained and asked again, a
verified key is never lost, and Ctrl-C / Ctrl-D leave the shell prompt on a line of its own."""

from __future__ import annotations

import os
import sys
import time
import tomllib
from pathlib import Path

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.terminal import spawn_kimi

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def spawn(*args: str) -> pexpect.spawn:
    return spawn_kimi(*args, term="dumb", columns=200)


def finished(child: pexpect.spawn) -> int:
    """Wait for setup to end; its exit status."""
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


def saved(home: Path) -> dict[str, object]:
    path = home / "config" / "config.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def global_emulator(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", emulator.base_url)
    return emulator


def answer_key(child: pexpect.spawn) -> None:
    child.expect_exact("Region:")
    child.sendline("")
    child.expect_exact("API key (input hidden):")
    child.sendline("sk-emulator")
    child.expect_exact("Model number or ID [1]:")


def test_a_model_typo_is_asked_again_naming_the_right_id(
    global_emulator: Emulator, isolated_env: Path
) -> None:
    child = spawn("setup")
    answer_key(child)
    child.sendline("9")
    child.expect_exact("there is no model 9")
    child.expect_exact("Model number or ID [1]:")
    child.sendline("kimi-k2-6")
    child.expect_exact("answer kimi-k2.6")
    child.expect_exact("Model number or ID [1]:")
    child.sendline("kimi-k2.6")
    child.expect_exact("model kimi-k2.6 saved")
    assert finished(child) == 0
    config = saved(isolated_env)
    assert config["model"] == "kimi-k2.6" and config["api_key"] == "sk-emulator"


def test_a_region_typo_is_asked_again(global_emulator: Emulator, isolated_env: Path) -> None:
    child = spawn("setup")
    child.expect_exact("Region:")
    child.sendline("eu")
    child.expect_exact("unknown region 'eu'")
    child.expect_exact("Region:")
    child.sendline("china")
    child.expect_exact("answer cn")
    child.expect_exact("Region:")
    child.sendline("global")
    child.expect_exact("API key (input hidden):")
    child.sendline("sk-emulator")
    child.expect_exact("Model number or ID [1]:")
    child.sendline("1")
    assert finished(child) == 0
    assert saved(isolated_env)["region"] == "global"


def test_ctrl_c_at_the_model_prompt_keeps_the_verified_key_and_ends_the_line(
    global_emulator: Emulator, isolated_env: Path
) -> None:
    child = spawn("setup")
    answer_key(child)
    child.sendintr()
    child.expect(pexpect.EOF)
    tail = child.before or ""
    child.close()
    assert child.exitstatus == 130 or child.signalstatus is not None
    assert tail.endswith("\n"), repr(tail)  # the shell prompt starts on its own line
    config = saved(isolated_env)
    assert config["api_key"] == "sk-emulator" and config["region"] == "global"
    assert "model" not in config


def test_ctrl_d_at_the_region_prompt_ends_the_line(
    global_emulator: Emulator, isolated_env: Path
) -> None:
    child = spawn("setup")
    child.expect_exact("Region:")
    child.sendeof()
    child.expect(pexpect.EOF)
    tail = child.before or ""
    child.close()
    assert child.exitstatus != 0
    assert tail.endswith("\n"), repr(tail)
    assert "Traceback" not in tail
    assert saved(isolated_env) == {}


REGION, KEY, MODEL = "Region:", "API key (input hidden):", "Model number or ID [1]:"
NOTHING_SAVED = "kimi: error: setup stopped: nothing was saved — run 'kimi setup' again"
KEY_SAVED = (
    "kimi: error: setup stopped: the key is saved (region global), but no model"
    " — pick one: kimi models use ID"
)


@pytest.mark.parametrize("stop", ["ctrl-c", "ctrl-d"])
@pytest.mark.parametrize(
    ("answers", "line"),
    [([], NOTHING_SAVED), ([""], NOTHING_SAVED), (["", "sk-emulator"], KEY_SAVED)],
    ids=["at-region", "at-key", "at-model"],
)
def test_stopping_setup_at_any_prompt_says_what_was_saved_in_one_line(
    global_emulator: Emulator, isolated_env: Path, stop: str, answers: list[str], line: str
) -> None:
    child = spawn("setup")
    prompts = [REGION, KEY, MODEL]
    for prompt, answer in zip(prompts, answers, strict=False):
        child.expect_exact(prompt)
        child.sendline(answer)
    child.expect_exact(prompts[len(answers)])
    if stop == "ctrl-c":
        child.sendintr()
    else:  # the hidden prompt flushes what was typed before it turned echo off
        time.sleep(0.3)
        child.sendeof()
    child.expect(pexpect.EOF)
    tail = (child.before or "").replace("\r\n", "\n")
    child.close()
    assert child.exitstatus == 130, tail
    errors = [text for text in tail.splitlines() if text.startswith("kimi: error:")]
    assert errors == [line], tail
    assert tail.endswith(line + "\n") and "\n\n" not in tail, repr(tail)
    assert "Traceback" not in tail
    assert ("api_key" in saved(isolated_env)) == (line == KEY_SAVED)


def test_ctrl_c_when_asked_to_switch_region_says_nothing_was_saved(
    regions: tuple[Emulator, Emulator], isolated_env: Path
) -> None:
    from tests.helpers import CN_KEY

    child = spawn("setup")
    child.expect_exact(REGION)
    child.sendline("global")
    child.expect_exact(KEY)
    child.sendline(CN_KEY)
    child.expect_exact("Use region cn?")
    child.sendintr()
    child.expect(pexpect.EOF)
    tail = (child.before or "").replace("\r\n", "\n")
    child.close()
    assert child.exitstatus == 130, tail
    assert tail.endswith("\n" + NOTHING_SAVED + "\n"), repr(tail)
    assert saved(isolated_env) == {}


def test_questions_go_to_the_terminal_when_stdout_is_a_file(
    global_emulator: Emulator, isolated_env: Path, tmp_path: Path
) -> None:
    log = tmp_path / "setup.log"
    child = pexpect.spawn(
        "bash",
        ["-c", f"'{sys.executable}' -m kimi_cli setup > '{log}'"],
        env={**os.environ, "TERM": "dumb"},
        encoding="utf-8",
        timeout=20,
    )
    answer_key(child)  # every question is seen on the terminal
    child.sendline("kimi-k3.1-pro")
    child.expect_exact("model kimi-k3.1-pro saved")
    assert finished(child) == 0
    assert log.read_bytes() == b""  # stdout is for data: not one byte of a question
    assert saved(isolated_env)["model"] == "kimi-k3.1-pro"


def test_a_yes_no_answer_that_is_neither_is_asked_again(
    regions: tuple[Emulator, Emulator], isolated_env: Path
) -> None:
    from tests.helpers import CN_KEY

    child = spawn("setup")
    child.expect_exact(REGION)
    child.sendline("global")
    child.expect_exact(KEY)
    child.sendline(CN_KEY)
    child.expect_exact("Use region cn? [Y/n]:")
    child.sendline("maybe")
    child.expect_exact("'maybe' is not an answer — answer y or n")
    child.expect_exact("Use region cn? [Y/n]:")
    child.sendline("")
    child.expect_exact(MODEL)
    child.sendline("1")
    assert finished(child) == 0
    assert saved(isolated_env)["region"] == "cn"


def test_the_model_list_marks_models_reported_to_retire_and_picking_one_warns(
    global_emulator: Emulator, isolated_env: Path
) -> None:
    child = spawn("setup")
    child.expect_exact(REGION)
    child.sendline("")
    child.expect_exact(KEY)
    child.sendline("sk-emulator")
    child.expect_exact(MODEL)
    listed = child.before
    assert "6. kimi-k2.6  (262,144 tokens) — reported to retire 2026-12-31;" in listed, listed
    assert "1. kimi-k3.1-pro  (1,048,576 tokens)\r\n" in listed  # no mark: not retiring
    child.sendline("6")
    child.expect(pexpect.EOF)
    after = child.before
    child.close()
    assert child.exitstatus == 0
    assert "kimi: warning: kimi-k2.6 is reported to retire 2026-12-31; suggested:" in after
    assert saved(isolated_env)["model"] == "kimi-k2.6"  # warned, never switched


def test_key_stdin_on_a_terminal_asks_for_the_key_hidden(
    global_emulator: Emulator, isolated_env: Path
) -> None:
    """`kimi setup --key-stdin` typed on a terminal by mistake: not a silent wait for
    Ctrl-D with the key echoed, but the hidden question; no region or model question."""
    child = spawn("setup", "--key-stdin", "--region", "global")
    child.expect_exact(KEY)
    child.sendline("sk-emulator")
    child.expect(pexpect.EOF)
    seen = child.before
    child.close()
    assert child.exitstatus == 0, seen
    assert "sk-emulator" not in seen  # never echoed
    assert saved(isolated_env)["api_key"] == "sk-emulator"


def test_a_key_that_sees_no_models_is_saved_without_an_unanswerable_question(
    global_emulator: Emulator, isolated_env: Path
) -> None:
    global_emulator.configure(models=[])
    child = spawn("setup")
    child.expect_exact(REGION)
    child.sendline("")
    child.expect_exact(KEY)
    child.sendline("sk-emulator")
    child.expect(pexpect.EOF)  # no "Model number or ID" asked of an empty list
    seen = child.before
    child.close()
    assert child.exitstatus == 0, seen
    assert "kimi: warning: no model saved: this key sees no models at all" in seen
    assert "Model number" not in seen
    assert saved(isolated_env)["api_key"] == "sk-emulator"
