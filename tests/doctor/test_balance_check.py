"""The doctor's balance line says an unknown currency once, not after every amount."""

from __future__ import annotations

import json

from kimi_cli.emulator import Emulator
from tests.helpers import run_process


def test_an_unknown_currency_is_said_once(configured: Emulator) -> None:
    out = run_process("doctor", "--no-chat", "--json")
    balance = next(c for c in json.loads(out.stdout)["checks"] if c["id"] == "balance")
    assert balance["status"] in ("pass", "warn"), balance
    assert balance["detail"].count("currency unknown") == 1, balance["detail"]
    assert balance["detail"].startswith("available ")
