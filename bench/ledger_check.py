"""The ledger check: every request wrk completed against the gateway must have its row in the `ledger` table.

Rows are counted ~1 s after the last run and again after a SIGINT shutdown; a late backlog is timed as a
diagnostic.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from common import CAPPED_TAG, DRAIN_TIMEOUT_S, Ledger, Memory, WrkResult
from procs import Procs
from rss import rss_mb


def count_ledger(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return int(conn.execute("SELECT count(*) FROM ledger").fetchone()[0])


def count_capped(db: Path, sub_account_id: str) -> int:
    """Rows billed to the --capped sub-account under its default tag (the wallet pays, the cap limits)."""
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        query = "SELECT count(*) FROM ledger WHERE sub_account_id = ? AND tag = ?"
        return int(conn.execute(query, (sub_account_id, CAPPED_TAG)).fetchone()[0])


def check_ledger(
    home: Path,
    procs: Procs,
    proc: subprocess.Popen[bytes],
    runs: list[WrkResult],
    ledger: Ledger,
    memory: Memory | None,
) -> None:
    """`runs` are every wrk run against the gateway `proc` whose data directory is under `home`."""
    db = home / "data" / "aigateway.db"
    ledger.completed = sum(r.requests for r in runs)
    ledger.slack = sum(r.conns for r in runs)
    time.sleep(1.0)
    ledger.rows_running = count_ledger(db)
    print(
        f"\n  ledger rows while running: {ledger.rows_running:,} for {ledger.completed:,} completed requests"
    )
    if ledger.rows_running < ledger.completed:
        drain(db, ledger, memory)
    procs.stop(proc, signal.SIGINT, timeout=60)
    print(f"  gateway stopped with SIGINT (exit status {proc.returncode})")
    ledger.rows_after_shutdown = count_ledger(db)
    print(f"  ledger rows after shutdown: {ledger.rows_after_shutdown:,}", flush=True)
    if ledger.sub_account_id is not None:
        ledger.capped_rows = count_capped(db, ledger.sub_account_id)
        print(f"  of which billed to {ledger.sub_account_id}, tag {CAPPED_TAG!r}: {ledger.capped_rows:,}")


def drain(db: Path, ledger: Ledger, memory: Memory | None) -> None:
    """Diagnostic only (the 1 s count stands): how long the gateway takes to write its ledger backlog."""
    print(f"  !! ledger backlog: {ledger.completed - (ledger.rows_running or 0):,} rows; waiting for it ...")
    start = time.monotonic()
    while time.monotonic() - start < DRAIN_TIMEOUT_S:
        if count_ledger(db) >= ledger.completed:
            ledger.caught_up_s = round(1.0 + time.monotonic() - start, 1)
            break
        time.sleep(0.25)
    if memory is not None:
        memory.after_drain_mb = rss_mb(memory.pid)
    waited = f"not within {DRAIN_TIMEOUT_S:.0f}s" if ledger.caught_up_s is None else f"{ledger.caught_up_s}s"
    print(f"  ledger caught up with the completed requests: {waited} after the last run", flush=True)
