"""A plain piped chat loads only what it uses; each feature's code comes with its use.

Real ``kimi chat`` processes against the emulator, each reporting which of kimi's modules it
imported. The plain case is the walk ``bench/trace.py`` measures (docs/performance.md); the
others prove the same modules do load, and work, when a turn needs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator

#: ``kimi`` itself; at its end, the names of kimi's modules it imported, as JSON.
_RUN = r"""
import json, os, sys
sys.argv = ["kimi", *sys.argv[2:]]
from kimi_cli.__main__ import main
code = main()
with open(os.environ["KIMI_TEST_MODULES"], "w") as f:
    json.dump(sorted(m for m in sys.modules if m.startswith("kimi_cli")), f)
sys.exit(code)
"""

#: What a turn loads only when it has images, documents, searches, tool calls, a budget,
#: Markdown to draw, or something to read back from the history.
FEATURES = {
    "images": "kimi_cli.conversation.images",
    "documents": "kimi_cli.documents",
    "web search": "kimi_cli.conversation.search",
    "tool calls": "kimi_cli.api.tool_calls",
    "budgets": "kimi_cli.conversation.budgets",
    "Markdown": "kimi_cli.render.markdown_stream",
    "history reads": "kimi_cli.history.queries",
    "migrations": "kimi_cli.history.schema",
    "the Batch API": "kimi_cli.api.batches",
    "the Files API": "kimi_cli.api.files",
}


def _chat(
    tmp_path: Path, *args: str, input: bytes = b""
) -> tuple[subprocess.CompletedProcess[bytes], set[str]]:
    out = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.json"
    done = subprocess.run(
        [sys.executable, "-c", _RUN, "--", "chat", *args],
        input=input,
        capture_output=True,
        env={**os.environ, "KIMI_TEST_MODULES": str(out)},
        timeout=60,
        check=False,
    )
    loaded = set(json.loads(out.read_text())) if out.exists() else set()
    return done, loaded


@pytest.fixture
def chatted(configured: Emulator, tmp_path: Path) -> Emulator:
    """One chat already happened: the history database exists, as for any later chat."""
    done, _ = _chat(tmp_path, "ECHO first")
    assert done.returncode == 0, done.stderr
    return configured


def test_a_plain_piped_chat_loads_none_of_the_features_it_does_not_use(
    chatted: Emulator, tmp_path: Path
) -> None:
    done, modules = _chat(tmp_path, "ECHO write a commit message", input=b"diff --git a b\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip()  # the answer came
    assert "kimi_cli.conversation.turn" in modules  # the report is of the chat that ran
    loaded = sorted(feature for feature, name in FEATURES.items() if name in modules)
    assert loaded == []


def test_each_feature_loads_its_code_when_a_turn_uses_it(chatted: Emulator, tmp_path: Path) -> None:
    picture = tmp_path / "dot.png"
    picture.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
        )
    )
    done, modules = _chat(tmp_path, "ECHO what is this", "-f", str(picture))
    assert done.returncode == 0, done.stderr
    assert FEATURES["images"] in modules

    done, modules = _chat(tmp_path, "SEARCH the news", "--web-search")
    assert done.returncode == 0, done.stderr
    assert {FEATURES["web search"], FEATURES["tool calls"]} <= modules

    done, modules = _chat(tmp_path, "ECHO hi", "--max-cost", "1")
    assert done.returncode == 0, done.stderr
    assert FEATURES["budgets"] in modules

    done, modules = _chat(tmp_path, "ECHO again", "-c")
    assert done.returncode == 0, done.stderr
    assert FEATURES["history reads"] in modules
