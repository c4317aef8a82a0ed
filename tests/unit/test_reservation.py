"""Admission: a call reserves the most it can cost, and a thin wallet lowers the output limit.

These drive Gateway.admit and cover_raised_limit with a real WalletBook over a stand-in store.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from aigateway.core.catalog import Deployment, ModelEntry
from aigateway.core.errors import BudgetExceeded
from aigateway.core.pricing import Pricing, Usage, max_cost_nano, worst_case_nano
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import UpstreamRequest
from aigateway.services.auth import Principal
from aigateway.services.operations.chat import ChatOperation
from aigateway.services.pipeline import Call, Gateway, Route
from aigateway.services.wallet import WalletBook

PRICING = Pricing({"input_per_mtok": Decimal("3"), "output_per_mtok": Decimal("15")})
ENTRY = ModelEntry(
    id="lab/m",
    lab="lab",
    name="m",
    modality="text",
    capabilities=frozenset({"chat"}),
    context_window=200_000,
    max_output_tokens=16_384,
    pricing=PRICING,
    deployments=(Deployment("v", "m"),),
)
BODY: dict[str, Any] = {"model": "lab/m", "messages": [{"role": "user", "content": "Hi"}]}


class _Store:
    def __init__(self, nano: int) -> None:
        self.nano = nano

    def balances(self, ids: list[str]) -> dict[str, int]:
        return {i: self.nano for i in ids}


def _gateway(balance_nano: int) -> tuple[Gateway, WalletBook]:
    wallets = WalletBook(_Store(balance_nano), refresh_s=60)  # type: ignore[arg-type]
    ctx: Any = SimpleNamespace(wallets=wallets, settings=SimpleNamespace(min_output_tokens=16))
    gateway = Gateway.__new__(Gateway)
    gateway.ctx = ctx
    gateway.min_output_tokens = 16
    gateway.thin_wallet_slices = 8
    return gateway, wallets


def _call(mode: str = "live") -> Call:
    call = Call(Principal("key_1", "acct_1", mode, False), ChatOperation(), "r1")
    call.pricing = PRICING
    return call


def _route(vendor: str = "v") -> Route:
    return Route(Deployment(vendor, "m"), VendorProfile(vendor, "http://x", ()), None, None)  # type: ignore[arg-type]


def _admit(balance: int, body: dict[str, Any]) -> tuple[Call, WalletBook, dict[str, Any]]:
    gateway, wallets = _gateway(balance)
    asyncio.run(wallets.load("acct_1"))
    call = _call()
    body = dict(body)
    op = ChatOperation()
    gateway.admit(call, ENTRY, body, op.validate(body), _route())
    return call, wallets, body


def test_a_rich_wallet_reserves_the_full_worst_case_and_leaves_the_request_alone() -> None:
    call, wallets, body = _admit(10**10, BODY)
    bound = ChatOperation().bound(ENTRY, BODY, ChatOperation().validate(BODY))
    assert bound.output_tokens == 16_384  # no max_tokens: the model's own limit is the bound
    assert call.reserved == worst_case_nano(PRICING, bound)
    assert call.output_lowered is None and "max_tokens" not in body
    assert wallets.cached_available("acct_1") == 10**10 - call.reserved


def test_a_thin_wallet_lowers_the_output_limit_to_what_it_can_pay() -> None:
    balance = 5_000_000  # half a cent: ~330 output tokens at $15/M
    call, wallets, body = _admit(balance, BODY)
    assert call.output_lowered is not None and 16 <= call.output_lowered < 16_384
    assert body["max_tokens"] == call.output_lowered
    assert call.reserved <= balance  # never more than the wallet holds
    assert wallets.cached_available("acct_1") >= 0


def test_openai_takes_max_completion_tokens_when_lowered() -> None:
    gateway, wallets = _gateway(5_000_000)
    asyncio.run(wallets.load("acct_1"))
    body = dict(BODY)
    gateway.admit(_call(), ENTRY, body, ChatOperation().validate(body), _route("openai"))
    assert "max_completion_tokens" in body and "max_tokens" not in body


def test_a_wallet_that_cannot_pay_the_prompt_and_a_few_tokens_refuses() -> None:
    with pytest.raises(BudgetExceeded):
        _admit(1_000, BODY)  # a micro-cent


def test_concurrent_admissions_never_reserve_more_than_the_wallet() -> None:
    gateway, wallets = _gateway(50_000_000)  # 5 cents: less than one call's 16,384-token worst case
    asyncio.run(wallets.load("acct_1"))
    admitted = refused = 0
    for _ in range(200):
        body = dict(BODY)
        try:
            gateway.admit(_call(), ENTRY, body, ChatOperation().validate(body), _route())
            admitted += 1
        except BudgetExceeded:
            refused += 1
    assert wallets.cached_available("acct_1") >= 0
    # Held at once (none settles here), slices of what is left still admit dozens of calls.
    assert admitted >= 30 and admitted + refused == 200


def test_max_tokens_above_the_model_limit_is_refused() -> None:
    from aigateway.core.errors import InvalidRequest

    op = ChatOperation()
    body = dict(BODY, max_tokens=2**63)
    with pytest.raises(InvalidRequest, match="output limit"):
        op.check(ENTRY, op.validate(body))


def test_a_raised_output_limit_is_reserved_too() -> None:
    gateway, wallets = _gateway(10_000_000_000)
    asyncio.run(wallets.load("acct_1"))
    call = _call()
    call.reserved = wallets.try_reserve("acct_1", max_cost_nano(PRICING, 0, 100))
    call.reserved_output = 100
    # Anthropic raised max_tokens from 100 to 16,484 to fit a 16,384-token thinking budget.
    request = UpstreamRequest("u", {}, b"{}", context={"max_output_tokens": 16_484})
    gateway.cover_raised_limit(call, request)
    assert call.reserved_output == 16_484
    assert call.reserved == max_cost_nano(PRICING, 0, 100) + worst_case_nano(
        PRICING, Usage(output_tokens=16_384)
    )
    assert wallets.cached_available("acct_1") == 10_000_000_000 - call.reserved


def test_no_top_up_when_the_limit_was_not_raised_or_the_key_is_test_mode() -> None:
    for mode, limit in (("live", 50), ("test", 16_484)):
        gateway, wallets = _gateway(10_000_000_000)
        asyncio.run(wallets.load("acct_1"))
        call = _call(mode)
        call.reserved_output = 100
        gateway.cover_raised_limit(
            call, UpstreamRequest("u", {}, b"{}", context={"max_output_tokens": limit})
        )
        assert call.reserved == 0
