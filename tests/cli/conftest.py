"""Fixtures of the command tests."""

from __future__ import annotations

import pytest

from kimi_cli.emulator import Emulator


@pytest.fixture
def global_region(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The global region (USD prices) served by the emulator, with kimi-k3.1-pro: 2 USD in
    and 10 USD out per million tokens, so 1,000 output tokens cost at most 0.01 USD."""
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", emulator.base_url)
    monkeypatch.setenv("KIMI_REGION", "global")
    monkeypatch.setenv("KIMI_API_KEY", "sk-emulator")
    monkeypatch.setenv("KIMI_MODEL", "kimi-k3.1-pro")
    return emulator
