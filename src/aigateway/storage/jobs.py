"""The durable job queue: jobs are rows, workers claim them under a lease.

Why rows in the gateway's own database and not a broker: a job accepted (the 202) must survive a
kill -9 and be finished exactly once after restart, and the database is already the one durable
thing every gateway process shares. Every transition is one conditional ``UPDATE``, so two
processes can never both win it:

* ``claim`` takes the oldest due job: queued with ``run_after`` passed, or processing with its lease
  run out (its worker died). PostgreSQL picks the row with ``FOR UPDATE SKIP LOCKED``, so claimers
  skip each other's rows instead of queueing on them; SQLite serialises writers, so the same single
  ``UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING`` is atomic there as it stands.
* ``heartbeat``, ``save_step``, ``complete`` and ``fail`` change a row only while the caller still
  holds its lease (``lease_owner`` is the caller and the job is processing): a worker that lost its
  lease (it stalled and another claimed the job, or the job was cancelled) is told so and can
  overwrite nothing. Owners must therefore be unique per running worker.
* ``step``/``state`` are saved by the lease holder after each step of a multi-step job, so the next
  attempt resumes after the last saved step instead of submitting upstream again.

Time comes from an injected clock (unix seconds), so leases, backoff and reclaiming are tested
without waiting.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, RowMapping, and_, or_, select, update

from aigateway.storage.accounts import as_utc
from aigateway.storage.schema import jobs

QUEUED = "queued"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
FINISHED = frozenset({COMPLETED, FAILED, CANCELLED})

Clock = Callable[[], float]


def new_job_id(now: float) -> str:
    """``job_`` + 12 hex digits of the millisecond clock + 12 random hex: ids sort by time."""
    return f"job_{int(now * 1000):012x}{secrets.token_hex(6)}"


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    account_id: str
    sub_account_id: str | None
    key_id: str | None
    kind: str
    status: str
    payload: dict[str, Any]
    result: Any
    error: dict[str, Any] | None
    attempts: int
    max_attempts: int
    run_after: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    heartbeat_at: datetime | None
    step: str | None
    state: dict[str, Any]
    webhook_url: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def default_backoff(attempts: int) -> float:
    """Seconds before a failed attempt is retried: 10 s, 20 s, 40 s ... at most 10 minutes."""
    return float(min(10 * 2 ** max(attempts - 1, 0), 600))


class JobStore:
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = time.time,
        backoff: Callable[[int], float] = default_backoff,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.backoff = backoff

    def _now(self, now: float | None) -> float:
        return self.clock() if now is None else now

    # -- producers -------------------------------------------------------------------------------
    def enqueue(
        self,
        *,
        account_id: str,
        kind: str,
        payload: Mapping[str, Any],
        sub_account_id: str | None = None,
        key_id: str | None = None,
        max_attempts: int = 5,
        webhook_url: str | None = None,
        run_after: float | None = None,
        now: float | None = None,
    ) -> Job:
        """Store a queued job; once this returns, the job survives any crash."""
        t = self._now(now)
        at = _at(t)
        values: dict[str, Any] = {
            "id": new_job_id(t),
            "account_id": account_id,
            "sub_account_id": sub_account_id,
            "key_id": key_id,
            "kind": kind,
            "status": QUEUED,
            "payload": json.dumps(dict(payload)),
            "result": None,
            "error": None,
            "attempts": 0,
            "max_attempts": max(1, max_attempts),
            "run_after": at if run_after is None else _at(run_after),
            "lease_owner": None,
            "lease_expires_at": None,
            "heartbeat_at": None,
            "step": None,
            "state": "{}",
            "webhook_url": webhook_url,
            "created_at": at,
            "updated_at": at,
            "completed_at": None,
        }
        with self.engine.begin() as conn:
            conn.execute(jobs.insert().values(**values))
        job = self._by_id(values["id"])
        assert job is not None
        return job

    # -- workers ---------------------------------------------------------------------------------
    def claim(
        self, owner: str, kinds: Sequence[str] | None, lease_s: float, now: float | None = None
    ) -> Job | None:
        """Take the oldest due job of ``kinds`` (None: any kind) under a lease of ``lease_s``.

        Due: queued with ``run_after`` passed, or processing with an expired lease and attempts
        left (its worker died: this is the reclaim). Each claim counts an attempt.
        """
        t = self._now(now)
        at = _at(t)
        due = or_(
            and_(jobs.c.status == QUEUED, jobs.c.run_after <= at),
            and_(
                jobs.c.status == PROCESSING,
                jobs.c.lease_expires_at <= at,
                jobs.c.attempts < jobs.c.max_attempts,
            ),
        )
        pick = select(jobs.c.id).where(due)
        if kinds is not None:
            if not kinds:
                return None
            pick = pick.where(jobs.c.kind.in_(list(kinds)))
        # SKIP LOCKED on PostgreSQL; SQLAlchemy renders no FOR UPDATE on SQLite, where the single
        # UPDATE statement holds the database's write lock from its read to its write.
        pick = pick.order_by(jobs.c.run_after, jobs.c.id).limit(1).with_for_update(skip_locked=True)
        statement = (
            update(jobs)
            .where(jobs.c.id == pick.scalar_subquery())
            .values(
                status=PROCESSING,
                attempts=jobs.c.attempts + 1,
                lease_owner=owner,
                lease_expires_at=at + timedelta(seconds=lease_s),
                heartbeat_at=at,
                updated_at=at,
            )
            .returning(*jobs.c)
        )
        with self.engine.begin() as conn:
            row = conn.execute(statement).mappings().first()
        return None if row is None else _job(row)

    def expire(self, now: float | None = None) -> int:
        """Fail the jobs whose lease ran out on their last attempt (their worker died every time)."""
        at = _at(self._now(now))
        error = json.dumps(
            {
                "message": "The job's worker stopped before finishing it on every attempt.",
                "code": "worker_lost",
            }
        )
        statement = (
            update(jobs)
            .where(
                jobs.c.status == PROCESSING,
                jobs.c.lease_expires_at <= at,
                jobs.c.attempts >= jobs.c.max_attempts,
            )
            .values(
                status=FAILED,
                error=error,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=at,
                completed_at=at,
            )
        )
        with self.engine.begin() as conn:
            return int(conn.execute(statement).rowcount)

    def _held(self, job_id: str, owner: str) -> Any:
        return and_(jobs.c.id == job_id, jobs.c.lease_owner == owner, jobs.c.status == PROCESSING)

    def _update_held(self, job_id: str, owner: str, values: Mapping[str, Any]) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(jobs).where(self._held(job_id, owner)).values(**values).returning(jobs.c.id)
            )
            return result.first() is not None

    def heartbeat(self, job_id: str, owner: str, lease_s: float, now: float | None = None) -> bool:
        """Extend the lease; False when the caller no longer holds it (stop working on the job)."""
        at = _at(self._now(now))
        return self._update_held(
            job_id,
            owner,
            {"heartbeat_at": at, "lease_expires_at": at + timedelta(seconds=lease_s), "updated_at": at},
        )

    def save_step(
        self, job_id: str, owner: str, step: str | int, state: Mapping[str, Any], now: float | None = None
    ) -> bool:
        """Persist the last step completed and what it produced; only by the lease holder."""
        at = _at(self._now(now))
        return self._update_held(
            job_id, owner, {"step": str(step), "state": json.dumps(dict(state)), "updated_at": at}
        )

    def complete(self, job_id: str, owner: str, result: Any, now: float | None = None) -> bool:
        """Finish the job with ``result`` (JSON); True exactly once per job, for its lease holder."""
        at = _at(self._now(now))
        return self._update_held(
            job_id,
            owner,
            {
                "status": COMPLETED,
                "result": json.dumps(result),
                "error": None,
                "lease_owner": None,
                "lease_expires_at": None,
                "updated_at": at,
                "completed_at": at,
            },
        )

    def fail(
        self,
        job_id: str,
        owner: str,
        message: str,
        code: str = "job_failed",
        *,
        retry: bool = True,
        now: float | None = None,
    ) -> str | None:
        """Record a failed attempt: queued again after the backoff while attempts remain (and
        ``retry``), else failed for good. Returns the new status, None when the lease was lost."""
        t = self._now(now)
        at = _at(t)
        # Read, then one guarded UPDATE (not a read inside the write transaction: SQLite in WAL mode
        # refuses to upgrade a reader whose snapshot another writer has moved past).
        with self.engine.connect() as conn:
            row = conn.execute(
                select(jobs.c.attempts, jobs.c.max_attempts).where(self._held(job_id, owner))
            ).first()
        if row is None:
            return None
        attempts, max_attempts = int(row[0]), int(row[1])
        again = retry and attempts < max_attempts
        values: dict[str, Any] = {
            "status": QUEUED if again else FAILED,
            "error": json.dumps({"message": message, "code": code}),
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": at,
        }
        if again:
            values["run_after"] = _at(t + self.backoff(attempts))
        else:
            values["completed_at"] = at
        with self.engine.begin() as conn:
            result = conn.execute(
                update(jobs)
                .where(self._held(job_id, owner), jobs.c.attempts == attempts)
                .values(**values)
                .returning(jobs.c.id)
            )
            return None if result.first() is None else str(values["status"])

    def release(self, job_id: str, owner: str, now: float | None = None) -> bool:
        """Give a job back unfinished (a worker shutting down): queued at once, attempt not counted."""
        at = _at(self._now(now))
        return self._update_held(
            job_id,
            owner,
            {
                "status": QUEUED,
                "attempts": jobs.c.attempts - 1,
                "run_after": at,
                "lease_owner": None,
                "lease_expires_at": None,
                "updated_at": at,
            },
        )

    # -- clients ---------------------------------------------------------------------------------
    def _scoped(self, account_id: str, job_id: str, sub_account_id: str | None) -> Any:
        clause = and_(jobs.c.id == job_id, jobs.c.account_id == account_id)
        if sub_account_id is not None:  # a sub-account sees only what it created
            clause = and_(clause, jobs.c.sub_account_id == sub_account_id)
        return clause

    def get(self, account_id: str, job_id: str, sub_account_id: str | None = None) -> Job | None:
        """The account's job (None for another account's, or another sub-account's)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(jobs).where(self._scoped(account_id, job_id, sub_account_id)))
                .mappings()
                .first()
            )
        return None if row is None else _job(row)

    def cancel(
        self, account_id: str, job_id: str, sub_account_id: str | None = None, now: float | None = None
    ) -> Job | None:
        """Cancel a job not yet finished (its worker learns at its next heartbeat or step);
        a finished one is returned as it is. None when the account has no such job."""
        at = _at(self._now(now))
        with self.engine.begin() as conn:
            conn.execute(
                update(jobs)
                .where(
                    self._scoped(account_id, job_id, sub_account_id),
                    jobs.c.status.in_([QUEUED, PROCESSING]),
                )
                .values(
                    status=CANCELLED, lease_owner=None, lease_expires_at=None, updated_at=at, completed_at=at
                )
            )
        return self.get(account_id, job_id, sub_account_id)

    def _by_id(self, job_id: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return None if row is None else _job(row)

    def peek(self, job_id: str) -> Job | None:
        """Any account's job by id: for workers, operators and tests, never for a client route."""
        return self._by_id(job_id)


def _opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _job(row: RowMapping) -> Job:
    return Job(
        id=row["id"],
        account_id=row["account_id"],
        sub_account_id=row["sub_account_id"],
        key_id=row["key_id"],
        kind=row["kind"],
        status=row["status"],
        payload=json.loads(row["payload"]),
        result=None if row["result"] is None else json.loads(row["result"]),
        error=None if row["error"] is None else json.loads(row["error"]),
        attempts=int(row["attempts"]),
        max_attempts=int(row["max_attempts"]),
        run_after=as_utc(row["run_after"]),
        lease_owner=row["lease_owner"],
        lease_expires_at=_opt_utc(row["lease_expires_at"]),
        heartbeat_at=_opt_utc(row["heartbeat_at"]),
        step=row["step"],
        state=json.loads(row["state"] or "{}"),
        webhook_url=row["webhook_url"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        completed_at=_opt_utc(row["completed_at"]),
    )
