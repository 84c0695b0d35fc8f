"""AppState and Connection: settings and clients resolved once, the environment read-only."""

from __future__ import annotations

import os

import pytest

from kimi_cli.cli.state import AppState
from kimi_cli.config import GlobalOptions
from kimi_cli.emulator import Emulator
from kimi_cli.errors import AuthError
from tests.helpers import run_process


def test_a_socks_variable_is_read_as_socks5_without_changing_the_environment(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("KIMI_BASE_URL", emulator.base_url)
    monkeypatch.setenv("KIMI_API_KEY", "sk-emulator")
    before = dict(os.environ)
    state = AppState()
    connection = state.connect()
    assert [m.id for m in connection.list_models()][:1] == ["kimi-k3.1-pro"]
    assert dict(os.environ) == before
    assert state.connect() is connection  # resolved once
    state.close()


def test_a_socks_proxy_is_used_for_hosts_not_bypassed(emulator: Emulator) -> None:
    env = {
        "ALL_PROXY": "socks://127.0.0.1:9",  # nothing listens there
        "KIMI_BASE_URL": emulator.base_url,
        "KIMI_API_KEY": "sk-emulator",
    }
    line = run_process("models", env=env).assert_one_error_line(75)
    assert "proxy variable is not usable" not in line
    assert emulator.stats()["total"] == 0


def test_the_kimi_code_endpoint_is_refused_before_a_client_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", "sk-x")
    state = AppState(options=GlobalOptions(base_url="https://api.kimi.com/coding/v1"))
    with pytest.raises(AuthError, match="Kimi Code endpoint") as info:
        state.connect()
    assert "drop --base-url" in (info.value.hint or "")
    assert not state._clients
