"""``kill -9`` of a gateway in the middle of a job: after restart the job completes exactly once, and
the steps the dead process had saved are not run again.

A real ``aigateway serve`` (SQLite and PostgreSQL) runs a multi-step test job ("test.sleep", each step
taking real time); once it has saved its second step it is killed with SIGKILL. A new process on the
same database (``aigateway serve`` again, or an ``aigateway worker``) takes the job over when the dead
one's lease runs out and finishes it from the step after the last one saved.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigateway.simulators.server import SimulatorServer
from aigateway.storage.db import create_db_engine
from aigateway.storage.jobs import Job, JobStore
from tests.integration.conftest import Gateway, free_port, start_gateway, stop_process, wait_until_healthy

STEPS = 6
JOB_ENV = {
    "AIGATEWAY_TEST_JOB_KINDS": "1",
    "AIGATEWAY_JOB_LEASE_S": "2",
    "AIGATEWAY_JOB_HEARTBEAT_S": "0.3",
    "AIGATEWAY_JOB_POLL_S": "0.1",
}


def _poll(store: JobStore, job_id: str, done: object, timeout: float = 120.0) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = store.peek(job_id)
        assert job is not None
        if done(job):  # type: ignore[operator]
            return job
        assert time.monotonic() < deadline, f"job never got there: {job}"
        time.sleep(0.05)


def _revive(dead: Gateway, command: str) -> subprocess.Popen[bytes]:
    port = free_port()
    env = {**dead.env, "AIGATEWAY_PORT": str(port)}
    log_path = dead.workdir / f"{command}-restart.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aigateway", command],
            cwd=dead.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if command == "serve":
        wait_until_healthy(process, f"http://127.0.0.1:{port}", log_path)
    return process


@pytest.fixture
def gateway_with_jobs(fresh_db: str, simulator: SimulatorServer, tmp_path: Path) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path, fresh_db, simulator, extra_env=JOB_ENV)
    try:
        yield gw
    finally:
        if gw.process.poll() is None:
            gw.process.kill()
            gw.process.wait(timeout=30)


@pytest.mark.parametrize("restart", ["serve", "worker"])
def test_kill_9_mid_job_completes_it_once_without_repeating_saved_steps(
    gateway_with_jobs: Gateway, restart: str
) -> None:
    gw = gateway_with_jobs
    engine = create_db_engine(gw.db_url)
    store = JobStore(engine)
    revived: subprocess.Popen[bytes] | None = None
    try:
        job = store.enqueue(
            account_id="acct_crash", kind="test.sleep", payload={"steps": STEPS, "step_s": 0.4}
        )
        _poll(store, job.id, lambda j: j.step is not None and int(j.step) >= 2)
        gw.process.send_signal(signal.SIGKILL)
        gw.process.wait(timeout=30)
        assert gw.process.returncode == -signal.SIGKILL

        at_kill = store.peek(job.id)
        assert at_kill is not None and at_kill.status == "processing" and at_kill.attempts == 1
        saved = int(at_kill.step or 0)
        assert 2 <= saved < STEPS, "the kill did not land mid-job: the test proved nothing"

        revived = _revive(gw, restart)
        done = _poll(store, job.id, lambda j: j.finished)
        assert done.status == "completed", done.error
        assert done.attempts == 2
        ran = done.result["ran"]
        assert [r["step"] for r in ran] == list(range(1, STEPS + 1))  # each step once, in order
        assert all(r["attempt"] == 1 for r in ran[:saved])  # saved before the kill: not repeated
        assert all(r["attempt"] == 2 for r in ran[saved:])
        assert done.state["ran"] == ran and done.step == str(STEPS)
        assert done.lease_owner is None and done.completed_at is not None
    finally:
        if revived is not None:
            stop_process(revived)
        engine.dispose()
