"""What the user gives ``kimi batch``: a JSONL file (or stdin), files with a prompt, or
the lines of a file. Each is read lazily, one item at a time, so memory does not grow
with the number of requests.

Every problem is a usage error (exit 2) naming where it is: ``input.jsonl line 7: …``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kimi_cli.documents.local import (
    check_size,
    is_utf8_text,
    refuse_broken_image,
    sniff_image,
)
from kimi_cli.errors import UsageError, unreadable_input

CHAT_URL = "/v1/chat/completions"
BOM = b"\xef\xbb\xbf"

#: How ``chat`` makes one user message of files, piped text and a prompt: the caller
#: passes it in, so a batch request carries a file exactly as ``chat -f`` would.
Compose = Callable[[Sequence[tuple[str, str]], str | None, str], str]
SIMPLE_KEYS = {"custom_id", "prompt", "system", "model"}
API_KEYS = {"custom_id", "method", "url", "body"}


@dataclass(frozen=True)
class InputItem:
    """One request as the user wrote it.

    Either ``body`` (the API's own batch shape, sent as written once checked) or ``text``
    (a user message, with an optional ``system`` and ``model``) is set.
    """

    where: str  # how errors name it: "input.jsonl line 7", "docs/a.md"
    source: str  # what results call it: "input.jsonl:7", "docs/a.md", "prompts.txt:3"
    custom_id: str
    text: str | None = None
    system: str | None = None
    model: str | None = None
    body: dict[str, Any] | None = None
    from_file: bool = False  # one item per input file: results are named after it
    document: Path | None = None  # a file sent through the Files API (file-extract)
    image: Path | None = None  # an image file, sent as an image part beside the prompt


def jsonl_items(path: str) -> Iterator[InputItem]:
    """Items of a JSONL file, or of stdin for ``-``; blank lines are skipped."""
    if path == "-":
        yield from _jsonl_stream(sys.stdin.buffer, "standard input", "stdin")
        return
    with _open(Path(path)) as stream:
        yield from _jsonl_stream(stream, path, path)


def _numbered(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """The lines from 1, without the byte order mark some editors put before the first."""
    for number, raw in enumerate(stream, start=1):
        yield number, raw.removeprefix(BOM) if number == 1 else raw


def _jsonl_stream(stream: IO[bytes], name: str, short: str) -> Iterator[InputItem]:
    for number, raw in _numbered(stream):
        where = f"{name} line {number}"
        line = _decode(raw, where).strip()
        if line:
            yield parse_line(line, where, f"{short}:{number}", number)


def parse_line(line: str, where: str, source: str, number: int) -> InputItem:
    """One JSONL line in either shape; the simple shape's ``custom_id`` defaults to ``line-N``."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where}: not valid JSON ({exc.msg} at column {exc.colno})",
            hint="one JSON object per line",
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{where}: not a JSON object", hint="one JSON object per line")
    if "body" in data or "url" in data or "method" in data:
        return _api_item(data, where, source)
    return _simple_item(data, where, source, number)


def _api_item(data: dict[str, Any], where: str, source: str) -> InputItem:
    unknown = sorted(set(data) - API_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown field {unknown[0]!r}", hint=_shapes_hint())
    custom_id = _custom_id(data.get("custom_id"), where, required=True)
    if data.get("method", "POST") != "POST":
        raise UsageError(f"{where}: method must be POST", hint=_shapes_hint())
    if data.get("url", CHAT_URL) != CHAT_URL:
        raise UsageError(f"{where}: url must be {CHAT_URL}", hint=_shapes_hint())
    body = data.get("body")
    if not isinstance(body, dict):
        raise UsageError(f"{where}: body must be a JSON object", hint=_shapes_hint())
    return InputItem(where=where, source=source, custom_id=custom_id, body=body)


def _simple_item(data: dict[str, Any], where: str, source: str, number: int) -> InputItem:
    unknown = sorted(set(data) - SIMPLE_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown field {unknown[0]!r}", hint=_shapes_hint())
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise UsageError(f"{where}: prompt must be a non-empty string", hint=_shapes_hint())
    custom_id = _custom_id(data.get("custom_id", f"line-{number}"), where, required=True)
    system, model = data.get("system"), data.get("model")
    for name, value in (("system", system), ("model", model)):
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{where}: {name} must be a string", hint=_shapes_hint())
    return InputItem(
        where=where, source=source, custom_id=custom_id, text=prompt, system=system, model=model
    )


def _custom_id(value: Any, where: str, *, required: bool) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where}: custom_id must be a non-empty string", hint=_shapes_hint())
    if len(value) > 512:
        raise UsageError(f"{where}: custom_id is longer than 512 characters")
    return value


def _shapes_hint() -> str:
    return (
        'each line is {"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"} '
        'or {"custom_id"?, "prompt", "system"?, "model"?}'
    )


def file_items(prompt: str, paths: Sequence[Path], compose: Compose) -> Iterator[InputItem]:
    """One request per file as ``chat -f`` sends it: a text file fenced under its path, an
    image as an image part, a document (PDF, …) as its extracted text in a ``system``
    message, then the prompt."""
    for path in paths:
        name = str(path)
        with _open(path) as stream:
            head = stream.read(64 * 1024)
        if sniff_image(head) is not None:
            yield InputItem(
                where=name, source=name, custom_id=name, text=prompt, from_file=True, image=path
            )
            continue
        if not is_utf8_text(path, head):
            refuse_broken_image(path, name)
            check_size(name, path.stat().st_size)
            yield InputItem(
                where=name,
                source=name,
                custom_id=name,
                text=prompt,
                from_file=True,
                document=path,
            )
            continue
        text = _decode(_read(path), name)
        yield InputItem(
            where=name,
            source=name,
            custom_id=name,
            text=compose([(name, text)], None, prompt),
            from_file=True,
        )


def line_items(path: str, prompt: str | None, compose: Compose) -> Iterator[InputItem]:
    """One request per non-empty line (``custom_id`` ``line-N``), the prompt after it."""
    stream_cm = _open(Path(path)) if path != "-" else None
    stream = stream_cm if stream_cm is not None else sys.stdin.buffer
    name = "standard input" if path == "-" else path
    try:
        for number, raw in _numbered(stream):
            line = _decode(raw, f"{name} line {number}").rstrip("\r\n")
            if not line.strip():
                continue
            yield InputItem(
                where=f"{name} line {number}",
                source=f"{'stdin' if path == '-' else path}:{number}",
                custom_id=f"line-{number}",
                text=compose([], line, prompt or ""),
            )
    finally:
        if stream_cm is not None:
            stream_cm.close()


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise unreadable_input(path, exc) from None


def _read(path: Path) -> bytes:
    with _open(path) as stream:
        return stream.read()


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{where} is not valid UTF-8 (byte offset {exc.start})",
            hint="convert it to UTF-8 (iconv -t UTF-8)",
        ) from None


def select_items(
    inputs: Sequence[str], prompt: str | None, lines: str | None, compose: Compose
) -> Iterator[InputItem]:
    """The items of the three input forms; a usage error when they are mixed up."""
    if lines is not None:
        if inputs:
            raise UsageError("--lines reads one file; give no other input", hint=_FORMS)
        return line_items(lines, prompt, compose)
    if prompt is not None:
        if not inputs:
            raise UsageError("-p needs the files to send it with", hint=_FORMS)
        if "-" in inputs:
            raise UsageError("-p sends files; '-' (stdin) is not one", hint=_FORMS)
        return file_items(prompt, [Path(p) for p in inputs], compose)
    if len(inputs) != 1:
        raise UsageError("give one JSONL input (or - for stdin)", hint=_FORMS)
    return jsonl_items(inputs[0])


_FORMS = "INPUT.jsonl | - | -p PROMPT FILE... | --lines FILE [-p PROMPT]"
