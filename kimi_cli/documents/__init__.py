"""Documents for chat through the Files API: what a ``-f`` file is (``local``), the index
that keeps the same bytes from being uploaded twice (``index``), and the upload and
extraction that make a document a ``system`` message (``prepare``).

Names are loaded on first use, so a chat without documents (which only asks ``local``
what a file is) does not import the index, hashlib or the upload code. The function
``prepare`` is imported from its module (``kimi_cli.documents.prepare``), whose name it
shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimi_cli.documents.index import DocumentIndex, FileStamp, IndexEntry
    from kimi_cli.documents.local import (
        MAX_DOCUMENT_BYTES,
        LocalDocument,
        check_size,
        check_sizes,
        human_size,
    )
    from kimi_cli.documents.prepare import Document, Prepared

_HOMES = {
    "DocumentIndex": "kimi_cli.documents.index",
    "FileStamp": "kimi_cli.documents.index",
    "IndexEntry": "kimi_cli.documents.index",
    "MAX_DOCUMENT_BYTES": "kimi_cli.documents.local",
    "LocalDocument": "kimi_cli.documents.local",
    "check_size": "kimi_cli.documents.local",
    "check_sizes": "kimi_cli.documents.local",
    "human_size": "kimi_cli.documents.local",
    "Document": "kimi_cli.documents.prepare",
    "Prepared": "kimi_cli.documents.prepare",
}

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "Document",
    "DocumentIndex",
    "FileStamp",
    "IndexEntry",
    "LocalDocument",
    "Prepared",
    "check_size",
    "check_sizes",
    "human_size",
]


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
