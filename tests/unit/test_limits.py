"""The in-process spend book: all-or-nothing holds over wallet, cap and budget, released on settle.

The loader is a stand-in for storage (a dict); the book itself is the real one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from aigateway.services.limits import MemorySpendBook, Refusal, Scope, SpendBook

CENT = 10_000_000
WALLET = Scope("wallet:acct_1", "wallet", "wallet", 0, "", "")
SUB = Scope(
    "sub:sub_1@2026-05", "sub_account", "sub-account 'acme' (monthly cap)", 5 * CENT, "sub:sub_1", "2026-05"
)
TAG = Scope("tag:acct_1:x@2026-05", "budget", "budget for tag 'x'", 3 * CENT, "tag:acct_1:x", "2026-05")


class _Storage:
    """Stored balances / spent by scope key, and how often each was read."""

    def __init__(self, values: dict[str, int]) -> None:
        self.values = values
        self.reads: list[list[str]] = []

    async def load(self, scopes: Sequence[Scope]) -> dict[str, int]:
        self.reads.append([s.key for s in scopes])
        await asyncio.sleep(0)  # a real read yields to the loop
        return {s.key: self.values.get(s.key, 0) for s in scopes}


def _book(wallet: int = 100 * CENT, **spent: int) -> tuple[MemorySpendBook, _Storage]:
    storage = _Storage({WALLET.key: wallet, SUB.key: spent.get("sub", 0), TAG.key: spent.get("tag", 0)})
    return MemorySpendBook(storage.load, refresh_s=60), storage


def test_protocol() -> None:
    book: SpendBook = _book()[0]
    assert book is not None


def test_all_or_nothing_names_the_refusing_scope() -> None:
    async def go() -> None:
        book, _ = _book(wallet=100 * CENT, sub=1 * CENT)
        scopes = (WALLET, SUB, TAG)
        refusal = await book.reserve("c1", scopes, 4 * CENT)  # sub has 4 left, tag only 3
        assert refusal == Refusal(TAG, 3 * CENT)
        # nothing was held anywhere
        assert book.cached_available(scopes) == 3 * CENT
        assert book.cached_available((WALLET,)) == 100 * CENT
        assert book.holding("c1") == 0
        assert await book.reserve("c1", scopes, 3 * CENT) is None
        assert book.cached_available((WALLET,)) == 97 * CENT
        assert book.cached_available((SUB,)) == 1 * CENT
        refusal = await book.reserve("c2", scopes, 2 * CENT)
        assert refusal is not None and refusal.scope == SUB and refusal.available == 1 * CENT

    asyncio.run(go())


def test_settle_releases_whole_hold_including_top_up_and_is_idempotent() -> None:
    async def go() -> None:
        book, _ = _book(wallet=10 * CENT)
        scopes = (WALLET, SUB)
        assert await book.reserve("c1", scopes, 2 * CENT) is None
        assert await book.reserve("c1", scopes, 1 * CENT) is None  # top-up adds
        assert book.holding("c1") == 3 * CENT
        assert book.cached_available(scopes) == 2 * CENT  # the cap: 5 - 3
        await book.settle("c1", scopes, 3 * CENT, 1 * CENT)
        assert book.holding("c1") == 0
        assert book.cached_available((WALLET,)) == 9 * CENT
        assert book.cached_available((SUB,)) == 4 * CENT
        await book.settle("c1", scopes, 3 * CENT, 1 * CENT)  # again: nothing changes
        await book.settle("never", scopes, 0, 5 * CENT)
        assert book.cached_available(scopes) == 4 * CENT

    asyncio.run(go())


def test_first_load_is_one_read_however_many_ask() -> None:
    async def go() -> None:
        book, storage = _book()
        results = await asyncio.gather(*(book.reserve(f"c{i}", (WALLET, SUB), 1) for i in range(50)))
        assert results == [None] * 50
        assert len(storage.reads) == 1
        assert sorted(storage.reads[0]) == sorted([WALLET.key, SUB.key])

    asyncio.run(go())


def test_failed_load_reaches_every_waiter_and_is_retried() -> None:
    async def go() -> None:
        calls = 0

        async def flaky(scopes: Sequence[Scope]) -> dict[str, int]:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0)
            if calls == 1:
                raise OSError("storage down")
            return {s.key: 10 * CENT for s in scopes}

        book = MemorySpendBook(flaky, refresh_s=60)
        outcomes = await asyncio.gather(
            *(book.reserve(f"c{i}", (WALLET,), 1) for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(o, OSError) for o in outcomes)
        assert await book.reserve("c9", (WALLET,), 1) is None
        assert calls == 2

    asyncio.run(go())


def test_cap_change_applies_to_next_call() -> None:
    async def go() -> None:
        book, _ = _book()
        assert await book.reserve("c1", (WALLET, SUB), 5 * CENT) is None
        raised = Scope(SUB.key, SUB.kind, SUB.name, 8 * CENT, SUB.store_scope, SUB.period)
        assert await book.reserve("c2", (WALLET, raised), 3 * CENT) is None
        assert await book.reserve("c3", (WALLET, raised), 1)  # full now

    asyncio.run(go())


def test_flushed_moves_unflushed_into_stored_values() -> None:
    async def go() -> None:
        book, _ = _book(wallet=10 * CENT, sub=1 * CENT)
        scopes = (WALLET, SUB, TAG)
        assert await book.reserve("c1", scopes, 2 * CENT) is None
        await book.settle("c1", scopes, 2 * CENT, 1 * CENT)
        assert book.cached_available((SUB,)) == 3 * CENT
        book.flushed(
            {"acct_1": 1 * CENT},
            {"acct_1": 9 * CENT},
            {
                ("sub:sub_1", "2026-05"): (1 * CENT, 2 * CENT),
                ("tag:acct_1:x", "2026-05"): (1 * CENT, 1 * CENT),
            },
        )
        assert book.cached_available((WALLET,)) == 9 * CENT
        assert book.cached_available((SUB,)) == 3 * CENT
        assert book.cached_available((TAG,)) == 2 * CENT
        assert await book.spendable(SUB) == 3 * CENT
        assert await book.spendable(WALLET) == 9 * CENT
        # another process spent on the cap, the CLI credited the wallet: the periodic re-read
        book.refreshed({SUB.key: 4 * CENT, WALLET.key: 20 * CENT})
        assert book.cached_available((SUB,)) == 1 * CENT
        assert book.cached_available((WALLET,)) == 20 * CENT
        book.refreshed_balances({"acct_1": 30 * CENT})
        assert book.cached_available((WALLET,)) == 30 * CENT

    asyncio.run(go())


def test_stale_lists_scopes_not_reread_for_refresh_s() -> None:
    async def go() -> None:
        storage = _Storage({})
        book = MemorySpendBook(storage.load, refresh_s=0.0)
        await book.load((WALLET, SUB))
        deadline = time.monotonic() + 5
        while not book.stale() and time.monotonic() < deadline:  # monotonic must tick past fetched_at
            await asyncio.sleep(0.001)
        assert {s.key for s in book.stale()} == {WALLET.key, SUB.key}
        fresh = MemorySpendBook(storage.load, refresh_s=3600)
        await fresh.load((WALLET,))
        assert fresh.stale() == []

    asyncio.run(go())


def test_200_concurrent_calls_never_hold_past_the_cap_and_all_release() -> None:
    """200 tasks against a cap of 5 calls' worth; cancelled tasks release through their finally."""

    async def go() -> None:
        book, _ = _book(wallet=1000 * CENT)
        scopes = (WALLET, SUB, TAG)  # the tag budget (3 cents) is the tightest: 3 calls
        per_call = 1 * CENT
        peak = admitted = tried = 0
        gate = asyncio.Event()

        async def one(i: int) -> None:
            nonlocal peak, admitted, tried
            call_id = f"c{i}"
            try:
                refusal = await book.reserve(call_id, scopes, per_call)
                tried += 1
                if refusal is not None:
                    return
                admitted += 1
                held = 3 * CENT - book.cached_available((TAG,))
                peak = max(peak, held)
                await gate.wait()  # in flight until every task has tried
            finally:
                await book.settle(call_id, scopes, per_call, 0)

        tasks = [asyncio.create_task(one(i)) for i in range(200)]
        while tried < 200:
            await asyncio.sleep(0)
        assert admitted == 3 and peak == 3 * CENT
        holders = [t for t in tasks if not t.done()]
        assert len(holders) == 3
        holders[0].cancel()  # cancelled between reserve and settle
        gate.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert holders[0].cancelled()
        assert book.cached_available((TAG,)) == 3 * CENT
        assert book.cached_available((WALLET,)) == 1000 * CENT
        assert all(book.holding(f"c{i}") == 0 for i in range(200))

    asyncio.run(go())


def test_spend_never_passes_cap_when_calls_settle_true_costs() -> None:
    async def go() -> None:
        book, _ = _book(wallet=1000 * CENT)
        scopes = (WALLET, SUB)
        worst, actual = 2 * CENT, CENT // 2

        async def one(i: int) -> None:
            try:
                if await book.reserve(f"c{i}", scopes, worst) is None:
                    await asyncio.sleep(0)
            finally:
                await book.settle(f"c{i}", scopes, worst, actual)

        await asyncio.gather(*(one(i) for i in range(200)))
        spent = 5 * CENT - book.cached_available((SUB,))
        assert spent <= 5 * CENT

    asyncio.run(go())


@pytest.mark.parametrize("amount", [0, 1])
def test_zero_amount_is_held_so_settle_books_actual(amount: int) -> None:
    async def go() -> None:
        book, _ = _book(wallet=10 * CENT)
        assert await book.reserve("c1", (WALLET,), amount) is None
        await book.settle("c1", (WALLET,), amount, CENT)
        assert book.cached_available((WALLET,)) == 9 * CENT

    asyncio.run(go())
