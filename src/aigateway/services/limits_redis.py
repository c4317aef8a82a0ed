"""The spend book in Redis: wallets, caps and budgets shared by every gateway process of a deployment.

Without it each process admits against its own view of storage, so N processes can jointly overshoot
a cap (measured: two processes billed 10 cents against a 5-cent wallet). Here the counters live in
Redis and each reserve and settle is one atomic script (services/limits_lua.py), so every process
holds the same bound as one process does. Storage is still the ledger's truth: a scope's value is
read from it once (through the same loader the in-process book uses) and from then on Redis counts
settled costs itself; the ledger flush keeps storage right independently.

Holds expire (``hold_ttl_s``: the upstream timeout plus a margin), so a process that dies with calls
in flight gives their reservations back. Redis unreachable: ``failure="closed"`` refuses calls with
LimitsUnavailable (503); ``failure="open"`` admits them against an in-process book (logged once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from aigateway.core.errors import LimitsUnavailable
from aigateway.services.limits import WALLET, MemorySpendBook, Refusal, Scope, ScopeLoader, wallet_key
from aigateway.services.limits_lua import CREDIT, RESERVE, SETTLE

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# A month's counters stay this long after the month ends (late settles, usage questions), then go.
MONTH_KEEP = timedelta(days=40)
# A settled-or-not marker outlives its holds by this much, so a settle after the hold expired still
# books the call's cost (and a second settle still does nothing).
MARKER_MARGIN_S = 3600.0


def connect(url: str) -> Redis:
    """A client for the limits: short timeouts and one quick retry, because every call waits on it.

    redis-py's default retries with backoff for seconds when Redis is down; a gateway should answer
    503 (or fall back) at once instead of holding every request that long.
    """
    from redis.asyncio import Redis as AsyncRedis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff

    return AsyncRedis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=5.0,
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
        health_check_interval=30,
    )


def month_expiry(period: str) -> int | None:
    """Epoch seconds when a period's counter may go: 40 days after a month ends; never otherwise."""
    if len(period) != 7 or period[4] != "-":
        return None
    year, month = int(period[:4]), int(period[5:])
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return int((end + MONTH_KEEP).timestamp())


