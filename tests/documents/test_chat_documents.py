"""``kimi chat -f`` with documents, as a user runs it: the console script's entry point
against the emulator, whose counters prove what was sent and what was not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kimi_cli.emulator import Emulator
from tests.helpers import SECRET_KEY, Outcome, invoke, run_process

PDF = b"%PDF-1.4\n\x00\x01Obligation: pay rent monthly\x00\x02Penalty clause seven\n%%EOF\n"
FIX = "kimi files rm --purpose file-extract --older-than 30 -y"


@pytest.fixture
def contract(tmp_path: Path) -> Path:
    path = tmp_path / "contract.pdf"
    path.write_bytes(PDF)
    return path


def _files_sent(emulator: Emulator) -> tuple[int, int]:
    endpoints = emulator.stats()["endpoints"]
    return endpoints.get("files.upload", 0), endpoints.get("files.content", 0)


def _last_messages(emulator: Emulator) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = emulator.stats()["chat_requests"][-1]["messages"]
    return messages


def _chat(*args: str) -> Outcome:
    outcome = run_process("chat", *args)
    assert SECRET_KEY not in outcome.stdout + outcome.stderr
    assert "Traceback" not in outcome.stderr
    return outcome


def test_a_document_is_uploaded_once_and_sent_as_a_system_message(
    configured: Emulator, contract: Path
) -> None:
    first = _chat("-f", str(contract), "ECHO list the obligations")
    assert first.code == 0, first.stderr
    assert first.stdout.strip() == "list the obligations"
    assert _files_sent(configured) == (1, 1)
    messages = _last_messages(configured)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"].startswith("Extracted text of contract.pdf")
    assert "Penalty clause seven" in messages[0]["content"]
    assert messages[1]["content"] == "ECHO list the obligations"  # the bytes are not inline

    again = _chat("-f", str(contract), "ECHO once more")
    assert again.code == 0 and again.stdout.strip() == "once more"
    assert _files_sent(configured) == (1, 1)  # no upload, no content request
    assert _last_messages(configured)[0] == messages[0]

    follow_up = _chat("-c", "ECHO and the penalties?")
    assert follow_up.code == 0 and follow_up.stdout.strip() == "and the penalties?"
    assert _files_sent(configured) == (1, 1)
    resent = _last_messages(configured)
    assert [m["role"] for m in resent] == ["system", "user", "assistant", "user"]
    assert resent[0] == messages[0]
    assert configured.stats()["endpoints"]["chat"] == 3


@pytest.mark.slow
def test_a_changed_file_is_uploaded_once_more(configured: Emulator, contract: Path) -> None:
    assert _chat("-f", str(contract), "ECHO one").code == 0
    contract.write_bytes(PDF + b"\x00Clause eight: no pets\n")
    assert _chat("-f", str(contract), "ECHO two").code == 0
    assert _files_sent(configured) == (2, 2)
    assert "Clause eight" in _last_messages(configured)[0]["content"]
    assert _chat("-f", str(contract), "ECHO three").code == 0
    assert _files_sent(configured) == (2, 2)


def test_documents_go_in_f_order_beside_text_files(
    configured: Emulator, contract: Path, tmp_path: Path
) -> None:
    other = tmp_path / "annex.docx"
    other.write_bytes(b"PK\x03\x04\x00\x00Annex: parking rules\x00")
    notes = tmp_path / "notes.md"
    notes.write_text("my notes\n")
    outcome = _chat("-f", str(other), "-f", str(notes), "-f", str(contract), "ECHO ok")
    assert outcome.code == 0, outcome.stderr
    messages = _last_messages(configured)
    assert [m["role"] for m in messages] == ["system", "system", "user"]
    assert "Annex: parking rules" in messages[0]["content"]
    assert "Penalty clause seven" in messages[1]["content"]
    assert messages[2]["content"].startswith(f"{notes}\n```\nmy notes\n```")  # text: inline


@pytest.mark.slow
def test_the_conversation_keeps_its_documents(configured: Emulator, contract: Path) -> None:
    first = json.loads(_chat("--json", "-f", str(contract), "ECHO one").stdout)
    conversation = first["conversation_id"]
    assert _chat("--session", conversation, "ECHO two").code == 0
    assert [m["role"] for m in _last_messages(configured)][:2] == ["system", "user"]
    assert _files_sent(configured) == (1, 1)

    shown = invoke("history", "show", conversation)
    assert shown.code == 0
    assert f"document {contract} · {len(PDF)} bytes · sha256 " in shown.stdout
    assert "Penalty clause seven" not in shown.stdout  # named, not printed
    data = json.loads(invoke("history", "show", "--json", conversation).stdout)
    [document] = data["documents"]
    assert document["name"].endswith("contract.pdf")
    assert document["bytes"] == len(PDF)
    assert len(document["sha256"]) == 64
    assert document["file_id"].startswith("file-")


@pytest.mark.slow
def test_files_rm_of_a_cached_file_makes_the_next_f_upload_again(
    configured: Emulator, contract: Path
) -> None:
    assert _chat("-f", str(contract), "ECHO one").code == 0
    [file] = json.loads(invoke("files", "list", "--json").stdout)
    removed = invoke("files", "rm", file["id"])
    assert removed.code == 0, removed.stderr
    assert _chat("-f", str(contract), "ECHO two").code == 0
    assert _files_sent(configured) == (2, 2)


def test_over_100_mb_is_refused_before_anything_is_sent(
    configured: Emulator, tmp_path: Path
) -> None:
    big = tmp_path / "scan.pdf"
    with big.open("wb") as out:  # sparse: 101 MB without writing them
        out.truncate(101 * 1024 * 1024)
    line = _chat("-f", str(big), "summarise").assert_one_error_line(2)
    assert "scan.pdf" in line and "101.0 MB" in line and "100.0 MB" in line
    assert configured.stats()["total"] == 0


def test_extracted_text_counts_against_the_context(configured: Emulator, tmp_path: Path) -> None:
    configured.configure(models=[{"id": "kimi-k2.6", "context_length": 8000}])
    long = tmp_path / "long.pdf"
    long.write_bytes(
        b"%PDF\x00" + b"\x00".join(b"clause %06d of the lease" % i for i in range(4000))
    )
    line = _chat("-f", str(long), "summarise").assert_one_error_line(2)
    assert "tokens" in line and "8,000" in line
    assert "chat" not in configured.stats()["endpoints"]


def test_a_full_account_names_the_fix(configured: Emulator, contract: Path) -> None:
    configured.configure(faults=[{"name": "files_full", "once": True}])
    line = _chat("-f", str(contract), "ECHO hi").assert_one_error_line(1)
    assert FIX in line
    assert "chat" not in configured.stats()["endpoints"]


def test_a_refused_type_is_one_line(configured: Emulator, contract: Path) -> None:
    configured.configure(faults=[{"name": "file_type_refused", "once": True}])
    line = _chat("-f", str(contract), "ECHO hi").assert_one_error_line(1)
    assert "refused" in line and "contract.pdf" in line
    assert "chat" not in configured.stats()["endpoints"]
    # Nothing was recorded: the next try uploads.
    assert _chat("-f", str(contract), "ECHO hi").code == 0
    assert _files_sent(configured) == (2, 1)


def test_a_refusal_quotes_the_api_once_and_names_the_file(
    configured: Emulator, contract: Path
) -> None:
    configured.configure(faults=[{"name": "file_type_refused", "once": True}])
    line = _chat("-f", str(contract), "ECHO hi").assert_one_error_line(1)
    assert line.startswith(
        "kimi: error: the API refused contract.pdf: Invalid request: unsupported file type "
    ), line
    assert "the API refused the request" not in line


def test_a_failed_extraction_names_the_file_not_its_id(
    configured: Emulator, contract: Path
) -> None:
    configured.configure(faults=[{"name": "extract_failed"}])
    line = _chat("-f", str(contract), "ECHO hi").assert_one_error_line(1)
    assert line.startswith(
        f"kimi: error: the API could not extract the text of {contract}: "
        "Failed to extract file: emulated parse error — check the file opens"
    ), line
    assert "file-emu" not in line.split("(request id")[0]
    assert "chat" not in configured.stats()["endpoints"]


def test_a_broken_index_only_costs_an_upload(
    configured: Emulator, contract: Path, isolated_env: Path
) -> None:
    assert _chat("-f", str(contract), "ECHO one").code == 0
    index = isolated_env / "cache" / "documents" / "index.json"
    index.write_text("{half a json")
    assert _chat("-f", str(contract), "ECHO two").code == 0
    assert _files_sent(configured) == (2, 2)
    assert json.loads(index.read_text())["version"] == 1
    assert os.stat(index).st_size > 0


def _interrupt_chat_during(emu: Emulator, document: Path, endpoint: str) -> None:
    """``kimi chat -f document`` as a real process, Ctrl-C while ``endpoint`` is answering:
    exit 130, one error line, nothing on stdout."""
    emu.configure(faults=[{"name": "slow_first_byte", "once": True, "endpoint": endpoint}], delay=5)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimi_cli", "chat", "-f", str(document), "ECHO hi"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not emu.stats()["endpoints"].get(endpoint):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err.decode() and err.decode().count("kimi: error:") == 1
    assert out == b""


def test_ctrl_c_during_an_upload_records_nothing(
    configured: Emulator, contract: Path, isolated_env: Path
) -> None:
    _interrupt_chat_during(configured, contract, "files.upload")
    index = isolated_env / "cache" / "documents" / "index.json"
    entries = json.loads(index.read_text())["entries"] if index.exists() else {}
    assert entries == {}
    assert "chat" not in configured.stats()["endpoints"]
    # The next try uploads again and is recorded.
    assert _chat("-f", str(contract), "ECHO hi").code == 0
    assert len(json.loads(index.read_text())["entries"]) == 1


def test_ctrl_c_while_the_text_is_awaited_keeps_the_upload_for_the_next_try(
    configured: Emulator, contract: Path
) -> None:
    """Interrupted after the upload, before the extracted text came: the next ``-f`` of
    the same bytes asks only for the text, and the account holds one copy, not two."""
    _interrupt_chat_during(configured, contract, "files.content")
    assert _files_sent(configured) == (1, 1)
    again = _chat("-f", str(contract), "ECHO hi")
    assert again.code == 0 and again.stdout == "hi\n", again.stderr
    assert _files_sent(configured) == (1, 2)  # no second upload: only the text was asked for
    listed = json.loads(run_process("files", "list", "--json").stdout)
    assert [f["filename"] for f in listed] == ["contract.pdf"]


def test_a_document_piped_to_f_dash_says_to_save_it_to_a_file(configured: Emulator) -> None:
    line = run_process("chat", "-f", "-", "ECHO hi", input=PDF).assert_one_error_line(2)
    assert line.count("binary") == 1, line
    assert "standard input" in line and "save it to a file" in line and "-f FILE" in line
    assert set(configured.stats()["endpoints"]) <= {"models"}  # nothing uploaded or sent


@pytest.mark.parametrize(
    ("flag", "value"), [("--temperature", "0.3"), ("--effort", "low"), ("--no-thinking", None)]
)
def test_a_flag_the_model_refuses_uploads_no_document(
    configured: Emulator, contract: Path, flag: str, value: str | None
) -> None:
    """Refused before anything is sent: the document is not uploaded first."""
    model = "kimi-k2.7-code" if flag == "--no-thinking" else "kimi-k2.6"
    args = [flag] + ([value] if value else [])
    out = _chat("-m", model, *args, "-f", str(contract), "ECHO hi")
    out.assert_one_error_line(2)
    assert _files_sent(configured) == (0, 0)


def test_two_chats_with_the_same_new_document_at_once_upload_it_once(
    configured: Emulator, contract: Path
) -> None:
    """The second waits for the first one's upload and uses its entry: one copy in the
    account, the one the index knows. The test holds the upload claim of these bytes while
    both start, so nothing may be uploaded until it lets go."""
    import hashlib

    from kimi_cli.documents.index import DocumentIndex

    index = DocumentIndex(Path(os.environ["KIMI_CACHE_DIR"]))
    sha = hashlib.sha256(PDF).hexdigest()
    command = [sys.executable, "-m", "kimi_cli", "chat", "-f", str(contract)]
    with index.uploading(configured.base_url, sha):
        procs = [
            subprocess.Popen(
                [*command, f"ECHO {word}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for word in ("one", "two")
        ]
        try:
            time.sleep(2.0)  # time enough to reach the upload
            assert _files_sent(configured) == (0, 0)
            assert [p.poll() for p in procs] == [None, None]
        except BaseException:
            for proc in procs:
                proc.kill()
            raise
    outs = [p.communicate(timeout=30) for p in procs]
    assert [(p.returncode, out) for p, (out, _) in zip(procs, outs, strict=True)] == [
        (0, b"one\n"),
        (0, b"two\n"),
    ]
    assert _files_sent(configured) == (1, 1)
    (entry,) = index.entries(configured.base_url)
    assert [f["id"] for f in json.loads(invoke("files", "list", "--json").stdout)] == [
        entry.file_id
    ]
