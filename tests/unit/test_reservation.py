"""Admission: a call reserves the most it can cost on every scope that applies (wallet, sub-account
cap, tag budget) or on none, and a thin scope lowers the output limit.

These drive services/admission.Admission with a real in-process spend book over a stand-in loader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from aigateway.core.catalog import Deployment, ModelEntry
from aigateway.core.errors import BudgetExceeded, RateLimited
from aigateway.core.pricing import Pricing, Usage, worst_case_nano
from aigateway.providers.vendors import VendorProfile
from aigateway.services.admission import Admission, BudgetCache
from aigateway.services.auth import Principal, SubAccountLimits
from aigateway.services.limits import MemorySpendBook, Scope
from aigateway.services.operations.chat import ChatOperation
from aigateway.services.pipeline import Call, Route
from aigateway.services.ratelimit import MemoryRateLimiter

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
NOW = 1_796_000_000.0  # 2026-11-30, a fixed clock


class _Wallets:
    """What the spend book asks storage: a balance per wallet, nothing spent on caps yet."""

    def __init__(self, nano: int) -> None:
        self.nano = nano

    async def __call__(self, scopes: Sequence[Scope]) -> dict[str, int]:
        return {s.key: self.nano if s.kind == "wallet" else 0 for s in scopes}


class _Wallet:
    """The view tests read: what the wallet scope of acct_1 still has."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission

    def cached_available(self, account: str) -> int:
        return self.admission.book.cached_available([self.admission.wallet_scope(account)])


def _admission(balance_nano: int, budgets: dict[str, int] | None = None) -> Admission:
    book = MemorySpendBook(_Wallets(balance_nano), refresh_s=60)
    cache = BudgetCache(lambda _account: dict(budgets or {}), ttl_s=60)
    return Admission(
        book,
        MemoryRateLimiter(lambda: NOW),
        cache,
        min_output_tokens=16,
        thin_wallet_slices=8,
        clock=lambda: NOW,
    )


def _call(
    admission: Admission, mode: str = "live", principal: Principal | None = None, tag: str | None = None
) -> Call:
    principal = principal or Principal("key_1", "acct_1", mode, False)
    call = Call(principal, ChatOperation(), "r1", tag)
    call.pricing = PRICING
    call.scopes = asyncio.run(admission.scopes(principal, tag))
    return call


def _route(vendor: str = "v") -> Route:
    return Route(Deployment(vendor, "m"), VendorProfile(vendor, "http://x", ()), None, None)  # type: ignore[arg-type]


def _run_admit(admission: Admission, call: Call, body: dict[str, Any], vendor: str = "v") -> None:
    asyncio.run(admission.admit(call, ENTRY, body, ChatOperation().validate(body), _route(vendor)))


def _admit(balance: int, body: dict[str, Any]) -> tuple[Call, _Wallet, dict[str, Any]]:
    admission = _admission(balance)
    call = _call(admission)
    body = dict(body)
    _run_admit(admission, call, body)
    return call, _Wallet(admission), body


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
    admission = _admission(5_000_000)
    body = dict(BODY)
    _run_admit(admission, _call(admission), body, "openai")
    assert "max_completion_tokens" in body and "max_tokens" not in body


def test_a_wallet_that_cannot_pay_the_prompt_and_a_few_tokens_refuses() -> None:
    with pytest.raises(BudgetExceeded, match="Wallet balance too low"):
        _admit(1_000, BODY)  # a micro-cent


def test_concurrent_admissions_never_reserve_more_than_the_wallet() -> None:
    admission = _admission(50_000_000)  # 5 cents: less than one call's 16,384-token worst case
    admitted = refused = 0

    async def run() -> None:
        nonlocal admitted, refused
        principal = Principal("key_1", "acct_1", "live", False)
        scopes = await admission.scopes(principal, None)

        async def one(i: int) -> None:
            nonlocal admitted, refused
            call = Call(principal, ChatOperation(), f"r{i}")
            call.pricing, call.scopes = PRICING, scopes
            body = dict(BODY)
            try:
                await admission.admit(call, ENTRY, body, ChatOperation().validate(body), _route())
                admitted += 1
            except BudgetExceeded:
                refused += 1

        await asyncio.gather(*(one(i) for i in range(200)))

    asyncio.run(run())
    assert _Wallet(admission).cached_available("acct_1") >= 0
    # Held at once (none settles here), slices of what is left still admit dozens of calls.
    assert admitted >= 30 and admitted + refused == 200


