"""``kimi files upload|list|show|content|rm`` as a user runs them: through the console
script's own entry point (real processes where the terminal or the output's bytes matter),
stdout as data, the emulator's counters as proof."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pexpect

from kimi_cli.emulator import Emulator
from tests.helpers import SECRET_KEY, invoke, run_process
from tests.terminal import Term, plain

PDF = b"%PDF-1.4\n\x00\x01Obligation: pay rent monthly\x00\n"
FIELDS = {"id", "filename", "bytes", "purpose", "created_at", "status"}


def _upload(path: Path, *extra: str) -> list[dict[str, object]]:
    outcome = invoke("files", "upload", str(path), "--json", *extra)
    assert outcome.code == 0, outcome.stderr
    data: list[dict[str, object]] = json.loads(outcome.stdout)
    return data


def test_upload_list_show_content(configured: Emulator, tmp_path: Path) -> None:
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(PDF)
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"custom_id": "1"}\n')
    [uploaded] = _upload(pdf)
    assert set(uploaded) == FIELDS
    assert uploaded["filename"] == "contract.pdf" and uploaded["bytes"] == len(PDF)
    plain = invoke("files", "upload", str(notes), "--purpose", "batch")
    assert plain.code == 0
    batch_id = plain.stdout.strip()  # the ID alone: scriptable
    assert batch_id.startswith("file-") and "\n" not in batch_id

    listed = json.loads(invoke("files", "list", "--json").stdout)
    assert [f["id"] for f in listed] == [uploaded["id"], batch_id]
    assert all(set(f) == FIELDS for f in listed)
    only = json.loads(invoke("files", "list", "--purpose", "batch", "--json").stdout)
    assert [f["id"] for f in only] == [batch_id]
    table = invoke("files", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "PURPOSE", "AGE", "ID"]
    assert table[1].split()[0] == "contract.pdf" and table[1].endswith(str(uploaded["id"]))

    shown = json.loads(invoke("files", "show", str(uploaded["id"]), "--json").stdout)
    assert shown == uploaded
    assert "contract.pdf" in invoke("files", "show", str(uploaded["id"])).stdout

    text = invoke("files", "content", str(uploaded["id"]))
    assert "Obligation: pay rent monthly" in text.stdout
    out = tmp_path / "out.txt"
    saved = invoke("files", "content", batch_id, "-o", str(out))
    assert saved.code == 0 and out.read_text() == '{"custom_id": "1"}\n'
    assert saved.stdout == ""


def test_an_uploaded_document_is_not_uploaded_again_by_chat_f(
    configured: Emulator, tmp_path: Path
) -> None:
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(PDF)
    _upload(pdf)
    assert invoke("chat", "-f", str(pdf), "ECHO hi").code == 0
    endpoints = configured.stats()["endpoints"]
    assert endpoints["files.upload"] == 1 and endpoints["files.content"] == 1


def test_unknown_ids_are_exit_1_with_one_line(configured: Emulator) -> None:
    for args in (("show", "file-nope"), ("content", "file-nope"), ("rm", "file-nope")):
        line = invoke("files", *args).assert_one_error_line(1)
        assert "file-nope" in line


def test_rm_selection_needs_yes_off_a_terminal(configured: Emulator, tmp_path: Path) -> None:
    for i in range(3):
        path = tmp_path / f"d{i}.pdf"
        path.write_bytes(PDF + bytes([i]))
        _upload(path)
    line = invoke("files", "rm", "--all").assert_one_error_line(2)
    assert "3 files" in line and "-y" in line
    assert len(json.loads(invoke("files", "list", "--json").stdout)) == 3
    # Nothing is older than 30 days yet: nothing matches, nothing is deleted.
    none = invoke("files", "rm", "--purpose", "file-extract", "--older-than", "30", "-y")
    assert none.code == 0 and "no files match" in none.stderr
    gone = invoke("files", "rm", "--purpose", "file-extract", "-y")
    assert gone.code == 0 and "deleted 3 files" in gone.stderr
    assert json.loads(invoke("files", "list", "--json").stdout) == []


def test_rm_needs_ids_or_a_selection(configured: Emulator) -> None:
    invoke("files", "rm").assert_one_error_line(2)
    invoke("files", "rm", "file-1", "--all").assert_one_error_line(2)


def test_rm_asks_on_a_terminal(configured: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(PDF)
    _upload(path)
    term = Term.spawn(["files", "rm", "--all"], configured)
    term.expect(r"Delete 1 file from the account\? \[y/N\]")
    term.child.sendline("n")
    # Declining is not a failure: as 'history delete --all' says it, and exits 0.
    assert "kimi: nothing deleted" in term.expect(pexpect.EOF)
    term.child.close()
    assert term.child.exitstatus == 0
    assert len(json.loads(invoke("files", "list", "--json").stdout)) == 1
    term = Term.spawn(["files", "rm", "--all"], configured)
    term.expect(r"\[y/N\]")
    term.child.sendintr()  # Ctrl-C at the question: the line ends, and one line says why
    after = term.expect(pexpect.EOF)
    term.child.close()
    assert term.child.exitstatus == 130
    assert plain(after).splitlines()[-1] == "kimi: error: interrupted", after
    assert "Traceback" not in after
    assert len(json.loads(invoke("files", "list", "--json").stdout)) == 1
    # stdout is data: the question and its answer leave nothing in a file stdout goes to
    out = tmp_path / "out.txt"
    term = Term.spawn([], configured, shell=f"{sys.executable} -m kimi_cli files rm --all > {out}")
    term.expect(r"\[y/N\]")
    term.child.sendline("y")
    term.expect("deleted 1 file")
    term.child.expect(pexpect.EOF)
    assert json.loads(invoke("files", "list", "--json").stdout) == []
    assert out.read_bytes() == b""


def test_too_large_is_refused_before_sending(configured: Emulator, tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    with big.open("wb") as out:
        out.truncate(100 * 1024 * 1024 + 1)
    line = invoke("files", "upload", str(big)).assert_one_error_line(2)
    assert "big.pdf" in line and "104,857,601 bytes" in line
    assert configured.stats()["total"] == 0


def test_the_key_is_never_printed(configured: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(PDF)
    outcomes = [
        run_process("files", "upload", str(path)),
        run_process("files", "list"),
        run_process("--debug", "files", "list", "--json"),
        run_process("files", "show", "file-nope"),
    ]
    for outcome in outcomes:
        assert SECRET_KEY not in outcome.stdout + outcome.stderr


def test_age_in_the_listing(configured: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(PDF)
    [file] = _upload(path)
    assert (
        isinstance(file["created_at"], int)
        and abs(file["created_at"] - time.time()) < 3600 * 24 * 365
    )
    row = invoke("files", "list").stdout.splitlines()[1].split()
    assert row[-2].endswith(("s", "m"))  # the age: just uploaded


def test_a_directory_or_missing_file_is_a_usage_error(configured: Emulator, tmp_path: Path) -> None:
    assert "is a directory" in invoke("files", "upload", str(tmp_path)).assert_one_error_line(2)
    missing = invoke("files", "upload", str(tmp_path / "nope.pdf"))
    assert "no such file" in missing.assert_one_error_line(2)
    assert configured.stats()["total"] == 0


def test_upload_json_that_fails_midway_prints_what_was_uploaded(
    configured: Emulator, tmp_path: Path
) -> None:
    first, empty, last = tmp_path / "a.pdf", tmp_path / "b.txt", tmp_path / "c.txt"
    first.write_bytes(PDF)
    empty.write_bytes(b"")  # the API refuses an empty file
    last.write_text("never sent")
    out = run_process("files", "upload", "--json", str(first), str(empty), str(last))
    assert out.code == 1
    [line] = out.stderr.splitlines()
    assert line.startswith("kimi: error: the API refused b.txt: File size is zero")
    [document] = json.loads(out.stdout)
    assert document["filename"] == "a.pdf" and set(document) == FIELDS
    listed = json.loads(invoke("files", "list", "--json").stdout)
    assert [f["id"] for f in listed] == [document["id"]]  # c.txt was not sent


def test_upload_json_that_fails_first_prints_nothing(configured: Emulator, tmp_path: Path) -> None:
    empty = tmp_path / "b.txt"
    empty.write_bytes(b"")
    out = run_process("files", "upload", "--json", str(empty))
    assert (out.code, out.stdout, len(out.stderr.splitlines())) == (1, "", 1)
