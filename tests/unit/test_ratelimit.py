"""RPM windows aligned to UTC minutes, exact at the edge, and the OpenAI-style headers."""

from __future__ import annotations

import asyncio

import pytest

from aigateway.services.ratelimit import (
    MemoryRateLimiter,
    RateDecision,
    format_duration,
    rate_headers,
    retry_after_s,
)

MINUTE = 1_800_000_000 - 1_800_000_000 % 60  # an exact UTC minute boundary


class _Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_exact_at_the_window_edge() -> None:
    async def go() -> None:
        clock = _Clock(MINUTE + 59.999)
        limiter = MemoryRateLimiter(clock)
        decisions = [await limiter.hit("sub:a", 3) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert decisions[-1].reset_s == pytest.approx(0.001, abs=1e-6)
        clock.t = MINUTE + 60.0  # :00.000 of the next minute: a fresh window
        fresh = [await limiter.hit("sub:a", 3) for _ in range(4)]
        assert [d.allowed for d in fresh] == [True, True, True, False]
        assert fresh[0].reset_s == pytest.approx(60.0)

    asyncio.run(go())


def test_keys_are_independent_and_refused_hits_do_not_spill_over() -> None:
    async def go() -> None:
        clock = _Clock(MINUTE + 10)
        limiter = MemoryRateLimiter(clock)
        for _ in range(10):
            await limiter.hit("a", 2)
        assert (await limiter.hit("b", 2)).allowed
        clock.t = MINUTE + 70
        assert (await limiter.hit("a", 2)).remaining == 1

    asyncio.run(go())


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.012, "12ms"),
        (0.0004, "1ms"),
        (0.0, "0s"),
        (1.0, "1s"),
        (59.2, "59.2s"),
        (12.0, "12s"),
        (0.999, "999ms"),
        (60.0, "1m0s"),
        (360.0, "6m0s"),
        (61.5, "1m1.5s"),
        (7.25, "7.25s"),
    ],
)
def test_duration_format_is_openais(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "whole"), [(0.001, 1), (1.0, 1), (1.001, 2), (1.0001, 1), (59.2, 60), (0.0, 1)]
)
def test_retry_after_whole_seconds_rounded_up(seconds: float, whole: int) -> None:
    assert retry_after_s(seconds) == whole


def test_headers() -> None:
    allowed = rate_headers(RateDecision(True, 60, 59, 42.5))
    assert allowed == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "42.5s",
    }
    refused = rate_headers(RateDecision(False, 3, 0, 0.0010002))
    assert refused["retry-after"] == "1"
    assert refused["x-ratelimit-reset-requests"] == "1ms"
    assert refused["x-ratelimit-remaining-requests"] == "0"
