"""The job runner: claims jobs from the durable queue (storage/jobs.py) and runs their handlers.

One runner per process, inside ``aigateway serve`` by default (``AIGATEWAY_WORKER_IN_SERVE``) and in
each ``aigateway worker`` process when work is scaled out: they all claim from the same table, so
any number of them share the queue without a coordinator.

A handler is an async callable per job kind, given a ``JobContext``. Why a context and not just the
job: a handler of a multi-step upstream job (submit -> poll -> fetch) must persist each step before
starting the next (``ctx.save_step``), so the attempt after a crash resumes where the dead worker
had got to instead of submitting (and paying for) the upstream work twice; and handlers that call
models do so through the gateway's own pipeline in-process (``ctx.gateway``), so each call is
admitted, priced and carried in the ledger like any other. The runner keeps the lease alive with a
heartbeat on an interval while the handler runs, and stops the handler when the lease is lost (the
job was cancelled, or the worker stalled past its lease and another worker took the job over).

What a handler returns is the job's result; ``JobError`` fails the attempt (retried with backoff
while attempts remain, unless ``retry=False``); any other exception fails it as retryable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from aigateway.storage.jobs import Clock, Job, JobStore

log = logging.getLogger("aigateway.jobs")


class JobError(Exception):
    """A handler's failure, with the code the job's error carries and whether to retry."""

    def __init__(self, message: str, code: str = "job_failed", *, retry: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry = retry


class LeaseLost(Exception):
    """The worker no longer holds the job's lease: whatever it does next must not be stored."""


@dataclass(slots=True)
class JobContext:
    job: Job
    store: JobStore
    owner: str
    gateway: Any = None  # services.pipeline.Gateway (app.state.gateway): call models in-process
    step: str | None = None  # the last step saved (by this attempt or an earlier one)
    state: dict[str, Any] = field(default_factory=dict)

    async def save_step(self, step: str | int, state: Mapping[str, Any] | None = None) -> None:
        """Persist that ``step`` is done with ``state``; raises ``LeaseLost`` if the job was taken
        away (do not go on to the next step, another worker owns it now or it was cancelled)."""
        new_state = dict(self.state if state is None else state)
        saved = await asyncio.to_thread(self.store.save_step, self.job.id, self.owner, step, new_state)
        if not saved:
            raise LeaseLost(self.job.id)
        self.step, self.state = str(step), new_state


Handler = Callable[[JobContext], Coroutine[Any, Any, Any]]


def new_owner() -> str:
    """A worker's lease owner: host, pid and a random part, unique per runner."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        *,
        gateway: Any = None,
        concurrency: int = 4,
        lease_s: float = 60.0,
        heartbeat_s: float = 15.0,
        poll_s: float = 1.0,
        clock: Clock = time.time,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.concurrency = max(1, concurrency)
        self.lease_s = lease_s
        self.heartbeat_s = heartbeat_s
        self.poll_s = poll_s
        self.clock = clock
        self.owner = owner or new_owner()
        self.handlers: dict[str, Handler] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def wake(self) -> None:
        """Look for work now (a job was just enqueued in this process), not at the next poll."""
        self._wake.set()

    @property
    def busy(self) -> int:
        return len(self._running)

    # -- the loop ---------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._loop is None and self.handlers:
            self._stopping = False
            self._loop = asyncio.create_task(self._poll(), name="aigateway-jobs")

    async def stop(self) -> None:
        """Stop claiming; jobs still running are stopped and given back to the queue at once (their
        steps stay saved), so a restart or another worker resumes them without waiting for a lease."""
        self._stopping = True
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _poll(self) -> None:
        while not self._stopping:
            try:
                started = await self.fill()
            except Exception:  # the database is away for a moment: try again at the next poll
                log.exception("claiming jobs failed")
                started = 0
            if started and self.busy < self.concurrency:
                continue  # more may be due
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def fill(self) -> int:
        """Claim due jobs up to the free slots and start them; how many were started."""
        await asyncio.to_thread(self.store.expire, self.clock())
        started = 0
        kinds = sorted(self.handlers)
        while self.busy < self.concurrency and not self._stopping:
            job = await asyncio.to_thread(self.store.claim, self.owner, kinds, self.lease_s, self.clock())
            if job is None:
                break
            task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
            self._running[job.id] = task
            task.add_done_callback(self._finished)
            started += 1
        return started

    def _finished(self, task: asyncio.Task[None]) -> None:
        for job_id, running in list(self._running.items()):
            if running is task:
                del self._running[job_id]
        self._wake.set()  # a slot is free

    async def drain(self) -> None:
        """Run until no job is due or running (tests, and one-shot workers)."""
        while True:
            started = await self.fill()
            if self._running:
                await asyncio.gather(*list(self._running.values()), return_exceptions=True)
            elif not started:
                return
            # Else the jobs it started finished while it was still claiming (a job that fails at
            # once can be queued again before fill returns): claim again rather than stop early.

    # -- one job ----------------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        ctx = JobContext(job, self.store, self.owner, self.gateway, job.step, dict(job.state))
        handler = self.handlers[job.kind]
        work: asyncio.Task[Any] = asyncio.create_task(handler(ctx))
        beat = asyncio.create_task(self._heartbeat(job.id, work))
        try:
            result = await work
        except LeaseLost:
            log.warning("job %s: lease lost, left to its new owner", job.id)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is not None and me.cancelling():  # the runner is stopping: give the job back
                await self._release(job.id)
                raise
            log.warning("job %s: stopped, its lease was lost", job.id)  # the heartbeat stopped it
        except JobError as exc:
            await self._fail(job, exc.message, exc.code, exc.retry)
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            await self._fail(job, f"The job failed ({type(exc).__name__}).", "job_error", True)
        else:
            done = await asyncio.to_thread(self.store.complete, job.id, self.owner, result, self.clock())
            if not done:
                log.warning("job %s finished after its lease was lost: result discarded", job.id)
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)

    async def _heartbeat(self, job_id: str, work: asyncio.Task[Any]) -> None:
        while not work.done():
            await asyncio.sleep(self.heartbeat_s)
            try:
                held = await asyncio.to_thread(
                    self.store.heartbeat, job_id, self.owner, self.lease_s, self.clock()
                )
            except Exception:  # the lease outlasts a few missed beats
                log.exception("job %s: heartbeat failed", job_id)
                continue
            if not held:
                work.cancel()
                return

    async def _fail(self, job: Job, message: str, code: str, retry: bool) -> None:
        status = await asyncio.to_thread(
            self.store.fail, job.id, self.owner, message, code, retry=retry, now=self.clock()
        )
        log.info("job %s attempt %d failed (%s): %s", job.id, job.attempts, code, status or "lease lost")

    async def _release(self, job_id: str) -> None:
        try:
            await asyncio.shield(asyncio.to_thread(self.store.release, job_id, self.owner, self.clock()))
        except Exception:  # its lease runs out and another worker takes it
            log.exception("job %s: could not give it back", job_id)
