"""The job queue's storage contract on SQLite and PostgreSQL: claiming, leases, steps, retries.

Time is an injected clock: leases run out and backoffs pass by moving it, never by sleeping.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect

from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.jobs import JobStore

T0 = 1_800_000_000.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(fresh_db: str, clock: FakeClock) -> Iterator[JobStore]:
    engine = create_db_engine(fresh_db)
    migrate(engine)
    try:
        yield JobStore(engine, clock=clock)
    finally:
        engine.dispose()


def test_migration_creates_the_jobs_table_and_indexes(store: JobStore) -> None:
    inspector = inspect(store.engine)
    assert "jobs" in inspector.get_table_names()
    names = {ix["name"] for ix in inspector.get_indexes("jobs")}
    assert {"ix_jobs_claim", "ix_jobs_lease", "ix_jobs_account_created"} <= names


def test_enqueue_claim_complete(store: JobStore, clock: FakeClock) -> None:
    job = store.enqueue(account_id="acct_a", kind="video", payload={"prompt": "a cat"}, key_id="key_1")
    assert job.id.startswith("job_") and job.status == "queued" and job.attempts == 0
    assert job.payload == {"prompt": "a cat"} and job.state == {} and job.step is None

    claimed = store.claim("w1", ["video"], lease_s=30)
    assert claimed is not None and claimed.id == job.id
    assert claimed.status == "processing" and claimed.attempts == 1 and claimed.lease_owner == "w1"
    assert store.claim("w2", ["video"], lease_s=30) is None  # held

    assert store.complete(job.id, "w2", {"x": 1}) is False  # not the lease holder
    assert store.complete(job.id, "w1", {"file": "f_1"}) is True
    assert store.complete(job.id, "w1", {"file": "f_2"}) is False  # exactly once
    done = store.get("acct_a", job.id)
    assert done is not None and done.status == "completed" and done.result == {"file": "f_1"}
    assert done.completed_at is not None and done.lease_owner is None


def test_claim_filters_by_kind_and_orders_by_age(store: JobStore, clock: FakeClock) -> None:
    first = store.enqueue(account_id="a", kind="music", payload={})
    clock.advance(1)
    second = store.enqueue(account_id="a", kind="music", payload={})
    other = store.enqueue(account_id="a", kind="3d", payload={})
    assert store.claim("w", ["video"], 30) is None
    assert store.claim("w", [], 30) is None
    got = [store.claim("w", ["music"], 30), store.claim("w", ["music"], 30)]
    assert [j.id for j in got if j] == [first.id, second.id]
    any_kind = store.claim("w", None, 30)
    assert any_kind is not None and any_kind.id == other.id


def test_run_after_delays_a_job(store: JobStore, clock: FakeClock) -> None:
    store.enqueue(account_id="a", kind="k", payload={}, run_after=T0 + 60)
    assert store.claim("w", None, 30) is None
    clock.advance(60)
    assert store.claim("w", None, 30) is not None


def test_get_and_cancel_are_per_account_and_sub_account(store: JobStore) -> None:
    job = store.enqueue(account_id="acct_a", kind="k", payload={}, sub_account_id="sub_1")
    assert store.get("acct_b", job.id) is None
    assert store.get("acct_a", job.id, sub_account_id="sub_2") is None
    assert store.get("acct_a", job.id, sub_account_id="sub_1") is not None
    assert store.get("acct_a", job.id) is not None  # the parent sees its sub-accounts' jobs
    assert store.cancel("acct_b", job.id) is None
    cancelled = store.cancel("acct_a", job.id, sub_account_id="sub_1")
    assert cancelled is not None and cancelled.status == "cancelled"
    assert store.claim("w", None, 30) is None


def test_cancel_stops_the_lease_holder(store: JobStore) -> None:
    job = store.enqueue(account_id="a", kind="k", payload={})
    assert store.claim("w", None, 30) is not None
    store.cancel("a", job.id)
    assert store.heartbeat(job.id, "w", 30) is False
    assert store.save_step(job.id, "w", 1, {"x": 1}) is False
    assert store.complete(job.id, "w", {}) is False
    final = store.peek(job.id)
    assert final is not None and final.status == "cancelled"
    # A finished job stays as it is.
    done = store.enqueue(account_id="a", kind="k", payload={})
    store.claim("w", None, 30)
    store.complete(done.id, "w", {"ok": True})
    again = store.cancel("a", done.id)
    assert again is not None and again.status == "completed"


def test_lease_expiry_reclaim_and_stale_owner(store: JobStore, clock: FakeClock) -> None:
    job = store.enqueue(account_id="a", kind="k", payload={})
    assert store.claim("w1", None, lease_s=30) is not None
    assert store.save_step(job.id, "w1", "submit", {"provider_job": "p_1"}) is True

    clock.advance(20)
    assert store.heartbeat(job.id, "w1", 30) is True  # lease now ends at +50
    clock.advance(29)
    assert store.claim("w2", None, 30) is None  # still held
    clock.advance(2)  # w1 stalled past its lease
    reclaimed = store.claim("w2", None, 30)
    assert reclaimed is not None and reclaimed.id == job.id and reclaimed.attempts == 2
    assert reclaimed.lease_owner == "w2"
    assert reclaimed.step == "submit" and reclaimed.state == {"provider_job": "p_1"}  # resumes there

    # The stale worker can overwrite nothing.
    assert store.save_step(job.id, "w1", "poll", {"provider_job": "WRONG"}) is False
    assert store.heartbeat(job.id, "w1", 30) is False
    assert store.complete(job.id, "w1", {"stale": True}) is False
    assert store.fail(job.id, "w1", "stale") is None

    assert store.save_step(job.id, "w2", "poll", {"provider_job": "p_1", "polled": 3}) is True
    assert store.complete(job.id, "w2", {"ok": True}) is True
    final = store.peek(job.id)
    assert final is not None
    assert (final.status, final.step, final.state["polled"]) == ("completed", "poll", 3)


def test_fail_retries_with_backoff_then_fails(store: JobStore, clock: FakeClock) -> None:
    job = store.enqueue(account_id="a", kind="k", payload={}, max_attempts=3)
    for attempt in (1, 2):
        claimed = store.claim("w", None, 30)
        assert claimed is not None and claimed.attempts == attempt
        assert store.fail(job.id, "w", "upstream 503", "upstream_error") == "queued"
        assert store.claim("w", None, 30) is None  # backing off
        clock.advance(store.backoff(attempt) - 0.5)
        assert store.claim("w", None, 30) is None
        clock.advance(0.5)
    assert store.claim("w", None, 30) is not None
    assert store.fail(job.id, "w", "upstream 503", "upstream_error") == "failed"
    final = store.peek(job.id)
    assert final is not None and final.status == "failed" and final.attempts == 3
    assert final.error == {"message": "upstream 503", "code": "upstream_error"}
    clock.advance(10_000)
    assert store.claim("w", None, 30) is None


def test_fail_without_retry_is_final(store: JobStore) -> None:
    job = store.enqueue(account_id="a", kind="k", payload={})
    store.claim("w", None, 30)
    assert store.fail(job.id, "w", "bad prompt", "invalid_request", retry=False) == "failed"


def test_expired_last_attempt_fails_instead_of_running_again(store: JobStore, clock: FakeClock) -> None:
    job = store.enqueue(account_id="a", kind="k", payload={}, max_attempts=2)
    for _ in range(2):
        assert store.claim("w", None, 30) is not None
        clock.advance(31)  # the worker died each time
    assert store.claim("w", None, 30) is None
    assert store.expire() == 1
    final = store.peek(job.id)
    assert final is not None and final.status == "failed" and final.error is not None
    assert final.error["code"] == "worker_lost"


def test_release_gives_the_job_back_without_counting_the_attempt(store: JobStore) -> None:
    job = store.enqueue(account_id="a", kind="k", payload={})
    store.claim("w1", None, 30)
    assert store.release(job.id, "w1") is True
    again = store.claim("w2", None, 30)
    assert again is not None and again.attempts == 1


def test_concurrent_claimers_never_claim_a_job_twice(store: JobStore) -> None:
    """Eight threads, each its own connection, claim 200 jobs: every job once, none twice."""
    total = 200
    for n in range(total):
        store.enqueue(account_id="a", kind="k", payload={"n": n})
    claims: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(name: str) -> None:
        start.wait()
        while True:
            job = store.claim(name, ["k"], lease_s=600)
            if job is None:
                return
            with lock:
                claims.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    counts = Counter(claims)
    assert len(counts) == total
    assert max(counts.values()) == 1
