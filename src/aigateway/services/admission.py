"""Admission: the RPM window, then the call's worst case reserved against every scope that pays for it.

A call is paid by its account's wallet and, when it comes from a sub-account, limited by that
sub-account's cap; a tag with a budget limits it too. Admission reserves the call's worst-case cost on
all of those scopes at once or on none (the spend book's reserve is all-or-nothing), and settlement
replaces the reservation by the true cost on the same scopes (docs/accounts.md). The scopes of a call
are fixed when it is admitted: a call admitted in one month settles against that month's counters.

A thin wallet (or cap, or budget) that cannot pay the worst case but can pay the prompt and at least
``min_output_tokens`` admits the call with its output limit lowered to a slice of what it can pay
(docs/ARCHITECTURE.md, "Admission"): the reservation still covers the most the call can cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import BudgetExceeded, RateLimited
from aigateway.core.money import nano_to_usd_str
from aigateway.core.pricing import Usage, affordable_output_tokens, worst_case_nano
from aigateway.services.auth import Principal, SubAccountLimits
from aigateway.services.limits import Refusal, Scope, SpendBook
from aigateway.services.ratelimit import RateDecision, RateLimiter, rate_headers

if TYPE_CHECKING:
    from aigateway.services.pipeline import Call, Route

BudgetLoader = Callable[[str], dict[str, int]]  # account id -> {tag: cap in nano-dollars}


class BudgetCache:
    """Each account's tag budgets, re-read every ``ttl_s`` (and at once after a change here)."""

    def __init__(self, loader: BudgetLoader, ttl_s: float) -> None:
        self._loader = loader
        self._ttl = ttl_s
        self._budgets: dict[str, tuple[dict[str, int], float]] = {}

    def fresh(self, account_id: str) -> dict[str, int] | None:
        """The account's budgets if read within ``ttl_s``, else None: lets admission skip an await
        (a coroutine per call) when they are at hand, which they almost always are."""
        hit = self._budgets.get(account_id)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    async def caps(self, account_id: str) -> dict[str, int]:
        hit = self.fresh(account_id)
        if hit is not None:
            return hit
        caps = await asyncio.to_thread(self._loader, account_id)
        self._budgets[account_id] = (caps, time.monotonic() + self._ttl)
        return caps

    def forget(self, account_id: str) -> None:
        self._budgets.pop(account_id, None)


def month_span(now: float) -> tuple[str, float, float]:
    """The UTC month of ``now`` and its bounds [start, end) in epoch seconds."""
    when = datetime.fromtimestamp(now, UTC)
    start = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start.strftime("%Y-%m"), start.timestamp(), end.timestamp()


# (account id, sub-account limits, budgeted tag, its cap) -> the call's scopes, for the current month.
_ScopesKey = tuple[str, SubAccountLimits | None, str | None, int]
_SCOPE_CACHE_MAX = 4096  # distinct (principal, tag, cap) combinations kept before starting afresh


