"""The budgets (config ``budget_daily`` and ``budget_monthly``): what was spent, what is left.

Read from the history's usage rows, as ``kimi usage`` and the check before each chat read
them; nothing is written. A budget already spent fails (6: every chat would be refused
with nothing sent); one at 80 % or more warns.
"""

from __future__ import annotations

from decimal import Decimal

from kimi_cli.budget import WARN_SHARE, Limits, amount_text, spent_today_and_month
from kimi_cli.doctor.report import (
    NO_SETTINGS,
    Check,
    DoctorContext,
    Findings,
    failed,
    passed,
    skipped,
    warned,
)
from kimi_cli.errors import ExitCode, HistoryError

TITLE = "Budgets"


def check_budget(ctx: DoctorContext, found: Findings) -> Check:
    settings = ctx.settings
    if settings is None:
        return skipped("budget", TITLE, NO_SETTINGS)
    limits = Limits.of(settings)
    if limits.daily is None and limits.monthly is None:
        return passed("budget", TITLE, "none set (kimi config set budget_daily AMOUNT sets one)")
    currency = settings.currency
    if currency is None:
        detail = "budgets are set, but the currency of this base URL is unknown: not checked"
        return warned("budget", TITLE, detail, "kimi config set currency USD (or CNY)")
    from kimi_cli.history import HistoryStore

    path = ctx.history_path or settings.data_dir / "history.db"
    today = month = Decimal(0)  # no history yet: nothing spent (and opening it would make it)
    try:
        if path.exists():
            with HistoryStore(path) as store:
                today, month = spent_today_and_month(store, currency)
    except HistoryError as exc:
        return warned("budget", TITLE, f"what was spent cannot be read: {exc.message}", exc.hint)
    parts: list[str] = []
    spent_out: list[str] = []
    near: list[str] = []
    for name, key, limit, spent in (
        ("daily", "budget_daily", limits.daily, today),
        ("monthly", "budget_monthly", limits.monthly, month),
    ):
        if limit is None:
            continue
        left = max(limit - spent, Decimal(0))
        parts.append(
            f"{name} {amount_text(limit, currency)}: {amount_text(spent, currency)} spent,"
            f" {amount_text(left, currency)} left"
        )
        if spent >= limit:
            spent_out.append(key)
        elif spent >= limit * WARN_SHARE:
            near.append(key)
    detail = "; ".join(parts) + " (UTC)"
    if spent_out:
        fix = f"raise it with 'kimi config set {spent_out[0]} AMOUNT', or wait for the next UTC"
        fix += " day" if spent_out[0] == "budget_daily" else " month"
        return failed("budget", TITLE, f"{detail}: chats are refused", fix, ExitCode.NO_BALANCE)
    if near:
        fix = f"raise it with 'kimi config set {near[0]} AMOUNT' if need be"
        return warned("budget", TITLE, f"{detail}: 80 % reached", fix)
    return passed("budget", TITLE, detail)
