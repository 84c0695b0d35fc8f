"""Where result records go: JSON lines on stdout, or one file per input in a directory.

With a directory, an input file's answer is named after it with ``.md`` (``docs/a.txt``
→ ``a.md``), any other request's ``<custom_id>.txt``; failed requests go to
``errors.jsonl`` in the same directory. Names that would clash get ``-2``, ``-3``….

Every file is written under a temporary name in the same directory and renamed over its
own when whole, so a run killed while writing (even ``kill -9``) leaves each file either as
it was or complete; the next run clears the temporary files a killed one left. Two
``kimi`` writing into one directory take turns (``flock`` on the directory, from the first
write to ``close``): one clearing "left" temporary files would otherwise delete the other's
file being written.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from kimi_cli.errors import APIRequestError, UsageError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TEMP_PREFIX, _TEMP_SUFFIX = ".kimi-", ".partial"


class Output:
    """Counts what it wrote; ``failed`` tells the exit code."""

    def __init__(self) -> None:
        self.written = 0
        self.failed = 0

    def write(self, record: dict[str, Any], from_file: bool) -> None:
        self.written += 1
        if record.get("error") is not None:
            self.failed += 1
        self._write(record, from_file)

    def _write(self, record: dict[str, Any], from_file: bool) -> None:
        raise NotImplementedError

    def summary(self, done: str, where: str, retry: str | None = None) -> None:
        """Say what was written (``done``: "answered", "written"): a note when every request
        succeeded; otherwise the one error line of exit 1, saying where the reasons are."""
        ok = self.written - self.failed
        if not self.failed:
            sys.stderr.write(f"kimi: {ok} of {self.written} request(s) {done}{where}\n")
            return
        hint = 'each failed record says why in its "error" (errors.jsonl with -o)'
        raise APIRequestError(
            f"{self.failed} of {self.written} request(s) failed (the other {ok} {done}{where})",
            hint=f"{hint}; {retry}" if retry else hint,
        )

    def close(self) -> None:
        return None


class JsonLines(Output):
    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__()
        self._stream = stream or sys.stdout

    def _write(self, record: dict[str, Any], from_file: bool) -> None:
        self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._stream.flush()


class Directory(Output):
    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot create {directory} ({exc.strerror or exc})", hint="pick another -o"
            ) from None
        self._taken: set[str] = set()
        self._errors: IO[str] | None = None
        self._umask = os.umask(0o022)  # read: the only way is to set it, and back
        os.umask(self._umask)
        self._held: int | None = None  # the directory's descriptor, locked while writing

    def _claim(self) -> None:
        """Take the directory (waiting for another kimi writing into it), then clear the
        temporary files a killed writer left: with the lock held, nobody is writing them."""
        if self._held is not None:
            return
        try:
            import fcntl

            self._held = os.open(self.directory, os.O_RDONLY)
            fcntl.flock(self._held, fcntl.LOCK_EX)
        except (ImportError, OSError):  # pragma: no cover - Windows, or a directory not to open
            pass
        for left in self.directory.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                left.unlink()

    def _write(self, record: dict[str, Any], from_file: bool) -> None:
        self._claim()
        if record.get("error") is not None:
            if self._errors is None:
                self._errors = self._temporary()
            self._errors.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        name = self._name(str(record["custom_id"]), str(record["source"]), from_file)
        text = record.get("content") or ""
        if text and not text.endswith("\n"):
            text += "\n"
        out = self._temporary()
        try:
            with out:
                out.write(text)
            self._replace(out, name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(out.name)
            raise

    def _temporary(self) -> IO[str]:
        return tempfile.NamedTemporaryFile(  # closed by the caller
            "w",
            encoding="utf-8",
            dir=self.directory,
            prefix=_TEMP_PREFIX,
            suffix=_TEMP_SUFFIX,
            delete=False,
        )

    def _replace(self, written: IO[str], name: str) -> None:
        """``written`` (closed) becomes ``name``, at once; mode as a new file would have."""
        os.chmod(written.name, 0o666 & ~self._umask)
        os.replace(written.name, self.directory / name)

    def _name(self, custom_id: str, source: str, from_file: bool) -> str:
        if from_file:
            stem, suffix = Path(source).stem or "input", ".md"
        else:
            stem, suffix = custom_id, ".txt"
        stem = _UNSAFE.sub("_", stem).strip("._") or "request"
        name, number = f"{stem}{suffix}", 1
        while name in self._taken or name == "errors.jsonl":
            number += 1
            name = f"{stem}-{number}{suffix}"
        self._taken.add(name)
        return name

    def close(self) -> None:
        self._claim()
        try:
            if self._errors is not None:
                self._errors.close()
                self._replace(self._errors, "errors.jsonl")
            else:
                # A rerun with every request succeeding leaves no stale errors behind.
                (self.directory / "errors.jsonl").unlink(missing_ok=True)
        finally:
            held, self._held = self._held, None
            if held is not None:
                os.close(held)  # the lock goes with the descriptor
