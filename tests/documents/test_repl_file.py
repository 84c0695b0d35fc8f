"""``/file PATH`` in the REPL and ``-f`` documents with ``-i``: the same as ``chat -f``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from tests.terminal import Term

PDF = b"%PDF-1.4\n\x00\x01Obligation: pay rent monthly\x00\x02Penalty clause seven\n"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def test_file_attaches_a_document_to_the_next_message(emulator: Emulator, tmp_path: Path) -> None:
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(PDF)
    term = Term.spawn(["chat"], emulator)
    try:
        term.prompt()
        term.send(f"/file {contract}\r")
        term.expect("attached to your next message")
        term.prompt()
        assert "files.upload" in emulator.stats()["endpoints"]
        term.send("ECHO the obligations\r")
        term.expect("the obligations")
        term.prompt()
        messages = emulator.stats()["chat_requests"][-1]["messages"]
        assert [m["role"] for m in messages] == ["system", "user"]
        assert "Penalty clause seven" in messages[0]["content"]
        term.send("ECHO and then\r")
        term.expect("and then")
        term.prompt()
        again = emulator.stats()["chat_requests"][-1]["messages"]
        assert [m["role"] for m in again] == ["system", "user", "assistant", "user"]
        term.send(f"/file {contract}\r")  # the same bytes: from the index
        term.expect("attached to your next message")
        term.prompt()
        endpoints = emulator.stats()["endpoints"]
        assert endpoints["files.upload"] == 1 and endpoints["files.content"] == 1
        term.send("/file\r")
        term.expect("kimi: error: /file needs a path")
        term.prompt()
        assert term.exit() == 0
    finally:
        term.child.close(force=True)


def test_f_documents_with_i_go_with_the_first_message(emulator: Emulator, tmp_path: Path) -> None:
    contract = tmp_path / "contract.pdf"
    contract.write_bytes(PDF)
    term = Term.spawn(["chat", "-i", "-f", str(contract), "ECHO first"], emulator)
    try:
        term.expect("first")
        term.prompt()
        messages = emulator.stats()["chat_requests"][-1]["messages"]
        assert [m["role"] for m in messages] == ["system", "user"]
        assert "Obligation: pay rent monthly" in messages[0]["content"]
        term.send("ECHO second\r")
        term.expect("second")
        term.prompt()
        again = emulator.stats()["chat_requests"][-1]["messages"]
        assert [m["role"] for m in again] == ["system", "user", "assistant", "user"]
        assert emulator.stats()["endpoints"]["files.upload"] == 1
        assert term.exit() == 0
    finally:
        term.child.close(force=True)
