"""GET /v1/balance and the unauthenticated liveness probe."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from aigateway.api.deps import context, principal
from aigateway.core.money import nano_to_usd_str, nano_to_whole_cents
from aigateway.services.auth import Principal

router = APIRouter()


@router.get("/v1/balance", tags=["account"])
async def balance(request: Request, who: Annotated[Principal, Depends(principal)]) -> Response:
    """The wallet: what is stored, less what this process has settled but not yet written.

    ``cents`` is whole cents (rounded toward zero); ``usd`` is exact, a JSON number written from a
    Decimal (never a float). ``nanousd`` is the exact integer the ledger works in.
    """
    wallets = context(request).wallets
    await wallets.available(who.account_id)  # loads the wallet on first use
    spendable = wallets.snapshot(who.account_id) or 0
    body: dict[str, Any] = {
        "object": "balance",
        "account_id": who.account_id,
        "cents": nano_to_whole_cents(spendable),
        "usd": orjson.Fragment(nano_to_usd_str(spendable).encode()),
        "nanousd": spendable,
    }
    headers = {"X-Request-Id": request.state.request_id}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


@router.get("/health", tags=["health"], include_in_schema=False)
async def health() -> dict[str, str]:
    return {"status": "ok"}
