from __future__ import annotations

import httpx
import pytest

from kimi_cli.api import KimiClient
from kimi_cli.api.client import _tls_needed
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


@pytest.mark.parametrize(
    ("base_url", "env", "needed"),
    [
        ("https://api.moonshot.ai/v1", {}, True),
        ("http://127.0.0.1:8765/v1", {}, False),
        ("HTTP://127.0.0.1:8765/v1", {"HTTP_PROXY": "http://proxy:3128"}, False),
        ("http://127.0.0.1:8765/v1", {"https_proxy": "https://proxy:443"}, False),
        ("http://127.0.0.1:8765/v1", {"HTTP_PROXY": "https://proxy:443"}, True),
        ("http://127.0.0.1:8765/v1", {"all_proxy": "HTTPS://proxy:443"}, True),
    ],
)
def test_a_tls_context_is_built_only_where_tls_can_be_spoken(
    base_url: str, env: dict[str, str], needed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _tls_needed(base_url) is needed
