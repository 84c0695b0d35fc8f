"""What the user sends: prompt words, piped stdin, ``-f`` files, a role, a system prompt.

Every problem with input is a usage error (exit 2) before any request: empty input,
invalid UTF-8 (with the byte offset), binary data, a missing file or role.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from kimi_cli.conversation import Attachment, compose_text, image_type
from kimi_cli.errors import UsageError


@dataclass(frozen=True)
class ChatInput:
    text: str
    images: tuple[Attachment, ...]
    system: str | None


def decode_utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = "convert it to UTF-8 (iconv -t UTF-8)"
        if b"\x00" in data:
            hint = "it looks binary; pass text files with -f, images with -f as png/jpeg/webp/gif"
        raise UsageError(
            f"{where} is not valid UTF-8 (byte offset {exc.start})", hint=hint
        ) from None


def read_stdin(no_stdin: bool) -> str | None:
    """Piped stdin, or None when stdin is a terminal or ``--no-stdin`` is given."""
    if no_stdin or sys.stdin is None or sys.stdin.isatty():
        return None
    data = sys.stdin.buffer.read()
    text = decode_utf8(data, "standard input")
    if "\x00" in text:
        raise UsageError("standard input contains NUL bytes", hint="pass binary files with -f")
    return text


def read_file(path: Path) -> bytes:
    """A file's bytes; every way it cannot be read is a usage error naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}", hint="check the path") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory", hint="give a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror or exc})") from None


def read_files(paths: list[Path]) -> tuple[list[tuple[str, str]], list[Attachment]]:
    texts: list[tuple[str, str]] = []
    images: list[Attachment] = []
    for path in paths:
        data = read_file(path)
        mime = image_type(path)
        if mime is not None:
            images.append(Attachment(path=path, mime=mime, data=data))
            continue
        text = decode_utf8(data, str(path))
        if "\x00" in text:
            raise UsageError(f"{path} looks binary (NUL bytes)", hint="only text and images")
        texts.append((str(path), text))
    return texts, images


def read_role(roles_dir: Path, name: str) -> str:
    path = roles_dir / f"{name}.md"
    try:
        return decode_utf8(path.read_bytes(), str(path)).strip()
    except FileNotFoundError:
        known = sorted(p.stem for p in roles_dir.glob("*.md")) if roles_dir.is_dir() else []
        listed = ", ".join(known) if known else "none yet"
        raise UsageError(
            f"no role named {name!r} (roles: {listed})",
            hint=f"write the system prompt to {path}",
        ) from None


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
    texts, images = read_files(files)
    stdin_text = read_stdin(no_stdin)
    prompt = " ".join(prompt_words)
    text = compose_text(texts, stdin_text, prompt)
    if require_text and not text.strip() and not images:
        raise UsageError(
            "nothing to send: the prompt and input are empty",
            hint="give a prompt, pipe text in, or use -f — see 'kimi chat --help'",
        )
    prompts = [p for p in (read_role(roles_dir, role) if role else None, system) if p]
    return ChatInput(text=text, images=tuple(images), system="\n\n".join(prompts) or None)
