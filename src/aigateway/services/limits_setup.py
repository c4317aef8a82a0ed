"""Builds the spend book, the RPM limiter and admission from settings: in-process by default, in
Redis when ``AIGATEWAY_REDIS_URL`` is set (docs/accounts.md, "The bound, by deployment")."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aigateway.services.admission import Admission, BudgetCache
from aigateway.services.limits import WALLET, MemorySpendBook, Scope, ScopeLoader, SpendBook
from aigateway.services.ratelimit import MemoryRateLimiter, RateLimiter
from aigateway.settings import Settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.budgets import BudgetStore
from aigateway.storage.spend import SpendStore


def scope_loader(accounts: AccountStore, spend: SpendStore) -> ScopeLoader:
    """What the books read from storage: wallets' balances and caps' and budgets' stored spend."""

    def read(scopes: Sequence[Scope]) -> dict[str, int]:
        wallets = [s for s in scopes if s.kind == WALLET]
        periods = [s for s in scopes if s.kind != WALLET]
        values: dict[str, int] = {}
        if wallets:
            balances = accounts.balances([s.key.partition(":")[2] for s in wallets])
            for scope in wallets:
                values[scope.key] = balances.get(scope.key.partition(":")[2], 0)
        if periods:
            spent = spend.spent((s.store_scope, s.period) for s in periods)
            for scope in periods:
                values[scope.key] = spent.get((scope.store_scope, scope.period), 0)
        return values

    async def load(scopes: Sequence[Scope]) -> dict[str, int]:
        return await asyncio.to_thread(read, scopes)

    return load


@dataclass(slots=True)
class Limits:
    book: SpendBook
    rates: RateLimiter
    admission: Admission
    redis: Any = None  # the redis.asyncio client, closed at shutdown

    async def close(self) -> None:
        await self.admission.drain()
        if self.redis is not None:
            await self.redis.aclose()


def build_limits(
    settings: Settings, accounts: AccountStore, loader: ScopeLoader, budgets: BudgetStore
) -> Limits:
    book: SpendBook
    rates: RateLimiter
    client: Any = None
    if settings.redis_url:
        from aigateway.services.limits_redis import RedisSpendBook, connect
        from aigateway.services.ratelimit import RedisRateLimiter

        client = connect(settings.redis_url)
        book = RedisSpendBook(
            client,
            settings.redis_prefix,
            loader,
            hold_ttl_s=settings.upstream_timeout_s + 60,
            failure=settings.redis_failure,
            fallback_refresh_s=settings.balance_refresh_s,
        )
        rates = RedisRateLimiter(client, settings.redis_prefix, failure=settings.redis_failure)
    else:
        # Without Redis, each of --workers N processes admits against 1/N of the headroom it last read.
        book = MemorySpendBook(loader, settings.balance_refresh_s, share=max(1, settings.workers))
        rates = MemoryRateLimiter()
    admission = Admission(
        book,
        rates,
        BudgetCache(budgets.for_account, settings.key_cache_ttl_s),
        min_output_tokens=settings.min_output_tokens,
        thin_wallet_slices=settings.thin_wallet_slices,
    )
    return Limits(book, rates, admission, client)
