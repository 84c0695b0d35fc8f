"""The answers of the plain JSON endpoints (everything but chat and the upload)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from .api_files import delete, file_list
from .batches import EXPIRE_FAULT
from .replies import plan_reply
from .rules import ApiError, bad, check_chat, check_estimate
from .search import FIBER_FAULT, TOOLS, fiber, formula_of
from .state import EmulatorState
from .wire import completion_body, usage_body


def balance(state: EmulatorState) -> dict[str, Any]:
    current = state.current_balance()
    return {
        "code": 0,
        "data": {
            "available_balance": current["available"],
            "voucher_balance": current["voucher"],
            "cash_balance": current["cash"],
        },
        "scode": "0x0",
        "status": True,
    }


def run_batch_line(
    state: EmulatorState,
) -> Callable[[Mapping[str, Any]], tuple[int, dict[str, Any]]]:
    """A batch line judged by the rules of a live chat: its status and body."""

    def run(body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            request = check_chat(dict(body), state.model_list())
            if request.stream:
                raise bad("Invalid request: stream is not supported in a batch")
        except ApiError as error:
            return error.status, error.body()
        reply = plan_reply(request, set())
        usage = usage_body(request.prompt_tokens, reply.answer, request.cached_tokens)
        completion_id = f"chatcmpl-emu{state.next_id():06d}"
        value = completion_body(
            completion_id,
            request.model_id,
            reply.answer,
            usage,
            reasons=request.reasons,
            tool_calls=reply.tool_calls,
        )
        return 200, value

    return run


def _limit(query: dict[str, list[str]]) -> int:
    raw = query.get("limit", ["20"])[-1]
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise bad("Invalid request: limit must be between 1 and 100")
    return int(raw)


def answer(
    state: EmulatorState,
    endpoint: str,
    item: str,
    query: dict[str, list[str]],
    body: Any,
    faults: set[str],
) -> dict[str, Any] | bytes:
    """A JSON value, or bytes for a ``text/plain`` answer."""
    if endpoint == "models":
        return {"object": "list", "data": state.model_list()}
    if endpoint == "balance":
        return balance(state)
    if endpoint == "tokens":
        return {"data": {"total_tokens": check_estimate(body, state.model_list())}}
    if endpoint == "files.list":
        return file_list(state.files)
    if endpoint == "files.retrieve":
        return state.files.get(item).object()
    if endpoint == "files.content":
        return state.files.content(item)
    if endpoint == "files.delete":
        return delete(state.files, item)
    if endpoint == "batches.create":
        expire = EXPIRE_FAULT in faults
        return state.batches.create(body, step=state.batch_step_s, expire=expire)
    if endpoint == "batches.retrieve":
        return state.batches.get(item, run_batch_line(state))
    if endpoint == "batches.list":
        after = query.get("after", [None])[-1]
        return state.batches.list(after, _limit(query), run_batch_line(state))
    if endpoint == "batches.cancel":
        return state.batches.cancel(item, run_batch_line(state))
    if endpoint == "formulas.tools":
        formula_of(item)
        return copy.deepcopy(TOOLS)
    if endpoint == "formulas.fibers":
        formula_of(item)
        encrypted = state.fiber_output == "encrypted"
        fiber_id = f"fiber-emu{state.next_id():06d}"
        return fiber(body, fiber_id, encrypted=encrypted, fail=FIBER_FAULT in faults)
    raise ApiError(404, "resource_not_found_error", f"Not found: {endpoint}")
