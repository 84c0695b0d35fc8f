"""The local index of uploaded documents: (base URL, SHA-256 of the bytes) → file ID and the
extracted text, so the same bytes are never uploaded (nor extracted) twice.

Layout in the cache dir: ``documents/index.json`` holds the entries and a memo of the
hashes of recently seen paths; each extraction is its own ``documents/<key>.txt``. Every
write goes to a temporary file that replaces the old one, and an entry is written only
after its text is on disk, so an upload cut by the network or Ctrl-C leaves no entry that
points at nothing. Read-modify-write runs under a lock file, so two ``kimi`` processes do
not lose each other's entries.

It is a cache: a file that cannot be read or parsed counts as empty, and a failure to
write only costs an upload later.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

try:  # POSIX; elsewhere writes are still atomic, only concurrent writers may race
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

VERSION = 1
#: Hashes of this many paths are remembered, newest first.
PATH_MEMO_SIZE = 256


@dataclass(frozen=True)
class IndexEntry:
    base_url: str
    sha256: str
    file_id: str
    name: str
    bytes: int
    created_at: int | None = None


@dataclass(frozen=True)
class FileStamp:
    """What says a path still holds the bytes hashed before, without reading them."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileStamp:
        return cls(size=stat.st_size, mtime_ns=stat.st_mtime_ns, inode=stat.st_ino)


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def entry_key(base_url: str, sha256: str) -> str:
    return f"{_base(base_url)} {sha256}"


class DocumentIndex:
    def __init__(self, cache_dir: Path) -> None:
        self.directory = cache_dir / "documents"
        self.path = self.directory / "index.json"

    # -- reading ------------------------------------------------------------------

    def lookup(self, base_url: str, sha256: str) -> IndexEntry | None:
        """The entry for these bytes (its text may be missing: see ``text``)."""
        return self._entries(self._load()).get(entry_key(base_url, sha256))

    def text(self, entry: IndexEntry) -> str | None:
        """The extracted text, or None when it was never fetched or is gone from disk."""
        try:
            return self._text_path(entry).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def entries(self, base_url: str | None = None) -> list[IndexEntry]:
        found = self._entries(self._load()).values()
        return [e for e in found if base_url is None or e.base_url == _base(base_url)]

    def known_hash(self, path: Path, stamp: FileStamp) -> str | None:
        """The SHA-256 of ``path`` when it was hashed with the same size, mtime and inode."""
        memo = self._load().get("paths")
        seen = memo.get(str(path)) if isinstance(memo, dict) else None
        if not isinstance(seen, dict) or seen.get("stamp") != asdict(stamp):
            return None
        sha = seen.get("sha256")
        return sha if isinstance(sha, str) else None

    # -- writing ------------------------------------------------------------------

    def record(self, entry: IndexEntry, text: str | None) -> None:
        """Keep ``entry`` and its text: the text first, then the entry that points at it.
        Without text (``kimi files upload``) the next use asks the API for it."""
        entry = IndexEntry(**{**asdict(entry), "base_url": _base(entry.base_url)})
        with contextlib.suppress(OSError), self._locked():
            if text is not None:
                _write_atomic(self._text_path(entry), text.encode("utf-8"))
            data = self._load()
            data.setdefault("entries", {})[entry_key(entry.base_url, entry.sha256)] = asdict(entry)
            self._save(data)

    def remember_hash(self, path: Path, stamp: FileStamp, sha256: str) -> None:
        with contextlib.suppress(OSError), self._locked():
            data = self._load()
            memo = data.get("paths")
            memo = dict(memo) if isinstance(memo, dict) else {}
            memo.pop(str(path), None)
            memo = {str(path): {"stamp": asdict(stamp), "sha256": sha256}, **memo}
            data["paths"] = dict(list(memo.items())[:PATH_MEMO_SIZE])
            self._save(data)

    def forget(self, base_url: str, file_ids: set[str]) -> int:
        """Drop the entries of these file IDs (deleted from the account); how many."""
        return self._drop(base_url, lambda e: e.file_id in file_ids)

    def keep_only(self, base_url: str, file_ids: set[str]) -> int:
        """Drop the entries whose file is no longer in the account's listing; how many."""
        return self._drop(base_url, lambda e: e.file_id not in file_ids)

    def _drop(self, base_url: str, gone: Any) -> int:
        dropped = 0
        with contextlib.suppress(OSError), self._locked():
            data = self._load()
            entries = self._entries(data)
            for key, entry in entries.items():
                if entry.base_url == _base(base_url) and gone(entry):
                    data["entries"].pop(key, None)
                    with contextlib.suppress(OSError):
                        self._text_path(entry).unlink()
                    dropped += 1
            if dropped:
                self._save(data)
        return dropped

    # -- the files ----------------------------------------------------------------

    def _text_path(self, entry: IndexEntry) -> Path:
        digest = hashlib.sha256(entry_key(entry.base_url, entry.sha256).encode()).hexdigest()
        return self.directory / f"{digest[:32]}.txt"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"version": VERSION, "entries": {}, "paths": {}}
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return {"version": VERSION, "entries": {}, "paths": {}}
        return data

    @staticmethod
    def _entries(data: dict[str, Any]) -> dict[str, IndexEntry]:
        raw = data.get("entries")
        if not isinstance(raw, dict):
            data["entries"] = {}
            return {}
        entries: dict[str, IndexEntry] = {}
        for key, value in raw.items():
            try:
                entries[key] = IndexEntry(**value)
            except TypeError:
                continue  # an entry of another shape: ignored, as a cache may
        return entries

    def _save(self, data: dict[str, Any]) -> None:
        data["version"] = VERSION
        _write_atomic(self.path, json.dumps(data, ensure_ascii=False, indent=1).encode())

    @contextlib.contextmanager
    def uploading(self, base_url: str, sha256: str) -> Iterator[None]:
        """One upload of these bytes to this account at a time, across processes: a second
        ``kimi`` waits here, then finds the first one's entry instead of uploading a copy
        that nothing knows of. A lock on one byte of ``documents/uploads.lock`` at an
        offset made from the key; the operating system drops it when its holder ends."""
        with contextlib.suppress(OSError):
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(self.directory / "uploads.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            fd = None  # a cache that cannot be written: the upload goes on unguarded
        if fd is None or fcntl is None:  # pragma: no cover - Windows
            yield
            return
        key = entry_key(base_url, sha256).encode()
        offset = int.from_bytes(hashlib.blake2b(key, digest_size=4).digest())
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, offset)
            yield
        finally:
            os.close(fd)  # the lock goes with the descriptor

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Private like every other state file: the index names the user's documents.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        fd = os.open(self.directory / "index.lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside ``path`` and rename over it: a reader sees the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
