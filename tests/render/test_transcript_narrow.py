"""`kimi history show` on a narrow terminal: every message's role and time stay readable."""

from __future__ import annotations

import json
import re
import sys

import pexpect
import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import invoke
from tests.terminal import plain, spawn_kimi

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


@pytest.mark.parametrize("columns", [20, 30])
def test_role_and_time_are_wrapped_not_cut(configured: Emulator, columns: int) -> None:
    done = json.loads(invoke("chat", "--json", "ECHO a short answer").stdout)
    child = spawn_kimi("history", "show", done["conversation_id"], columns=columns)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    shown = plain(child.before or "")
    assert "…" not in shown  # rich cut the title: "assistant · 2026-…"
    words = " ".join(shown.split())
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC"
    assert re.search(rf"user · {stamp}", words)
    assert re.search(rf"assistant · {stamp}", words)
    assert all(len(line) <= columns for line in shown.splitlines())
