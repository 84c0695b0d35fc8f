"""The emulator's own copy of the API's request rules: it rejects what the real API rejects.

Each rule names its section of docs/api-notes.md. Messages follow the API's wording where it is
known (its "Errors" section); the rest are written in the same style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .answers import cached_tokens, estimate_prompt
from .api_error import ApiError, bad, model_not_found
from .models import context_length, default_budget, has_fixed_sampling, thinking_type, valid_efforts
from .schema import check_response_schema
from .tool_rules import check_tool_turns, check_tools

ROLES = ("system", "user", "assistant", "tool")
_PART_TYPES = ("text", "image_url", "video_url")
_RESPONSE_FORMATS = ("text", "json_object", "json_schema")
__all__ = ["ApiError", "ChatRequest", "bad", "check_chat", "check_estimate", "model_not_found"]


@dataclass(frozen=True)
class ChatRequest:
    """A chat request that passed every rule, with what the answer needs."""

    model: Mapping[str, Any]
    messages: list[Mapping[str, Any]]
    stream: bool
    include_usage: bool
    reasons: bool
    budget: int
    prompt_tokens: int
    cached_tokens: int
    json_mode: bool
    tools: list[Mapping[str, Any]]
    schema: Mapping[str, Any] | None
    cache_key: str | None

    @property
    def model_id(self) -> str:
        return str(self.model["id"])


def find_model(body: Mapping[str, Any], models: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise bad("Invalid request: model is required")
    for model in models:
        if model.get("id") == model_id:
            return model
    raise model_not_found(model_id)


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise bad("Invalid request: the body must be a JSON object")
    return body


def _check_part(where: str, part: Any) -> str:
    """Content parts: text, image_url or video_url; a URL as an object or a bare string."""
    if not isinstance(part, Mapping) or part.get("type") not in _PART_TYPES:
        raise bad(f"Invalid request: {where}.type must be one of text, image_url, video_url")
    kind = str(part["type"])
    if kind == "text":
        text = part.get("text")
        if not isinstance(text, str):
            raise bad(f"Invalid request: {where}.text must be a string")
        if not text:
            raise bad(f"Invalid request: {where}.text must not be empty")
        return kind
    url = part.get(kind)
    if isinstance(url, Mapping):
        url = url.get("url")
    if not isinstance(url, str) or not url:
        raise bad(f"Invalid request: {where}.{kind} needs a url")
    return kind


def check_messages(messages: Any) -> tuple[list[Mapping[str, Any]], set[str]]:
    """A non-empty list, known roles, no empty content. Returns the part kinds seen."""
    if not isinstance(messages, list) or not messages:
        raise bad("Invalid request: messages must not be empty")
    kinds: set[str] = set()
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise bad(f"Invalid request: {where} must be an object")
        role = message.get("role")
        if role not in ROLES:
            raise bad(f"Invalid request: {where}.role must be one of {', '.join(ROLES)}")
        content = message.get("content")
        tool_call = role == "assistant" and bool(message.get("tool_calls"))
        if content is None or content == "" or content == []:
            if tool_call:
                continue
            raise bad(f"Invalid request: {where}.content must not be empty")
        if isinstance(content, list):
            for j, part in enumerate(content):
                kinds.add(_check_part(f"{where}.content[{j}]", part))
        elif not isinstance(content, str):
            raise bad(f"Invalid request: {where}.content must be a string or a list of parts")
    return list(messages), kinds


def _check_thinking(body: Mapping[str, Any], model: Mapping[str, Any]) -> bool:
    """Model rules (thinking, efforts). Returns whether the model reasons for this request."""
    thinking = body.get("thinking")
    effort = body.get("reasoning_effort")
    kind = thinking_type(model)
    efforts = valid_efforts(model)
    if thinking is not None and effort is not None:
        raise bad("cannot specify both 'thinking' and 'reasoning_effort'")  # api-notes: Errors
    reasons = kind != "no"
    if thinking is not None:
        if kind == "only" and efforts:
            raise bad("invalid thinking: not supported for this model, use reasoning_effort")
        if not isinstance(thinking, Mapping) or thinking.get("type") not in ("enabled", "disabled"):
            raise bad("invalid thinking: type must be one of enabled, disabled")
        unknown = sorted(set(thinking) - {"type", "keep"})
        if unknown:
            raise bad(f"invalid thinking: unknown field '{unknown[0]}'")
        if thinking.get("keep") not in (None, "all"):
            raise bad("invalid thinking: keep must be null or all")
        if thinking["type"] == "disabled":
            if kind == "only":
                raise bad("thinking cannot be disabled for this model")
            reasons = False
        elif kind == "no":
            raise bad("invalid thinking: not supported for this model")
    if effort is not None:
        if not efforts:
            raise bad("invalid reasoning_effort: not supported for this model")
        if effort not in efforts:
            raise bad(f"invalid reasoning_effort: must be one of {', '.join(efforts)}")
    return reasons


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_sampling(body: Mapping[str, Any], model: Mapping[str, Any], reasons: bool) -> None:
    """Model rules: reasoning models fix their sampling; any other value is a 400.

    ASSUMPTION: K3, K3.1 and K2.7 fix top_p at 0.95 like K2.5/K2.6 (the only official value);
    the sources only say "fixed".
    """
    if has_fixed_sampling(model):
        fixed = {
            "temperature": 1.0 if reasons else 0.6,
            "top_p": 0.95,
            "n": 1,
            "presence_penalty": 0,
            "frequency_penalty": 0,
        }
        for name, allowed in fixed.items():
            value = body.get(name)
            if value is not None and (not _is_number(value) or float(value) != allowed):
                raise bad(f"invalid {name}: only {allowed:g} is allowed for this model")
        return
    ranges = {
        "temperature": (0.0, 1.0),
        "top_p": (0.0, 1.0),
        "n": (1, 5),
        "presence_penalty": (-2.0, 2.0),
        "frequency_penalty": (-2.0, 2.0),
    }
    for name, (low, high) in ranges.items():
        value = body.get(name)
        if value is None:
            continue
        if not _is_number(value) or not low <= value <= high or (name == "n" and value % 1):
            raise bad(f"invalid {name}: must be between {low:g} and {high:g}")


def _check_format(
    body: Mapping[str, Any], messages: list[Mapping[str, Any]]
) -> tuple[bool, Mapping[str, Any] | None]:
    """Whether JSON mode is on, and the json_schema's schema."""
    json_mode = False
    schema = None
    fmt = body.get("response_format")
    if fmt is not None:
        if not isinstance(fmt, Mapping) or fmt.get("type") not in _RESPONSE_FORMATS:
            raise bad("invalid response_format: type must be one of text, json_object, json_schema")
        if fmt["type"] == "json_schema":
            schema = check_response_schema(fmt)
        json_mode = fmt["type"] != "text"
    if json_mode and messages[-1].get("partial"):  # api-notes: Chat completions request
        raise bad("Invalid request: partial mode cannot be combined with response_format")
    return json_mode, schema


