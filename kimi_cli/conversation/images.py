"""Images in a conversation: sent as ``image_url`` parts, kept once by content hash.

A user message with images is stored as its text plus one reference line per image,
``[image: NAME sha256:HEX]``; the bytes live once in ``<data dir>/images/HEX``. When the
conversation is resent (``-c``, ``--session``, the next REPL message) each reference becomes
an image part again, so the model still sees the picture. A reference whose bytes are gone
stays as text and the user is told it is no longer attached.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimi_cli.documents.local import sniff_image

#: The API takes a request body of at most 100 MB (docs/api-notes.md); base64 makes an
#: image a third larger, so one image can be at most three quarters of that.
REQUEST_LIMIT_MB = 100
MAX_IMAGE_BYTES = REQUEST_LIMIT_MB * 1000 * 1000 * 3 // 4

_REFERENCE = re.compile(r"^\[image: (?P<name>.*) sha256:(?P<sha>[0-9a-f]{64})\]$", re.MULTILINE)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Attachment:
    """An image to send as an ``image_url`` part."""

    name: str
    mime: str
    data: bytes = field(repr=False)

    @property
    def sha256(self) -> str:
        return _sha256(self.data)

    def part(self) -> dict[str, Any]:
        import base64  # here, not at the top: reading input must stay cheap for --help

        encoded = base64.b64encode(self.data).decode("ascii")
        return {"type": "image_url", "image_url": {"url": f"data:{self.mime};base64,{encoded}"}}

    def reference(self) -> str:
        return f"[image: {self.name} sha256:{self.sha256}]"


class ImageStore:
    """Image bytes by SHA-256: on disk under ``directory`` when given, always in memory."""

    def __init__(self, directory: Path | None, warn: Callable[[str], None]) -> None:
        self.directory = directory
        self._warn = warn
        self._memory: dict[str, Attachment] = {}
        self._told: set[str] = set()

    def keep(self, image: Attachment, *, persist: bool) -> None:
        """Hold an image for later turns; ``persist`` also writes it to disk (history on)."""
        sha = image.sha256
        self._memory[sha] = image
        if self.directory is None or not persist:
            return
        path = self.directory / sha
        try:
            if path.exists():
                return
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_private(path, image.data)
        except OSError as exc:
            self._warn(f"image {image.name} not saved for later turns ({exc.strerror or exc})")

    def find(self, name: str, sha: str) -> Attachment | None:
        found = self._memory.get(sha)
        if found is not None or self.directory is None:
            return found
        try:
            data = (self.directory / sha).read_bytes()
        except OSError:
            return None
        mime = sniff_image(data)
        if mime is None or _sha256(data) != sha:
            return None
        found = Attachment(name=name, mime=mime, data=data)
        self._memory[sha] = found
        return found

    def content(self, stored: str) -> str | list[dict[str, Any]]:
        """A stored user message as the API takes it: text, plus its images when kept."""
        references = list(_REFERENCE.finditer(stored))
        if not references:
            return stored
        parts: list[dict[str, Any]] = []
        text = stored
        for match in references:
            image = self.find(match.group("name"), match.group("sha"))
            if image is None:
                if match.group("sha") not in self._told:
                    self._told.add(match.group("sha"))
                    self._warn(
                        f"image {match.group('name')} is no longer attached: "
                        "its saved copy is gone, so the model sees only its name"
                    )
                continue
            text = text.replace(match.group(0), "")
            parts.append(image.part())
        if not parts:
            return stored
        text = text.strip("\n")
        return ([{"type": "text", "text": text}] if text else []) + parts


def stored_text(text: str, images: tuple[Attachment, ...] | list[Attachment]) -> str:
    """What history keeps of a user message: its text and one reference line per image."""
    lines = [image.reference() for image in images]
    return "\n".join([text, *lines]) if text else "\n".join(lines)


def message_content(text: str, images: tuple[Attachment, ...]) -> str | list[dict[str, Any]]:
    """A new user message as the API takes it: no empty text part beside images."""
    if not images:
        return text
    head = [{"type": "text", "text": text}] if text else []
    return head + [image.part() for image in images]


def _write_private(path: Path, data: bytes) -> None:
    """``data`` at ``path``, readable by the user alone (``mkstemp`` makes it 0600, whatever
    the umask), written under a name of its own and renamed, so that two processes keeping
    the same image, or a kill, leave either no file or the whole one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:12]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
