"""Building a process's job runner from settings, with the handlers of every job kind.

Kinds register here as they are built (video, music, 3D, chat with a webhook, batches). The
"test.sleep" kind exists only when ``AIGATEWAY_TEST_JOB_KINDS`` is set: the crash tests need a job
that takes real time per step, so a process can be killed between steps.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine

from aigateway.services.jobs import JobContext, JobError, JobRunner
from aigateway.settings import Settings
from aigateway.storage.jobs import JobStore


def build_runner(settings: Settings, engine: Engine, gateway: Any) -> JobRunner:
    runner = JobRunner(
        JobStore(engine),
        gateway=gateway,
        concurrency=settings.worker_concurrency,
        lease_s=settings.job_lease_s,
        heartbeat_s=settings.job_heartbeat_s,
        poll_s=settings.job_poll_s,
    )
    if settings.test_job_kinds:
        runner.register("test.sleep", sleep_steps)
    return runner


async def sleep_steps(ctx: JobContext) -> dict[str, Any]:
    """Test kind: ``payload.steps`` steps of ``payload.step_s`` seconds each. Each step appends
    {step, attempt} to ``state.ran`` as it is saved, so a step run twice shows twice; a step after
    the last saved one is where a new attempt resumes. ``payload.fail_attempts``: the first N
    attempts fail (retryable) after their first step, to test retries."""
    payload = ctx.job.payload
    steps = int(payload.get("steps", 3))
    step_s = float(payload.get("step_s", 0.05))
    ran: list[dict[str, Any]] = list(ctx.state.get("ran", []))
    for n in range(int(ctx.step or 0) + 1, steps + 1):
        await asyncio.sleep(step_s)
        ran.append({"step": n, "attempt": ctx.job.attempts})
        await ctx.save_step(n, {"ran": ran})
        if ctx.job.attempts <= int(payload.get("fail_attempts", 0)):
            raise JobError(f"failing attempt {ctx.job.attempts} on purpose", "test_failure")
    return {"steps": steps, "ran": ran}
