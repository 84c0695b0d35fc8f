"""The rules of a turn that both front ends show: the same words in one-shot chat and the REPL.

Each rule takes a :class:`TurnResult` (or the input) and returns data or a line of text; the
front ends only decide where to draw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kimi_cli.errors import APIRequestError, KimiError, UsageError

if TYPE_CHECKING:
    from kimi_cli.api.types import Model, Usage
    from kimi_cli.conversation.turn import TurnResult
    from kimi_cli.pricing import SearchPrice

#: Inputs larger than this are measured with the tokenizer endpoint before sending, so one
#: that cannot fit the model's context is refused with the numbers instead of a 400.
MEASURE_ABOVE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Verdict:
    """What the end of an answer means: an error (no answer at all) or a warning."""

    error: KimiError | None = None
    warning: str | None = None


def verdict(result: TurnResult, max_tokens: int | None) -> Verdict:
    """``finish_reason == "length"``: no answer is an error; a cut answer a warning."""
    if result.finish_reason != "length":
        return Verdict()
    limit = f" ({max_tokens} tokens)" if max_tokens else ""
    if not result.content:
        return Verdict(
            error=APIRequestError(
                f"no answer within the token budget{limit}: reasoning used all of it",
                hint="raise it with --max-tokens, or lower the effort",
            )
        )
    return Verdict(
        warning=f"the answer was cut at the token limit{limit} — raise it with --max-tokens"
    )


def money(amount: float, currency: str) -> str:
    return f"{amount:.6f} {currency}" if amount < 0.01 else f"{amount:.4f} {currency}"


def usage_line(result: TurnResult, currency: str | None) -> str:
    usage = result.usage
    if usage is None:
        return "kimi: usage: the API reported no token counts"
    tokens = f"{usage.input_tokens} in ({usage.cached_tokens} cached), {usage.output_tokens} out"
    if result.searches:
        count = len(result.searches)
        tokens += f" · {count} search{'es' if count > 1 else ''}"
    if result.cost is not None:
        line = f"kimi: usage: {tokens} · {money(result.cost.amount, result.cost.currency)}"
        price = _search_price(result)
        if price is not None:
            line += f" (searches {money(price.per_call, price.currency)} each, {price.source})"
        return line
    if currency is None:
        why = "the currency of this base URL is unknown: kimi config set currency USD"
    elif result.searches and result.search_cost is None:
        why = f"search cost unknown: no listed {currency} price per search"
    else:
        why = f"no listed {currency} price for {result.model}"
    return f"kimi: usage: {tokens} · cost unknown ({why})"


def failed_usage_line(result: TurnResult, currency: str | None) -> str | None:
    """``-u`` after a turn that failed: what its finished requests and searches cost (they
    were billed), or None when nothing was."""
    if not result.requests and not result.searches:
        return None
    return usage_line(result, currency)


def search_cost_json(result: TurnResult) -> dict[str, Any] | None:
    """``search_cost`` of ``--json``: the searches' fee (part of ``cost``) and its source."""
    if not result.searches:
        return None
    price = _search_price(result)
    return {
        "calls": len(result.searches),
        "amount": result.search_cost.amount if result.search_cost else None,
        "currency": price.currency if price else None,
        "per_call": price.per_call if price else None,
        "source": f"{price.source} ({price.as_of})" if price else None,
    }


def _search_price(result: TurnResult) -> SearchPrice | None:
    if not result.searches or result.search_cost is None:
        return None
    from kimi_cli.pricing import WEB_SEARCH

    return WEB_SEARCH.get(result.search_cost.currency)


def cached_share(usage: Usage | None) -> int | None:
    """The percentage of the input the API served from its cache, when it said."""
    if usage is None or not usage.input_tokens:
        return None
    return 100 * usage.cached_tokens // usage.input_tokens


def stopped_note(result: TurnResult | None, *, terminated: bool = False) -> str:
    """The line after Ctrl-C or SIGTERM: what was saved, and where."""
    what = "terminated" if terminated else "interrupted"
    where = result.conversation_id if result is not None else None
    if where is None:
        return f"kimi: {what}"
    kept = "the partial answer is" if result is not None and result.content else "the question is"
    return f"kimi: {what} — {kept} saved: kimi history show {where}"


def check_fit(
    model: Model,
    messages: list[dict[str, Any]],
    estimate: Any,
    *,
    used: int | None = None,
    new_text: str = "",
    hint: str,
) -> int | None:
    """Tokens of a large input (or one near the end of the context), from the API's
    tokenizer; refuse one that cannot fit. ``estimate(model_id, messages)`` counts."""
    context = model.context_length
    size = sum(len(str(m.get("content", "")).encode()) for m in messages)
    near = (
        context is not None and used is not None and used + len(new_text.encode()) // 2 >= context
    )
    if size <= MEASURE_ABOVE_BYTES and not near:
        return None
    try:
        tokens: int = estimate(model.id, messages)
    except KimiError:
        return None  # no estimate: the API decides
    if context and tokens >= context:
        raise UsageError(
            f"the input is {tokens:,} tokens; {model.id} takes at most {context:,}", hint=hint
        )
    return tokens


def setting_change(before: tuple[str, str | None], after: tuple[str, str | None]) -> str | None:
    """A change of model or effort inside a conversation: it starts the prompt cache anew."""
    if before == after:
        return None
    changed = []
    if before[0] != after[0]:
        changed.append(f"model {before[0]} → {after[0]}")
    if before[1] != after[1]:
        changed.append(f"effort {before[1] or 'default'} → {after[1] or 'default'}")
    return (
        f"{' and '.join(changed)} inside this conversation: "
        "the API's cache of its earlier messages is not reused for this turn"
    )
