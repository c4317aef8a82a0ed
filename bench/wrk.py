"""Running wrk against a target and parsing its `--latency` output: warm-up, measured runs and the soak."""

from __future__ import annotations

import math
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from common import CHAT_MODES, CONCURRENCIES, SCRIPTS, WRK_TIMEOUT, Target, WrkResult, fmt_ms

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(text: str) -> dict[str, Any]:
    """Requests, duration, RPS, p50/p99 (ms), non-2xx and socket errors from `wrk --latency` output."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not done or not rps:
        raise RuntimeError(f"cannot parse wrk output:\n{text}")
    pct = {
        m[1]: _to_ms(m[2], m[3]) for m in re.finditer(r"(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text)
    }
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    names = ("connect", "read", "write", "timeout")
    return {
        "requests": int(done[1]),
        "seconds": _to_ms(done[2], done[3]) / 1000.0,
        "rps": float(rps[1]),
        "p50_ms": pct.get("50"),
        "p99_ms": pct.get("99"),
        "non_2xx": int(non_2xx[1]) if non_2xx else 0,
        "socket_errors": dict(zip(names, map(int, sock.groups()), strict=True)) if sock else {},
    }


def run_wrk(
    target: Target,
    mode: str,
    conns: int,
    seconds: int,
    *,
    kind: str = "run",
) -> WrkResult:
    env = {**os.environ, "BENCH_KEY": target.key, "BENCH_MODEL": target.models[mode]}
    url = target.base_url + target.paths[mode]
    argv = [
        "wrk",
        "-t1",
        f"-c{conns}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(SCRIPTS[mode]),
        url,
    ]
    cpu_before = cpu_seconds(target.pid)
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False)
    cpu_after = cpu_seconds(target.pid)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr}{proc.stdout}")
    result = WrkResult(target=target.name, mode=mode, conns=conns, kind=kind, **parse_wrk(proc.stdout))
    if cpu_before is not None and cpu_after is not None and result.requests:
        result.cpu_us = (cpu_after - cpu_before) / result.requests * 1e6
    report_run(result)
    return result


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of process `pid`, all its threads (/proc/PID/stat utime + stime), in s.

    Wall-clock RPS on a shared 2-core machine moves with whatever else runs; the server's own CPU time
    per request does much less, so an A/B reads both."""
    if pid is None:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": field 3 (state) is fields[0]
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def report_run(r: WrkResult) -> None:
    cpu = "" if r.cpu_us is None else f"  cpu {r.cpu_us:,.0f} us/req"
    print(
        f"  {r.kind:7} {r.target:26} {r.mode:10} c={r.conns:<3} {r.rps:>10,.1f} req/s  "
        f"p50 {fmt_ms(r.p50_ms):>8} ms  p99 {fmt_ms(r.p99_ms):>8} ms  ({r.requests:,} requests){cpu}",
        flush=True,
    )
    if r.errors:
        print(
            f"\n  !!!!! {r.target} {r.mode} c={r.conns}: ERRORS: {r.error_text()} of {r.requests:,} requests"
            " -- this run is NOT a valid measurement !!!!!\n",
            flush=True,
        )


def warm_up(targets: list[Target], seconds: int) -> list[WrkResult]:
    runs: list[WrkResult] = []
    for target in targets:
        models = ", ".join(target.models.values())
        print(f"\n== {target.name} ({target.base_url}; models {models})", flush=True)
        modes = [mode for mode in SCRIPTS if mode in target.paths]
        runs += [run_wrk(target, mode, max(CONCURRENCIES), seconds, kind="warm-up") for mode in modes]
    return runs


def measure(targets: list[Target], seconds: int) -> list[WrkResult]:
    """Every mode (that a target serves) at every concurrency. The targets take turns per (mode, c), in
    the given order for one (mode, c) and in reverse for the next, so slow drift on the machine hits
    them alike and their differences (wires, baseline vs current) stay fair."""
    runs: list[WrkResult] = []
    groups = [(mode, c) for mode in SCRIPTS for c in CONCURRENCIES]
    for i, (mode, c) in enumerate(groups):
        order = targets if i % 2 == 0 else targets[::-1]
        runs += [run_wrk(t, mode, c, seconds) for t in order if mode in t.paths]
    return runs


def soak(target: Target, total: int, rps_by_mode: dict[str, float]) -> list[WrkResult]:
    """At least `total` requests at c=16, half non-streaming and half streaming chat.

    Each half runs wrk for the time its c=16 rate predicts (+5 %), then tops up until the share is done.
    """
    conns = max(CONCURRENCIES)
    print(f"\n== soak: {total:,} requests against {target.name} at c={conns}", flush=True)
    runs: list[WrkResult] = []
    for mode in CHAT_MODES:
        share, done = math.ceil(total / len(CHAT_MODES)), 0
        while done < share:
            seconds = max(2, math.ceil((share - done) / max(rps_by_mode.get(mode, 100.0), 1.0) * 1.05))
            runs.append(run_wrk(target, mode, conns, seconds, kind="soak"))
            done += runs[-1].requests
    return runs


def ab_rounds(current: Target, baseline: Target, rounds: int, seconds: int) -> list[WrkResult]:
    """`rounds` more A/B rounds of the chat runs (kind "ab"): each (mode, c) of the current and the
    baseline gateway back to back. Who goes first flips from one (mode, c) to the next and, for the
    same (mode, c), from one round to the next (`measure` was round 0: current first at even groups)."""
    runs: list[WrkResult] = []
    groups = [(mode, c) for mode in CHAT_MODES for c in CONCURRENCIES]
    for n in range(1, rounds + 1):
        print(f"\n== A/B round {n + 1}: {current.name} and {baseline.name} take turns", flush=True)
        for g, (mode, c) in enumerate(groups):
            pair = (current, baseline) if (n + g) % 2 == 0 else (baseline, current)
            runs += [run_wrk(t, mode, c, seconds, kind="ab") for t in pair]
    return runs
