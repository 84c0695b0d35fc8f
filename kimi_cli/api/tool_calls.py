"""Streamed tool calls: the ``delta.tool_calls`` pieces of an answer joined into whole calls.

A stream imports this when its first tool-call piece arrives; most answers carry none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimi_cli.api.types import ToolCall, arguments_text


class ToolCallAssembler:
    """Joins ``delta.tool_calls`` pieces into whole calls.

    ``index`` is optional (the API's schema does not declare it): without it, a piece with
    an unseen ``id`` opens a new call, one with a known ``id`` continues that call, and one
    with neither goes by its position in the list (or, alone, to the call opened last).
    """

    def __init__(self) -> None:
        self._slots: dict[object, dict[str, str]] = {}
        self._last: object = None

    def feed(self, pieces: list[Any]) -> None:
        several = len(pieces) > 1
        for position, piece in enumerate(pieces):
            if not isinstance(piece, Mapping):
                continue
            slot = self._slots.setdefault(self._key(piece, position, several), {})
            function = piece.get("function")
            function = function if isinstance(function, Mapping) else {}
            _join(slot, "id", piece.get("id"))
            _join(slot, "type", piece.get("type"))
            _join(slot, "name", function.get("name"))
            arguments = function.get("arguments")
            if arguments is not None:
                slot["arguments"] = slot.get("arguments", "") + arguments_text(arguments)

    def _key(self, piece: Mapping[str, Any], position: int, several: bool) -> object:
        index = piece.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            key: object = index
        else:
            call_id = piece.get("id")
            known = next(
                (k for k, s in self._slots.items() if call_id and s.get("id") == call_id), None
            )
            if known is not None:
                key = known
            elif call_id or not self._slots:
                key = ("new", len(self._slots))
            elif several:
                key = list(self._slots)[min(position, len(self._slots) - 1)]
            else:
                key = self._last
        self._last = key
        return key

    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(
                id=slot.get("id", ""),
                name=slot.get("name", ""),
                arguments=slot.get("arguments", ""),
                type=slot.get("type") or "function",
            )
            for slot in self._slots.values()
        )


def _join(slot: dict[str, str], field: str, piece: object) -> None:
    """ids, names and types may come whole once, whole again on every piece, or in pieces."""
    if not isinstance(piece, str) or not piece:
        return
    have = slot.get(field, "")
    if have != piece:
        slot[field] = have + piece
