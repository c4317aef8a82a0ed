"""The Redis spend book and RPM limiter against a real Redis (127.0.0.1:6379).

Each test uses its own key prefix and deletes its keys afterwards. Two client objects on one prefix
stand in for two gateway processes. Skipped only when CI is unset and Redis is not running.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from aigateway.core.errors import LimitsUnavailable
from aigateway.services.limits import Scope
from aigateway.services.limits_redis import RedisSpendBook, connect, month_expiry
from aigateway.services.ratelimit import RedisRateLimiter

REDIS_URL = os.environ.get("AIGATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CENT = 10_000_000
MONTH = time.strftime("%Y-%m", time.gmtime())
WALLET = Scope("wallet:acct_1", "wallet", "wallet", 0, "", "")
SUB = Scope(
    "sub:sub_1@" + MONTH, "sub_account", "sub-account 'acme' (monthly cap)", 5 * CENT, "sub:sub_1", MONTH
)
TAG = Scope("tag:acct_1:x@" + MONTH, "budget", "budget for tag 'x'", 3 * CENT, "tag:acct_1:x", MONTH)
LIFE = Scope(
    "sub:sub_2@lifetime", "sub_account", "sub-account 'b' (lifetime cap)", CENT, "sub:sub_2", "lifetime"
)


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and not _redis_up(), reason="Redis is not running (CI set never skips)"
)


class _Storage:
    def __init__(self, values: dict[str, int]) -> None:
        self.values = values
        self.reads = 0

    async def load(self, scopes: Sequence[Scope]) -> dict[str, int]:
        self.reads += 1
        await asyncio.sleep(0)
        return {s.key: self.values.get(s.key, 0) for s in scopes}


@asynccontextmanager
async def _deployment() -> AsyncIterator[tuple[str, Callable[[], aioredis.Redis]]]:
    """A fresh prefix and a factory of separate clients (one per simulated process); cleans up."""
    prefix = f"aigtest-{uuid.uuid4().hex[:12]}"
    clients: list[aioredis.Redis] = []

    def client() -> aioredis.Redis:
        c = connect(REDIS_URL)
        clients.append(c)
        return c

    try:
        yield prefix, client
    finally:
        cleaner = aioredis.Redis.from_url(REDIS_URL)
        keys = [k async for k in cleaner.scan_iter(match="{" + prefix + "}:*", count=1000)]
        if keys:
            await cleaner.delete(*keys)
        await cleaner.aclose()
        for c in clients:
            await c.aclose()


def _run(test: Callable[..., Awaitable[None]]) -> None:
    async def go() -> None:
        async with _deployment() as (prefix, client):
            await test(prefix, client)

    asyncio.run(go())


def _book(client: aioredis.Redis, prefix: str, storage: _Storage, **kw: Any) -> RedisSpendBook:
    kw.setdefault("hold_ttl_s", 660.0)
    return RedisSpendBook(client, prefix, storage.load, **kw)


async def _poll(predicate: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.02)
    return False


def test_all_or_nothing_settle_books_and_is_idempotent() -> None:
    async def t(prefix: str, client: Callable[[], aioredis.Redis]) -> None:
        storage = _Storage({WALLET.key: 100 * CENT, SUB.key: 1 * CENT, TAG.key: 0})
        book = _book(client(), prefix, storage)
        scopes = (WALLET, SUB, TAG)
        refusal = await book.reserve("c1", scopes, 4 * CENT)
        assert refusal is not None and refusal.scope == TAG and refusal.available == 3 * CENT
        assert storage.reads == 1
        assert await book.reserve("c1", scopes, 2 * CENT) is None
        assert await book.reserve("c1", scopes, 1 * CENT) is None  # top-up
        assert book.cached_available(scopes) == 0  # the tag budget is fully held
        refusal = await book.reserve("c2", (WALLET, SUB), 2 * CENT)
        assert refusal is not None and refusal.scope == SUB and refusal.available == 1 * CENT
        await book.settle("c1", scopes, 3 * CENT, 1 * CENT)
        await book.settle("c1", scopes, 3 * CENT, 1 * CENT)  # a second settle changes nothing
        await book.settle("unknown", scopes, 0, 9 * CENT)
        assert await book.spendable(WALLET) == 99 * CENT
        assert await book.spendable(SUB) == 3 * CENT
        assert await book.spendable(TAG) == 2 * CENT
        assert await book.reserve("c3", scopes, 2 * CENT) is None  # everything was released
        assert storage.reads == 1

    _run(t)


def test_200_concurrent_calls_on_two_clients_never_pass_the_cap() -> None:
    async def t(prefix: str, client: Callable[[], aioredis.Redis]) -> None:
        storage = _Storage({WALLET.key: 1000 * CENT})
        books = [_book(client(), prefix, storage), _book(client(), prefix, storage)]
        scopes = (WALLET, SUB)  # cap 5 cents = 5 calls' worth
        gate = asyncio.Event()
        admitted = tried = 0

        async def one(i: int) -> None:
            nonlocal admitted, tried
            book = books[i % 2]
            try:
                refusal = await book.reserve(f"c{i}", scopes, CENT)
                tried += 1
                if refusal is not None:
                    return
                admitted += 1
                await gate.wait()
            finally:
                await book.settle(f"c{i}", scopes, CENT, CENT // 2)

        tasks = [asyncio.create_task(one(i)) for i in range(200)]
        deadline = time.monotonic() + 30
        while tried < 200 and time.monotonic() < deadline:  # every task has had its answer
            await asyncio.sleep(0.01)
        assert tried == 200 and admitted == 5
        p = "{" + prefix + "}"
        raw = connect(REDIS_URL)
        assert int(await raw.get(f"{p}:t:{SUB.key}") or 0) == 5 * CENT  # held now: exactly the cap
        holders = [t for t in tasks if not t.done()]
        holders[0].cancel()  # cancelled between reserve and settle: its finally settles
        gate.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert int(await raw.get(f"{p}:t:{SUB.key}") or 0) == 0
        assert await raw.hlen(f"{p}:r:{SUB.key}") == 0
        assert int(await raw.get(f"{p}:v:{SUB.key}") or 0) == 5 * (CENT // 2)
        await raw.aclose()
        assert await books[1].spendable(WALLET) == 1000 * CENT - 5 * (CENT // 2)

    _run(t)


def test_a_crashed_holders_reservation_expires() -> None:
    async def t(prefix: str, client: Callable[[], aioredis.Redis]) -> None:
        storage = _Storage({WALLET.key: 10 * CENT})
        crashed = _book(client(), prefix, storage, hold_ttl_s=0.3)
        assert await crashed.reserve("dead", (WALLET, LIFE), CENT) is None  # never settled
        other = _book(client(), prefix, storage, hold_ttl_s=0.3)
        refusal = await other.reserve("c1", (WALLET, LIFE), CENT)
        assert refusal is not None and refusal.scope == LIFE

        async def admitted() -> bool:
            return await other.reserve("c1", (WALLET, LIFE), CENT) is None

        assert await _poll(admitted)
        await other.settle("c1", (WALLET, LIFE), CENT, CENT)
        # the dead call's late settle still books its cost once (its marker outlives the hold)
        await crashed.settle("dead", (WALLET, LIFE), CENT, 0)
        assert await other.spendable(LIFE) == 0
        assert await other.spendable(WALLET) == 9 * CENT

    _run(t)


def test_processes_loading_at_once_agree() -> None:
    async def t(prefix: str, client: Callable[[], aioredis.Redis]) -> None:
        a = _book(client(), prefix, _Storage({WALLET.key: 10 * CENT}))
        b = _book(client(), prefix, _Storage({WALLET.key: 20 * CENT}))  # a different (later) read
        results = await asyncio.gather(a.reserve("x", (WALLET,), CENT), b.reserve("y", (WALLET,), CENT))
        assert results == [None, None]
        assert await a.spendable(WALLET) == await b.spendable(WALLET)
        await a.load((WALLET, SUB))
        assert await b.spendable(SUB) == 5 * CENT

    _run(t)


def test_credit_and_month_expiry() -> None:
    async def t(prefix: str, client: Callable[[], aioredis.Redis]) -> None:
        c = client()
        book = _book(c, prefix, _Storage({WALLET.key: CENT}))
        assert await book.credit("acct_1", CENT) is None  # not in Redis yet: storage has it
        await book.load((WALLET, SUB, LIFE))
        assert await book.credit("acct_1", 2 * CENT) == 3 * CENT
        assert await book.spendable(WALLET) == 3 * CENT
        p = "{" + prefix + "}"
        assert await c.ttl(f"{p}:v:{WALLET.key}") == -1
        assert await c.ttl(f"{p}:v:{LIFE.key}") == -1
        expires = await c.expiretime(f"{p}:v:{SUB.key}")
        assert expires == month_expiry(MONTH)

    _run(t)


def test_month_expiry_is_40_days_after_the_month() -> None:
    assert month_expiry("2026-12") == int(datetime(2027, 2, 10, tzinfo=UTC).timestamp())
    assert month_expiry("2026-05") == int(datetime(2026, 7, 11, tzinfo=UTC).timestamp())
    assert month_expiry("lifetime") is None


def test_redis_down_fails_closed_or_open() -> None:
    async def t() -> None:
        dead = connect("redis://127.0.0.1:1/0")
        storage = _Storage({WALLET.key: 2 * CENT})
        closed = RedisSpendBook(dead, "x", storage.load, hold_ttl_s=1)
        with pytest.raises(LimitsUnavailable) as info:
            await closed.reserve("c1", (WALLET,), CENT)
        assert info.value.status == 503 and "limits_unavailable" in info.value.message
        opened = RedisSpendBook(dead, "x", storage.load, hold_ttl_s=1, failure="open")
        assert await opened.reserve("c1", (WALLET,), CENT) is None
        refusal = await opened.reserve("c2", (WALLET,), 2 * CENT)
        assert refusal is not None and refusal.available == CENT
        await opened.settle("c1", (WALLET,), CENT, CENT)
        assert await opened.spendable(WALLET) == CENT
        await dead.aclose()

    asyncio.run(t())


class _Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_rpm_shared_by_two_clients_and_exact_at_the_edge() -> None:
    async def t(prefix: str, client: Callable[[], aioredis.Redis]) -> None:
        minute = (int(time.time()) // 60) * 60
        clock = _Clock(minute + 59.999)
        one = RedisRateLimiter(client(), prefix, now=clock)
        two = RedisRateLimiter(client(), prefix, now=clock)
        decisions = [await (one if i % 2 else two).hit("sub:a", 3) for i in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        clock.t = minute + 60.0
        fresh = await one.hit("sub:a", 3)
        assert fresh.allowed and fresh.remaining == 2 and fresh.reset_s == pytest.approx(60.0)

    _run(t)


def test_rpm_redis_down() -> None:
    async def t() -> None:
        dead = connect("redis://127.0.0.1:1/0")
        with pytest.raises(LimitsUnavailable):
            await RedisRateLimiter(dead, "x").hit("k", 1)
        limiter = RedisRateLimiter(dead, "x", failure="open")
        assert (await limiter.hit("k", 1)).allowed
        assert not (await limiter.hit("k", 1)).allowed
        await dead.aclose()

    asyncio.run(t())
