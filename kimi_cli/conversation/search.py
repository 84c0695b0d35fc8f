"""Web search inside a turn, through Moonshot's search Formula.

The facts (docs/api-notes.md#tool-calls-and-web-search): the Formula's tools are sent
unchanged with the chat request; a reply that ends with ``finish_reason: "tool_calls"``
is answered by running each call as a fiber (its arguments string verbatim), then the
assistant message goes back *with* its ``reasoning_content`` (a thinking model refuses
the next request without it) followed by one ``tool`` message per call carrying the
fiber's output verbatim, and the model is asked again.

The tool list is cached per base URL in the cache dir for a day: it changes with the
Formula's version, not per request, and every search turn would otherwise cost a round
trip before the question is even sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimi_cli.errors import APIRequestError, KimiError

if TYPE_CHECKING:
    from collections.abc import Callable

    from kimi_cli.api.client import KimiClient
    from kimi_cli.api.types import ToolCall
    from kimi_cli.conversation.outcome import TurnObserver, TurnResult

#: How long a fetched tool list is trusted.
TOOLS_TTL_S = 24 * 3600


class SearchLimitError(APIRequestError):
    """The model still wanted to search after ``--max-searches`` searches in one turn."""


@dataclass
class WebSearch:
    """The search Formula for one client: its tools (cached) and running a call."""

    client: KimiClient
    cache_dir: Path | None = None
    _tools: list[dict[str, Any]] | None = field(default=None, init=False, repr=False)

    @property
    def uri(self) -> str:
        from kimi_cli.api.formulas import WEB_SEARCH

        return WEB_SEARCH

    def tools(self) -> list[dict[str, Any]]:
        """The Formula's tools, from the cache when it is fresh, else from the API."""
        if self._tools is None:
            self._tools = self._cached()
            if self._tools is None:
                from kimi_cli.api.formulas import formula_tools

                self._tools = formula_tools(self.client, self.uri)
                self._save(self._tools)
        return self._tools

    def names(self) -> set[str]:
        return {str(t.get("function", {}).get("name")) for t in self.tools()}

    def run(self, call: ToolCall) -> str:
        """The tool message's content for one call: the fiber's output, verbatim."""
        from kimi_cli.api.formulas import run_fiber

        return run_fiber(self.client, self.uri, call.name, call.arguments).content

    def answer(
        self,
        calls: tuple[ToolCall, ...],
        body: dict[str, Any],
        result: TurnResult,
        observer: TurnObserver,
        max_searches: int,
        price: Callable[[TurnResult], None],
    ) -> None:
        """Run each call and append its tool message to the request and the result. A call
        of a tool not offered, or one past ``max_searches``, ends the turn. ``price`` is
        asked after each search is counted, so its fee is in the result before it runs."""
        offered = self.names()
        for call in calls:
            if call.name not in offered:
                raise unknown_tool(call)
            if len(result.searches) >= max_searches:
                raise limit_error(max_searches)
            query = query_of(call)
            observer.search(query)
            result.searches.append(query)
            price(result)
            message = tool_step(call, self.run(call))
            result.steps.append(message)
            body["messages"].append(message)

    # -- the cache: best effort, a broken file is fetched again ---------------------

    def _path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = f"{self.client.base_url.rstrip('/')} {self.uri}"
        return (
            self.cache_dir / f"formula-tools-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
        )

    def _cached(self) -> list[dict[str, Any]] | None:
        path = self._path()
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            fresh = time.time() - float(data["fetched_at"]) < TOOLS_TTL_S
            tools = data["tools"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not fresh or not isinstance(tools, list) or not tools:
            return None
        return tools if all(isinstance(t, dict) for t in tools) else None

    def _save(self, tools: list[dict[str, Any]]) -> None:
        path = self._path()
        if path is None:
            return
        data = {"base_url": self.client.base_url, "formula": self.uri, "fetched_at": time.time()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".formula-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({**data, "tools": tools}, out, ensure_ascii=False)
            os.replace(temp, path)
        except OSError:
            return


def query_of(call: ToolCall) -> str:
    """What a ``web_search`` call looks for, for people: its ``query``, else its arguments."""
    from kimi_cli.history.records import search_query

    return search_query(call.arguments)


def assistant_step(
    content: str, reasoning: str, calls: Sequence[ToolCall], *, thinks: bool
) -> dict[str, Any]:
    """The assistant message that asked for ``calls``, as it goes back to the API."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "tool_calls": [call.to_json() for call in calls],
    }
    if reasoning or thinks:
        message["reasoning_content"] = reasoning
    return message


def tool_step(call: ToolCall, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content}


def unknown_tool(call: ToolCall) -> KimiError:
    return APIRequestError(
        f"the model called a tool that was not offered ({call.name!r})",
        hint="retry; if it persists, report it",
    )


def limit_error(limit: int) -> SearchLimitError:
    return SearchLimitError(
        f"the model still wanted to search after {limit} search{'es' if limit > 1 else ''}"
        f" (--max-searches {limit})",
        hint="raise --max-searches or ask a narrower question; what arrived is saved",
    )


def complete_steps(steps: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``steps`` up to the last assistant tool call whose every call has its result: a
    call without one (a failed fiber) would make the API refuse the conversation."""
    kept: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    waiting: set[str] = set()
    for step in steps:
        if step.get("role") == "assistant":
            if waiting:
                break
            pending = [step]
            waiting = {str(c.get("id")) for c in step.get("tool_calls") or []}
        else:
            pending.append(step)
            waiting.discard(str(step.get("tool_call_id")))
        if not waiting:
            kept.extend(pending)
            pending = []
    return kept
