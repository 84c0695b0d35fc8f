"""History as a record of spend and a searchable archive: usage rows, FTS, reading when
the data dir cannot be written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from kimi_cli.api.types import Usage
from kimi_cli.errors import HistoryError
from kimi_cli.history import HistoryStore, UsageTotals, connection, queries


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(tmp_path / "data" / "history.db") as opened:
        yield opened


def _chat(store: HistoryStore, text: str, answer: str, **billing: object) -> str:
    cid = store.new_conversation(model="kimi-k3", title=text)
    store.add_message(cid, "user", text, model="kimi-k3")
    store.add_message(cid, "assistant", answer, model="kimi-k3", **billing)  # type: ignore[arg-type]
    return cid


def test_an_answer_with_usage_is_one_usage_row(store: HistoryStore) -> None:
    _chat(store, "hi", "hello", usage=Usage(1000, 500, 400), cost=0.00942, currency="USD")
    _chat(store, "again", "hello", usage=Usage(10, 5, 0), cost=None, currency="USD", kind="repl")
    _chat(store, "no usage", "partial answer")  # nothing billed, nothing counted
    totals = store.usage_totals(by="model")
    assert totals == [
        UsageTotals("kimi-k3", "kimi-k3", "USD", "chat", 1, 0, 1000, 400, 500, 0.00942),
        UsageTotals("kimi-k3", "kimi-k3", "USD", "repl", 1, 0, 10, 0, 5, None),
    ]


def test_batch_results_and_searches_are_recorded(store: HistoryStore) -> None:
    store.record_batch_result(
        "batch_1",
        "request-1",
        model="kimi-k2.6",
        usage=Usage(100, 10, 0),
        cost=0.1,
        currency="USD",
    )
    cid = _chat(store, "news?", "here", usage=Usage(10, 10, 0), cost=0.2, currency="USD")
    store.record_usage(
        kind="search",
        model="kimi-k3",
        requests=0,
        searches=3,
        cost=0.015,
        currency="USD",
        conversation_id=cid,
    )
    by_kind = {t.kind: t for t in store.usage_totals(by="day")}
    assert by_kind["batch"].cost == 0.1 and by_kind["batch"].requests == 1
    assert by_kind["search"].searches == 3 and by_kind["search"].requests == 0
    assert {t.group for t in store.usage_totals(by="conversation")} == {"", cid}
    with pytest.raises(ValueError, match="kind"):
        store.record_usage(kind="nap", model=None)


def test_spend_outlives_a_deleted_conversation(store: HistoryStore) -> None:
    _chat(store, "hi", "hello", usage=Usage(1, 1, 0), cost=0.5, currency="USD")
    store.delete_all()
    assert store.recent() == []
    (total,) = store.usage_totals(by="conversation")
    assert total.cost == 0.5 and total.group == ""


def test_since_filters_by_day(store: HistoryStore) -> None:
    _chat(store, "hi", "hello", usage=Usage(1, 1, 0), cost=0.5, currency="USD")
    assert store.usage_totals(since_day="2999-01-01") == []
    assert len(store.usage_totals(since_day="2000-01-01")) == 1


def test_v1_answers_are_backfilled_into_usage(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with HistoryStore(path) as store:
        _chat(store, "hi", "hello", usage=Usage(7, 3, 2), cost=0.25, currency="USD")
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        for statement in (
            "DROP TRIGGER messages_fts_insert",
            "DROP TRIGGER messages_fts_delete",
            "DROP TABLE messages_fts",
            "DROP TABLE usage",
            "ALTER TABLE messages DROP COLUMN tool_steps",
            "PRAGMA user_version = 1",
        ):
            db.execute(statement)
    with HistoryStore(path) as store:
        (total,) = store.usage_totals()
        assert (total.input_tokens, total.cached_tokens, total.output_tokens) == (7, 2, 3)
        assert total.cost == 0.25
        assert [hit.snippet for hit in store.search("hello")] == ["«hello»"]


def test_search_is_newest_first_and_reads_words_not_syntax(store: HistoryStore) -> None:
    old = _chat(store, "the red fox", "a fox answer")
    new = _chat(store, "a brown fox", "no")
    hits = store.search("fox")
    assert [h.conversation_id for h in hits] == [new, old, old]
    assert "«fox»" in hits[0].snippet and hits[0].role == "user"
    assert [h.conversation_id for h in store.search("red FOX")] == [old]
    assert store.search('fox" OR "red') == []  # quotes are text, not FTS syntax
    assert store.search("NEAR(") == [] and store.search("   ") == []
    assert store.search("fox", limit=1)[0].conversation_id == new


def test_search_finds_text_without_spaces(store: HistoryStore) -> None:
    cid = _chat(store, "月之暗面是一家公司", "是的")
    assert [h.conversation_id for h in store.search("暗面")] == [cid]


def test_search_forgets_deleted_messages(store: HistoryStore) -> None:
    cid = _chat(store, "unique words here", "x")
    store.delete(cid)
    assert store.search("unique") == []


def test_search_without_fts5_scans(store: HistoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = _chat(store, "the red fox", "x")
    monkeypatch.setattr(queries, "has_fts", lambda db: False)
    (hit,) = store.search("RED")
    assert hit.conversation_id == cid and "«red»" in hit.snippet


def test_reads_work_when_the_data_dir_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.db"
    with HistoryStore(path) as store:
        cid = _chat(store, "kept", "still here", usage=Usage(1, 1, 0), cost=0.1, currency="USD")

    def read_only(_: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(connection, "_prepare_files", read_only)
    with closing(HistoryStore(path)) as store:  # opened by the first read, read-only
        assert [c.id for c in store.recent()] == [cid]
        assert [m.content for m in store.messages(cid)][-1] == "still here"
        assert store.search("kept")[0].conversation_id == cid
        assert store.usage_totals()[0].cost == 0.1
        with pytest.raises(HistoryError, match="could not write"):
            store.new_conversation(model="m", title="t")
    empty = HistoryStore(tmp_path / "none" / "history.db")
    assert empty.recent() == [] and empty.get("abc") is None


def test_a_file_never_migrated_reads_as_empty_when_it_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run made the file, then the disk was full (or the run was killed) before the schema.
    never_migrated = tmp_path / "made" / "history.db"
    never_migrated.parent.mkdir()
    never_migrated.touch()
    older = tmp_path / "older" / "history.db"
    older.parent.mkdir()
    with closing(sqlite3.connect(older)) as db:
        db.execute("CREATE TABLE conversations (id TEXT PRIMARY KEY)")
        db.execute(f"PRAGMA user_version = {connection.SCHEMA_VERSION - 1}")
        db.commit()

    def disk_full(path: Path) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(connection, "_prepare_files", disk_full)
    empty = HistoryStore(never_migrated)
    assert empty.recent() == [] and empty.get("abc") is None and empty.search("x") == []
    # An older schema is brought up to date by a write only: said as the write failure it is.
    with (
        closing(HistoryStore(older)) as store,
        pytest.raises(HistoryError, match="could not write history database") as failed,
    ):
        store.recent()
    assert "— free some disk space" in failed.value.line()
