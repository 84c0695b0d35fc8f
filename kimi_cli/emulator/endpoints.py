"""The answers of the plain JSON endpoints (everything but chat and the upload)."""

from __future__ import annotations

from typing import Any

from .api_files import delete, file_list
from .rules import ApiError, check_estimate
from .state import EmulatorState


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
    raise ApiError(404, "resource_not_found_error", f"Not found: {endpoint}")
