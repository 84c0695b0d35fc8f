"""What ``kimi batch`` needs of the Files and Batch APIs, as one small interface.

``ApiRemote`` implements it over ``kimi_cli.api.files`` and ``kimi_cli.api.batches``;
tests may pass any object with the same methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol

from kimi_cli.api import batches, files
from kimi_cli.api.batches import Batch
from kimi_cli.api.client import KimiClient

#: Batches created within this many newest are searched for one a killed run created.
RECENT_BATCHES = 200
PAGE = 100

UploadProgress = Callable[[int, int], None]


class Remote(Protocol):
    def upload(self, path: Path) -> str: ...
    def uploads_named(self, filename: str) -> list[str]: ...
    def delete_file(self, file_id: str) -> None: ...
    def create(self, file_id: str, window: str, metadata: Mapping[str, str]) -> Batch: ...
    def retrieve(self, batch_id: str) -> Batch: ...
    def batches(self, limit: int) -> Iterator[Batch]: ...
    def cancel(self, batch_id: str) -> Batch: ...
    def download(self, file_id: str, out: BinaryIO) -> int: ...


class ApiRemote:
    def __init__(self, client: KimiClient, progress: UploadProgress | None = None) -> None:
        self.client = client
        self.progress = progress

    def upload(self, path: Path) -> str:
        return files.upload(self.client, path, "batch", progress=self.progress).id

    def uploads_named(self, filename: str) -> list[str]:
        return [f.id for f in files.list_files(self.client, "batch") if f.filename == filename]

    def delete_file(self, file_id: str) -> None:
        files.delete(self.client, file_id)

    def create(self, file_id: str, window: str, metadata: Mapping[str, str]) -> Batch:
        return batches.create(self.client, file_id, window, metadata)

    def retrieve(self, batch_id: str) -> Batch:
        return batches.retrieve(self.client, batch_id)

    def batches(self, limit: int) -> Iterator[Batch]:
        """Newest first, page by page, at most ``limit``."""
        after: str | None = None
        seen = 0
        while seen < limit:
            page, more = batches.list_batches(self.client, after, min(PAGE, limit - seen))
            yield from page
            seen += len(page)
            if not more or not page:
                return
            after = page[-1].id

    def cancel(self, batch_id: str) -> Batch:
        return batches.cancel(self.client, batch_id)

    def download(self, file_id: str, out: BinaryIO) -> int:
        return files.download(self.client, file_id, out)
