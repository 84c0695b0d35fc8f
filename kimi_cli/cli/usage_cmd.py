"""``kimi usage``: what was spent, from the history."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kimi_cli.cli.common import print_json, state_of
from kimi_cli.errors import UsageError

if TYPE_CHECKING:
    from kimi_cli.spending import Spend

BY_CHOICES = ("day", "model", "conversation")


def register(root: typer.Typer) -> None:
    root.command("usage")(usage)


def usage(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", metavar="7d|YYYY-MM-DD", help="From this UTC day on.")
    ] = "30d",
    by: Annotated[
        str, typer.Option("--by", metavar="day|model|conversation", help="One row per …")
    ] = "day",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Spend per currency from the history: requests, tokens, cost, and what caching and
    the batch discount saved. Requests without a known price are counted apart.

    Example: kimi usage --since 7d --by model
    """
    from kimi_cli.spending import parse_since, report

    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    try:
        start = parse_since(since)
    except ValueError:
        raise UsageError(
            f"--since wants a number of days (7d) or a date (2026-11-01), not {since!r}"
        ) from None
    result = report(state_of(ctx).history(), since=start, by=by)
    if as_json:
        print_json(
            {
                "since": result.since,
                "by": result.by,
                "groups": [
                    {"group": group or None, "spend": [_spend_json(s) for s in spends]}
                    for group, spends in result.groups.items()
                ],
                "totals": [_spend_json(s) for s in result.totals],
            }
        )
        return
    if not result.totals:
        sys.stderr.write(f"kimi: nothing spent since {result.since} (UTC)\n")
        return
    rows = [(group or "(deleted)", s) for group, spends in result.groups.items() for s in spends]
    rows += [("total", s) for s in result.totals]
    width = max(len(label) for label, _ in rows)
    lines = [f"since {result.since} (UTC), by {by}"]
    lines += [_line(label.ljust(width), spend) for label, spend in rows]
    sys.stdout.write("\n".join(lines) + "\n")


def _amount(value: Any) -> float:
    return round(float(value), 10)


def _spend_json(spend: Spend) -> dict[str, Any]:
    return {
        "currency": spend.currency,
        "priced": spend.priced,
        "requests": spend.requests,
        "searches": spend.searches,
        "input_tokens": spend.input_tokens,
        "cached_tokens": spend.cached_tokens,
        "output_tokens": spend.output_tokens,
        "cost": _amount(spend.amount) if spend.priced else None,
        "cache_saving": _amount(spend.cache_saving),
        "batch_saving": _amount(spend.batch_saving),
    }


def _money(value: Any, currency: str) -> str:
    """Up to 6 decimals (what one request costs), at least 2: 0.000877, 1.25, 0.00."""
    text = f"{_amount(value):.6f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')} {currency}"


def _line(label: str, spend: Spend) -> str:
    requests = f"{spend.requests:,} request{'' if spend.requests == 1 else 's'}"
    tokens = (
        f"{spend.input_tokens:,} in ({spend.cached_tokens:,} cached), {spend.output_tokens:,} out"
    )
    plural = "search" if spend.searches == 1 else "searches"
    searches = f", {spend.searches:,} {plural}" if spend.searches else ""
    currency = spend.currency or "?"
    if not spend.priced:
        return f"{label}  {requests}, {tokens}{searches}  no known price (not counted)"
    saved = spend.cache_saving + spend.batch_saving
    saving = f"  saved {_amount(saved):.4f} {currency}" if saved else ""
    return (
        f"{label}  {requests}, {tokens}{searches}  {_amount(spend.amount):.4f} {currency}{saving}"
    )
