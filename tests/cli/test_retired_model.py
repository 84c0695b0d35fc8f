"""A stored model that the API stops serving: explained once, then nothing is sent."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from kimi_cli.api.client import KimiClient
from kimi_cli.catalog.cache import ModelCache
from kimi_cli.catalog.retirements import explain_model_404, refuse_if_forgotten
from kimi_cli.emulator import Emulator
from kimi_cli.errors import ExitCode
from tests.helpers import run_process


def _emulator(emulator: Emulator, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        emulator.root_url + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_a_retired_model_is_explained_then_never_sent(
    configured: Emulator, isolated_env: Path
) -> None:
    assert run_process("models").code == 0  # the cache lists kimi-k2.6
    models = _emulator(configured, "/_emulator/config")["models"]
    _emulator(
        configured,
        "/_emulator/config",
        {"models": [m for m in models if m["id"] != "kimi-k2.6"]},
    )
    cache = ModelCache(isolated_env / "cache")
    with KimiClient(configured.base_url, "sk-emulator") as client:
        error = explain_model_404(client, cache, "kimi-k2.6", "Not found the model kimi-k2.6")
    assert error.exit_code == ExitCode.MODEL_NOT_FOUND
    assert error.line().endswith("suggested: kimi-k3.1-pro — kimi models use kimi-k3.1-pro")
    assert cache.forgotten(configured.base_url, "kimi-k2.6") is not None
    forgotten = refuse_if_forgotten(cache, configured.base_url, "kimi-k2.6")
    assert forgotten is not None and "nothing was sent" in forgotten.line()

    before = _emulator(configured, "/_emulator/stats")["chat_requests"]
    line = run_process("chat", "hi").assert_one_error_line(5)
    assert "kimi models use kimi-k3.1-pro" in line and "suggested" in line
    assert _emulator(configured, "/_emulator/stats")["chat_requests"] == before
