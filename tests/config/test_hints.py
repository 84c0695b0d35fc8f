"""A fix fits where the value came from: the variable, the flag or the file is named."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from kimi_cli.config_store import ConfigStore
from kimi_cli.emulator import Emulator
from kimi_cli.errors import ConfigError
from tests.helpers import invoke

KEY = {"KIMI_API_KEY": "sk-emulator"}


def test_a_model_from_kimi_model_is_fixed_in_kimi_model(emulator: Emulator) -> None:
    env = {**KEY, "KIMI_BASE_URL": emulator.base_url, "KIMI_MODEL": "kimi-k2-6"}
    line = invoke("chat", "hi", env=env).assert_one_error_line(5)
    assert "export KIMI_MODEL=kimi-k2.6" in line
    assert "kimi models use" not in line


def test_a_model_from_the_flag_is_fixed_in_the_flag(emulator: Emulator) -> None:
    env = {**KEY, "KIMI_BASE_URL": emulator.base_url}
    line = invoke("chat", "-m", "kimi-k2-6", "hi", env=env).assert_one_error_line(5)
    assert "--model kimi-k2.6" in line and "kimi models use" not in line


def test_a_saved_model_is_fixed_with_models_use(emulator: Emulator, isolated_env: Path) -> None:
    path = isolated_env / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('model = "kimi-k2-6"\n')
    env = {**KEY, "KIMI_BASE_URL": emulator.base_url}
    line = invoke("chat", "hi", env=env).assert_one_error_line(5)
    assert "kimi models use kimi-k2.6" in line


@pytest.mark.parametrize(
    ("how", "named", "not_named"),
    [
        ("env", "check KIMI_BASE_URL", "--base-url"),
        ("flag", "check --base-url", "KIMI_BASE_URL"),
    ],
)
def test_a_url_that_is_not_the_api_names_where_it_came_from(
    emulator: Emulator, how: str, named: str, not_named: str
) -> None:
    url = emulator.base_url.removesuffix("/v1") + "/elsewhere/v1"
    if how == "env":
        out = invoke("models", env={**KEY, "KIMI_BASE_URL": url})
    else:
        out = invoke("--base-url", url, "models", env=KEY)
    line = out.assert_one_error_line(3)
    assert named in line and not_named not in line


def test_a_full_disk_is_not_a_permission_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(ConfigError) as info:
        ConfigStore(tmp_path / "config.toml").set("timeout", 5.0)
    assert "permission" not in info.value.line()
    assert "disk space" in info.value.line()


def test_too_long_an_input_suggests_dropping_c_only_when_it_was_given(
    configured: Emulator,
) -> None:
    big = "word " * 400_000  # over kimi-k2.6's context by the emulator's count
    line = invoke("chat", "--no-stream", input=big).assert_one_error_line(2)
    assert "takes at most" in line and "-c" not in line
    assert invoke("chat", "--no-stream", "ECHO hello").code == 0
    line = invoke("chat", "--no-stream", "-c", input=big).assert_one_error_line(2)
    assert "without -c" in line


@pytest.mark.parametrize(
    ("how", "named", "not_named"),
    [
        ("env", "check KIMI_BASE_URL", "--base-url"),
        ("flag", "check --base-url", "KIMI_BASE_URL"),
    ],
)
def test_a_chat_answered_by_a_web_page_names_where_the_url_came_from(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch, how: str, named: str, not_named: str
) -> None:
    configured.configure(faults=[{"name": "html"}])
    args = ["chat", "--no-stream", "hi"]
    if how == "flag":
        monkeypatch.delenv("KIMI_BASE_URL")
        args = ["--base-url", configured.base_url, *args]
    line = invoke(*args).assert_one_error_line(1)
    assert "HTML page" in line
    assert named in line and not_named not in line


@pytest.mark.parametrize(
    ("code", "fix", "not_said"),
    [
        (errno.ENOSPC, "free some disk space", "permission"),
        (errno.EROFS, "read-only file system", "permission"),
        (errno.EACCES, "check permissions", "disk space"),
    ],
)
def test_a_history_that_cannot_be_written_says_why(
    tmp_path: Path, code: int, fix: str, not_said: str
) -> None:
    from kimi_cli.history.failures import translate

    line = translate(OSError(code, os.strerror(code)), tmp_path / "history.db").line()
    assert fix in line and not_said not in line
