"""``kimi doctor`` against a broken environment: proxy variables it cannot parse, and fixes
that must not send the user to the doctor they are already running."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import Outcome, invoke, run_process


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _checks(out: Outcome) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in json.loads(out.stdout)["checks"]}


@pytest.mark.parametrize("value", ["http://[bad", "http://[::1", "http://proxy:notaport"])
def test_a_proxy_variable_that_is_not_a_url_fails_the_proxy_check_with_3(
    configured: Emulator, value: str
) -> None:
    out = run_process("doctor", "--no-chat", "--json", env={"HTTPS_PROXY": value})
    line = out.assert_one_error_line(3)
    proxy = _checks(out)["proxy"]
    assert proxy["title"] == "Proxy" and proxy["status"] == "fail", proxy
    assert proxy["exit_code"] == 3
    assert "internal error" not in out.stdout
    assert "HTTPS_PROXY" in proxy["detail"] and "not a URL" in proxy["detail"]
    assert "HTTPS_PROXY" in proxy["fix"]
    assert line.startswith("kimi: error: doctor: Proxy: ")


def test_a_password_in_a_proxy_that_is_not_a_url_is_not_shown(configured: Emulator) -> None:
    out = invoke("doctor", "--no-chat", "--json", env={"HTTPS_PROXY": "http://u:hunter2@[bad"})
    assert out.code == 3, out.stderr
    assert "hunter2" not in out.stdout + out.stderr


@pytest.mark.parametrize(
    "variables",
    [
        {"HTTP_PROXY": "http://127.0.0.1:{port}"},  # the proxy refuses: 75
        {"HTTP_PROXY": "ftp://127.0.0.1:{port}"},  # a scheme httpx refuses: 3
    ],
    ids=["proxy-refuses", "proxy-scheme"],
)
def test_no_fix_of_the_doctor_says_run_kimi_doctor(
    configured: Emulator, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("KIMI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    out = invoke(
        "doctor", "--no-chat", "--json", env={k: v.format(port=port) for k, v in variables.items()}
    )
    assert out.code in (3, 75), out.stderr
    models = _checks(out)["models"]
    assert models["status"] == "fail", models  # asked through the proxy, and failed
    for check in _checks(out).values():
        assert "kimi doctor" not in (check["fix"] or "") + check["detail"], check
    assert "kimi doctor" not in out.assert_one_error_line(out.code)


@pytest.mark.parametrize("value", ["http://proxy:notaport", "http://u:hunter2@[::1"])
def test_a_chat_with_a_proxy_variable_that_is_not_a_url_is_exit_3_not_a_bug(
    configured: Emulator, value: str
) -> None:
    out = run_process("chat", "ECHO hi", env={"HTTPS_PROXY": value})
    line = out.assert_one_error_line(3)
    assert line.startswith("kimi: error: HTTPS_PROXY is not a URL (")
    assert "internal error" not in line and "hunter2" not in out.stderr
    assert configured.stats()["total"] == 0


def test_a_config_dir_under_a_file_names_the_file_in_the_fix(
    configured: Emulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    out = run_process(
        "doctor", "--no-chat", "--json", env={"KIMI_CONFIG_DIR": str(blocker / "kimi")}
    )
    out.assert_one_error_line(3)
    config = _checks(out)["config"]
    assert config["status"] == "fail" and "Not a directory" in config["detail"]
    assert config["fix"] == (
        f"a part of the path {blocker / 'kimi' / 'config.toml'} is a file, not a directory:"
        " move it away"
    )


@pytest.mark.parametrize("command", [("doctor", "--no-chat"), ("chat", "ECHO hi")])
def test_a_retired_model_from_the_environment_is_fixed_in_the_environment(
    configured: Emulator, command: tuple[str, ...]
) -> None:
    """KIMI_MODEL wins over a saved model: 'kimi models use X' alone would change nothing."""
    configured.configure(retired=["kimi-k2.6"])
    out = run_process(*command, env={"KIMI_MODEL": "kimi-k2.6"})
    line = out.assert_one_error_line(5)
    assert "kimi-k2.6 is no longer served by this API" in line
    assert "suggested: kimi-k3.1-pro — export KIMI_MODEL=kimi-k3.1-pro" in line, line
    assert "kimi models use" not in line  # saving a model would not beat KIMI_MODEL


@pytest.mark.parametrize(
    ("variables", "fix"),
    [
        ({"KIMI_MODEL": "kimi-k2.6"}, "export KIMI_MODEL=kimi-k3.1-pro (KIMI_MODEL overrides"),
        ({"KIMI_MODEL": None}, "kimi models use kimi-k3.1-pro"),
    ],
    ids=["env", "saved"],
)
def test_a_retiring_model_says_the_command_once_fitted_to_where_it_was_set(
    configured: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str | None],
    fix: str,
) -> None:
    assert invoke("models", "use", "kimi-k2.6", env={"KIMI_MODEL": None}).code == 0
    out = invoke("doctor", "--no-chat", "--json", env=variables)
    assert out.code == 0, out.stderr
    model = _checks(out)["model"]
    assert model["status"] == "warn" and "retires on 2026-12-31" in model["detail"]
    assert model["fix"].startswith(fix), model
    assert "kimi models use" not in model["detail"]  # the command is the fix, said once


@pytest.mark.parametrize(
    ("fault", "code", "fix"),
    [
        ("html", 1, "check KIMI_BASE_URL and any proxy"),
        ("not_json", 1, "check KIMI_BASE_URL and any proxy"),
        ("stream_cut", 75, "retry later"),
        ("stream_error", 75, "retry later"),
    ],
)
def test_a_chat_check_that_fails_always_has_a_fix_that_fits_the_doctor(
    configured: Emulator, fault: str, code: int, fix: str
) -> None:
    configured.configure(faults=[{"name": fault, "endpoint": "chat"}])
    out = run_process("doctor", "--json")
    out.assert_one_error_line(code)
    chat = _checks(out)["chat"]
    assert chat["status"] == "fail" and chat["exit_code"] == code, chat
    assert chat["fix"] and chat["fix"].startswith(fix), chat
    assert "partial answer" not in chat["fix"]  # the doctor keeps no answer


def test_a_history_that_cannot_be_written_warns_where_a_chat_would_only_say_not_saved(
    configured: Emulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    data = {"KIMI_DATA_DIR": str(blocker / "kimi")}
    chat = run_process("chat", "ECHO hi", env=data)
    assert chat.code == 0 and "history not saved" in chat.stderr  # what the user meets
    out = run_process("doctor", "--no-chat", "--json", env=data)
    assert out.code == 0, out.stderr  # a warning: chats still work
    history = _checks(out)["history"]
    assert history["status"] == "warn", history
    assert "not saved" in history["detail"] and str(blocker) in history["detail"]
    assert history["fix"].startswith("a part of the path") and "KIMI_DATA_DIR" in history["fix"]
    assert not (blocker.is_dir())  # looked at, not written


def test_the_history_check_names_the_database(configured: Emulator, isolated_env: Path) -> None:
    before = _checks(invoke("doctor", "--no-chat", "--json"))["history"]
    assert before["status"] == "pass" and "made by the first chat" in before["detail"]
    assert invoke("chat", "ECHO hi").code == 0
    after = _checks(invoke("doctor", "--no-chat", "--json"))["history"]
    assert after["status"] == "pass" and "bytes)" in after["detail"]
    assert str(isolated_env / "data" / "history.db") in after["detail"]


def test_the_doctor_with_budgets_writes_no_history(
    configured: Emulator, isolated_env: Path
) -> None:
    """It only looks: with budgets set and no history yet, nothing is spent and no
    history.db (nor its directory) is made."""
    assert invoke("config", "set", "budget_daily", "2").code == 0
    assert invoke("config", "set", "currency", "USD").code == 0
    out = run_process("doctor", "--no-chat", "--json")
    assert out.code == 0, out.stderr
    budget = _checks(out)["budget"]
    assert budget["status"] == "pass" and "0 USD spent, 2 USD left" in budget["detail"], budget
    assert not (isolated_env / "data").exists()
