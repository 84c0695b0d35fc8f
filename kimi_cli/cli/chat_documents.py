"""``-f`` documents made ready for a chat turn: from the index, or uploaded with a
progress bar (kimi_cli.documents does the work; this draws it)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kimi_cli.documents import Document, DocumentIndex, LocalDocument, human_size
from kimi_cli.documents.prepare import prepare
from kimi_cli.render.progress import UploadBar, upload_bar
from kimi_cli.render.terminal import is_tty, note

if TYPE_CHECKING:
    from pathlib import Path

    from kimi_cli.api.client import KimiClient


def prepare_documents(
    client: KimiClient, cache_dir: Path, local: Sequence[LocalDocument]
) -> tuple[Document, ...]:
    """Each document's extracted text, in ``-f`` order; an upload only for bytes the index
    does not know (for this base URL)."""
    if not local:
        return ()
    index = DocumentIndex(cache_dir)
    ready: list[Document] = []
    for document in local:
        bar = upload_bar(document.name, document.size)
        try:
            prepared = prepare(client, index, document, progress=bar)
        finally:
            if isinstance(bar, UploadBar):
                bar.close()
        if prepared.uploaded and is_tty(sys.stderr):
            note(
                f"kimi: uploaded {document.name} ({human_size(document.size)}) "
                f"as {prepared.document.file_id}"
            )
        ready.append(prepared.document)
    return tuple(ready)
