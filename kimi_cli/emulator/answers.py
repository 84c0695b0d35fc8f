"""What the emulator answers, and how many tokens things cost.

Prompts steer it (the text of the last user message):

- ``ECHO <text>``: the answer is exactly ``<text>``, byte for byte (everything after the first
  ``ECHO `` or ``ECHO`` + newline);
- ``LOREM <n>``: ``n`` words of deterministic Markdown (paragraphs, headings, lists, code, tables);
- anything else: a short fixed answer quoting the start of the prompt.

One token estimator serves ``usage.prompt_tokens``, ``/tokenizers/estimate-token-count`` and the
completion count, so they agree exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MESSAGE_OVERHEAD = 4
MEDIA_TOKENS = 1000
LOREM_MAX_WORDS = 200_000

_PIECE = re.compile(r"\s+|\S+\s*")
_LOREM = re.compile(r"\bLOREM\s+(\d{1,9})\b")
_ECHO_MARKERS = ("ECHO ", "ECHO\n")


# --- token estimate ----------------------------------------------------------------------------


def text_tokens(text: str) -> int:
    """Tokens of a text: a quarter of its UTF-8 bytes, rounded up."""
    return (len(text.encode("utf-8")) + 3) // 4


def message_tokens(message: Mapping[str, Any]) -> int:
    total = MESSAGE_OVERHEAD
    content = message.get("content")
    if isinstance(content, str):
        total += text_tokens(content)
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                total += text_tokens(part)
            elif isinstance(part, Mapping):
                kind = part.get("type")
                if kind == "text" and isinstance(part.get("text"), str):
                    total += text_tokens(part["text"])
                elif kind in ("image_url", "video_url"):
                    total += MEDIA_TOKENS
    for key in ("name", "reasoning_content", "tool_call_id"):
        value = message.get(key)
        if isinstance(value, str):
            total += text_tokens(value)
    tool_calls = message.get("tool_calls")
    if tool_calls:
        total += text_tokens(json.dumps(tool_calls, ensure_ascii=False, sort_keys=True))
    return total


def estimate_prompt(messages: Iterable[Mapping[str, Any]], tools: Any = None) -> int:
    """The prompt's tokens: 4 per message plus its text; images and videos a flat 1000."""
    total = sum(message_tokens(m) for m in messages)
    if isinstance(tools, list) and tools:
        total += text_tokens(json.dumps(tools, ensure_ascii=False, sort_keys=True))
    return total


def cached_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """A plausible cache hit: everything before the last user message, once there were turns."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    earlier = messages[:last_user] if last_user > 0 else []
    if not any(m.get("role") == "assistant" for m in earlier):
        return 0
    return estimate_prompt(earlier)


# --- the prompt -------------------------------------------------------------------------------


def message_text(message: Mapping[str, Any]) -> str:
    """A message's text: the string, or its text parts joined by newlines."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            p["text"]
            for p in content
            if isinstance(p, Mapping) and p.get("type") == "text" and isinstance(p.get("text"), str)
        ]
        return "\n".join(texts)
    return ""


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def echo_text(prompt: str) -> str | None:
    """The text after the first ``ECHO `` / ``ECHO\\n``, or None when there is no marker."""
    found = [i for i in (prompt.find(m) for m in _ECHO_MARKERS) if i >= 0]
    if not found:
        return None
    return prompt[min(found) + len(_ECHO_MARKERS[0]) :]


def answer_text(prompt: str, *, json_mode: bool = False) -> str:
    echoed = echo_text(prompt)
    if echoed is not None:
        return echoed
    match = _LOREM.search(prompt)
    if match:
        text = lorem(min(int(match.group(1)), LOREM_MAX_WORDS))
    else:
        snippet = " ".join(prompt.split())[:80] or "(no text)"
        text = (
            f"You said: {snippet}\n\n"
            "*This is the Kimi emulator.* Start a message with `ECHO ` to get the rest back "
            "exactly, or with `LOREM <n>` for *n* words of Markdown."
        )
    if json_mode:
        return json.dumps({"answer": text}, ensure_ascii=False)
    return text


def reasoning_text(prompt: str) -> str:
    """A short fixed thought (always more than 16 tokens, so a tiny budget ends inside it)."""
    if echo_text(prompt) is not None:
        return "The user asked me to echo their text. I will repeat it exactly as it was given."
    return "The user wants a reply to this message. I will answer directly and keep it short."


# --- LOREM -------------------------------------------------------------------------------------

_LOREM_TEXT = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris "
    "nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse "
    "cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui "
    "officia deserunt mollit anim id est laborum"
)
_WORDS = _LOREM_TEXT.split()
_PARAGRAPH_WORDS = 60


class _Words:
    def __init__(self) -> None:
        self.index = 0

    def take(self, count: int) -> list[str]:
        words = []
        for _ in range(count):
            i = self.index
            words.append(_WORDS[(i * 7 + i // len(_WORDS)) % len(_WORDS)])
            self.index += 1
        return words


def _paragraph(words: list[str]) -> str:
    sentences = [words[i : i + 12] for i in range(0, len(words), 12)]
    return " ".join(" ".join(s).capitalize() + "." for s in sentences)


def _special_block(kind: int, words: _Words, number: int) -> str:
    if kind == 0:
        return "## " + " ".join(words.take(3)).title()
    if kind == 1:
        return "\n".join("- " + " ".join(words.take(5)) for _ in range(4))
    if kind == 2:
        name = "_".join(words.take(2))
        return f"```python\ndef {name}(x):\n    return x * {number}\n```"
    head = words.take(2)
    rows = [words.take(2) for _ in range(2)]
    lines = [f"| {head[0]} | {head[1]} |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


def lorem(count: int) -> str:
    """``count`` whitespace-separated words of Markdown (``len(text.split()) == count``)."""
    blocks: list[str] = []
    words = _Words()
    remaining = count
    while remaining > 0:
        number = len(blocks)
        block = ""
        if number % 5 == 4:
            mark = words.index
            block = _special_block((number // 5) % 4, words, number)
            if len(block.split()) > remaining:
                words.index = mark
                block = ""
        if not block:
            block = _paragraph(words.take(min(_PARAGRAPH_WORDS, remaining)))
        blocks.append(block)
        remaining -= len(block.split())
    return "\n\n".join(blocks)


# --- streaming pieces and the budget ----------------------------------------------------------


def pieces(text: str) -> list[str]:
    """Stream pieces: a word and the whitespace after it. ``"".join(pieces(t)) == t``."""
    return _PIECE.findall(text)


@dataclass(frozen=True)
class Answer:
    reasoning: list[str]
    content: list[str]
    finish_reason: str
    completion_tokens: int

    @property
    def reasoning_text(self) -> str:
        return "".join(self.reasoning)

    @property
    def content_text(self) -> str:
        return "".join(self.content)


def plan_answer(reasoning: str | None, content: str, budget: int) -> Answer:
    """Cut reasoning, then content, to the token budget; ``length`` when something was cut."""
    used = 0
    out: tuple[list[str], list[str]] = ([], [])
    for target, text in zip(out, (reasoning or "", content), strict=True):
        for piece in pieces(text):
            cost = text_tokens(piece)
            if used + cost > budget:
                return Answer(out[0], out[1], "length", used)
            used += cost
            target.append(piece)
    return Answer(out[0], out[1], "stop", used)
