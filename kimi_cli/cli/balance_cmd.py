"""``kimi balance``: what is left on the account, in the region's currency."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kimi_cli.api.types import Balance
from kimi_cli.cli.common import print_json, state_of
from kimi_cli.cli.state import Connection
from kimi_cli.errors import APIRequestError, AuthError, NotFoundError, WrongRegionError

HELP = """Show the available, voucher and cash balance (GET /v1/users/me/balance).

Amounts are USD on the global region and CNY on cn; with an explicit base URL the config's
currency is used, or the currency is unknown. Warns when cash is negative (money owed);
exits 6 when nothing is available, since the API then refuses chat.

Example: kimi balance --json | jq .available
"""


def register(root: typer.Typer) -> None:
    root.command("balance", help=HELP)(balance)


def balance(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {available, voucher, cash, currency}.")
    ] = False,
) -> None:
    from kimi_cli.account import format_amount, negative_cash_note, no_balance_error
    from kimi_cli.render.terminal import warn

    connection = state_of(ctx).connect()
    settings = connection.settings
    found = fetch_balance(connection)
    currency = settings.currency
    if as_json:
        print_json(balance_json(found, currency))
    else:
        rows = (("available", found.available), ("voucher", found.voucher), ("cash", found.cash))
        shown = [(name, format_amount(amount, currency)) for name, amount in rows]
        width = max(len(text) for _, text in shown)
        sys.stdout.write("".join(f"{name:<9}  {text:>{width}}\n" for name, text in shown))
        sys.stdout.flush()
    if found.cash < 0:
        warn(negative_cash_note(found, currency))
    if found.available <= 0:
        raise no_balance_error(found, currency, settings.region)


def balance_json(found: Balance, currency: str | None) -> dict[str, Any]:
    return {
        "available": found.available,
        "voucher": found.voucher,
        "cash": found.cash,
        "currency": currency,
    }


def fetch_balance(connection: Connection) -> Balance:
    """The balance; a 401 is explained (Kimi Code key, or a key of the other region)."""
    from kimi_cli.catalog.access import is_kimi_code_key, kimi_code_key_error

    if is_kimi_code_key(connection.api_key):
        raise kimi_code_key_error()
    try:
        return connection.client.balance()
    except NotFoundError as exc:  # a gateway or proxy that passes chat on, not the balance
        raise APIRequestError(
            f"{connection.settings.base_url} has no balance endpoint"
            f" (GET /users/me/balance answered HTTP 404: {exc.message})",
            hint="check the balance where this base URL bills you (the platform console)",
            request_id=exc.request_id,
        ) from exc
    except AuthError as exc:
        if exc.status_code != 401:
            raise
        region = connection.find_other_region()
        if region is None:
            raise
        raise WrongRegionError(
            f"this key belongs to the {region.name} region, not {connection.settings.base_url}",
            region=region.name,
            hint=region.switch_hint,
            request_id=exc.request_id,
        ) from exc
