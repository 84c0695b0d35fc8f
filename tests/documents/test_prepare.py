"""Preparing a document against the emulator: what is sent, and what is not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kimi_cli.api import KimiClient
from kimi_cli.api.files import FileRefusedError
from kimi_cli.documents import DocumentIndex, LocalDocument
from kimi_cli.documents.prepare import prepare
from kimi_cli.emulator import Emulator

PDF = b"%PDF-1.4\n\x00\x01Obligation: pay rent monthly\x00\x02Penalty clause seven\n"


@pytest.fixture
def client(emulator: Emulator) -> Iterator[KimiClient]:
    client = KimiClient(emulator.base_url, "sk-emulator", max_retries=0)
    yield client
    client.close()


def _local(tmp_path: Path, data: bytes = PDF, name: str = "contract.pdf") -> LocalDocument:
    path = tmp_path / name
    path.write_bytes(data)
    return LocalDocument(path=path, name=name, size=len(data))


def _sent(emulator: Emulator) -> dict[str, int]:
    endpoints: dict[str, int] = emulator.stats()["endpoints"]
    return {k: v for k, v in endpoints.items() if k.startswith("files")}


def test_upload_once_then_the_index(tmp_path: Path, client: KimiClient, emulator: Emulator) -> None:
    index = DocumentIndex(tmp_path / "cache")
    local = _local(tmp_path)
    first = prepare(client, index, local)
    assert first.uploaded and first.extracted
    assert "Penalty clause seven" in first.document.content
    assert first.document.content.startswith("Extracted text of contract.pdf")
    assert _sent(emulator) == {"files.upload": 1, "files.content": 1}

    again = prepare(client, index, local)
    assert not again.uploaded and not again.extracted
    assert again.document == first.document
    assert _sent(emulator) == {"files.upload": 1, "files.content": 1}  # nothing more


def test_changed_bytes_upload_again(tmp_path: Path, client: KimiClient, emulator: Emulator) -> None:
    index = DocumentIndex(tmp_path / "cache")
    first = prepare(client, index, _local(tmp_path)).document
    changed = prepare(client, index, _local(tmp_path, PDF + b"Clause eight\n")).document
    assert changed.sha256 != first.sha256 and changed.file_id != first.file_id
    assert "Clause eight" in changed.content
    assert _sent(emulator) == {"files.upload": 2, "files.content": 2}


def test_a_known_id_without_text_asks_only_for_the_text(
    tmp_path: Path, client: KimiClient, emulator: Emulator
) -> None:
    index = DocumentIndex(tmp_path / "cache")
    local = _local(tmp_path)
    document = prepare(client, index, local).document
    for text in index.directory.glob("*.txt"):
        text.unlink()
    emulator.configure(reset_stats=True)
    again = prepare(client, index, local)
    assert not again.uploaded and again.extracted
    assert again.document == document
    assert _sent(emulator) == {"files.content": 1}


def test_a_cached_id_gone_from_the_account_uploads_again(
    tmp_path: Path, client: KimiClient, emulator: Emulator
) -> None:
    index = DocumentIndex(tmp_path / "cache")
    local = _local(tmp_path)
    old = prepare(client, index, local).document
    for text in index.directory.glob("*.txt"):
        text.unlink()
    with httpx.Client(base_url=emulator.base_url + "/") as raw:
        deleted = raw.delete(
            f"files/{old.file_id}", headers={"Authorization": "Bearer sk-emulator"}
        )
        assert deleted.status_code == 200
    emulator.configure(reset_stats=True)
    again = prepare(client, index, local)
    assert again.uploaded and again.document.file_id != old.file_id
    assert _sent(emulator) == {"files.content": 2, "files.upload": 1}  # the 404, then anew
    assert index.lookup(client.base_url, old.sha256).file_id == again.document.file_id  # type: ignore[union-attr]


def test_failed_extraction_is_not_recorded_nor_left_in_the_account(
    tmp_path: Path, client: KimiClient, emulator: Emulator
) -> None:
    index = DocumentIndex(tmp_path / "cache")
    emulator.configure(faults=[{"name": "extract_failed", "once": True}])
    with pytest.raises(FileRefusedError, match="could not extract"):
        prepare(client, index, _local(tmp_path))
    assert index.entries() == []
    assert emulator.stats()["endpoints"].get("files.delete") == 1
    assert client.request_json("GET", "files")["data"] == []


def test_an_upload_cut_by_ctrl_c_records_nothing(
    tmp_path: Path, client: KimiClient, emulator: Emulator
) -> None:
    index = DocumentIndex(tmp_path / "cache")
    big = _local(tmp_path, PDF + bytes(2 * 1024 * 1024), "big.pdf")

    def interrupt(sent: int, total: int) -> None:
        if sent > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prepare(client, index, big, progress=interrupt)
    assert index.entries() == []
    assert not list(index.directory.glob("*.txt"))
    # The next try uploads from the start and is recorded.
    assert prepare(client, index, big).uploaded
    assert len(index.entries()) == 1
