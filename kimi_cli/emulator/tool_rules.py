"""The API's rules for ``tools`` and for the messages of a tool-calling turn.

Facts (docs/api-notes.md, tool calling): function names match
``^[a-zA-Z_][a-zA-Z0-9-_]{0,127}$`` (``$`` is kept for built-ins), at most 128 tools, a duplicate
name is ``function name xxx is duplicated``; a thinking model refuses a turn whose assistant
tool-call message lost its ``reasoning_content``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .api_error import bad

TOOL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9\-_]{0,127}$")
MAX_TOOLS = 128


def check_tools(tools: Any) -> list[Mapping[str, Any]]:
    """The request's tools (``[]`` when none); ``ApiError`` for the first broken rule."""
    if tools is None:
        return []
    if not isinstance(tools, list) or len(tools) > MAX_TOOLS:
        raise bad(f"invalid tools: at most {MAX_TOOLS} tools")
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping):
            raise bad("invalid tools: each tool must be an object")
        kind = tool.get("type")
        function = tool.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if kind == "builtin_function" and isinstance(name, str) and name.startswith("$"):
            continue
        if kind != "function":
            raise bad(f"invalid tools: tools[{i}].type must be function or builtin_function")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise bad(f"invalid tools: function name {name!r} is not valid")
        if name in seen:
            raise bad(f"function name {name} is duplicated")
        seen.add(name)
        assert isinstance(function, Mapping)
        parameters = function.get("parameters")
        if parameters is not None and (
            not isinstance(parameters, Mapping) or parameters.get("type", "object") != "object"
        ):
            raise bad(f"invalid tools: the parameters of function {name} must be an object schema")
    return list(tools)


def _check_call(where: str, call: Any) -> str:
    function = call.get("function") if isinstance(call, Mapping) else None
    call_id = call.get("id") if isinstance(call, Mapping) else None
    if (
        not isinstance(call_id, str)
        or not call_id
        or not isinstance(function, Mapping)
        or not isinstance(function.get("name"), str)
        or not isinstance(function.get("arguments"), str)
    ):
        raise bad(f"Invalid request: {where} needs an id and a function with name and arguments")
    return call_id


def check_tool_turns(messages: Sequence[Mapping[str, Any]], reasons: bool) -> None:
    """Tool messages answer an earlier call; a thinking model needs the calls' reasoning."""
    known: set[str] = set()
    for i, message in enumerate(messages):
        role = message.get("role")
        calls = message.get("tool_calls")
        if role == "assistant" and calls:
            if not isinstance(calls, list):
                raise bad(f"Invalid request: messages[{i}].tool_calls must be a list")
            for j, call in enumerate(calls):
                known.add(_check_call(f"messages[{i}].tool_calls[{j}]", call))
            if reasons and message.get("reasoning_content") is None:
                raise bad(
                    "thinking is enabled but reasoning_content is missing in assistant tool "
                    f"call message at index {i}"
                )
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or not call_id:
                raise bad(f"Invalid request: messages[{i}].tool_call_id is required")
            if call_id not in known:
                raise bad(f"Invalid request: tool_call_id {call_id} is not found")
