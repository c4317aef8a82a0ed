"""``aigateway usage``: a month of an account's usage per tag or per sub-account, as tables.

It reads the same rollups as GET /v1/usage/by-tag and /v1/usage/by-sub-account (storage/usage.py),
straight from the database. Live traffic and test-mode traffic (never charged) are shown apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from aigateway.cli_common import ConfigOpt, console, open_engine, resolve_account
from aigateway.core.money import nano_to_cents_str
from aigateway.settings import load_settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.spend import month_of
from aigateway.storage.subaccounts import SubAccountStore
from aigateway.storage.usage import UnitUsage, UsageGroup, UsageStore, UsageTotals, month_range

GROUPINGS = ("tag", "sub-account")


def _units(units: dict[str, UnitUsage]) -> str:
    return ", ".join(f"{kind} {u.input}/{u.output}" for kind, u in sorted(units.items()))


def _models(totals: UsageTotals) -> str:
    return ", ".join(f"{m.model} ({m.requests})" for m in totals.by_model)


def _table(title: str, column: str, rows: list[tuple[str, UsageTotals]], total: UsageTotals) -> Table:
    table = Table(
        column, "requests", "errors", "cost cents", "units (in/out)", "models (requests)", title=title
    )
    for label, totals in rows:
        table.add_row(
            label,
            str(totals.requests),
            str(totals.errors),
            nano_to_cents_str(totals.cost_nanousd),
            _units(totals.units),
            _models(totals),
        )
    table.add_section()
    table.add_row(
        "total",
        str(total.requests),
        str(total.errors),
        nano_to_cents_str(total.cost_nanousd),
        _units(total.units),
        "",
    )
    return table


def usage_cmd(
    month: Annotated[
        str | None, typer.Option(help="The UTC month, YYYY-MM (default: the current one).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Group by tag or by sub-account.")] = "tag",
    account: Annotated[str | None, typer.Option(help="Account id (default: the admin account).")] = None,
    config: ConfigOpt = None,
) -> None:
    """A month of usage per tag or per sub-account: requests, errors, exact cost, units and models."""
    month = month or month_of(datetime.now(UTC))
    try:
        month_range(month)
    except ValueError:
        raise typer.BadParameter(
            f"{month!r} is not a month in the form YYYY-MM", param_hint="'--month'"
        ) from None
    if by not in GROUPINGS:
        raise typer.BadParameter(f"{by!r}: one of tag, sub-account", param_hint="'--by'")
    engine = open_engine(load_settings(config=config))
    account_id = resolve_account(AccountStore(engine), account)
    usage = UsageStore(engine)
    report = usage.by_tag(account_id, month) if by == "tag" else usage.by_sub_account(account_id, month)
    names = _names(engine, account_id) if by == "sub-account" else {}

    def label(group: UsageGroup) -> str:
        if group.key is None:
            return "(no tag)" if by == "tag" else "(parent's own keys)"
        name = names.get(group.key)
        return f"{group.key} {name}" if name else group.key

    column = "tag" if by == "tag" else "sub-account"
    live = [(label(g), g.live) for g in report.groups if g.live.requests]
    console.print(_table(f"{account_id} usage by {by}, {month} (live)", column, live, report.live))
    test = [(label(g), g.test) for g in report.groups if g.test.requests]
    if test:
        console.print(_table(f"test mode (never charged), {month}", column, test, report.test))


def _names(engine: Engine, account_id: str) -> dict[str, str]:
    """Sub-account id -> name, for the labels (deleted sub-accounts show their id only)."""
    store = SubAccountStore(engine)
    out: dict[str, str] = {}
    after: str | None = None
    while True:
        page = store.list(account_id, limit=500, after=after)
        out.update({r.id: r.name for r in page})
        if len(page) < 500:
            return out
        after = page[-1].id
