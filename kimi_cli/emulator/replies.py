"""What a chat request gets back — text, a tool call, or a JSON document — before it is written
as a stream or a single body. Chat and batch lines share it, so both obey the same rules."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .answers import (
    Answer,
    answer_text,
    echo_text,
    last_user_text,
    message_tokens,
    plan_answer,
    reasoning_text,
    text_tokens,
)
from .rules import ChatRequest
from .schema import broken, instance
from .search import answer_from_results, search_queries, search_reasoning, tool_calls

SCHEMA_FAULT = "schema_broken"
CACHE_MIN_PROMPT = 256
CACHE_ENTRIES_PER_KEY = 16


@dataclass(frozen=True)
class Reply:
    answer: Answer
    tool_calls: list[dict[str, Any]]


def plan_reply(request: ChatRequest, faults: set[str]) -> Reply:
    messages = request.messages
    prompt = last_user_text(messages)
    queries = search_queries(prompt, messages, request.tools)
    if queries:
        reasoning = search_reasoning(queries) if request.reasons else None
        answer = plan_answer(reasoning, "", request.budget)
        calls = tool_calls(queries, messages)
        spent = answer.completion_tokens + sum(
            text_tokens(c["function"]["name"] + c["function"]["arguments"]) for c in calls
        )
        if answer.finish_reason == "length" or spent > request.budget:
            return Reply(answer, [])
        return Reply(replace(answer, finish_reason="tool_calls", completion_tokens=spent), calls)
    # A json_schema answer stays a document after a search, as the API's strict mode keeps it.
    content = answer_from_results(messages) if request.schema is None else None
    if content is None and request.schema is not None and echo_text(prompt) is None:
        document = broken(request.schema) if SCHEMA_FAULT in faults else instance(request.schema)
        content = json.dumps(document, ensure_ascii=False)
    if content is None:
        content = answer_text(prompt, json_mode=request.json_mode)
    reasoning = reasoning_text(prompt) if request.reasons else None
    return Reply(plan_answer(reasoning, content, request.budget), [])


class PromptCache:
    """Deterministic prefix caching by ``prompt_cache_key``: a request reuses the longest run of
    leading messages it shares with an earlier request of the same key whose prompt had more
    than 256 tokens (the documented threshold)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[tuple[list[str], int]]] = {}

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def cached_tokens(self, key: str, messages: Sequence[Mapping[str, Any]], prompt: int) -> int:
        keys = [json.dumps(m, sort_keys=True, ensure_ascii=False) for m in messages]
        tokens = [message_tokens(m) for m in messages]
        best = 0
        with self._lock:
            earlier = self._seen.setdefault(key, deque(maxlen=CACHE_ENTRIES_PER_KEY))
            for previous, previous_prompt in earlier:
                if previous_prompt <= CACHE_MIN_PROMPT:
                    continue
                shared = 0
                for mine, theirs in zip(keys, previous, strict=False):
                    if mine != theirs:
                        break
                    shared += 1
                best = max(best, sum(tokens[:shared]))
            earlier.append((keys, prompt))
        return min(best, prompt)
