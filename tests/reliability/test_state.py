"""Reliability: state on disk fails — a config dir that cannot be written, a history database
that is corrupt, locked, or on a full disk, several processes writing it at once. A failed
history write warns once and never costs the answer or changes the exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kimi_cli.emulator import Emulator
from kimi_cli.history import HistoryStore
from tests.helpers import invoke, run_process
from tests.reliability.support import finish, messages, rows, start, stderr_lines

WARNING = "kimi: warning: history not saved: "


# -- the config dir ----------------------------------------------------------------------------


def test_unwritable_config_dir_is_exit_3_with_the_path(
    configured: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    config_dir = blocker / "config"  # its parent is a file: fails for root too
    monkeypatch.setenv("KIMI_CONFIG_DIR", str(config_dir))
    out = invoke("models", "use", "kimi-k3")
    line = out.assert_one_error_line(3)
    assert str(config_dir / "config.toml") in line
    assert blocker.read_text(encoding="utf-8") == "not a directory\n"
    # setup fails the same way, and the key it was given is not in the line
    setup = invoke("setup", "--key-stdin", "--model", "kimi-k3", input="sk-emulator\n")
    assert str(config_dir / "config.toml") in setup.assert_one_error_line(3)
    assert "sk-emulator" not in setup.stderr


# -- the model cache ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [b"\xff\x00 not json", b"[]", b'{"base_url": "x", "fetched_at": 1, "models": [5, {"id": 3}]}'],
    ids=["not-json", "not-an-object", "not-models"],
)
def test_corrupt_model_cache_is_ignored_and_refetched(
    configured: Emulator, isolated_env: Path, junk: bytes
) -> None:
    assert invoke("chat", "ECHO cached").code == 0
    cached = list((isolated_env / "cache").glob("models-*.json"))
    assert cached
    for path in cached:
        path.write_bytes(junk)
    out = invoke("chat", "ECHO still works")
    assert out.code == 0 and out.stdout == "still works\n" and out.stderr == ""
    assert configured.stats()["requests"]["GET /v1/models"] == 2  # asked the API again


# -- history: corrupt, unreachable, locked, full -------------------------------------------------


def test_corrupt_history_database_warns_once_and_the_answer_stands(
    configured: Emulator, history_db: Path
) -> None:
    history_db.parent.mkdir(parents=True)
    garbage = bytes(range(256)) * 16
    history_db.write_bytes(garbage)
    out = run_process("chat", "ECHO still answered")
    assert out.code == 0, out.stderr
    assert out.stdout == "still answered\n"
    assert stderr_lines(out) == [
        f"{WARNING}history database {history_db} is corrupt (file is not a database)"
        " — move it aside; kimi will start a new one"
    ]
    assert history_db.read_bytes() == garbage  # never overwritten
    # Reading it is a different matter: commands that need history say so, one line, exit 3.
    assert "is corrupt" in invoke("history", "list").assert_one_error_line(3)
    assert "is corrupt" in invoke("chat", "-c", "ECHO more").assert_one_error_line(3)


def test_unreachable_data_dir_warns_and_the_answer_stands(
    configured: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("KIMI_DATA_DIR", str(blocker / "data"))
    out = invoke("chat", "ECHO kept")
    assert out.code == 0 and out.stdout == "kept\n"
    [line] = stderr_lines(out)
    assert line.startswith(WARNING) and str(blocker) in line
    assert "is a file, not a directory" in line  # the fix fits the error: no "permissions"


HOLD_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes our stdin
db.execute("ROLLBACK")
"""


