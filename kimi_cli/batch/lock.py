"""One ``run`` or ``submit`` of an input at a time.

Two runs of the same input started together would both find the same requests missing and
both send them: billed twice. Each holds an exclusive lock on a file named after its kind and
input fingerprint (next to the journal) for as long as it sends and writes; a second one is
refused at once. The operating system drops the lock when its holder ends in any way, so a
run killed with ``kill -9`` leaves nothing stuck.

The holder removes the file as it ends (a kill leaves it, harmless: the next run takes it).
A run that opened the file just before it was removed would lock a file no longer at that
path while a third one locks the new one; so a lock counts only while the path still names
the file that was locked, and is otherwise taken again on the file now there.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from kimi_cli.errors import TemporaryError

#: What the same command does once the other one is done, by kind.
_AFTER = {
    "run": "it sends only what is still missing",
    "submit": "it prints the batch ID(s) without sending anything",
}


@contextlib.contextmanager
def job_lock(directory: Path, kind: str, fingerprint: str) -> Iterator[None]:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"batch-{kind}-{fingerprint[:32]}.lock"
    fd = _lock_file(path, kind)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        if sys.platform != "win32":  # held: nobody can be using this file now
            with contextlib.suppress(OSError):
                os.unlink(path)
        os.close(fd)  # the lock goes with the descriptor


def _lock_file(path: Path, kind: str) -> int:
    """The descriptor of ``path``, locked; TemporaryError when another process holds it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _locked(fd):
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise TemporaryError(
                f"another 'kimi batch {kind}' of the same input is running{pid}",
                hint="wait for it to end, then run the same command again: "
                + _AFTER.get(kind, "it picks up where that one stopped"),
            )
        if _still_at(fd, path):
            return fd
        os.close(fd)  # its holder removed it as it ended: lock the file there now


def _still_at(fd: int, path: Path) -> bool:
    try:
        held, named = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


def _locked(fd: int) -> bool:
    """Take the lock without waiting; False when another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
