"""The spend book: a call's worst case held on every scope that pays for or limits it, all or none.

A call is paid by its account's wallet and may also be limited by a sub-account's cap and a tag's
budget. Admission reserves the worst case on all of them in one step and settlement replaces the
hold by the true cost, so concurrent calls can never jointly pass any one of those limits. Storage
stays the truth: the wallet's stored balance and each cap's stored spend (``spend_periods``) are read
once through the loader and then kept current by the ledger writer (``flushed``) and a periodic
re-read (``stale`` / ``refreshed``), exactly as the wallet book did for wallets alone.

This module holds the shapes both backends share and the in-process book; services/limits_redis.py
is the backend that several gateway processes share.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

WALLET = "wallet"

# Per scope key: the stored balance (wallet scopes) or the stored spent (cap and budget scopes).
ScopeLoader = Callable[[Sequence["Scope"]], Awaitable[dict[str, int]]]


@dataclass(frozen=True, slots=True)
class Scope:
    """One limit a call counts against; admission builds these, the book only reads them."""

    key: str  # "wallet:{account_id}" | "sub:{sub_id}@{period}" | "tag:{account_id}:{tag}@{period}"
    kind: str  # "wallet" | "sub_account" | "budget"
    name: str  # for messages: "wallet", "sub-account 'acme' (monthly cap)", "budget for tag 'x'"
    cap: int  # nano-dollars; ignored for kind "wallet" (its limit is the stored balance)
    store_scope: str  # "" for the wallet, else the spend_periods.scope ("sub:..", "tag:..:..")
    period: str  # "" for the wallet, else "YYYY-MM" or "lifetime"


@dataclass(frozen=True, slots=True)
class Refusal:
    """The first scope that could not hold the amount, and what it could still hold."""

    scope: Scope
    available: int  # >= 0


def wallet_key(account_id: str) -> str:
    return f"wallet:{account_id}"


def period_key(store_scope: str, period: str) -> str:
    """The scope key of a spend_periods row: how the ledger's (scope, period) pairs find counters."""
    return f"{store_scope}@{period}"


class SpendBook(Protocol):
    """What admission and the ledger writer need of a spend book (in-process or Redis)."""

    async def load(self, scopes: Sequence[Scope]) -> None: ...

    def cached_available(self, scopes: Sequence[Scope]) -> int: ...

    async def reserve(self, call_id: str, scopes: Sequence[Scope], amount: int) -> Refusal | None: ...

    async def settle(self, call_id: str, scopes: Sequence[Scope], reserved: int, actual: int) -> None: ...

    async def spendable(self, scope: Scope) -> int: ...

    def flushed(
        self,
        debits: Mapping[str, int],
        balances: Mapping[str, int],
        spent: Mapping[tuple[str, str], tuple[int, int]],
    ) -> None: ...

    def stale(self) -> list[Scope]: ...

    def refreshed(self, values: Mapping[str, int]) -> None: ...

    def refreshed_balances(self, balances: Mapping[str, int]) -> None: ...


@dataclass(slots=True)
class _Counter:
    """One scope as this process sees it: available = limit - stored - unflushed - reserved."""

    scope: Scope
    limit: int  # the stored balance (wallet) or the cap
    stored: int  # stored spent (always 0 for a wallet: its debits are already in the balance)
    fetched_at: float
    unflushed: int = 0  # settled here, not yet in storage
    reserved: int = 0  # held by calls in flight


