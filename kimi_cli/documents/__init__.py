"""Documents for chat through the Files API: what a ``-f`` file is (``local``), the index
that keeps the same bytes from being uploaded twice (``index``), and the upload and
extraction that make a document a ``system`` message (``prepare``)."""

from kimi_cli.documents.index import DocumentIndex, FileStamp, IndexEntry
from kimi_cli.documents.local import (
    MAX_DOCUMENT_BYTES,
    LocalDocument,
    check_size,
    check_sizes,
    human_size,
)
from kimi_cli.documents.prepare import Document, Prepared, prepare

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
    "prepare",
]
