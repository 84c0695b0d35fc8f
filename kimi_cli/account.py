"""The account's money as people read it: amounts, the balance, where to recharge.

Shared by ``kimi balance`` and the doctor's balance check so that both say the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kimi_cli.config_store import REGIONS_BY_NAME
from kimi_cli.errors import QuotaError

if TYPE_CHECKING:
    from kimi_cli.api.types import Balance

SYMBOLS = {"USD": "$", "CNY": "¥"}


def format_amount(amount: float, currency: str | None) -> str:
    """``49.59 USD``; small non-zero amounts keep their digits (``0.00042 USD``)."""
    text = _number(amount)
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
    """``available 49.59 USD (voucher 0.00 USD, cash 49.59 USD)``; an unknown currency is
    said once, at the end, not after every amount."""
    amounts = (balance.available, balance.voucher, balance.cash)
    if currency:
        available, voucher, cash = (format_amount(a, currency) for a in amounts)
        return f"available {available} (voucher {voucher}, cash {cash})"
    available, voucher, cash = (_number(a) for a in amounts)
    return f"available {available} (voucher {voucher}, cash {cash}); currency unknown"


def _number(amount: float) -> str:
    text = f"{amount:,.2f}"
    if amount != 0 and abs(amount) < 0.005:
        text = f"{amount:.5f}".rstrip("0")
    return text


def recharge_hint(region: str | None) -> str:
    facts = REGIONS_BY_NAME.get(region or "")
    console = facts.console if facts else None
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