class MemorySpendBook:
    """The in-process book: exact within one process, refreshed from storage across processes.

    Several worker processes without Redis each admit against their own view, re-read every
    ``refresh_s`` seconds; that bounds their joint overshoot (docs/accounts.md).
    """

    def __init__(self, loader: ScopeLoader, refresh_s: float, share: int = 1) -> None:
        """``share``: how many processes admit against the same stored values without Redis
        (``--workers N``); each admits only against 1/N of the headroom it last read."""
        self._loader = loader
        self._share = max(1, share)
        self._refresh_s = refresh_s
        self._counters: dict[str, _Counter] = {}
        self._holds: dict[str, tuple[int, tuple[_Counter, ...]]] = {}
        self._loading: dict[str, asyncio.Task[None]] = {}

    # -- loading ----------------------------------------------------------------------------------
    async def load(self, scopes: Sequence[Scope]) -> None:
        """Read the scopes this process does not know yet from storage (once, however many ask)."""
        counters = self._counters
        missing = [s for s in scopes if s.key not in counters]
        if not missing:
            return
        fresh = [s for s in missing if s.key not in self._loading]
        if fresh:
            task = asyncio.ensure_future(self._fetch(fresh))
            task.add_done_callback(_retrieve)
            for scope in fresh:
                self._loading[scope.key] = task
        waits = {id(t): t for s in missing if (t := self._loading.get(s.key)) is not None}
        for task in waits.values():
            # Shielded: a caller cancelled while waiting must not cancel the read others wait for.
            await asyncio.shield(task)

    async def _fetch(self, scopes: list[Scope]) -> None:
        try:
            values = await self._loader(scopes)
            now = time.monotonic()
            for scope in scopes:
                if scope.key not in self._counters:
                    self._counters[scope.key] = self._new_counter(scope, values.get(scope.key, 0), now)
        finally:
            for scope in scopes:
                self._loading.pop(scope.key, None)

    @staticmethod
    def _new_counter(scope: Scope, value: int, now: float) -> _Counter:
        if scope.kind == WALLET:
            return _Counter(scope, limit=value, stored=0, fetched_at=now)
        return _Counter(scope, limit=scope.cap, stored=value, fetched_at=now)

    # -- admission --------------------------------------------------------------------------------
    def cached_available(self, scopes: Sequence[Scope]) -> int:
        """The least any of the scopes can still hold, as this process knows them (0 if unknown)."""
        least: int | None = None
        for scope in scopes:
            counter = self._counters.get(scope.key)
            if counter is None:
                return 0
            limit = counter.limit if scope.kind == WALLET else scope.cap
            available = (limit - counter.stored) // self._share - counter.unflushed - counter.reserved
            if least is None or available < least:
                least = available
        return 0 if least is None else least

    async def reserve(self, call_id: str, scopes: Sequence[Scope], amount: int) -> Refusal | None:
        """Hold ``amount`` on every scope or on none; awaits only the first read of a new scope."""
        counters = self._counters
        for scope in scopes:
            if scope.key not in counters:
                await self.load(scopes)
                break
        return self.try_reserve(call_id, scopes, amount)

    def try_reserve(self, call_id: str, scopes: Sequence[Scope], amount: int) -> Refusal | None:
        """Check every scope and hold on all of them in one synchronous step (no await inside).

        So concurrent calls of this process can never jointly hold more than any scope allows. A
        second call for the same ``call_id`` adds to its hold (a top-up on the same scopes). Scopes
        not loaded yet refuse (``reserve`` loads them first).
        """
        counters = self._counters
        if len(scopes) == 1:  # the common case (a wallet alone): no intermediate list
            scope = scopes[0]
            counter = counters.get(scope.key)
            if counter is None:
                return Refusal(scope, 0)
            if scope.kind != WALLET:
                counter.limit = scope.cap
            headroom = counter.limit - counter.stored
            if self._share > 1:
                headroom //= self._share
            available = headroom - counter.unflushed - counter.reserved
            if amount > available:
                return Refusal(scope, available if available > 0 else 0)
            counter.reserved += amount
            held: tuple[_Counter, ...] = (counter,)
        else:
            found: list[_Counter] = []
            for scope in scopes:
                counter = counters.get(scope.key)
                if counter is None:
                    return Refusal(scope, 0)
                if scope.kind != WALLET:
                    counter.limit = scope.cap  # a changed cap applies from the next call on
                headroom = counter.limit - counter.stored
                if self._share > 1:
                    headroom //= self._share
                available = headroom - counter.unflushed - counter.reserved
                if amount > available:
                    return Refusal(scope, available if available > 0 else 0)
                found.append(counter)
            for counter in found:
                counter.reserved += amount
            held = tuple(found)
        hold = self._holds.get(call_id)
        # (amount, counters): a plain tuple is several times cheaper to make than a dataclass.
        self._holds[call_id] = (amount, held) if hold is None else (hold[0] + amount, hold[1])
        return None

    async def settle(self, call_id: str, scopes: Sequence[Scope], reserved: int, actual: int) -> None:
        """Release the call's whole hold and book ``actual`` on the scopes it held.

        ``reserved`` is informational: the book remembers what the call holds (top-ups included).
        Settling a call that holds nothing (never admitted, or already settled) does nothing, so a
        ``finally`` can always settle. Never suspends, so a cancelled task still completes it.
        """
        self.settle_now(call_id, actual)

    def settle_now(self, call_id: str, actual: int) -> None:
        hold = self._holds.pop(call_id, None)
        if hold is None:
            return
        amount = hold[0]
        for counter in hold[1]:
            counter.reserved -= amount
            counter.unflushed += actual

    def holding(self, call_id: str) -> int:
        """What a call holds now (0 when nothing): for tests and diagnostics."""
        hold = self._holds.get(call_id)
        return 0 if hold is None else hold[0]

    async def spendable(self, scope: Scope) -> int:
        """What the scope has left before holds (balance or cap less spent): GET /v1/balance."""
        counter = self._counters.get(scope.key)
        if counter is None:
            await self.load([scope])
            counter = self._counters[scope.key]
        limit = counter.limit if scope.kind == WALLET else scope.cap
        return limit - counter.stored - counter.unflushed

    # -- keeping the view current -----------------------------------------------------------------
    def flushed(
        self,
        debits: Mapping[str, int],
        balances: Mapping[str, int],
        spent: Mapping[tuple[str, str], tuple[int, int]],
    ) -> None:
        """A ledger batch reached storage: what it debited and spent now lives in the stored values.

        ``debits`` and ``balances`` are keyed by account id (as the ledger writer has them);
        ``spent`` maps (spend_periods scope, period) to (amount this batch added, new stored spent).
        """
        now = time.monotonic()
        counters = self._counters
        for account_id, amount in debits.items():
            counter = counters.get(wallet_key(account_id))
            if counter is None:
                continue
            counter.unflushed -= amount
            if account_id in balances:
                counter.limit = balances[account_id]
                counter.fetched_at = now
        for (store_scope, period), (amount, total) in spent.items():
            counter = counters.get(period_key(store_scope, period))
            if counter is None:
                continue
            counter.unflushed -= amount
            counter.stored = total
            counter.fetched_at = now

    def stale(self) -> list[Scope]:
        """Scopes not re-read for ``refresh_s``: the ledger writer reads them through the loader."""
        cutoff = time.monotonic() - self._refresh_s
        return [c.scope for c in self._counters.values() if c.fetched_at < cutoff]

    def refreshed(self, values: Mapping[str, int]) -> None:
        """Stored values re-read (credits from the CLI, other workers' debits), keyed by scope key.

        The ledger writer re-reads between flushes, so a stored value read here excludes exactly
        what is still counted as ``unflushed``: replacing it is safe.
        """
        now = time.monotonic()
        for key, value in values.items():
            counter = self._counters.get(key)
            if counter is None:
                continue
            if counter.scope.kind == WALLET:
                counter.limit = value
            else:
                counter.stored = value
            counter.fetched_at = now

    def refreshed_balances(self, balances: Mapping[str, int]) -> None:
        """Wallet balances keyed by account id (what a replayed ledger batch reports)."""
        self.refreshed({wallet_key(a): b for a, b in balances.items()})


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a load's failure as seen: every waiter gets it, even if the first one was cancelled."""
    if not task.cancelled():
        task.exception()
