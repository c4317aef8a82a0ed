"""``kill -9`` under load loses no ledger row of an answered call, and replays none twice.

A real gateway process (SQLite and PostgreSQL) answers chat calls from several threads; once 200 have
been answered it is killed with SIGKILL while calls are still in flight. A second gateway on the same
data directory and database replays the dead one's journal. Every call that was answered must then
have exactly one ledger row, and the stored balance must equal the credits less the ledger's costs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest
from sqlalchemy import create_engine, func, select

from aigateway.simulators.server import SimulatorServer
from aigateway.storage.db import normalise_url
from aigateway.storage.schema import accounts, ledger, ledger_quarantine, wallet_credits
from tests.integration.conftest import Gateway, free_port, start_gateway, stop_gateway, wait_until_healthy

CALLS = 300
KILL_AFTER = 200
THREADS = 16
# Flush seldom, so that the kill surely finds answered calls whose rows are only in the journal.
SLOW_FLUSH = {"AIGATEWAY_LEDGER_FLUSH_INTERVAL_S": "1.0"}


def _restart(dead: Gateway) -> Gateway:
    """A new gateway process on the dead one's workdir, data directory and database."""
    port = free_port()
    env = {**dead.env, "AIGATEWAY_PORT": str(port)}
    log = (dead.workdir / "gateway-restart.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "aigateway", "serve"],
        cwd=dead.workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, url, dead.workdir / "gateway-restart.log")
    return Gateway(
        url, dead.db_url, dead.admin_key, dead.test_key, dead.workdir, env, process, dead.simulator
    )


def _fire(gw: Gateway) -> list[str]:
    """CALLS chat calls from THREADS threads; SIGKILL the gateway after KILL_AFTER answers."""
    answered: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def one(n: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = gw.client(timeout=30)
        request_id = f"crash-{os.getpid()}-{n:04d}"
        try:
            client.chat.completions.create(
                model="sim/gpt",
                messages=[{"role": "user", "content": f"call {n}"}],
                max_tokens=8,
                extra_headers={"X-Request-Id": request_id},
            )
        except openai.APIError:
            return  # refused, or cut off by the kill: not answered
        with lock:
            answered.append(request_id)
            if len(answered) == KILL_AFTER:
                os.kill(gw.process.pid, signal.SIGKILL)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(CALLS)))
    return answered


def _journal_lines(workdir: Path) -> int:
    journal = workdir / "data" / "ledger-journal"
    return sum(len(p.read_bytes().splitlines()) for p in journal.glob("ledger-*.jsonl"))


@pytest.fixture
def killed(fresh_db: str, simulator: SimulatorServer, tmp_path: Path) -> Iterator[tuple[Gateway, list[str]]]:
    gw = start_gateway(tmp_path, fresh_db, simulator, extra_env=SLOW_FLUSH)
    try:
        gw.cli("balance", "add", "--usd", "100")
        answered = _fire(gw)
        gw.process.wait(timeout=30)
        yield gw, answered
    finally:
        if gw.process.poll() is None:
            gw.process.kill()


def test_kill_9_under_load_loses_no_answered_call(killed: tuple[Gateway, list[str]]) -> None:
    dead, answered = killed
    assert dead.process.returncode == -signal.SIGKILL
    assert len(answered) >= KILL_AFTER
    assert _journal_lines(dead.workdir) > 0, "the kill found nothing unflushed: the test proved nothing"

    engine = create_engine(normalise_url(dead.db_url))
    revived = _restart(dead)
    try:
        deadline = time.monotonic() + 120
        while True:
            with engine.connect() as conn:
                ids = [r[0] for r in conn.execute(select(ledger.c.request_id))]
            missing = set(answered) - set(ids)
            if not missing:
                break
            assert time.monotonic() < deadline, f"{len(missing)} answered calls have no ledger row"
            time.sleep(0.1)
        counts = Counter(ids)
        assert all(counts[rid] == 1 for rid in answered)
        assert max(counts.values()) == 1  # nothing replayed twice, answered or not

        with engine.connect() as conn:
            admin = conn.execute(select(accounts.c.id).where(accounts.c.is_admin)).scalar_one()
            credits = conn.execute(
                select(func.sum(wallet_credits.c.amount_nanousd)).where(wallet_credits.c.account_id == admin)
            ).scalar_one()
            costs = conn.execute(
                select(func.coalesce(func.sum(ledger.c.cost_nanousd), 0)).where(
                    ledger.c.account_id == admin, ledger.c.mode == "live"
                )
            ).scalar_one()
            balance = conn.execute(
                select(accounts.c.balance_nanousd).where(accounts.c.id == admin)
            ).scalar_one()
            assert conn.execute(select(ledger_quarantine)).all() == []
        assert costs > 0
        assert balance == credits - costs
    finally:
        stop_gateway(revived)
        engine.dispose()
    # A clean stop stores everything and leaves an empty journal.
    assert _journal_lines(dead.workdir) == 0
