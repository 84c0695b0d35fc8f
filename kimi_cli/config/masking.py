"""The one way an API key is ever shown."""

from __future__ import annotations


def mask_key(key: str | None) -> str:
    """``sk-abc…wxyz``.

    At most 10 characters are revealed, and never more than half of the key: a prefix of up to
    6 characters and the last 4 for keys of 12 characters or more, the first 2 otherwise.
    """
    if not key:
        return "(none)"
    size = len(key)
    if size < 12:
        return key[: min(2, size // 2)] + "…"
    return key[: min(6, size // 2 - 4)] + "…" + key[-4:]
