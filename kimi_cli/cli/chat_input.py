"""What the user sends: prompt words, piped stdin, ``-f`` files, a role, a system prompt —
composed here into one message text, its images and its documents (files that are neither
text nor images, sent through the Files API: kimi_cli.documents).

Every problem with input is a usage error (exit 2) before any request: empty input,
invalid UTF-8 (with the byte offset), binary data, a missing file or role, an image the API
would refuse (broken, or larger than it takes).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kimi_cli.errors import UsageError, unreadable_input

# Images and documents are looked at only when -f gives files.
if TYPE_CHECKING:
    from kimi_cli.conversation.images import Attachment
    from kimi_cli.documents import LocalDocument

_BINARY_HINT = (
    "it looks binary; chat -f FILE takes text, png/jpeg/webp/gif images and documents (PDF, …)"
)
_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class ChatInput:
    text: str
    images: tuple[Attachment, ...]
    system: str | None
    #: -f files that are neither text nor images, in -f order: uploaded before sending.
    documents: tuple[LocalDocument, ...] = ()
    #: The -f files alone (fenced), for the REPL to put before the first typed message.
    file_text: str = ""
    has_prompt: bool = field(default=False)


def compose_text(files: Sequence[tuple[str, str]], stdin_text: str | None, prompt: str) -> str:
    """One user message: each file fenced under its path, then stdin, a blank line, PROMPT."""
    parts = [_fenced(name, text) for name, text in files]
    if stdin_text:
        parts.append(stdin_text)
    if prompt:
        parts.append(prompt)
    return "\n\n".join(parts)


def _fenced(name: str, text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    body = text if text.endswith("\n") else text + "\n"
    return f"{name}\n{fence}\n{body}{fence}"


def decode_utf8(data: bytes, where: str, *, binary_hint: str = _BINARY_HINT) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = binary_hint if b"\x00" in data else "convert it to UTF-8 (iconv -t UTF-8)"
        raise UsageError(
            f"{where} is not valid UTF-8 (byte offset {exc.start})", hint=hint
        ) from None


def prompt_text(words: Sequence[str]) -> str:
    """The prompt words as one text (an argument that is not UTF-8 was refused already:
    ``kimi_cli.cli.app``)."""
    return " ".join(words)


#: The most a request body may hold (docs/api-notes.md, "request body must be ≤ 100 MB"): more
#: text than that cannot be sent, so it is refused as it is read, before the rest is read.
MAX_INPUT_BYTES = 100 * 1024 * 1024


def too_large(where: str) -> UsageError:
    return UsageError(
        f"{where} is over 100 MB, more than the API takes in one request",
        hint="send a part of it, or one request per line: kimi batch run --lines FILE",
    )


def read_stdin(no_stdin: bool) -> str | None:
    """Piped stdin, or None when stdin is a terminal or ``--no-stdin`` is given."""
    if no_stdin or sys.stdin is None or sys.stdin.isatty():
        return None
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise too_large("standard input")
    text = decode_utf8(data, "standard input")
    if "\x00" in text:
        raise UsageError("standard input contains NUL bytes", hint=_BINARY_HINT)
    return text


def read_file(path: Path) -> bytes:
    """A file's bytes (``-`` is standard input); every way it cannot be read is a usage
    error naming it."""
    if str(path) == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("-f - reads standard input, but it is a terminal", hint="pipe it in")
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise too_large("standard input")
        return data
    try:
        return path.read_bytes()
    except OSError as exc:
        raise unreadable_input(path, exc) from None


def read_files(
    paths: list[Path],
) -> tuple[list[tuple[str, str]], list[Attachment], list[LocalDocument]]:
    """Text (inline), images, and documents; a document is only looked at, never read whole."""
    texts: list[tuple[str, str]] = []
    images: list[Attachment] = []
    documents: list[LocalDocument] = []
    if paths:
        from kimi_cli.documents.local import (
            LocalDocument,
            check_size,
            is_utf8_text,
            refuse_broken_image,
            sniff_image,
        )
    for path in paths:
        if str(path) != "-":
            head, size = _head(path)
            check_size(str(path), size)
            if sniff_image(head) is None and not is_utf8_text(path, head):
                refuse_broken_image(path, str(path))
                documents.append(LocalDocument(path=path, name=str(path), size=size))
                continue
        name = "standard input" if str(path) == "-" else str(path)
        data = read_file(path)
        image = _image(path, name, data)
        if image is not None:
            images.append(image)
            continue
        text = decode_utf8(data, name)
        if "\x00" in text:  # only standard input: a file with NUL bytes is a document
            raise UsageError(
                f"{name} looks binary (NUL bytes); -f - takes text or an image, not a document",
                hint="save it to a file and give its path: -f FILE (PDF, Word, …)",
            )
        texts.append((name, text))
    return texts, images, documents


def _head(path: Path) -> tuple[bytes, int]:
    """The first bytes of a file and its size; every way it cannot be read is a usage error."""
    try:
        with path.open("rb") as source:
            return source.read(_HEAD_BYTES), os.fstat(source.fileno()).st_size
    except OSError as exc:
        raise unreadable_input(path, exc) from None


def read_image(path: Path) -> Attachment:
    """An image file as ``-f`` sends it (for ``kimi batch -p PROMPT FILE…``)."""
    image = _image(path, str(path), read_file(path))
    if image is None:
        raise UsageError(f"{path} is not a png, jpeg, webp or gif image")
    return image


def _image(path: Path, name: str, data: bytes) -> Attachment | None:
    """An image by its bytes (whatever its name says); a file named like an image that is
    not one, or one the API would refuse for its size, is refused here."""
    from kimi_cli.conversation.images import MAX_IMAGE_BYTES, REQUEST_LIMIT_MB, Attachment
    from kimi_cli.documents.local import refuse_broken_image, sniff_image

    mime = sniff_image(data)
    if mime is None:
        refuse_broken_image(path, name)
        return None
    if len(data) > MAX_IMAGE_BYTES:
        raise UsageError(
            f"{name} is {len(data) / 1e6:.0f} MB; the API takes at most "
            f"{MAX_IMAGE_BYTES / 1e6:.0f} MB per image ({REQUEST_LIMIT_MB} MB per request "
            "once encoded)",
            hint="scale it down",
        )
    return Attachment(name=path.name if name != "standard input" else "stdin", mime=mime, data=data)


def gather(
    *,
    prompt_words: list[str],
    files: list[Path],
    no_stdin: bool,
    system: str | None,
    role: str | None,
    roles_dir: Path,
    require_text: bool = True,
) -> ChatInput:
    """The message and system prompt; ``require_text=False`` lets the REPL open empty."""
    prompt = prompt_text(prompt_words)
    if "-" in map(str, files):
        no_stdin = True  # -f - took standard input already
    texts, images, documents = read_files(files) if files else ([], [], [])
    stdin_text = read_stdin(no_stdin)
    text = compose_text(texts, stdin_text, prompt)
    if require_text and not text.strip() and not images and not documents:
        raise UsageError(
            "nothing to send: the prompt and input are empty",
            hint="give a prompt, pipe text in, or use -f — see 'kimi chat --help'",
        )
    role_text = None
    if role:
        from kimi_cli.config.roles import read_role

        role_text = read_role(roles_dir, role)
    return ChatInput(
        text=text,
        images=tuple(images),
        system="\n\n".join(filter(None, (role_text, system))) or None,
        documents=tuple(documents),
        file_text=compose_text(texts, None, ""),
        has_prompt=bool(prompt) or stdin_text is not None,
    )
