"""The bottom toolbar: model, reasoning mode, tokens used, cost so far, the cached share of
the last request, context left.

Plain text built from the session state, so it is tested without a terminal.
"""

from __future__ import annotations

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


def toolbar_text(state: ReplState) -> str:
    conversation = state.conversation
    parts = [conversation.model.id]
    mode = reasoning_mode(conversation.policy, state.options)
    if mode:
        parts.append(mode)
    totals = state.totals
    parts.append(f"{totals.tokens:,} tokens")
    parts.append(cost_text(totals))
    last = state.last_result
    share = cached_share(last.usage) if last is not None else None
    if share is not None:
        parts.append(f"last request {share}% cached")
    left = context_left(state)
    if left is not None:
        tokens, length = left
        parts.append(f"context left {tokens:,} ({100 * tokens // length}%)")
    return " " + " · ".join(parts) + " "