class RedisSpendBook:
    def __init__(
        self,
        client: Redis,
        prefix: str,
        loader: ScopeLoader,
        *,
        hold_ttl_s: float,
        failure: str = "closed",
        fallback_refresh_s: float = 2.0,
    ) -> None:
        self._client = client
        self._prefix = "{" + prefix + "}"
        self._loader = loader
        self._hold_ms = max(1, int(hold_ttl_s * 1000))
        self._marker_ms = self._hold_ms + int(MARKER_MARGIN_S * 1000)
        self._open = failure == "open"
        self._reserve = client.register_script(RESERVE)
        self._settle = client.register_script(SETTLE)
        self._credit = client.register_script(CREDIT)
        self._last: dict[str, int] = {}  # what each scope had left after the last answer seen here
        self._fallback = MemorySpendBook(loader, fallback_refresh_s)
        self._local: set[str] = set()  # calls admitted by the fallback (they settle there too)
        self._warned = False

    # -- keys -------------------------------------------------------------------------------------
    def _value_key(self, scope_key: str) -> str:
        return f"{self._prefix}:v:{scope_key}"

    def _keys(self, call_id: str, scopes: Sequence[Scope]) -> list[str]:
        p = self._prefix
        keys = [f"{p}:call:{call_id}"]
        for scope in scopes:
            k = scope.key
            keys += (f"{p}:v:{k}", f"{p}:r:{k}", f"{p}:e:{k}", f"{p}:t:{k}")
        return keys

    # -- failure ----------------------------------------------------------------------------------
    def _unavailable(self, exc: RedisError) -> None:
        """Raise (fail closed) or note once that the in-process book takes over (fail open)."""
        if not self._open:
            raise LimitsUnavailable(
                "Spend limits are unavailable: the gateway cannot reach Redis, where wallets, caps and "
                "budgets are counted (limits_unavailable). Try again shortly."
            ) from exc
        if not self._warned:
            self._warned = True
            log.error("Redis unreachable (%s): admitting against this process's own spend book", exc)

    # -- loading ----------------------------------------------------------------------------------
    async def _put(self, scopes: Sequence[Scope]) -> None:
        """Read scopes from storage into Redis; SET NX, so processes loading at once agree."""
        values = await self._loader(scopes)
        floor = int(time.time()) + 3600  # a past month's counter (a late call) still lives an hour
        async with self._client.pipeline(transaction=False) as pipe:
            for scope in scopes:
                pipe.set(
                    self._value_key(scope.key),
                    values.get(scope.key, 0),
                    nx=True,
                    exat=None if (ends := month_expiry(scope.period)) is None else max(ends, floor),
                )
            await pipe.execute()

    async def load(self, scopes: Sequence[Scope]) -> None:
        """Make sure Redis knows the scopes (one MGET; storage is read only for missing ones)."""
        try:
            values = await self._client.mget([self._value_key(s.key) for s in scopes])
            missing = [s for s, v in zip(scopes, values, strict=True) if v is None]
            if missing:
                await self._put(missing)
        except RedisError as exc:
            self._unavailable(exc)
            await self._fallback.load(scopes)

    # -- admission --------------------------------------------------------------------------------
    def cached_available(self, scopes: Sequence[Scope]) -> int:
        """The least the scopes had left at the last answer this process saw (0 if none yet)."""
        if not scopes:
            return 0
        last = self._last
        return min(last.get(s.key, 0) for s in scopes)

    async def reserve(self, call_id: str, scopes: Sequence[Scope], amount: int) -> Refusal | None:
        """One script call: purge the scopes' expired holds, check all, hold on all (or none)."""
        if call_id in self._local:
            return await self._fallback.reserve(call_id, scopes, amount)
        keys = self._keys(call_id, scopes)
        args: list[Any] = [amount, self._hold_ms, self._marker_ms, call_id]
        for scope in scopes:
            args += ("w", 0) if scope.kind == WALLET else ("c", scope.cap)
        try:
            for _ in range(3):
                answer = await self._reserve(keys=keys, args=args)
                if answer[0] != -1:
                    break
                await self._put([scopes[i - 1] for i in answer[1:]])
            else:  # pragma: no cover - only if keys vanish between load and reserve every time
                raise RedisError("scopes kept vanishing from Redis while loading them")
        except RedisError as exc:
            self._unavailable(exc)
            refusal = await self._fallback.reserve(call_id, scopes, amount)
            if refusal is None:
                self._local.add(call_id)
            return refusal
        if answer[0] == 1:
            for scope, left in zip(scopes, answer[1:], strict=True):
                self._last[scope.key] = int(left)
            return None
        scope = scopes[int(answer[1]) - 1]
        self._last[scope.key] = int(answer[2])
        return Refusal(scope, int(answer[2]))

    async def settle(self, call_id: str, scopes: Sequence[Scope], reserved: int, actual: int) -> None:
        """Release the call's holds and book ``actual``: one script call, idempotent.

        Shielded, so a task cancelled again while settling still completes it. A Redis failure here
        is logged, not raised: the call has already been served and its hold expires by itself;
        the ledger still records the cost (Redis's count of it is what is lost).
        """
        if call_id in self._local:
            self._local.discard(call_id)
            await self._fallback.settle(call_id, scopes, reserved, actual)
            return
        if not scopes:
            return
        keys = self._keys(call_id, scopes)
        args: list[Any] = [call_id, actual]
        args += ["w" if s.kind == WALLET else "c" for s in scopes]
        try:
            await asyncio.shield(self._settle(keys=keys, args=args))
        except RedisError:
            log.exception("settling call %s in Redis failed; its hold expires by itself", call_id)

    async def spendable(self, scope: Scope) -> int:
        """The scope's balance, or cap less spent, before holds (GET /v1/balance)."""
        key = self._value_key(scope.key)
        try:
            raw = await self._client.get(key)
            if raw is None:
                await self._put([scope])
                raw = await self._client.get(key)
        except RedisError as exc:
            self._unavailable(exc)
            return await self._fallback.spendable(scope)
        value = int(raw or 0)
        return value if scope.kind == WALLET else scope.cap - value

    async def credit(self, account_id: str, amount: int) -> int | None:
        """Add a top-up to a wallet Redis counts (``aigateway balance add``); None if not loaded."""
        try:
            result = await self._credit(keys=[self._value_key(wallet_key(account_id))], args=[amount])
        except RedisError as exc:
            raise LimitsUnavailable(
                f"Could not credit the wallet in Redis (limits_unavailable): {exc}"
            ) from exc
        return None if result is None else int(result)

    # -- the ledger writer's hooks: Redis counts for itself; only the fallback needs them ---------
    def flushed(
        self,
        debits: Mapping[str, int],
        balances: Mapping[str, int],
        spent: Mapping[tuple[str, str], tuple[int, int]],
    ) -> None:
        self._fallback.flushed(debits, balances, spent)

    def stale(self) -> list[Scope]:
        return self._fallback.stale()

    def refreshed(self, values: Mapping[str, int]) -> None:
        self._fallback.refreshed(values)

    def refreshed_balances(self, balances: Mapping[str, int]) -> None:
        self._fallback.refreshed_balances(balances)