class Admission:
    def __init__(
        self,
        book: SpendBook,
        rates: RateLimiter,
        budgets: BudgetCache,
        *,
        min_output_tokens: int,
        thin_wallet_slices: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.book = book
        self.rates = rates
        self.budgets = budgets
        self.min_output_tokens = min_output_tokens
        self.thin_wallet_slices = max(1, thin_wallet_slices)
        self._clock = clock
        self._wallets: dict[str, Scope] = {}
        # The scopes of a (sub-account, budgeted tag) in the current month, built once: a call then
        # costs a dict lookup, not a datetime, two f-strings and up to three frozen dataclasses.
        # Keyed by the values the scopes are made of (a changed cap or name is a new key), emptied
        # when the month turns or the cache grows past _SCOPE_CACHE_MAX.
        self._scope_cache: dict[_ScopesKey, tuple[Scope, ...]] = {}
        self._month = ("", 0.0, 0.0)  # (YYYY-MM, start, end) of the cache's month
        self._settling: set[asyncio.Future[None]] = set()

    # -- who pays ---------------------------------------------------------------------------------
    def wallet_scope(self, account_id: str) -> Scope:
        scope = self._wallets.get(account_id)
        if scope is None:
            scope = Scope(f"wallet:{account_id}", "wallet", "wallet", 0, "", "")
            self._wallets[account_id] = scope
        return scope

    async def scopes(self, principal: Principal, tag: str | None) -> tuple[Scope, ...]:
        """The wallet, the sub-account's cap and the tag's budget, as they apply to this call."""
        account_id = principal.account_id
        sub = principal.sub_account
        budgets = self.budgets.fresh(account_id)
        if budgets is None:
            budgets = await self.budgets.caps(account_id)
        if sub is None and not budgets:
            return (self.wallet_scope(account_id),)
        cap = budgets.get(tag) if tag is not None else None
        budgeted = tag if cap is not None else None
        now = self._clock()
        month, start, end = self._month
        if not start <= now < end:
            self._month = month_span(now)
            month = self._month[0]
            self._scope_cache.clear()
        key: _ScopesKey = (account_id, sub, budgeted, cap or 0)
        found = self._scope_cache.get(key)
        if found is None:
            if len(self._scope_cache) >= _SCOPE_CACHE_MAX:
                self._scope_cache.clear()
            found = self._scope_cache[key] = self._build_scopes(account_id, sub, budgeted, cap or 0, month)
        return found

    def _build_scopes(
        self, account_id: str, sub: SubAccountLimits | None, tag: str | None, cap: int, month: str
    ) -> tuple[Scope, ...]:
        found: list[Scope] = [self.wallet_scope(account_id)]
        if sub is not None:
            period = month if sub.cap_period == "month" else "lifetime"
            kind = "monthly" if sub.cap_period == "month" else "lifetime"
            found.append(
                Scope(
                    f"sub:{sub.sub_account_id}@{period}",
                    "sub_account",
                    f"sub-account '{sub.name}' ({kind} cap)",
                    sub.cap_nano,
                    f"sub:{sub.sub_account_id}",
                    period,
                )
            )
        if tag is not None:
            store_scope = f"tag:{account_id}:{tag}"
            found.append(
                Scope(
                    f"{store_scope}@{month}",
                    "budget",
                    f"budget for tag '{tag}'",
                    cap,
                    store_scope,
                    month,
                )
            )
        return tuple(found)

    # -- the RPM window ---------------------------------------------------------------------------
    async def count_request(self, principal: Principal) -> RateDecision | None:
        """One request against the sub-account's (and the key's) RPM limit; 429 past it."""
        decision: RateDecision | None = None
        sub = principal.sub_account
        if sub is not None and sub.rate_limit_rpm:
            decision = await self.rates.hit(f"sub:{sub.sub_account_id}", sub.rate_limit_rpm)
            _refuse_if_limited(decision, f"sub-account '{sub.name}'")
        if principal.key_rate_limit_rpm:
            own = await self.rates.hit(f"key:{principal.key_id}", principal.key_rate_limit_rpm)
            _refuse_if_limited(own, "this API key")
            if decision is None or own.remaining < decision.remaining:
                decision = own
        return decision

    # -- reserve ----------------------------------------------------------------------------------
    async def admit(
        self, call: Call, entry: ModelEntry, body: dict[str, Any], parsed: Any, route: Route
    ) -> None:
        """Reserve the call's worst case on all its scopes, or lower its output limit, or refuse it."""
        assert call.pricing is not None
        scopes = call.scopes
        bound = call.operation.bound(entry, body, parsed)
        full = worst_case_nano(call.pricing, bound)
        refusal = await self.book.reserve(call.call_id, scopes, full)
        if refusal is None:
            call.reserved = full
            call.reserved_output = bound.output_tokens
            return
        available = refusal.available
        prompt_only = worst_case_nano(call.pricing, _with_output(bound, 0))
        budget = available - prompt_only
        payable = affordable_output_tokens(call.pricing, budget)
        # A thin wallet gives a call a slice of what it can pay, not all of it, so that concurrent
        # calls are admitted too; a slice is never below min_output_tokens while the wallet can pay it.
        share = affordable_output_tokens(call.pricing, budget // self.thin_wallet_slices) or 0
        tokens = min(bound.output_tokens, max(self.min_output_tokens, share))
        if (
            bound.output_tokens
            and payable is not None
            and payable >= self.min_output_tokens
            and call.operation.lower_output(body, tokens, route.vendor.name)
        ):
            lowered = worst_case_nano(call.pricing, _with_output(bound, tokens))
            second = await self.book.reserve(call.call_id, scopes, lowered)
            if second is None:
                call.reserved = lowered
                call.reserved_output = tokens
                call.output_lowered = tokens
                return
            refusal = second
        raise _refused(refusal, full)

    def release(self, call: Call, cost: int) -> None:
        """Replace the call's hold by its true cost, from synchronous code (settle runs in finally
        blocks and close callbacks). The in-process book does it at once; a shared book's round trip
        runs as a task (kept referenced until done); if the process dies first, the hold expires."""
        settle_now = getattr(self.book, "settle_now", None)
        if settle_now is not None:
            settle_now(call.call_id, cost)
            return
        task = asyncio.ensure_future(self.book.settle(call.call_id, call.scopes, call.reserved, cost))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def drain(self) -> None:
        """Wait for settlements still on their way to a shared book (at shutdown)."""
        if self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    async def top_up(self, call: Call, raised: int) -> None:
        """The adapter raised the output limit (a thinking budget): reserve the difference too."""
        assert call.pricing is not None
        extra = worst_case_nano(call.pricing, Usage(output_tokens=raised - call.reserved_output))
        refusal = await self.book.reserve(call.call_id, call.scopes, extra)
        if refusal is not None:
            raise BudgetExceeded(
                f"{_scope_title(refusal.scope)} cannot cover this call: its thinking budget raises the "
                f"output limit to {raised} tokens, which can cost ${nano_to_usd_str(extra)} more."
            )
        call.reserved += extra
        call.reserved_output = raised


def _with_output(bound: Usage, tokens: int) -> Usage:
    values = {name: getattr(bound, name) for name in Usage.__slots__}
    values["output_tokens"] = tokens
    return Usage(**values)


def _scope_title(scope: Scope) -> str:
    if scope.kind == "wallet":
        return "Wallet balance"
    return scope.name[0].upper() + scope.name[1:]


def _refused(refusal: Refusal, full: int) -> BudgetExceeded:
    scope = refusal.scope
    hint = {
        "wallet": "Add funds with `aigateway balance add`.",
        "sub_account": "Raise the cap with PATCH /v1/sub-accounts/{id} (spend_cap_cents).",
        "budget": "Raise the budget with POST /v1/budgets.",
    }.get(scope.kind, "")
    verdict = "too low" if scope.kind == "wallet" else "has too little left"
    return BudgetExceeded(
        f"{_scope_title(scope)} {verdict} for this call: it can cost up to ${nano_to_usd_str(full)} and "
        f"${nano_to_usd_str(max(refusal.available, 0))} is available. {hint}".rstrip()
    )


def _refuse_if_limited(decision: RateDecision, who: str) -> None:
    if not decision.allowed:
        raise RateLimited(
            f"Rate limit reached for {who}: {decision.limit} requests per minute. "
            f"Try again in {decision.reset_s:.1f} s.",
            headers=rate_headers(decision),
        )
