"""The job runner against a real queue (SQLite and PostgreSQL): results, retries, resuming after the
last saved step, bounded concurrency, cancellation through the heartbeat, and giving jobs back on stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from aigateway.services.jobs import JobContext, JobRunner
from aigateway.services.jobs_setup import sleep_steps
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.jobs import JobStore


@pytest.fixture
def store(fresh_db: str) -> Iterator[JobStore]:
    engine = create_db_engine(fresh_db)
    migrate(engine)
    try:
        yield JobStore(engine, backoff=lambda _attempts: 0.0)
    finally:
        engine.dispose()


def _runner(store: JobStore, **kw: Any) -> JobRunner:
    runner = JobRunner(store, **{"lease_s": 30.0, "heartbeat_s": 5.0, "poll_s": 0.05, **kw})
    runner.register("test.sleep", sleep_steps)
    return runner


async def _until(predicate: Any, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def test_drain_runs_a_job_to_its_result(store: JobStore) -> None:
    job = store.enqueue(account_id="a", kind="test.sleep", payload={"steps": 3, "step_s": 0})
    asyncio.run(_runner(store).drain())
    done = store.peek(job.id)
    assert done is not None and done.status == "completed" and done.step == "3"
    assert done.result == {"steps": 3, "ran": [{"step": n, "attempt": 1} for n in (1, 2, 3)]}


def test_a_failed_attempt_is_retried_and_resumes_after_its_saved_step(store: JobStore) -> None:
    job = store.enqueue(
        account_id="a", kind="test.sleep", payload={"steps": 3, "step_s": 0, "fail_attempts": 1}
    )
    asyncio.run(_runner(store).drain())
    done = store.peek(job.id)
    assert done is not None and done.status == "completed" and done.attempts == 2
    # Step 1 was saved by attempt 1 before it failed: attempt 2 did not run it again.
    assert done.result["ran"] == [
        {"step": 1, "attempt": 1},
        {"step": 2, "attempt": 2},
        {"step": 3, "attempt": 2},
    ]


def test_unexpected_exceptions_fail_the_attempt_and_exhaust(store: JobStore) -> None:
    calls: list[int] = []

    async def broken(ctx: JobContext) -> None:
        calls.append(ctx.job.attempts)
        raise RuntimeError("bug")

    job = store.enqueue(account_id="a", kind="broken", payload={}, max_attempts=3)
    runner = _runner(store)
    runner.register("broken", broken)
    asyncio.run(runner.drain())
    done = store.peek(job.id)
    assert calls == [1, 2, 3]
    assert done is not None and done.status == "failed" and done.error is not None
    assert done.error["code"] == "job_error"


def test_concurrency_is_bounded(store: JobStore) -> None:
    peak = 0
    live = 0

    async def scenario() -> None:
        gate = asyncio.Event()

        async def counted(ctx: JobContext) -> None:
            nonlocal peak, live
            live += 1
            peak = max(peak, live)
            await gate.wait()
            live -= 1

        runner = _runner(store, concurrency=3)
        runner.register("counted", counted)
        await runner.start()
        await _until(lambda: live == 3)
        await runner.fill()  # no free slot: claims nothing more
        assert runner.busy == 3
        gate.set()
        await runner.drain()
        await runner.stop()

    for _ in range(10):
        store.enqueue(account_id="a", kind="counted", payload={})
    asyncio.run(asyncio.wait_for(scenario(), 120))
    assert peak == 3


def test_cancelling_a_running_job_stops_its_handler(store: JobStore) -> None:
    job = store.enqueue(account_id="a", kind="test.sleep", payload={"steps": 1, "step_s": 3600})

    async def scenario() -> None:
        runner = _runner(store, heartbeat_s=0.02)
        await runner.start()
        await _until(lambda: runner.busy == 1)
        store.cancel("a", job.id)
        await _until(lambda: runner.busy == 0)  # the heartbeat found the lease gone
        await runner.stop()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    done = store.peek(job.id)
    assert done is not None and done.status == "cancelled" and done.step is None


def test_stop_gives_running_jobs_back_with_their_steps(store: JobStore) -> None:
    job = store.enqueue(account_id="a", kind="test.sleep", payload={"steps": 2, "step_s": 0.01})

    async def slow_second(ctx: JobContext) -> None:
        if ctx.step is None:
            await ctx.save_step(1, {"first": True})
        await asyncio.sleep(3600)

    async def scenario() -> None:
        runner = _runner(store)
        runner.register("test.sleep", slow_second)
        await runner.start()
        await _until(lambda: (store.peek(job.id) or job).step == "1")
        await runner.stop()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    back = store.peek(job.id)
    assert back is not None and back.status == "queued" and back.attempts == 0
    assert back.step == "1" and back.state == {"first": True} and back.lease_owner is None