def _check_options(body: Mapping[str, Any]) -> str | None:
    """Stop, stream options, the prompt cache fields. Returns the prompt cache key."""
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if (
            not isinstance(stops, list)
            or len(stops) > 5
            or not all(isinstance(s, str) and len(s.encode()) <= 32 for s in stops)
        ):
            raise bad("invalid stop: at most 5 strings of at most 32 bytes each")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise bad("Invalid request: stream must be a boolean")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, Mapping):
        raise bad("Invalid request: stream_options must be an object")
    key = body.get("prompt_cache_key")
    if key is not None and not isinstance(key, str):
        raise bad("Invalid request: prompt_cache_key must be a string")
    cache_options = body.get("prompt_cache_options")
    if cache_options is not None and not isinstance(cache_options, Mapping):
        raise bad("Invalid request: prompt_cache_options must be an object")
    return key


def _budget(body: Mapping[str, Any], model: Mapping[str, Any], prompt: int) -> int:
    """Input over the context, or input + budget over it, is a 400."""
    name = (
        "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    )
    requested = body.get(name)
    if requested is not None and (
        isinstance(requested, bool) or not isinstance(requested, int) or requested < 1
    ):
        raise bad(f"invalid {name}: must be a positive integer")
    context = context_length(model)
    if prompt > context:
        raise bad("Input token length too long")
    if requested is None:
        return min(default_budget(model), context - prompt)
    if prompt + requested > context:
        raise bad(f"Your request exceeded model token limit : {context}")
    return int(requested)


def check_chat(raw: Any, models: Sequence[Mapping[str, Any]]) -> ChatRequest:
    """Apply every rule to a chat body; raises ``ApiError`` for the first one it breaks."""
    body = _object(raw)
    model = find_model(body, models)
    messages, kinds = check_messages(body.get("messages"))
    for kind, flag in (("image", "supports_image_in"), ("video", "supports_video_in")):
        if f"{kind}_url" in kinds and not model.get(flag):
            raise bad(f"invalid request: {kind} input is not supported by model {model['id']}")
    reasons = _check_thinking(body, model)
    _check_sampling(body, model, reasons)
    json_mode, schema = _check_format(body, messages)
    cache_key = _check_options(body)
    tools = check_tools(body.get("tools"))
    check_tool_turns(messages, reasons)
    prompt = estimate_prompt(messages, body.get("tools"))
    budget = _budget(body, model, prompt)
    options = body.get("stream_options") or {}
    return ChatRequest(
        model=model,
        messages=messages,
        stream=bool(body.get("stream", False)),
        include_usage=options.get("include_usage") is True,
        reasons=reasons,
        budget=budget,
        prompt_tokens=prompt,
        cached_tokens=cached_tokens(messages),
        json_mode=json_mode,
        tools=tools,
        schema=schema,
        cache_key=cache_key,
    )


def check_estimate(raw: Any, models: Sequence[Mapping[str, Any]]) -> int:
    """The same messages as chat; the count is the estimator ``usage.prompt_tokens`` uses."""
    body = _object(raw)
    find_model(body, models)
    messages, _ = check_messages(body.get("messages"))
    return estimate_prompt(messages, body.get("tools"))
