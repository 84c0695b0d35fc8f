"""Shared fixtures: every test runs with a clean environment and its own state dirs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import CN_KEY, GLOBAL_KEY, OPENED_STORES

_CLEARED_PREFIXES = ("KIMI_", "MOONSHOT_")
_CLEARED_NAMES = {
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "NO_COLOR",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
    "COLUMNS",
    "LINES",
    "EDITOR",
    "VISUAL",
    # Every kimi the tests start would compile its modules from source again (~0.1 s of CPU
    # each, hundreds of times): a user's kimi reads them from __pycache__.
    "PYTHONDONTWRITEBYTECODE",
}


@pytest.fixture(autouse=True)
def close_stores() -> Iterator[None]:
    """Close what ``history_at`` opened: an open SQLite connection left for the garbage
    collector is a ResourceWarning (Python 3.13), which the tests treat as an error."""
    yield
    while OPENED_STORES:
        OPENED_STORES.pop().close()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every state dir at tmp_path and remove the developer's own settings."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "state"
    monkeypatch.setenv("KIMI_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("KIMI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("KIMI_CACHE_DIR", str(home / "cache"))
    # Both regions point at nothing by default: no test may reach the real API.
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("KIMI_CN_BASE_URL", "http://127.0.0.1:9/v1")
    return home


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[Emulator]:
    """One emulator per test process (per xdist worker); see ``emulator``."""
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emulator(shared_emulator: Emulator) -> Emulator:
    """A Moonshot emulator on 127.0.0.1 (a free port), key ``sk-emulator``, as if new: the
    process's one emulator, reset (config, faults, keys, stats, files, batches). A test that
    needs a second server (two regions) starts its own ``Emulator()``."""
    shared_emulator.reset()
    return shared_emulator


@pytest.fixture(scope="session")
def second_shared_emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def regions(
    emulator: Emulator, second_shared_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[Emulator, Emulator]:
    """(global, cn): two emulators, each accepting only its own key (``GLOBAL_KEY``,
    ``CN_KEY`` of tests/helpers.py); ``KIMI_REGION=global``, no key set."""
    second_shared_emulator.reset()
    emulator.configure(keys=[GLOBAL_KEY])
    second_shared_emulator.configure(keys=[CN_KEY])
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", emulator.base_url)
    monkeypatch.setenv("KIMI_CN_BASE_URL", second_shared_emulator.base_url)
    monkeypatch.setenv("KIMI_REGION", "global")
    return emulator, second_shared_emulator


@pytest.fixture
def configured(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """kimi pointed at the emulator through the environment, key and model set."""
    monkeypatch.setenv("KIMI_BASE_URL", emulator.base_url)
    monkeypatch.setenv("KIMI_API_KEY", "sk-emulator")
    monkeypatch.setenv("KIMI_MODEL", "kimi-k2.6")
    return emulator


@pytest.fixture
def global_region(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The global region (USD prices) served by the emulator, with kimi-k3.1-pro: 2 USD in
    and 10 USD out per million tokens, so 1,000 output tokens cost at most 0.01 USD."""
    monkeypatch.setenv("KIMI_GLOBAL_BASE_URL", emulator.base_url)
    monkeypatch.setenv("KIMI_REGION", "global")
    monkeypatch.setenv("KIMI_API_KEY", "sk-emulator")
    monkeypatch.setenv("KIMI_MODEL", "kimi-k3.1-pro")
    return emulator
