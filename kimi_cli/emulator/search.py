"""The official web-search Formula (``moonshot/web-search:latest``) and the chat steering that
calls it.

Facts (docs/api-notes.md, web search): ``GET /v1/formulas/moonshot/web-search:latest/tools``
returns the tool list below; ``POST …/fibers`` with ``{"name", "arguments"}`` returns a fiber
``{"id", "object": "fiber", "status": "succeeded", "context": {"input", "encrypted_output"},
"formula"}`` (some formulas give ``context.output``); the client sends the output back verbatim
as the ``tool`` message, and the server decrypts it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .api_error import ApiError, bad

FORMULA = "moonshot/web-search:latest"
TOOL_NAME = "web_search"
TOOLS: dict[str, Any] = {
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "web_search",
                "description": "用于信息检索的网络搜索",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "classes": {
                            "type": "array",
                            "items": {
                                "enum": [
                                    "all", "academic", "social", "library",
                                    "finance", "code", "ecommerce", "medical",
                                ]
                            },
                        },
                    },
                    "required": ["query"],
                },
            },
        }
    ]
}  # fmt: skip
SEARCH = "SEARCH "
ALWAYS = "ALWAYS "
SEPARATOR = " || "
BEGIN = "----MOONSHOT ENCRYPTED BEGIN----"
END = "----MOONSHOT ENCRYPTED END----"
FIBER_FAULT = "fiber_failed"


def formula_of(uri: str) -> None:
    if uri != FORMULA:
        raise ApiError(404, "resource_not_found_error", f"formula {uri} not found")


def results_text(query: str) -> str:
    """What the emulated search finds: three results naming the query."""
    slug = "-".join(query.lower().split())[:60] or "empty"
    lines = [f'Web search results for "{query}" (emulated):']
    for n, kind in enumerate(("overview", "news", "reference"), start=1):
        lines.append(f"{n}. {query} — {kind}: https://example.com/{kind}/{slug}")
        lines.append(f"   The {kind} page about {query}, result {n} of 3.")
    return "\n".join(lines)


def encrypt(text: str) -> str:
    return BEGIN + base64.b64encode(text.encode("utf-8")).decode("ascii") + END


def decrypt(content: str) -> str:
    """A tool message's text as the model reads it (the emulator's own blobs decoded)."""
    stripped = content.strip()
    if stripped.startswith(BEGIN) and stripped.endswith(END):
        try:
            return base64.b64decode(stripped[len(BEGIN) : -len(END)]).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return content
    return content


def fiber(body: Any, fiber_id: str, *, encrypted: bool, fail: bool) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise bad("Invalid request: the body must be a JSON object")
    name, arguments = body.get("name"), body.get("arguments")
    if name != TOOL_NAME:
        raise bad(f"Invalid request: unknown function {name!r} for formula {FORMULA}")
    if not isinstance(arguments, str):
        raise bad("Invalid request: arguments must be a JSON string")
    try:
        parsed = json.loads(arguments)
    except ValueError as exc:
        raise bad("Invalid request: arguments is not valid JSON") from exc
    query = parsed.get("query") if isinstance(parsed, dict) else None
    if not isinstance(query, str):
        raise bad("Invalid request: arguments.query must be a string")
    context: dict[str, Any] = {"input": arguments}
    if fail:
        context["error"] = f"web search failed for {query!r}: emulated failure"
    elif encrypted:
        context["encrypted_output"] = encrypt(results_text(query))
    else:
        context["output"] = results_text(query)
    return {
        "id": fiber_id,
        "object": "fiber",
        "status": "failed" if fail else "succeeded",
        "context": context,
        "formula": FORMULA,
    }


# --- chat steering ---------------------------------------------------------------------------


def has_search_tool(tools: Sequence[Mapping[str, Any]]) -> bool:
    for tool in tools:
        function = tool.get("function")
        if not isinstance(function, Mapping) or tool.get("type") != "function":
            continue
        if function.get("name") == TOOL_NAME:
            return True
    return False


def search_queries(
    prompt: str, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The queries to call ``web_search`` with now; ``[]`` when the answer is text.

    ``SEARCH <q>`` calls once, then answers from the results; ``SEARCH ALWAYS <q>`` calls again
    after every result (to test a client's cap); `` || `` separates parallel queries.
    """
    if not prompt.startswith(SEARCH) or not has_search_tool(tools):
        return []
    text = prompt[len(SEARCH) :]
    always = text.startswith(ALWAYS)
    if always:
        text = text[len(ALWAYS) :]
    queries = [q.strip() for q in text.split(SEPARATOR) if q.strip()] or ["(empty)"]
    last = messages[-1].get("role")
    if last == "user":
        return queries
    if last == "tool" and always:
        rounds = sum(1 for m in messages if m.get("role") == "assistant" and m.get("tool_calls"))
        return [f"{q} (more {rounds})" for q in queries]
    return []


def tool_calls(
    queries: Sequence[str], messages: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Calls with IDs unique in the conversation (``web_search:<n>``)."""
    before = sum(len(m.get("tool_calls") or ()) for m in messages if m.get("role") == "assistant")
    return [
        {
            "id": f"{TOOL_NAME}:{before + i}",
            "type": "function",
            "function": {
                "name": TOOL_NAME,
                "arguments": json.dumps({"query": q}, ensure_ascii=False),
            },
        }
        for i, q in enumerate(queries)
    ]


def search_reasoning(queries: Sequence[str]) -> str:
    return f"The user wants current facts. I will search the web for: {'; '.join(queries)}."


def answer_from_results(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """After tool messages: an answer quoting each result (decrypted), so a test can prove
    the result reached the model. None when the last message is not a tool result."""
    if not messages or messages[-1].get("role") != "tool":
        return None
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        content = message.get("content")
        results.append(decrypt(content) if isinstance(content, str) else json.dumps(content))
    quoted = "\n\n".join(
        "\n".join(f"> {line}" for line in r.splitlines()) for r in reversed(results)
    )
    return f"From the search results:\n\n{quoted}"
