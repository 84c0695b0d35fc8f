"""The document index: entries by (base URL, SHA-256), text beside them, writes atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kimi_cli.documents import DocumentIndex, FileStamp, IndexEntry

BASE = "http://127.0.0.1:9/v1"
SHA = "a" * 64


def _entry(file_id: str = "file-1", sha: str = SHA, base: str = BASE) -> IndexEntry:
    return IndexEntry(base_url=base, sha256=sha, file_id=file_id, name="c.pdf", bytes=10)


def test_an_entry_and_its_text_come_back(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path)
    assert index.lookup(BASE, SHA) is None
    index.record(_entry(), "Obligations — ünïcode\n")
    found = index.lookup(BASE + "/", SHA)  # a trailing slash is the same base URL
    assert found == _entry()
    assert index.text(found) == "Obligations — ünïcode\n"
    # Another process sees it: it is on disk, not in memory.
    assert DocumentIndex(tmp_path).text(_entry()) == "Obligations — ünïcode\n"


def test_the_key_is_base_url_and_bytes(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path)
    index.record(_entry(), "one")
    assert index.lookup("http://other.example/v1", SHA) is None
    assert index.lookup(BASE, "b" * 64) is None
    index.record(_entry("file-2", base="http://other.example/v1"), "two")
    assert index.text(index.lookup("http://other.example/v1", SHA)) == "two"  # type: ignore[arg-type]
    assert index.text(index.lookup(BASE, SHA)) == "one"  # type: ignore[arg-type]


def test_an_entry_without_text(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path)
    index.record(_entry(), None)
    entry = index.lookup(BASE, SHA)
    assert entry is not None and index.text(entry) is None
    index.record(entry, "later")
    assert index.text(entry) == "later"


def test_forget_and_keep_only_drop_entries_and_their_text(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path)
    index.record(_entry("file-1", sha="1" * 64), "one")
    index.record(_entry("file-2", sha="2" * 64), "two")
    index.record(_entry("file-3", sha="3" * 64), "three")
    index.record(_entry("file-1", sha="1" * 64, base="http://other.example/v1"), "elsewhere")
    assert index.forget(BASE, {"file-1"}) == 1
    assert index.lookup(BASE, "1" * 64) is None
    assert index.lookup("http://other.example/v1", "1" * 64) is not None  # another account
    assert index.keep_only(BASE, {"file-3"}) == 1
    assert [e.file_id for e in index.entries(BASE)] == ["file-3"]
    texts = sorted(p.read_text() for p in (tmp_path / "documents").glob("*.txt"))
    assert texts == ["elsewhere", "three"]


def test_a_broken_index_is_an_empty_one(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path)
    index.directory.mkdir(parents=True)
    for broken in ("{not json", "[]", json.dumps({"version": 99, "entries": {}})):
        index.path.write_text(broken)
        assert index.lookup(BASE, SHA) is None
    index.path.write_text(json.dumps({"version": 1, "entries": {"x": {"odd": 1}}}))
    assert index.entries() == []
    index.record(_entry(), "fresh")  # and it can be written again
    assert index.lookup(BASE, SHA) == _entry()


def test_a_write_that_fails_leaves_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = DocumentIndex(tmp_path)
    index.record(_entry("file-1", sha="1" * 64), "one")
    before = index.path.read_bytes()

    def cut(*_: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C at the worst moment: after the temp file is written

    monkeypatch.setattr(os, "replace", cut)
    with pytest.raises(KeyboardInterrupt):
        index.record(_entry("file-2", sha="2" * 64), "two")
    monkeypatch.undo()
    assert index.path.read_bytes() == before
    assert index.lookup(BASE, "2" * 64) is None
    assert not list(index.directory.glob(".*.tmp"))  # no temporary file left behind


def test_an_unwritable_cache_costs_only_an_upload(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache dir should be")
    index = DocumentIndex(blocker)
    index.record(_entry(), "text")  # no exception: it is a cache
    assert index.lookup(BASE, SHA) is None


def test_hash_memo_trusts_only_the_same_stamp(tmp_path: Path) -> None:
    index = DocumentIndex(tmp_path)
    path = tmp_path / "c.pdf"
    stamp = FileStamp(size=10, mtime_ns=1, inode=2)
    index.remember_hash(path, stamp, SHA)
    assert index.known_hash(path, stamp) == SHA
    assert index.known_hash(path, FileStamp(size=10, mtime_ns=2, inode=2)) is None
    assert index.known_hash(path, FileStamp(size=11, mtime_ns=1, inode=2)) is None
    assert index.known_hash(tmp_path / "other.pdf", stamp) is None
