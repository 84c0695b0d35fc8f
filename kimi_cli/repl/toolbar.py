"""The bottom toolbar: model, reasoning mode, tokens used, cost so far, the cached share of
the last request, context left.

Plain text built from the session state, so it is tested without a terminal. It fits the
terminal's width: the parts that matter least (the cached share, then tokens, cost and the
reasoning mode) are left out first; the model and the context left stay.
"""

from __future__ import annotations

from prompt_toolkit.utils import get_cwidth

from kimi_cli.catalog import ChatOptions, ModelPolicy
from kimi_cli.conversation.rules import cached_share
from kimi_cli.repl.state import ReplState, context_left, cost_text


def reasoning_mode(policy: ModelPolicy, options: ChatOptions) -> str | None:
    """What the next request asks for: an effort, thinking on/off, or None for no reasoning."""
    if options.effort:
        return f"effort {options.effort}"
    if policy.efforts:
        return f"effort {policy.default_effort or 'default'}"
    if policy.thinking == "no":
        return None
    if policy.thinking == "only":
        return "thinking"
    if options.thinking is False:
        return "thinking off"
    if options.thinking is True or policy.thinking == "both":
        return "thinking on"
    return None


def toolbar_text(state: ReplState, width: int | None = None) -> str:
    """The toolbar's line; at most ``width`` cells when the model and context left fit."""
    conversation = state.conversation
    totals = state.totals
    last = state.last_result
    share = cached_share(last.usage) if last is not None else None
    left = context_left(state)
    # (text, rank): parts of the highest rank are left out first when the line is too wide.
    parts: list[tuple[str | None, int]] = [
        (conversation.model.id, 0),
        (reasoning_mode(conversation.policy, state.options), 4),
        (f"{totals.tokens:,} tokens", 2),
        (cost_text(totals), 3),
        (None if share is None else f"last request {share}% cached", 1),
        (None if left is None else f"context left {left[0]:,} ({100 * left[0] // left[1]}%)", 0),
    ]
    kept = [(text, rank) for text, rank in parts if text is not None]
    line = _line(kept)
    for drop in range(1, 5):
        if width is None or get_cwidth(line) <= width:
            break
        kept = [(text, rank) for text, rank in kept if rank != drop]
        line = _line(kept)
    return line


def _line(parts: list[tuple[str, int]]) -> str:
    return " " + " · ".join(text for text, _ in parts) + " "