def test_max_tokens_above_the_model_limit_is_refused() -> None:
    from aigateway.core.errors import InvalidRequest

    op = ChatOperation()
    body = dict(BODY, max_tokens=2**63)
    with pytest.raises(InvalidRequest, match="output limit"):
        op.check(ENTRY, op.validate(body))


def test_a_raised_output_limit_is_reserved_too() -> None:
    admission = _admission(10_000_000_000)
    call = _call(admission)
    body = dict(BODY, max_tokens=100)
    _run_admit(admission, call, body)
    first = call.reserved
    assert call.reserved_output == 100
    # Anthropic raised max_tokens from 100 to 16,484 to fit a 16,384-token thinking budget.
    asyncio.run(admission.top_up(call, 16_484))
    assert call.reserved_output == 16_484
    assert call.reserved == first + worst_case_nano(PRICING, Usage(output_tokens=16_384))
    assert _Wallet(admission).cached_available("acct_1") == 10_000_000_000 - call.reserved
    admission.release(call, 0)
    assert _Wallet(admission).cached_available("acct_1") == 10_000_000_000


# -- sub-account caps, budgets, RPM -----------------------------------------------------------------

CAPPED = dict(BODY, max_tokens=100)
ONE_CALL = worst_case_nano(PRICING, ChatOperation().bound(ENTRY, CAPPED, ChatOperation().validate(CAPPED)))
SUB = SubAccountLimits(
    "sub_1", "acme", cap_nano=2 * ONE_CALL, cap_period="month", rate_limit_rpm=3, default_tag=None
)


def _sub_principal() -> Principal:
    return Principal("key_2", "acct_1", "live", False, scope="sub_account", sub_account=SUB)


def test_a_sub_account_cap_refuses_by_name_and_holds_nothing_on_the_wallet() -> None:
    admission = _admission(10_000_000_000)
    principal = _sub_principal()
    held = []
    for _ in range(2):
        call = _call(admission, principal=principal)
        call.call_id = f"c{len(held)}"
        _run_admit(admission, call, dict(CAPPED))
        held.append(call)
    call = _call(admission, principal=principal)
    call.call_id = "refused"
    with pytest.raises(BudgetExceeded, match="Sub-account 'acme' \\(monthly cap\\) has too little left"):
        _run_admit(admission, call, dict(CAPPED))
    # All or nothing: the refused call holds nothing on the wallet either.
    wallet = _Wallet(admission).cached_available("acct_1")
    assert wallet == 10_000_000_000 - sum(c.reserved for c in held)
    assert [s.period for s in held[0].scopes] == ["", "2026-11"]


def test_a_tag_budget_applies_to_tagged_calls_only() -> None:
    admission = _admission(10_000_000_000, budgets={"team-a": ONE_CALL})
    tagged = _call(admission, tag="team-a")
    assert [s.kind for s in tagged.scopes] == ["wallet", "budget"]
    assert [s.kind for s in _call(admission, tag="other").scopes] == ["wallet"]
    _run_admit(admission, tagged, dict(CAPPED))
    second = _call(admission, tag="team-a")
    second.call_id = "second"
    with pytest.raises(BudgetExceeded, match="Budget for tag 'team-a'"):
        _run_admit(admission, second, dict(CAPPED))


def test_the_rpm_window_refuses_past_the_limit_with_headers() -> None:
    admission = _admission(10_000_000_000)
    principal = _sub_principal()
    for _ in range(3):
        decision = asyncio.run(admission.count_request(principal))
        assert decision is not None and decision.allowed
    with pytest.raises(RateLimited) as refused:
        asyncio.run(admission.count_request(principal))
    assert refused.value.headers["x-ratelimit-limit-requests"] == "3"
    assert refused.value.headers["x-ratelimit-remaining-requests"] == "0"
    assert int(refused.value.headers["retry-after"]) >= 1
