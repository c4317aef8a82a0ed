"""Requests-per-minute limits: fixed one-minute windows aligned to UTC minutes.

Fixed windows (not sliding) because the count is then one integer per key and minute, which Redis
can keep with one INCR that every gateway process shares, and a client can tell from the reset
header exactly when its quota comes back. A window is ``floor(epoch_seconds / 60)``: epoch time has
no leap seconds, so that is the UTC minute. Every hit counts, refused ones too (a client hammering
past its limit stays refused until the minute turns; it does not eat into the next one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from redis.exceptions import RedisError

from aigateway.core.errors import LimitsUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

WINDOW_S = 60

# KEYS[1]: the window's counter; ARGV[1]: its time to live in ms. INCR and PEXPIRE in one step, so a
# counter can never be left without an expiry by a process dying between them.
RPM_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
"""


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int  # requests left in this window after this one (>= 0)
    reset_s: float  # seconds until the window ends and the count starts again


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int) -> RateDecision: ...


def _decide(count: int, limit: int, now: float, window: int) -> RateDecision:
    reset = (window + 1) * WINDOW_S - now
    return RateDecision(count <= limit, limit, limit - count if count < limit else 0, reset)


class MemoryRateLimiter:
    """One process's counters: exact within the process (no await between read and increment)."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._windows: dict[str, list[int]] = {}  # key -> [window, count]

    async def hit(self, key: str, limit: int) -> RateDecision:
        return self.hit_now(key, limit)

    def hit_now(self, key: str, limit: int) -> RateDecision:
        now = self._now()
        window = int(now // WINDOW_S)
        slot = self._windows.get(key)
        if slot is None:
            slot = self._windows[key] = [window, 0]
        elif slot[0] != window:
            slot[0] = window
            slot[1] = 0
        slot[1] += 1
        return _decide(slot[1], limit, now, window)


class RedisRateLimiter:
    """Counters in Redis, shared by every gateway process of the deployment (one script call a hit).

    Keys are ``{prefix}:rpm:{key}:{window}`` with the prefix hash-tagged, so a deployment's keys
    could share one cluster slot; each expires a little after its minute. Redis unreachable: raise
    LimitsUnavailable (503), or with ``failure="open"`` count in this process instead (logged once).
    """

    def __init__(
        self,
        client: Redis,
        prefix: str,
        *,
        failure: str = "closed",
        now: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._prefix = "{" + prefix + "}"
        self._failure = failure
        self._now = now
        self._script = client.register_script(RPM_SCRIPT)
        self._fallback = MemoryRateLimiter(now)
        self._warned = False

    async def hit(self, key: str, limit: int) -> RateDecision:
        now = self._now()
        window = int(now // WINDOW_S)
        ttl_ms = int(((window + 1) * WINDOW_S - now) * 1000) + 5_000
        try:
            count = int(await self._script(keys=[f"{self._prefix}:rpm:{key}:{window}"], args=[ttl_ms]))
        except RedisError as exc:
            if self._failure != "open":
                raise LimitsUnavailable(
                    "Rate limits are unavailable: the gateway cannot reach Redis (limits_unavailable). "
                    "Try again shortly."
                ) from exc
            if not self._warned:
                self._warned = True
                log.error("Redis unreachable (%s): counting rate limits in this process only", exc)
            return self._fallback.hit_now(key, limit)
        return _decide(count, limit, now, window)


def format_duration(seconds: float) -> str:
    """A duration the way OpenAI's x-ratelimit-reset-* headers write it: "12ms", "59.2s", "6m0s"."""
    ms = round(seconds * 1000)
    if ms <= 0:
        return "0s" if seconds <= 0 else "1ms"
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    secs = f"{rest // 1000}" if rest % 1000 == 0 else f"{rest / 1000:.3f}".rstrip("0")
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def retry_after_s(seconds: float) -> int:
    """Whole seconds, rounded up, and at least 1 (Retry-After: 0 would invite a tight retry loop)."""
    ms = max(1, round(seconds * 1000))
    return (ms + 999) // 1000


def rate_headers(decision: RateDecision) -> dict[str, str]:
    """The OpenAI-style rate-limit headers of a decision; Retry-After too when it refused."""
    headers = {
        "x-ratelimit-limit-requests": str(decision.limit),
        "x-ratelimit-remaining-requests": str(decision.remaining),
        "x-ratelimit-reset-requests": format_duration(decision.reset_s),
    }
    if not decision.allowed:
        headers["retry-after"] = str(retry_after_s(decision.reset_s))
    return headers
