"""Typed results of the API: small frozen dataclasses, parsed leniently.

The API adds fields over time; parsing keeps what it knows and ``raw`` keeps the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ThinkEfforts:
    support: bool
    valid_efforts: tuple[str, ...]
    default_effort: str | None


@dataclass(frozen=True)
class Model:
    id: str
    context_length: int | None = None
    display_name: str | None = None
    supports_reasoning: bool | None = None
    supports_image_in: bool | None = None
    supports_video_in: bool | None = None
    supports_thinking_type: str | None = None  # "only" | "both" | "no"
    think_efforts: ThinkEfforts | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        """ValueError for something that is not a model (no string ``id``)."""
        model_id = data.get("id") if isinstance(data, Mapping) else None
        if not isinstance(model_id, str) or not model_id:
            raise ValueError("not a model: no id")
        efforts = data.get("think_efforts")
        think: ThinkEfforts | None = None
        if isinstance(efforts, Mapping):
            valid = efforts.get("valid_efforts")
            valid = valid if isinstance(valid, list) else ()
            default = efforts.get("default_effort")
            think = ThinkEfforts(
                support=bool(efforts.get("support", bool(valid))),
                valid_efforts=tuple(str(v) for v in valid if isinstance(v, str)),
                default_effort=default if isinstance(default, str) else None,
            )
        return cls(
            id=model_id,
            context_length=int_or_none(data.get("context_length")),
            display_name=str_or_none(data.get("display_name")),
            supports_reasoning=_bool_or_none(data.get("supports_reasoning")),
            supports_image_in=_bool_or_none(data.get("supports_image_in")),
            supports_video_in=_bool_or_none(data.get("supports_video_in")),
            supports_thinking_type=str_or_none(data.get("supports_thinking_type")),
            think_efforts=think,
            raw=dict(data),
        )


@dataclass(frozen=True)
class Balance:
    available: float
    voucher: float
    cash: float


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Usage:
        cached = data.get("cached_tokens")
        if cached is None:
            details = data.get("prompt_tokens_details")
            if isinstance(details, Mapping):
                cached = details.get("cached_tokens")
        return cls(
            input_tokens=_count(data.get("prompt_tokens")),
            output_tokens=_count(data.get("completion_tokens")),
            cached_tokens=_count(cached),
        )


@dataclass(frozen=True)
class ToolCall:
    """One complete call the model asks for; ``arguments`` is the API's JSON string, verbatim
    (the Formula fibers take it unchanged)."""

    id: str
    name: str
    arguments: str
    type: str = "function"

    def to_json(self) -> dict[str, Any]:
        """The assistant message's ``tool_calls`` entry, as the API wants it sent back."""
        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": self.arguments},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ToolCall:
        function = data.get("function")
        function = function if isinstance(function, Mapping) else {}
        return cls(
            id=str_or_none(data.get("id")) or "",
            name=str_or_none(function.get("name")) or "",
            arguments=arguments_text(function.get("arguments")),
            type=str_or_none(data.get("type")) or "function",
        )


def arguments_text(value: object) -> str:
    """Arguments as a string: kept verbatim; an object (some gateways send one) as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    import json

    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class ChatChunk:
    """One decoded stream event: text deltas, and the finish reason/usage when they come.

    ``tool_calls`` is set once, on the chunk that carries the finish reason: every call
    complete, its pieces joined."""

    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


_new = object.__new__


def new_chunk(
    content: str,
    reasoning: str,
    finish_reason: str | None,
    usage: Usage | None,
    model: str | None,
    tool_calls: tuple[ToolCall, ...] = (),
) -> ChatChunk:
    """``ChatChunk(...)`` for the stream's every piece, in a third of the time: a frozen
    dataclass's ``__init__`` goes through ``object.__setattr__`` field by field, this fills
    the same fields directly. The result is the same object (tests/test_fast_paths.py)."""
    chunk: ChatChunk = _new(ChatChunk)
    fields = chunk.__dict__
    fields["content"] = content
    fields["reasoning"] = reasoning
    fields["finish_reason"] = finish_reason
    fields["usage"] = usage
    fields["model"] = model
    fields["tool_calls"] = tool_calls
    return chunk


@dataclass(frozen=True)
class Completion:
    content: str
    reasoning: str
    finish_reason: str | None
    usage: Usage | None
    model: str | None
    request_id: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


def int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _count(value: object) -> int:
    """A token count: a whole number that SQLite can store; 0 for anything else."""
    number = int_or_none(value)
    return number if number is not None and 0 <= number < 2**63 else 0


def _bool_or_none(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
