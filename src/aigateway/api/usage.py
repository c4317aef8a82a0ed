"""Usage reports: /v1/usage/by-tag, /v1/usage/by-sub-account and /v1/sub-accounts/{id}/usage.

They read the rollups the ledger flush keeps (storage/usage.py), so they answer in milliseconds over
a month of any size and always equal the ledger's sums. Live traffic is in ``data``; test-mode
traffic is in ``test``, apart, and never counts as spend. Costs are exact: ``cost_cents`` a decimal
JSON number, ``cost_nanousd`` the integer.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from aigateway.api.authz import MANAGERS, require
from aigateway.api.deps import context
from aigateway.api.management import answer, exact_cents, month_param
from aigateway.api.subaccounts import missing, store_of, visible
from aigateway.services.auth import Principal
from aigateway.storage.usage import UnitUsage, UsageReport, UsageStore, UsageTotals

router = APIRouter()
KEY_FIELDS = {"tag": "tag", "sub_account": "sub_account_id"}


def _units(units: dict[str, UnitUsage]) -> dict[str, dict[str, int]]:
    return {kind: {"input": u.input, "output": u.output} for kind, u in sorted(units.items())}


def _money(nano: int) -> dict[str, Any]:
    return {"cost_cents": exact_cents(nano), "cost_nanousd": nano}


def _totals(totals: UsageTotals) -> dict[str, Any]:
    return {
        "requests": totals.requests,
        "errors": totals.errors,
        **_money(totals.cost_nanousd),
        "units": _units(totals.units),
        "by_model": [
            {"model": m.model, "requests": m.requests, **_money(m.cost_nanousd), "units": _units(m.units)}
            for m in totals.by_model
        ],
        "by_day": [{"day": d.day, "requests": d.requests, **_money(d.cost_nanousd)} for d in totals.by_day],
    }


def render(report: UsageReport, *, keep_empty: bool = False) -> dict[str, Any]:
    """The report's JSON; groups without traffic of a mode are left out of that mode's list
    (``keep_empty``: a one-sub-account report always has its one entry in each)."""
    field = KEY_FIELDS[report.group_by]
    live = [{field: g.key, **_totals(g.live)} for g in report.groups if keep_empty or g.live.requests]
    test = [{field: g.key, **_totals(g.test)} for g in report.groups if keep_empty or g.test.requests]
    return {
        "object": "usage.report",
        "month": report.month,
        "group_by": report.group_by,
        "data": live,
        "test": test,
        "total": _totals(report.live),
        "test_total": _totals(report.test),
    }


@router.get("/v1/usage/by-tag", tags=["usage"])
async def usage_by_tag(request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]) -> Response:
    """Per tag (``tag`` null: calls that carried none), the account's own and its sub-accounts' calls."""
    month = month_param(request)
    report = await asyncio.to_thread(UsageStore(context(request).engine).by_tag, who.account_id, month)
    return answer(request, render(report))


@router.get("/v1/usage/by-sub-account", tags=["usage"])
async def usage_by_sub_account(
    request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]
) -> Response:
    """Per sub-account (``sub_account_id`` null: calls made with the parent's own keys); deleted
    sub-accounts stay in the months they spent in."""
    month = month_param(request)
    report = await asyncio.to_thread(
        UsageStore(context(request).engine).by_sub_account, who.account_id, month
    )
    return answer(request, render(report))


@router.get("/v1/sub-accounts/{sub_id}/usage", tags=["sub-accounts"])
async def sub_account_usage(
    request: Request, sub_id: str, who: Annotated[Principal, Depends(require(*MANAGERS, "sub_account"))]
) -> Response:
    """One sub-account's month; its own key may read it, no other sub-account's."""
    if not visible(who, sub_id):
        raise missing(sub_id)
    month = month_param(request)
    ctx = context(request)

    def read() -> UsageReport | None:
        if store_of(ctx).get(who.account_id, sub_id) is None:
            return None
        return UsageStore(ctx.engine).for_sub_account(who.account_id, sub_id, month)

    report = await asyncio.to_thread(read)
    if report is None:
        raise missing(sub_id)
    return answer(request, render(report, keep_empty=True))
