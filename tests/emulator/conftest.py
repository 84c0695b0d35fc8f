"""Fixtures for the emulator tests (the ``emulator`` fixture comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from kimi_cli.emulator import Emulator

from .helpers import client_for


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    """An httpx client on the emulator's base URL, with the emulator's key."""
    with client_for(emulator.base_url) as http:
        yield http
