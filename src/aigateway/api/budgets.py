"""/v1/budgets: a monthly (UTC) cap on one tag, across the account and all its sub-accounts.

POST on a tag that has a budget replaces its cap (same id), so a client may send it again safely.
``spent_cents`` is what the tag's live calls spent this month, as stored by the ledger (exact).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from aigateway.api.authz import MANAGERS, require
from aigateway.api.deps import context
from aigateway.api.management import Cents, Tag, answer, current_month, exact_cents, read_model, unix_s
from aigateway.core.errors import NotFound
from aigateway.core.money import NANO_PER_CENT, nano_to_whole_cents
from aigateway.services.auth import Principal
from aigateway.services.context import GatewayContext
from aigateway.storage.budgets import BudgetRecord, BudgetStore
from aigateway.storage.spend import SpendStore, tag_scope

router = APIRouter(tags=["usage"])


class BudgetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    tag: Tag
    cap_cents: Cents


def render(record: BudgetRecord, spent_nano: int, month: str) -> dict[str, Any]:
    return {
        "object": "budget",
        "id": record.id,
        "tag": record.tag,
        "cap_cents": nano_to_whole_cents(record.cap_nanousd),
        "spent_cents": exact_cents(spent_nano),
        "spent_nanousd": spent_nano,
        "period": month,
        "created_at": unix_s(record.created_at),
        "updated_at": unix_s(record.updated_at),
    }


def _spent(ctx: GatewayContext, records: list[BudgetRecord], month: str) -> list[int]:
    keys = [(tag_scope(r.account_id, r.tag), month) for r in records]
    found = SpendStore(ctx.engine).spent(keys) if keys else {}
    return [found[k] for k in keys]


def _forget_caps(ctx: GatewayContext, account_id: str) -> None:
    """Admission caches each account's budgets: after a change here it re-reads them at once (other
    processes within their cache's TTL)."""
    ctx.admission.budgets.forget(account_id)


@router.post("/v1/budgets")
async def create_budget(request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]) -> Response:
    body = await read_model(request, BudgetCreate)
    ctx = context(request)
    month = current_month()

    def write() -> tuple[BudgetRecord, int]:
        record = BudgetStore(ctx.engine).upsert(who.account_id, body.tag, body.cap_cents * NANO_PER_CENT)
        return record, _spent(ctx, [record], month)[0]

    record, spent = await asyncio.to_thread(write)
    _forget_caps(ctx, who.account_id)
    return answer(request, render(record, spent, month))


@router.get("/v1/budgets")
async def list_budgets(request: Request, who: Annotated[Principal, Depends(require(*MANAGERS))]) -> Response:
    """Every budget of the account, by tag (an account has a handful: no pages)."""
    ctx = context(request)
    month = current_month()

    def read() -> tuple[list[BudgetRecord], list[int]]:
        records = BudgetStore(ctx.engine).list(who.account_id)
        return records, _spent(ctx, records, month)

    records, spent = await asyncio.to_thread(read)
    data = [render(r, s, month) for r, s in zip(records, spent, strict=True)]
    return answer(request, {"object": "list", "data": data, "has_more": False})


@router.delete("/v1/budgets/{budget_id}")
async def delete_budget(
    request: Request, budget_id: str, who: Annotated[Principal, Depends(require(*MANAGERS))]
) -> Response:
    """The tag is no longer capped; what it spent stays in the ledger and the usage reports."""
    ctx = context(request)
    if not await asyncio.to_thread(BudgetStore(ctx.engine).delete, who.account_id, budget_id):
        raise NotFound(f"No budget '{budget_id[:100]}'.", param="id")
    _forget_caps(ctx, who.account_id)
    return answer(request, {"id": budget_id, "object": "budget", "deleted": True})
