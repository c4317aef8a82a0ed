"""The wallet reservation covers what an adapter lets a call produce (a raised output limit)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from aigateway.core.pricing import Pricing, max_cost_nano
from aigateway.providers.wire.base import UpstreamRequest
from aigateway.services.auth import Principal
from aigateway.services.chat import Call, ChatService
from aigateway.services.wallet import WalletBook

PRICING = Pricing({"input_per_mtok": Decimal("3"), "output_per_mtok": Decimal("15")})


class _Store:
    """Stands in for storage: one account with $10."""

    def balances(self, ids: list[str]) -> dict[str, int]:
        return {i: 10_000_000_000 for i in ids}


def _service(wallets: WalletBook) -> ChatService:
    ctx: Any = SimpleNamespace(wallets=wallets)
    service = ChatService.__new__(ChatService)
    service.ctx = ctx
    return service


def _call(mode: str = "live") -> Call:
    call = Call("r1", Principal("key_1", "acct_1", mode, False), None, False)
    call.pricing = PRICING
    return call


def test_a_raised_output_limit_is_reserved_too() -> None:
    async def scenario() -> tuple[int, int, int]:
        wallets = WalletBook(_Store(), refresh_s=60)  # type: ignore[arg-type]
        service = _service(wallets)
        call = _call()
        call.reserved = await wallets.reserve("acct_1", max_cost_nano(PRICING, 0, 100))
        call.reserved_output = 100
        # Anthropic raised max_tokens from 100 to 16,484 to fit a 16,384-token thinking budget.
        request = UpstreamRequest("u", {}, b"{}", context={"max_output_tokens": 16_484})
        await service.cover_raised_limit(call, request)
        return call.reserved, call.reserved_output, await wallets.available("acct_1")

    reserved, covered, available = asyncio.run(scenario())
    assert covered == 16_484
    assert reserved == max_cost_nano(PRICING, 0, 16_484)
    assert available == 10_000_000_000 - reserved


def test_no_top_up_when_the_limit_was_not_raised_or_the_key_is_test_mode() -> None:
    async def scenario(mode: str, limit: int) -> int:
        wallets = WalletBook(_Store(), refresh_s=60)  # type: ignore[arg-type]
        call = _call(mode)
        call.reserved_output = 1000
        request = UpstreamRequest("u", {}, b"{}", context={"max_output_tokens": limit})
        await _service(wallets).cover_raised_limit(call, request)
        return call.reserved

    assert asyncio.run(scenario("live", 1000)) == 0
    assert asyncio.run(scenario("live", 500)) == 0
    assert asyncio.run(scenario("test", 99_999)) == 0
