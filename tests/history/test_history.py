"""History in SQLite: real files under tmp_path, real locks, real processes."""

from __future__ import annotations

import multiprocessing
import os
import re
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kimi_cli import history
from kimi_cli.api.types import Usage
from kimi_cli.errors import ExitCode, HistoryError, UsageError
from kimi_cli.history import (
    ConversationSummary,
    HistoryStore,
    StoredMessage,
    connection,
    failures,
    schema,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")

# The v1 schema exactly as released; never edit it: old files look like this.
V1_SCHEMA = (
    """CREATE TABLE conversations (id TEXT PRIMARY KEY, title TEXT NOT NULL,
    model TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    used_seq INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX conversations_by_use ON conversations (used_seq)",
    """CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content TEXT NOT NULL, reasoning TEXT, model TEXT, created_at TEXT NOT NULL,
    partial INTEGER NOT NULL DEFAULT 0, finish_reason TEXT, input_tokens INTEGER,
    output_tokens INTEGER, cached_tokens INTEGER, cost REAL, currency TEXT)""",
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, id)",
    "PRAGMA user_version = 1",
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(db_path) as opened:
        yield opened


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _create(path: Path) -> None:
    with HistoryStore(path):
        pass


def _user_version(path: Path) -> int:
    with closing(_raw(path)) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    return int(version)


# -- files, permissions, migrations ----------------------------------------------------------


def test_constructor_does_not_touch_disk(db_path: Path) -> None:
    HistoryStore(db_path)
    assert not db_path.parent.exists()


@posix_only
@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_file_0600_dir_0700_whatever_the_umask(db_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        with HistoryStore(db_path) as store:
            store.new_conversation(model="kimi-k3", title="t")
    finally:
        os.umask(old)
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    for sidecar in db_path.parent.glob("history.db-*"):  # -wal, -shm follow the main file
        assert stat.S_IMODE(sidecar.stat().st_mode) & 0o077 == 0


@posix_only
def test_existing_loose_file_is_tightened(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.touch(mode=0o644)
    os.chmod(db_path, 0o644)
    _create(db_path)
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_wal_and_pragmas(store: HistoryStore, db_path: Path) -> None:
    store.open()
    with closing(_raw(db_path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert _user_version(db_path) == history.SCHEMA_VERSION == len(schema.MIGRATIONS)


def test_empty_v0_file_opens(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    with HistoryStore(db_path) as store:
        cid = store.new_conversation(model="kimi-k3", title="hello")
        assert store.get(cid) is not None
    assert _user_version(db_path) == history.SCHEMA_VERSION


def test_v1_file_with_data_opens(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db = _raw(db_path)
    for statement in V1_SCHEMA:
        db.execute(statement)
    db.execute(
        "INSERT INTO conversations VALUES ('abcd2345', 'old', 'kimi-k2.5', "
        "'2026-01-01T00:00:00.000000+00:00', '2026-01-01T00:00:00.000000+00:00', 1)"
    )
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at)"
        " VALUES ('abcd2345', 'user', 'hi', '2026-01-01T00:00:00.000000+00:00')"
    )
    db.close()
    with HistoryStore(db_path) as store:
        summary = store.get("abcd")
        assert summary is not None and summary.title == "old" and summary.messages == 1
        assert [m.content for m in store.messages("abcd2345")] == ["hi"]
        store.add_message("abcd2345", "assistant", "hello again")
        assert store.last_used() == store.get("abcd2345")
    assert _user_version(db_path) == history.SCHEMA_VERSION


def test_adding_a_migration_is_one_function_and_the_version_number(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HistoryStore(db_path) as store:
        cid = store.new_conversation(model="kimi-k3", title="t")

    def to_next(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, to_next])
    monkeypatch.setattr(connection, "SCHEMA_VERSION", history.SCHEMA_VERSION + 1)
    with HistoryStore(db_path) as store:
        assert store.get(cid) is not None
    assert _user_version(db_path) == history.SCHEMA_VERSION + 1
    with closing(_raw(db_path)) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(conversations)")]
    assert "pinned" in columns


def test_a_file_from_a_newer_kimi_is_refused(db_path: Path) -> None:
    _create(db_path)
    with closing(_raw(db_path)) as db:
        db.execute(f"PRAGMA user_version = {history.SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryError, match="newer than this kimi knows") as caught:
        HistoryStore(db_path).open()
    assert caught.value.hint == "upgrade kimi, or move the file aside"
    assert _user_version(db_path) == history.SCHEMA_VERSION + 1


def test_failed_migration_changes_nothing(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _create(db_path)

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute("THIS IS NOT SQL")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    monkeypatch.setattr(connection, "SCHEMA_VERSION", history.SCHEMA_VERSION + 1)
    with pytest.raises(HistoryError, match=re.escape(str(db_path))):
        HistoryStore(db_path).open()
    assert _user_version(db_path) == history.SCHEMA_VERSION
    with closing(_raw(db_path)) as db:
        assert (
            db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
        )


def test_newer_schema_is_refused(db_path: Path) -> None:
    _create(db_path)
    with closing(_raw(db_path)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(HistoryError) as caught:
        _create(db_path)
    assert "newer" in caught.value.line() and str(db_path) in caught.value.line()


def test_no_column_for_a_key(store: HistoryStore, db_path: Path) -> None:
    store.open()
    with closing(_raw(db_path)) as db:
        names = [
            column[1].lower()
            for table in ("conversations", "messages")
            for column in db.execute(f"PRAGMA table_info({table})")
        ]
    assert not [name for name in names if "key" in name or "secret" in name or "auth" in name]


# -- conversations and messages --------------------------------------------------------------


def test_new_conversation_with_system_prompt(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="T", system="Be brief.")
    assert len(cid) == 8 and cid.isalnum() and cid == cid.lower()
    summary = store.get(cid)
    assert summary is not None
    assert (summary.id, summary.title, summary.model, summary.messages) == (cid, "T", "kimi-k3", 1)
    [system] = store.messages(cid)
    assert (system.role, system.content, system.partial) == ("system", "Be brief.", False)


def test_add_messages_round_trip(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="T")
    user_id = store.add_message(cid, "user", "Why is the sky blue?")
    answer_id = store.add_message(
        cid,
        "assistant",
        "Rayleigh scattering.",
        reasoning="Short wavelengths scatter more…",
        model="kimi-k3.1-pro",
        usage=Usage(input_tokens=12, output_tokens=34, cached_tokens=5),
        cost=0.00042,
        currency="USD",
        finish_reason="stop",
    )
    assert answer_id > user_id
    user, answer = store.messages(cid)
    assert user == StoredMessage(
        id=user_id, role="user", content="Why is the sky blue?", reasoning=None, model=None,
        created_at=user.created_at, partial=False, finish_reason=None, input_tokens=None,
        output_tokens=None, cached_tokens=None, cost=None, currency=None,
    )  # fmt: skip
    assert answer.reasoning == "Short wavelengths scatter more…"
    assert (answer.input_tokens, answer.output_tokens, answer.cached_tokens) == (12, 34, 5)
    assert (answer.cost, answer.currency, answer.finish_reason) == (0.00042, "USD", "stop")
    assert answer.model == "kimi-k3.1-pro"
    summary = store.get(cid)
    assert summary is not None
    assert summary.model == "kimi-k3.1-pro"  # the model used last
    assert summary.messages == 2
    assert summary.updated_at == answer.created_at > summary.created_at


def test_partial_flag_round_trip(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="T")
    store.add_message(cid, "user", "long story please")
    store.add_message(cid, "assistant", "Once upon a", partial=True, reasoning="plot…")
    [_, cut] = store.messages(cid)
    assert cut.partial is True and cut.finish_reason is None and cut.reasoning == "plot…"


def test_unicode_and_empty_content(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="月之暗面 🌙")
    store.add_message(cid, "assistant", "", partial=True)
    store.add_message(cid, "user", "naïve ☃ \x00 nul")
    assert [m.content for m in store.messages(cid)] == ["", "naïve ☃ \x00 nul"]
    assert store.recent()[0].title == "月之暗面 🌙"


def test_timestamps_are_utc_iso_with_microseconds(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="T")
    store.add_message(cid, "user", "a")
    [message] = store.messages(cid)
    parsed = datetime.fromisoformat(message.created_at)
    assert parsed.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 60
    assert len(message.created_at.split(".")[1]) == len("123456+00:00")


def test_add_message_to_unknown_conversation(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match="no conversation zzzzzzzz"):
        store.add_message("zzzzzzzz", "user", "hi")


def test_add_message_bad_role(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="T")
    with pytest.raises(ValueError, match="role"):
        store.add_message(cid, "tool", "x")


def test_get_by_prefix_and_unknown(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="T")
    for prefix in (cid, cid[:5], cid[:1], cid[:3].upper(), f"  {cid} "):
        summary = store.get(prefix)
        assert summary is not None and summary.id == cid
    assert store.get("") is None
    other = "0" if cid[0] != "0" else "1"
    assert store.get(other) is None
    assert store.messages(other) == []


def test_ambiguous_prefix_names_the_matches(
    store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = iter(["abc00001", "abc00001", "abc00002", "abd00003"])  # one duplicate, retried
    monkeypatch.setattr(history.store, "new_id", lambda: next(ids))
    first = store.new_conversation(model="m", title="1")
    second = store.new_conversation(model="m", title="2")
    third = store.new_conversation(model="m", title="3")
    assert (first, second, third) == ("abc00001", "abc00002", "abd00003")
    with pytest.raises(UsageError) as caught:
        store.get("abc")
    line = caught.value.line()
    assert "ambiguous" in line and "abc00001" in line and "abc00002" in line
    assert "abd00003" not in line
    assert caught.value.exit_code == ExitCode.USAGE  # like an unknown id
    assert store.get("abd") is not None
    assert store.get("abc00002") is not None  # a full id is never ambiguous
    with pytest.raises(UsageError):
        store.delete("ab")
    assert len(store.recent()) == 3


def test_last_used_is_by_use_not_creation(store: HistoryStore) -> None:
    assert store.last_used() is None
    a = store.new_conversation(model="kimi-k3", title="A")
    b = store.new_conversation(model="kimi-k3", title="B")
    last = store.last_used()
    assert last is not None and last.id == b
    store.add_message(a, "user", "back to A")
    last = store.last_used()
    assert last is not None and last.id == a
    assert [s.id for s in store.recent()] == [a, b]
    store.add_message(b, "user", "and B")
    assert [s.id for s in store.recent()] == [b, a]


def test_list_and_limit(store: HistoryStore) -> None:
    assert store.recent() == []
    ids = [store.new_conversation(model="kimi-k3", title=str(n)) for n in range(5)]
    listed = store.recent()
    assert [s.id for s in listed] == ids[::-1]
    assert all(isinstance(s, ConversationSummary) for s in listed)
    assert [s.id for s in store.recent(limit=2)] == ids[:-3:-1]
    assert store.recent(limit=0) == []


def test_set_title(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="old")
    assert store.set_title(cid[:4], "new") is True
    summary = store.get(cid)
    assert summary is not None and summary.title == "new"
    assert store.set_title("zzzzzzzz", "x") is False


def test_delete_and_delete_all(store: HistoryStore, db_path: Path) -> None:
    a = store.new_conversation(model="kimi-k3", title="A", system="s")
    b = store.new_conversation(model="kimi-k3", title="B")
    store.add_message(a, "user", "x")
    assert store.delete(a) is True
    assert store.delete(a) is False
    assert store.get(a) is None and store.messages(a) == []
    with closing(_raw(db_path)) as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0  # cascaded
    c = store.new_conversation(model="kimi-k3", title="C")
    store.add_message(c, "user", "y")
    assert store.delete_all() == 2
    assert store.recent() == [] and store.get(b) is None
    assert store.delete_all() == 0


def test_lazy_open_close_and_reopen(db_path: Path) -> None:
    store = HistoryStore(db_path)
    cid = store.new_conversation(model="kimi-k3", title="T")  # opens lazily
    store.close()
    store.close()  # idempotent
    assert store.get(cid) is not None  # reopens lazily
    store.close()
    with HistoryStore(db_path) as again:
        assert again.get(cid) is not None


# -- failures become one HistoryError line -------------------------------------------------


def _every_public_call(store: HistoryStore) -> list[Callable[[], object]]:
    return [
        store.open,
        store.recent,
        store.last_used,
        lambda: store.get("abc"),
        lambda: store.messages("abc"),
        lambda: store.new_conversation(model="m", title="t"),
        lambda: store.add_message("abc", "user", "x"),
        lambda: store.set_title("abc", "x"),
        lambda: store.delete("abc"),
        store.delete_all,
    ]


def test_corrupt_file(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = bytes(range(256)) * 64
    db_path.write_bytes(garbage)
    store = HistoryStore(db_path)
    for call in _every_public_call(store):
        with pytest.raises(HistoryError) as caught:
            call()
        line = caught.value.line()
        assert str(db_path) in line and "corrupt" in line and "move it aside" in line
        assert "\n" not in line
        assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
    assert db_path.read_bytes() == garbage
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["history.db"]


def test_locked_for_writing(db_path: Path) -> None:
    _create(db_path)
    holder = _raw(db_path)
    holder.execute("BEGIN EXCLUSIVE")
    store = HistoryStore(db_path, busy_timeout_s=0.05)
    try:
        assert store.recent() == []  # WAL: readers are not blocked
        with pytest.raises(HistoryError) as caught:
            store.new_conversation(model="kimi-k3", title="T")
        line = caught.value.line()
        assert str(db_path) in line and "locked by another process" in line and "retry" in line
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.new_conversation(model="kimi-k3", title="T")  # after the lock is gone
    store.close()


def test_locked_while_creating(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    holder = _raw(db_path)  # a rollback-journal database: an exclusive lock blocks readers
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryError, match="locked by another process"):
            HistoryStore(db_path, busy_timeout_s=0.05).open()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_disk_full(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="T")
    assert store._db is not None
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 1}")  # as if the disk were full
    with pytest.raises(HistoryError) as caught:
        store.add_message(cid, "user", "x" * 200_000)
    assert "could not write" in caught.value.line() and "free disk space" in caught.value.line()
    assert [m.role for m in store.messages(cid)] == []  # nothing half-written


def test_unwritable_location(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    store = HistoryStore(blocker / "history.db")
    assert store.recent() == [] and store.search("x") == []  # a read finds nothing stored
    with pytest.raises(HistoryError) as caught:
        store.new_conversation(model="m", title="t")
    assert "could not write" in caught.value.line() and str(blocker) in caught.value.line()


def _sqlite_error(code: int) -> sqlite3.Error:
    exc = sqlite3.OperationalError("boom")
    exc.sqlite_errorcode = code
    return exc


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (sqlite3.SQLITE_CORRUPT, "is corrupt"),
        (sqlite3.SQLITE_NOTADB, "is corrupt"),
        (sqlite3.SQLITE_BUSY, "locked by another process"),
        (sqlite3.SQLITE_BUSY | (1 << 8), "locked by another process"),  # extended code
        (sqlite3.SQLITE_LOCKED, "locked by another process"),
        (sqlite3.SQLITE_FULL, "free disk space"),
        (sqlite3.SQLITE_READONLY, "check permissions"),
        (sqlite3.SQLITE_CANTOPEN, "check permissions"),
        (sqlite3.SQLITE_IOERR, "check permissions"),
        (sqlite3.SQLITE_ERROR, "failed"),
    ],
)
def test_translation(code: int, words: str, tmp_path: Path) -> None:
    error = failures.translate(_sqlite_error(code), tmp_path / "h.db")
    assert isinstance(error, HistoryError)
    assert words in error.line() and str(tmp_path / "h.db") in error.line()


# -- several processes at once -----------------------------------------------------------------

WORKERS = 6
CONVERSATIONS_EACH = 30


def _append_conversations(path: str, worker: int) -> None:
    store = HistoryStore(Path(path))
    for n in range(CONVERSATIONS_EACH):
        cid = store.new_conversation(model="kimi-k3", title=f"w{worker} c{n}")
        store.add_message(cid, "user", f"question {worker}/{n}")
        store.add_message(cid, "assistant", f"answer {worker}/{n}", usage=Usage(1, 2, 0))
    store.close()


@pytest.mark.slow
def test_concurrent_processes_lose_no_row(db_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_append_conversations, args=(str(db_path), worker))
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=90)
    assert [process.exitcode for process in processes] == [0] * WORKERS
    with HistoryStore(db_path) as store:
        conversations = store.recent()
    assert len(conversations) == WORKERS * CONVERSATIONS_EACH
    assert len({c.id for c in conversations}) == WORKERS * CONVERSATIONS_EACH
    assert all(c.messages == 2 for c in conversations)
    with closing(_raw(db_path)) as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 2 * len(conversations)
    titles = {c.title for c in conversations}
    assert titles == {f"w{w} c{n}" for w in range(WORKERS) for n in range(CONVERSATIONS_EACH)}


def test_lone_surrogates_do_not_break_a_write(store: HistoryStore) -> None:
    cid = store.new_conversation(model="kimi-k3", title="t\ud800")
    store.add_message(cid, "assistant", "a\udc00b 🌙", reasoning="\ud83d")
    [message] = store.messages(cid)
    assert (message.content, message.reasoning) == ("a\ufffdb 🌙", "\ufffd")
    assert store.recent()[0].title == "t\ufffd"


_NO_FILE_HANDLES = r"""
import os, resource, sys
from pathlib import Path
from kimi_cli.errors import HistoryError
from kimi_cli.history import HistoryStore

store = HistoryStore(Path(sys.argv[1]) / "history.db")
open_now = len(os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"))
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (open_now - 1, hard))  # listdir counted its own
try:
    store.new_conversation(model="m", title="t")
except HistoryError as exc:
    print(exc.line())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file-handle limit")
def test_out_of_file_handles_is_a_history_error_line_not_a_crash(tmp_path: Path) -> None:
    """The failure translation is loaded with the store: when no file can be opened, it
    cannot be imported then."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _NO_FILE_HANDLES, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "history" in done.stdout and str(tmp_path) in done.stdout, done.stdout
