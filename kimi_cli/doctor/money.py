"""Amounts of money as people read them, and what to say about a balance.

Shared by ``kimi balance`` and the doctor's balance check so that both say the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kimi_cli.errors import QuotaError

if TYPE_CHECKING:
    from kimi_cli.api.types import Balance

#: Where each region's account is recharged (moonshot-api.md §1.1: the consoles were renamed).
CONSOLES = {"global": "platform.kimi.ai", "cn": "platform.kimi.com"}
SYMBOLS = {"USD": "$", "CNY": "¥"}


def format_amount(amount: float, currency: str | None) -> str:
    """``49.59 USD``; small non-zero amounts keep their digits (``0.00042 USD``)."""
    text = f"{amount:,.2f}"
    if amount != 0 and abs(amount) < 0.005:
        text = f"{amount:.5f}".rstrip("0")
    return f"{text} {currency}" if currency else f"{text} (currency unknown)"


def format_cost(amount: float, currency: str) -> str:
    """A small cost: ``less than $0.001`` or ``about $0.0123``."""
    symbol = SYMBOLS.get(currency)

    def shown(value: str) -> str:
        return f"{symbol}{value}" if symbol else f"{value} {currency}"

    if amount < 0.001:
        return f"less than {shown('0.001')}"
    return f"about {shown(f'{amount:.4f}')}"


def describe_balance(balance: Balance, currency: str | None) -> str:
    return (
        f"available {format_amount(balance.available, currency)} "
        f"(voucher {format_amount(balance.voucher, currency)}, "
        f"cash {format_amount(balance.cash, currency)})"
    )


def recharge_hint(region: str | None) -> str:
    console = CONSOLES.get(region or "")
    if console is None:
        return "recharge the account on the platform that issued the key"
    return f"recharge at {console} (Billing); then check with: kimi balance"


def no_balance_error(balance: Balance, currency: str | None, region: str | None) -> QuotaError:
    return QuotaError(
        f"no balance: available {format_amount(balance.available, currency)}; "
        "the API refuses chat until it is above zero",
        hint=recharge_hint(region),
    )


def negative_cash_note(balance: Balance, currency: str | None) -> str:
    return (
        f"the cash balance is negative ({format_amount(balance.cash, currency)}): "
        "money is owed, and the next recharge pays it first"
    )
