from __future__ import annotations

import httpx
import pytest

from kimi_cli.api import KimiClient
from kimi_cli.api.proxy import normalize_socks_env


def test_socks_scheme_is_rewritten_to_socks5() -> None:
    env = {"ALL_PROXY": "socks://127.0.0.1:1080", "https_proxy": "http://p:3128", "NO_PROXY": "x"}
    assert normalize_socks_env(env) == ["ALL_PROXY"]
    assert env["ALL_PROXY"] == "socks5://127.0.0.1:1080"
    assert env["https_proxy"] == "http://p:3128"


def test_a_client_builds_with_the_rewritten_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("ALL_PROXY", "socks://127.0.0.1:1080")
    with pytest.raises(ValueError):  # what users hit without the rewrite
        httpx.Client(trust_env=True)
    normalize_socks_env(os.environ)
    KimiClient("https://api.example/v1", "sk-x").close()