def test_history_locked_by_another_process_warns_and_the_answer_stands(
    configured: Emulator, history_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("chat", "ECHO first").code == 0  # the database exists (WAL mode)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(history_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        # The CLI waits the store's busy timeout (10 s) before giving up; a short one here.
        monkeypatch.setattr(HistoryStore.__init__, "__kwdefaults__", {"busy_timeout_s": 0.2})
        out = invoke("chat", "LOREM 40")
    finally:
        holder.communicate(b"", timeout=10)
    assert out.code == 0, out.stderr
    assert len(out.stdout.split()) == 40
    assert stderr_lines(out) == [
        f"{WARNING}history database {history_db} is locked by another process"
        " (database is locked) — retry"
    ]
    assert [m[:2] for m in messages(history_db)] == [("user", "ECHO first"), ("assistant", "first")]


def test_disk_full_while_saving_the_answer_warns_and_the_answer_stands(
    configured: Emulator, history_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As tests/history/test_history.py does: cap the database at the pages it has, as a full
    # disk would.
    opened = HistoryStore.open

    def open_then_fill(self: HistoryStore) -> None:
        opened(self)
        assert self._db is not None
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        self._db.execute(f"PRAGMA max_page_count = {pages}")

    assert invoke("chat", "ECHO first").code == 0
    monkeypatch.setattr(HistoryStore, "open", open_then_fill)
    out = invoke("chat", "LOREM 3000")  # the user message fits in a page; the answer cannot
    assert out.code == 0, out.stderr
    assert len(out.stdout.split()) == 3000
    [line] = stderr_lines(out)
    assert line.startswith(f"{WARNING}could not write history database {history_db}")
    assert line.endswith("(database or disk is full) — free disk space")
    assert [m[0] for m in messages(history_db)] == ["user", "assistant", "user"]


FULL_DISK_DRIVER = """
import json, os, subprocess, sys, time, urllib.request
mount_point, root_url, result_file = sys.argv[1:4]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount_point], check=True)
env = {**os.environ, "KIMI_DATA_DIR": os.path.join(mount_point, "data")}
kimi = [sys.executable, "-m", "kimi_cli", "chat"]

def run(*args):
    proc = subprocess.run(kimi + list(args), env=env, capture_output=True, stdin=subprocess.DEVNULL)
    return {"code": proc.returncode, "stdout": proc.stdout.decode(), "stderr": proc.stderr.decode()}

def configure(**changes):
    request = urllib.request.Request(root_url + "/_emulator/config", json.dumps(changes).encode(),
                                     {"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()

def chats():
    stats = json.load(urllib.request.urlopen(root_url + "/_emulator/stats"))
    return stats["requests"].get("POST /v1/chat/completions", 0)

def fill():
    fd = os.open(os.path.join(mount_point, "fill"), os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, bytes(65536))
    except OSError:
        pass
    finally:
        os.close(fd)

result = {"first": run("ECHO first")}
# The disk fills while the answer is on its way: the user message is saved, the answer is not.
configure(faults=[{"name": "slow_first_byte", "once": True}], delay=1)
proc = subprocess.Popen(kimi + ["LOREM 2000"], env=env, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
deadline = time.monotonic() + 20
while chats() < 2 and time.monotonic() < deadline:
    time.sleep(0.02)
fill()
out, err = proc.communicate(timeout=30)
result["during"] = {"code": proc.returncode, "stdout": out.decode(), "stderr": err.decode()}
# The disk is full before the next turn starts: nothing is saved, the answer still comes.
result["before"] = run("ECHO third")
# ... and a new history database cannot even be created.
env["KIMI_DATA_DIR"] = os.path.join(mount_point, "fresh")
result["fresh"] = run("ECHO fourth")
# A database closed cleanly (no -wal, no -shm left) on a disk that is full when it reopens.
env["KIMI_DATA_DIR"] = os.path.join(mount_point, "data")
os.unlink(os.path.join(mount_point, "fill"))
result["fifth"] = run("ECHO fifth")
result["files"] = sorted(os.listdir(os.path.join(mount_point, "data")))
fill()
result["reopened"] = run("ECHO sixth")
os.unlink(os.path.join(mount_point, "fill"))
import sqlite3
db = sqlite3.connect(os.path.join(mount_point, "data", "history.db"))
result["rows"] = db.execute("SELECT role, content FROM messages ORDER BY id").fetchall()
db.close()
with open(result_file, "w", encoding="utf-8") as handle:
    json.dump(result, handle)
"""


def _can_mount_tmpfs() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None or sys.platform != "linux":
        return False
    probe = subprocess.run(
        [unshare, "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt || exit 1"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.slow
def test_a_really_full_disk_warns_and_the_answers_stand(
    configured: Emulator, tmp_path: Path
) -> None:
    if not _can_mount_tmpfs():
        pytest.skip("no user namespace to mount a small tmpfs in (unshare -rm)")
    mount_point, result_file = tmp_path / "tiny", tmp_path / "result.json"
    mount_point.mkdir()
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(FULL_DISK_DRIVER), encoding="utf-8")
    where = [configured.root_url, str(result_file)]
    proc = subprocess.run(
        ["unshare", "-rm", sys.executable, str(driver), str(mount_point), *where],
        capture_output=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(result_file.read_text(encoding="utf-8"))
    assert result["first"]["code"] == 0
    db = mount_point / "data" / "history.db"
    during, before = result["during"], result["before"]
    assert during["code"] == 0 and len(during["stdout"].split()) == 2000
    assert during["stderr"].count("\n") == 1 and during["stderr"].startswith(WARNING)
    assert f"could not write history database {db}" in during["stderr"]
    assert "free disk space" in during["stderr"]
    assert before["code"] == 0 and before["stdout"] == "third\n"
    assert before["stderr"].count("\n") == 1 and before["stderr"].startswith(WARNING)
    assert "free disk space" in before["stderr"]
    fresh = result["fresh"]
    assert fresh["code"] == 0 and fresh["stdout"] == "fourth\n", fresh["stderr"]
    assert fresh["stderr"].count("\n") == 1 and fresh["stderr"].startswith(WARNING)
    assert "free disk space" in fresh["stderr"], fresh["stderr"]
    # A database closed cleanly (no -wal, no -shm) reopened on a full disk: SQLite reports
    # an I/O error growing its -shm file; the line still says what to do.
    reopened = result["reopened"]
    assert result["fifth"]["code"] == 0 and result["files"] == ["history.db"]
    assert reopened["code"] == 0 and reopened["stdout"] == "sixth\n"
    assert reopened["stderr"].count("\n") == 1 and reopened["stderr"].startswith(WARNING)
    assert "free disk space" in reopened["stderr"], reopened["stderr"]
    stored = [tuple(r) for r in result["rows"]]
    assert stored[:3] == [("user", "ECHO first"), ("assistant", "first"), ("user", "LOREM 2000")]
    # Whether the third user message still fit in the WAL depends on SQLite's pages; its
    # answer did not, nothing is half-written, and the disk once freed takes the fifth turn.
    third = [("user", "ECHO third")] if ("user", "ECHO third") in stored else []
    assert stored[3:] == [*third, ("user", "ECHO fifth"), ("assistant", "fifth")]


# -- several kimi processes at once ------------------------------------------------------------

PARALLEL = 8


@pytest.mark.slow
def test_parallel_chats_lose_no_history_row(configured: Emulator, history_db: Path) -> None:
    procs = [start("chat", f"ECHO answer {n}") for n in range(PARALLEL)]
    outs = [finish(proc, timeout=60) for proc in procs]
    for n, out in enumerate(outs):
        assert out.code == 0, out.stderr
        assert out.stdout == f"answer {n}\n" and out.stderr == ""
    conversations = rows(history_db, "SELECT id, title FROM conversations")
    assert len(conversations) == PARALLEL
    assert {str(title) for _, title in conversations} == {
        f"ECHO answer {n}" for n in range(PARALLEL)
    }
    stored = rows(
        history_db,
        "SELECT c.title, m.role, m.content, m.partial FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id",
    )
    assert len(stored) == 2 * PARALLEL
    for n in range(PARALLEL):
        mine = [
            (role, content, partial)
            for t, role, content, partial in stored
            if t == f"ECHO answer {n}"
        ]
        assert mine == [("user", f"ECHO answer {n}", 0), ("assistant", f"answer {n}", 0)]
