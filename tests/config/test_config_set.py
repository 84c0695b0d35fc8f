"""``kimi config set`` refuses what would break later runs, and repairs what is broken; a bad
value in the file does not break a run where a variable wins. Real processes."""

from __future__ import annotations

import tomllib
from pathlib import Path

from kimi_cli.emulator import Emulator
from tests.helpers import invoke, run_process


def config_path(home: Path) -> Path:
    return home / "config" / "config.toml"


def write_config(home: Path, text: str) -> Path:
    path = config_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_kimi_code_endpoint_is_refused_at_set_time(isolated_env: Path) -> None:
    out = invoke("config", "set", "base_url", "https://api.kimi.com/coding/v1")
    line = out.assert_one_error_line(2)
    assert "Kimi Code endpoint" in line
    assert not config_path(isolated_env).exists()


def test_a_negative_number_is_a_value_not_an_option(isolated_env: Path) -> None:
    out = invoke("config", "set", "timeout", "-5")
    line = out.assert_one_error_line(2)
    assert "invalid timeout '-5'" in line and "positive number of seconds" in line
    assert "No such option" not in out.stderr


def test_config_set_repairs_a_wrongly_typed_value(isolated_env: Path) -> None:
    path = write_config(isolated_env, '# mine\ntimeout = "abc"\nregion = 5\n')
    broken = invoke("config", "show")
    line = broken.assert_one_error_line(3)
    assert "kimi config set region" in line
    assert invoke("config", "set", "region", "cn").code == 0
    assert invoke("config", "set", "timeout", "30").code == 0
    assert tomllib.loads(path.read_text()) == {"timeout": 30.0, "region": "cn"}
    assert path.read_text().startswith("# mine\n")
    assert invoke("config", "show").code == 0


def test_a_variable_beats_a_bad_value_in_the_file(emulator: Emulator, isolated_env: Path) -> None:
    write_config(isolated_env, 'timeout = "abc"\nmodel = 12\nbase_url = "nonsense"\n')
    env = {
        "KIMI_TIMEOUT": "30",
        "KIMI_MODEL": "kimi-k2.6",
        "KIMI_BASE_URL": emulator.base_url,
        "KIMI_API_KEY": "sk-emulator",
    }
    out = invoke("chat", "--no-stream", "ECHO fine", env=env)
    assert out.code == 0, out.stderr
    assert "fine" in out.stdout


def test_whole_numbers_beyond_a_sane_range_are_refused(isolated_env: Path) -> None:
    # "config set max_tokens 99999999999999999999" was saved; every chat then sent it.
    huge = "99999999999999999999"
    for key, word in (("max_tokens", "1,048,576"), ("max_retries", "20")):
        out = run_process("config", "set", key, huge)
        line = out.assert_one_error_line(2)
        assert f"invalid {key} '{huge}'" in line and word in line, line
    assert not config_path(isolated_env).exists()
    assert invoke("config", "set", "max_tokens", "1048576").code == 0
    write_config(isolated_env, f"max_tokens = {2**40}\n")
    line = run_process("config", "show").assert_one_error_line(3)  # a config error
    assert "max_tokens" in line and "config file" in line, line


def test_the_saved_max_tokens_is_sent_and_named_when_refused(configured: Emulator) -> None:
    # The config key was resolved and shown but never sent; once sent, a refusal named the
    # --max-tokens flag although the value came from the config file.
    assert invoke("config", "set", "max_tokens", "1234").code == 0
    assert run_process("chat", "ECHO saved budget").code == 0
    assert configured.stats()["chat_requests"][-1]["max_completion_tokens"] == 1234
    assert run_process("chat", "--max-tokens", "99", "ECHO flag wins").code == 0
    assert configured.stats()["chat_requests"][-1]["max_completion_tokens"] == 99

    assert invoke("config", "set", "max_tokens", "1048576").code == 0  # beyond kimi-k2.6's context
    refused = run_process("chat", "ECHO too much")
    line = refused.assert_one_error_line(2)
    assert "token limit" in line and "config file" in line, line
    assert "kimi config unset max_tokens" in line and "drop or change" not in line, line
    flagged = run_process("chat", "--max-tokens", "1048576", "ECHO too much")
    assert "drop or change --max-tokens" in flagged.assert_one_error_line(2)


def test_config_writes_at_once_keep_every_key(tmp_path: Path) -> None:
    """Three 'kimi config set' at once (or one beside 'kimi setup' or 'models use'): each
    read the file, changed its key and replaced the file, so the last write won and the
    others' keys were lost (6 runs in 10). Each edit now holds a lock on the config dir:
    held here, the three wait; let go, every key is kept."""
    import fcntl
    import os
    import subprocess
    import sys
    import time

    config_dir = Path(os.environ["KIMI_CONFIG_DIR"])
    config_dir.mkdir(parents=True)
    settings = {"budget_daily": "2", "currency": "USD", "max_retries": "3"}
    fd = os.open(config_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "kimi_cli", "config", "set", key, value],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for key, value in settings.items()
        ]
        time.sleep(1.5)  # time enough to write, were they not waiting
        waiting = [proc.poll() for proc in procs]
    finally:
        os.close(fd)
    outcomes = [proc.communicate(timeout=30) for proc in procs]
    assert waiting == [None, None, None]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outcomes
    saved = tomllib.loads((config_dir / "config.toml").read_text(encoding="utf-8"))
    assert saved == {"budget_daily": 2.0, "currency": "USD", "max_retries": 3}
    assert sorted(os.listdir(config_dir)) == ["config.toml"]
