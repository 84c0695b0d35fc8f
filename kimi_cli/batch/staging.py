"""The checked requests written to disk as they come: the batch input file(s) in the API's
JSONL shape, split before a part would pass the upload limit, and an index of where
every ``custom_id`` came from. Memory does not grow with the number of requests.

The fingerprint (SHA-256 of every JSONL line, in order) names the input: the same input
with the same options gives the same fingerprint, so a rerun finds its job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kimi_cli.batch.checks import Prepared
from kimi_cli.batch.inputs import CHAT_URL
from kimi_cli.errors import UsageError

#: The Files API takes at most 100 MB per file; a part stays under it.
MAX_PART_BYTES = 100 * 1000 * 1000


@dataclass(frozen=True)
class Part:
    path: Path
    requests: int
    bytes: int


@dataclass
class Staged:
    directory: Path
    parts: list[Part] = field(default_factory=list)
    index: Path | None = None
    fingerprint: str = ""
    requests: int = 0
    text_chars: int = 0  # characters of every message, for a rough token estimate
    output_budget: int = 0  # the most output tokens the requests may ask for

    def index_rows(self) -> Iterator[tuple[int, str, str, bool, int]]:
        """``(seq, custom_id, source, from_file, part)`` for every request, in input order."""
        assert self.index is not None
        with self.index.open(encoding="utf-8") as stream:
            for line in stream:
                seq, custom_id, source, from_file, part = json.loads(line)
                yield int(seq), str(custom_id), str(source), bool(from_file), int(part)

    def bodies(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(custom_id, body)`` of every request, read back from the parts."""
        for part in self.parts:
            with part.path.open(encoding="utf-8") as stream:
                for line in stream:
                    data = json.loads(line)
                    yield data["custom_id"], data["body"]


def request_line(prepared: Prepared) -> bytes:
    record = {
        "custom_id": prepared.custom_id,
        "method": "POST",
        "url": CHAT_URL,
        "body": prepared.body,
    }
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def stage(
    prepared: Iterable[Prepared], directory: Path, *, max_part_bytes: int = MAX_PART_BYTES
) -> Staged:
    """Write every request; a usage error from ``prepared`` propagates with nothing sent."""
    staged = Staged(directory=directory, index=directory / "index.jsonl")
    digest = hashlib.sha256()
    writer: IO[bytes] | None = None
    count = size = 0
    assert staged.index is not None
    with staged.index.open("w", encoding="utf-8") as index:
        try:
            for item in prepared:
                line = request_line(item)
                if len(line) > max_part_bytes:
                    raise UsageError(
                        f"{item.source}: the request is {len(line):,} bytes, over the "
                        f"{max_part_bytes:,} bytes a batch file may hold",
                        hint="shorten this input",
                    )
                if writer is None or size + len(line) > max_part_bytes:
                    if writer is not None:
                        writer.close()
                        staged.parts.append(_part(staged, count, size))
                    writer = directory_part(directory, len(staged.parts) + 1).open("wb")
                    count = size = 0
                writer.write(line)
                digest.update(line)
                staged.text_chars += sum(
                    len(str(m.get("content", ""))) for m in item.body["messages"]
                )
                count += 1
                size += len(line)
                row = [item.seq, item.custom_id, item.source, item.from_file, len(staged.parts)]
                index.write(json.dumps(row, ensure_ascii=False) + "\n")
        finally:
            if writer is not None:
                writer.close()
    if writer is not None:
        staged.parts.append(_part(staged, count, size))
    staged.requests = sum(p.requests for p in staged.parts)
    if staged.requests == 0:
        raise UsageError("the input holds no requests", hint="give at least one line or file")
    staged.fingerprint = digest.hexdigest()
    return staged


def _part(staged: Staged, count: int, size: int) -> Part:
    return Part(directory_part(staged.directory, len(staged.parts) + 1), count, size)


def directory_part(directory: Path, number: int) -> Path:
    return directory / f"part-{number}.jsonl"
