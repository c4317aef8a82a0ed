"""GET /v1/balance (a wallet, or for a sub-account key what is left of its cap) and the liveness probe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from aigateway.api.deps import context, principal
from aigateway.core.money import nano_to_cents_str, nano_to_usd_str, nano_to_whole_cents
from aigateway.services.auth import Principal, SubAccountLimits
from aigateway.storage.spend import SpendStore, cap_period_of, sub_scope
from aigateway.storage.subaccounts import SubAccountStore

router = APIRouter()


@router.get("/v1/balance", tags=["account"])
async def balance(request: Request, who: Annotated[Principal, Depends(principal)]) -> Response:
    """The wallet: what is stored, less what this process has settled but not yet written.

    ``cents`` is whole cents (rounded toward zero); ``usd`` is exact, a JSON number written from a
    Decimal (never a float). ``nanousd`` is the exact integer the ledger works in.
    """
    if who.sub_account is not None:
        return await _sub_account_balance(request, who.account_id, who.sub_account)
    ctx = context(request)
    spendable = await ctx.book.spendable(ctx.admission.wallet_scope(who.account_id))
    body: dict[str, Any] = {
        "object": "balance",
        "account_id": who.account_id,
        "cents": nano_to_whole_cents(spendable),
        "usd": orjson.Fragment(nano_to_usd_str(spendable).encode()),
        "nanousd": spendable,
    }
    headers = {"X-Request-Id": request.state.request_id}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


async def _sub_account_balance(request: Request, parent_id: str, limits: SubAccountLimits) -> Response:
    """A sub-account key never sees its parent's wallet: its balance is what is left of its cap.

    ``spent_cents`` and ``remaining_cents`` are exact (decimals), from the spend the ledger has
    stored for the cap's current period; ``cap_cents`` is whole cents, as caps are set.
    """
    ctx = context(request)
    now = datetime.now(UTC)

    def read() -> tuple[int, str, int]:
        record = SubAccountStore(ctx.engine).get(parent_id, limits.sub_account_id)
        cap = record.spend_cap_nanousd if record else limits.cap_nano
        period = cap_period_of(record.cap_period if record else limits.cap_period, now)
        return cap, period, SpendStore(ctx.engine).one(sub_scope(limits.sub_account_id), period)

    cap, period, spent = await asyncio.to_thread(read)
    remaining = max(0, cap - spent)
    body: dict[str, Any] = {
        "object": "balance",
        "sub_account_id": limits.sub_account_id,
        "cap_cents": nano_to_whole_cents(cap),
        "spent_cents": orjson.Fragment(nano_to_cents_str(spent).encode()),
        "spent_nanousd": spent,
        "remaining_cents": orjson.Fragment(nano_to_cents_str(remaining).encode()),
        "remaining_nanousd": remaining,
        "period": period,
    }
    headers = {"X-Request-Id": request.state.request_id}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


@router.get("/health", tags=["health"], include_in_schema=False)
async def health() -> dict[str, str]:
    return {"status": "ok"}
