#!/usr/bin/env python3
"""The project's benchmark: nginx upstream direct vs. this gateway (one worker) [vs. LiteLLM], in one run.

    python bench/run.py                # full run: 10 s per measurement, 100k-request memory soak
    python bench/run.py --quick        # smoke run: 2 s per measurement, no soak
    python bench/run.py --litellm      # add a LiteLLM proxy (installed into bench/.venv-litellm on demand)

Needs the Debian packages nginx and wrk. Standard library only; see bench/README.md.
Exit status: 0 = ran cleanly, 1 = some run had errors or the ledger check failed, 2 = could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
UPSTREAM_PORT = 9100
ADMIN_KEY = "sk-aig-benchAdminKey0000000000000000000000"
LITELLM_KEY = "sk-litellm-bench-master-key-000000"
INSTALL_HINT = "apt-get install -y nginx wrk"
CONCURRENCIES = (1, 16)
SCRIPTS = {"non-stream": BENCH_DIR / "post.lua", "stream": BENCH_DIR / "stream.lua"}
WRK_TIMEOUT = "30s"
SOAK_TARGET = 100_000
TARGET_ADDED_P50_MS = 1.0
TARGET_RPS_C16 = 1500.0
TARGET_RSS_MB = 150.0
TARGET_RSS_GROWTH_MB = 10.0
DRAIN_TIMEOUT_S = 120.0
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StartupError(Exception):
    """Something the benchmark needs could not be started; the run stops (exit status 2)."""


# -- data ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    paths: dict[str, str]  # mode -> request path
    models: dict[str, str]  # mode -> model id
    key: str


@dataclass
class WrkResult:
    target: str
    mode: str
    conns: int
    kind: str  # warm-up | run | soak
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    non_2xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def error_text(self) -> str:
        parts = [f"non-2xx {self.non_2xx}"] if self.non_2xx else []
        parts += [f"socket {k} {v}" for k, v in self.socket_errors.items() if v]
        return ", ".join(parts) or "0"


@dataclass
class Memory:
    pid: int
    verified: str
    ready_mb: float = 0.0
    start_mb: float = 0.0  # after warm-up
    after_runs_mb: float = 0.0
    after_soak_mb: float | None = None
    soak_requests: int = 0
    after_drain_mb: float | None = None  # diagnostic: after a late ledger backlog was written

    @property
    def growth_mb(self) -> float | None:
        """From the start (after warm-up) to after the soak."""
        return None if self.after_soak_mb is None else self.after_soak_mb - self.start_mb

    @property
    def soak_growth_mb(self) -> float | None:
        """Over the soak alone: what the flatness target is judged on."""
        return None if self.after_soak_mb is None else self.after_soak_mb - self.after_runs_mb


@dataclass
class Ledger:
    completed: int = 0  # requests wrk reported as completed against the gateway
    slack: int = 0  # sum of connections over those runs: requests possibly in flight when wrk stopped
    rows_running: int | None = None
    rows_after_shutdown: int | None = None
    caught_up_s: float | None = None  # diagnostic: when the rows reached `completed`, if late

    def ok(self, rows: int | None) -> bool:
        return rows is not None and self.completed <= rows <= self.completed + self.slack


@dataclass
class Outcome:
    runs: list[WrkResult] = field(default_factory=list)
    memory: Memory | None = None
    ledger: Ledger = field(default_factory=Ledger)
    notes: list[str] = field(default_factory=list)


# -- processes ----------------------------------------------------------------------------------------------


class Procs:
    """Every process the benchmark starts, each in its own process group, so all of it can be stopped."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"  (pid {proc.pid} did not stop within {timeout:.0f}s: killing it)")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group (e.g. nginx workers)
        proc.wait()
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            self.stop(proc)


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return True
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def http_ok(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes | None:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _NO_PROXY.open(request, timeout=3) as response:
            return response.read() if response.status == 200 else None
    except OSError:
        return None


def wait_ready(name: str, proc: subprocess.Popen[bytes], log: Path, probe: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartupError(f"{name} exited with status {proc.returncode}:\n{tail(log)}")
        if probe():
            return
        time.sleep(0.2)
    raise StartupError(f"{name} not ready after {timeout:.0f}s:\n{tail(log)}")


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- wrk ----------------------------------------------------------------------------------------------------


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
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr}{proc.stdout}")
    result = WrkResult(target=target.name, mode=mode, conns=conns, kind=kind, **parse_wrk(proc.stdout))
    report_run(result)
    return result


def report_run(r: WrkResult) -> None:
    print(
        f"  {r.kind:7} {r.target:14} {r.mode:10} c={r.conns:<3} {r.rps:>10,.1f} req/s  "
        f"p50 {fmt_ms(r.p50_ms):>8} ms  p99 {fmt_ms(r.p99_ms):>8} ms  ({r.requests:,} requests)",
        flush=True,
    )
    if r.errors:
        print(
            f"\n  !!!!! {r.target} {r.mode} c={r.conns}: ERRORS: {r.error_text()} of {r.requests:,} requests"
            " -- this run is NOT a valid measurement !!!!!\n",
            flush=True,
        )


def warm_up(target: Target, seconds: int) -> list[WrkResult]:
    print(f"\n== {target.name} ({target.base_url})", flush=True)
    return [run_wrk(target, mode, max(CONCURRENCIES), seconds, kind="warm-up") for mode in SCRIPTS]


def measure(target: Target, seconds: int) -> list[WrkResult]:
    return [run_wrk(target, mode, c, seconds) for mode in SCRIPTS for c in CONCURRENCIES]


def soak(target: Target, total: int, rps_by_mode: dict[str, float]) -> list[WrkResult]:
    """At least `total` requests at c=16, half non-streaming and half streaming.

    Each half runs wrk for the time its c=16 rate predicts (+5 %), then tops up until the share is done.
    """
    conns = max(CONCURRENCIES)
    print(f"\n== soak: {total:,} requests against {target.name} at c={conns}", flush=True)
    runs: list[WrkResult] = []
    for mode in SCRIPTS:
        share, done = math.ceil(total / len(SCRIPTS)), 0
        while done < share:
            seconds = max(2, math.ceil((share - done) / max(rps_by_mode.get(mode, 100.0), 1.0) * 1.05))
            runs.append(run_wrk(target, mode, conns, seconds, kind="soak"))
            done += runs[-1].requests
    return runs


# -- the upstream -------------------------------------------------------------------------------------------


def render_nginx_conf(tmp: Path) -> Path:
    text = (BENCH_DIR / "nginx-upstream.conf").read_text()
    text, pids = re.subn(r"(?m)^pid .*;$", f"pid {tmp / 'nginx.pid'};", text)
    text, logs = re.subn(r"(?m)^error_log .*;$", f"error_log {tmp / 'nginx-error.log'} warn;", text)
    if pids != 1 or logs != 1:
        raise StartupError("bench/nginx-upstream.conf: expected one `pid` and one `error_log` line")
    conf = tmp / "nginx.conf"
    conf.write_text(text)
    return conf


def start_nginx(nginx: str, tmp: Path, procs: Procs) -> subprocess.Popen[bytes]:
    conf = render_nginx_conf(tmp)
    log = tmp / "nginx.out"
    argv = [nginx, "-p", f"{tmp}/", "-e", str(tmp / "nginx-error.log"), "-c", str(conf)]
    proc = procs.start(argv, env=dict(os.environ), cwd=tmp, log=log)
    url = f"http://127.0.0.1:{UPSTREAM_PORT}/json/v1/chat/completions"
    wait_ready("nginx", proc, tmp / "nginx-error.log", lambda: http_ok(url, data=b"{}") is not None, 15)
    return proc


def direct_target() -> Target:
    return Target(
        name="direct (nginx)",
        base_url=f"http://127.0.0.1:{UPSTREAM_PORT}",
        paths={"non-stream": "/json/v1/chat/completions", "stream": "/sse/v1/chat/completions"},
        models={"non-stream": "gpt-bench", "stream": "gpt-bench-stream"},
        key="sk-upstream",
    )


# -- the gateway --------------------------------------------------------------------------------------------


def gateway_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIGATEWAY_")}  # no caller overrides
    env.update(
        AIGATEWAY_CONFIG=str(tmp / "gateway.toml"),
        AIGATEWAY_ADMIN_KEY=ADMIN_KEY,
        AIGATEWAY_DATA_DIR=str(tmp / "data"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def aigateway_cli() -> Path:
    exe = Path(sys.prefix) / "bin" / "aigateway"
    if not exe.exists():
        raise StartupError(f"{exe} not found: run this with the project's venv python (pip install -e .)")
    return exe


def start_gateway(port: int, tmp: Path, procs: Procs) -> subprocess.Popen[bytes]:
    exe, env, cwd = aigateway_cli(), gateway_env(tmp), tmp / "gateway"
    cwd.mkdir()
    shutil.copyfile(BENCH_DIR / "gateway.toml", tmp / "gateway.toml")
    credit = subprocess.run(
        [str(exe), "balance", "add", "--usd", "1000000"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if credit.returncode != 0:
        raise StartupError(f"`aigateway balance add` failed:\n{credit.stdout}{credit.stderr}")
    log = tmp / "gateway.log"
    argv = [str(exe), "serve", "--port", str(port), "--workers", "1"]
    proc = procs.start(argv, env=env, cwd=cwd, log=log)
    health = f"http://127.0.0.1:{port}/health"
    wait_ready("aigateway serve", proc, log, lambda: _health_ok(health), 60)
    return proc


def _health_ok(url: str) -> bool:
    body = http_ok(url)
    try:
        return body is not None and json.loads(body).get("status") == "ok"
    except ValueError:
        return False


def gateway_target(port: int) -> Target:
    return Target(
        name="aigateway",
        base_url=f"http://127.0.0.1:{port}",
        paths={"non-stream": "/v1/chat/completions", "stream": "/v1/chat/completions"},
        models={"non-stream": "bench/gpt-bench", "stream": "bench/gpt-bench-stream"},
        key=ADMIN_KEY,
    )


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if cols[1].endswith(f":{port:04X}") and cols[3] == "0A":  # 0A = LISTEN
                    inodes.add(cols[9])
    return inodes


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def _holds_socket(pid: int, inodes: set[str]) -> bool:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in wanted:
                    return True
    return False


def server_pid(pid: int, port: int) -> tuple[int, str]:
    """The pid that serves `port` (with --workers 1, the `aigateway serve` process itself) and how we know."""
    inodes = _listening_inodes(port)
    kids = _descendants(pid)
    if _holds_socket(pid, inodes) and not kids:
        return pid, f"verified: pid {pid} (`aigateway serve`) holds the listening socket and has no children"
    for kid in kids:
        if _holds_socket(kid, inodes):
            return kid, f"pid {kid}, a child of `aigateway serve` ({pid}), holds the listening socket"
    return pid, f"NOT verified: no process found holding port {port}; reading `aigateway serve` ({pid})"


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError as exc:
        raise RuntimeError(f"cannot read the RSS of pid {pid} (did the gateway exit?): {exc}") from exc
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for pid {pid}")


def count_ledger(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return int(conn.execute("SELECT count(*) FROM ledger").fetchone()[0])


def bench_gateway(args: argparse.Namespace, tmp: Path, procs: Procs, out: Outcome) -> None:
    proc = start_gateway(args.port, tmp, procs)
    target = gateway_target(args.port)
    pid, verified = server_pid(proc.pid, args.port)
    memory = out.memory = Memory(pid=pid, verified=verified, ready_mb=rss_mb(pid))
    print(f"\n  RSS is read from {verified}", flush=True)
    runs = warm_up(target, args.warmup)
    memory.start_mb = rss_mb(pid)
    runs += measure(target, args.duration)
    memory.after_runs_mb = rss_mb(pid)
    if args.soak > 0:
        rps = {r.mode: r.rps for r in runs if r.kind == "run" and r.conns == max(CONCURRENCIES)}
        soak_runs = soak(target, args.soak, rps)
        runs += soak_runs
        memory.soak_requests = sum(r.requests for r in soak_runs)
        memory.after_soak_mb = rss_mb(pid)
    out.runs += runs
    if any(r.errors for r in runs):
        print(f"\n  !! the gateway answered with errors; the end of its log:\n{tail(tmp / 'gateway.log')}")
    check_ledger(tmp, procs, proc, runs, out)


def check_ledger(
    tmp: Path, procs: Procs, proc: subprocess.Popen[bytes], runs: list[WrkResult], out: Outcome
) -> None:
    db, ledger = tmp / "data" / "aigateway.db", out.ledger
    ledger.completed = sum(r.requests for r in runs)
    ledger.slack = sum(r.conns for r in runs)
    time.sleep(1.0)
    ledger.rows_running = count_ledger(db)
    print(
        f"\n  ledger rows while running: {ledger.rows_running:,} for {ledger.completed:,} completed requests"
    )
    if ledger.rows_running < ledger.completed:
        drain(db, ledger, out.memory)
    procs.stop(proc, signal.SIGINT, timeout=60)
    print(f"  gateway stopped with SIGINT (exit status {proc.returncode})")
    ledger.rows_after_shutdown = count_ledger(db)
    print(f"  ledger rows after shutdown: {ledger.rows_after_shutdown:,}", flush=True)


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


# -- LiteLLM ------------------------------------------------------------------------------------------------


def ensure_litellm() -> Path | None:
    venv = BENCH_DIR / ".venv-litellm"
    exe = venv / "bin" / "litellm"
    if exe.exists():
        return exe
    print("\n== installing LiteLLM into bench/.venv-litellm (once) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        (venv / ".gitignore").write_text("*\n")
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "litellm[proxy]"]
        subprocess.run(pip, check=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"\n!! LiteLLM could not be installed ({exc}): skipping the LiteLLM target.", flush=True)
        return None
    if not exe.exists():
        print(f"\n!! {exe} missing after install: skipping the LiteLLM target.", flush=True)
        return None
    return exe


def bench_litellm(args: argparse.Namespace, tmp: Path, procs: Procs, out: Outcome) -> None:
    exe = ensure_litellm()
    if exe is None:
        out.notes.append("LiteLLM skipped: install failed")
        return
    if port_in_use(args.litellm_port):
        out.notes.append(f"LiteLLM skipped: port {args.litellm_port} in use")
        print(f"\n!! port {args.litellm_port} is in use: skipping LiteLLM (--litellm-port)")
        return
    cwd, log = tmp / "litellm", tmp / "litellm.log"
    cwd.mkdir()
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": LITELLM_KEY,
        "LITELLM_LOG": "ERROR",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    argv = [
        str(exe),
        "--config",
        str(BENCH_DIR / "litellm.yaml"),
        "--host",
        "127.0.0.1",
        "--port",
        str(args.litellm_port),
        "--num_workers",
        "1",
    ]
    proc = procs.start(argv, env=env, cwd=cwd, log=log)
    live = f"http://127.0.0.1:{args.litellm_port}/health/liveliness"
    try:
        wait_ready("LiteLLM", proc, log, lambda: http_ok(live) is not None, 300)
    except StartupError as exc:
        out.notes.append("LiteLLM skipped: did not start")
        print(f"\n!! {exc}\n!! skipping the LiteLLM target", flush=True)
        procs.stop(proc)
        return
    target = Target(
        name="litellm",
        base_url=f"http://127.0.0.1:{args.litellm_port}",
        paths={"non-stream": "/v1/chat/completions", "stream": "/v1/chat/completions"},
        models={"non-stream": "gpt-bench", "stream": "gpt-bench-stream"},
        key=LITELLM_KEY,
    )
    out.runs += warm_up(target, args.warmup) + measure(target, args.duration)
    procs.stop(proc)


# -- report -------------------------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def find_run(runs: list[WrkResult], target: str, mode: str, conns: int) -> WrkResult | None:
    found = [
        r for r in runs if r.target == target and r.mode == mode and r.conns == conns and r.kind == "run"
    ]
    return found[0] if found else None


def results_table(runs: list[WrkResult]) -> list[str]:
    lines = ["| target | mode | c | RPS | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|---|"]
    for r in runs:
        if r.kind != "run":
            continue
        errors = r.error_text() if not r.errors else f"**{r.error_text()}**"
        lines.append(
            f"| {r.target} | {r.mode} | {r.conns} | {r.rps:,.1f} | {fmt_ms(r.p50_ms)} | "
            f"{fmt_ms(r.p99_ms)} | {errors} |"
        )
    return lines


def added_p50(runs: list[WrkResult], target: str) -> dict[str, float | None]:
    added: dict[str, float | None] = {}
    for mode in SCRIPTS:
        base, mine = find_run(runs, "direct (nginx)", mode, 1), find_run(runs, target, mode, 1)
        base_p50 = base.p50_ms if base else None
        mine_p50 = mine.p50_ms if mine else None
        added[mode] = None if base_p50 is None or mine_p50 is None else mine_p50 - base_p50
    return added


def _verdict(ok: bool | None) -> str:
    return "SKIP" if ok is None else ("PASS" if ok else "MISS")


def target_checks(out: Outcome) -> list[dict[str, str]]:
    return [
        latency_check(out.runs),
        throughput_check(out.runs),
        memory_check(out.memory),
        ledger_check(out.ledger),
    ]


def _with_errors(text: str, run: WrkResult | None) -> str:
    return f"{text} (run had errors: {run.error_text()})" if run and run.errors else text


def latency_check(runs: list[WrkResult]) -> dict[str, str]:
    c1 = find_run(runs, "aigateway", "non-stream", 1)
    add = added_p50(runs, "aigateway")["non-stream"]
    ok = None if add is None or c1 is None else (add <= TARGET_ADDED_P50_MS and not c1.errors)
    return {
        "target": f"added p50 latency at c=1, non-streaming <= {TARGET_ADDED_P50_MS} ms",
        "measured": _with_errors("-" if add is None else f"{add:.3f} ms", c1),
        "result": _verdict(ok),
    }


def throughput_check(runs: list[WrkResult]) -> dict[str, str]:
    c16 = find_run(runs, "aigateway", "non-stream", max(CONCURRENCIES))
    ok = None if c16 is None else (c16.rps >= TARGET_RPS_C16 and not c16.errors)
    return {
        "target": f">= {TARGET_RPS_C16:,.0f} RPS non-streaming at c=16",
        "measured": _with_errors("-" if c16 is None else f"{c16.rps:,.1f} RPS", c16),
        "result": _verdict(ok),
    }


def memory_check(mem: Memory | None) -> dict[str, str]:
    name = (
        f"RSS <= {TARGET_RSS_MB:.0f} MB and flat (growth < {TARGET_RSS_GROWTH_MB:.0f} MB) "
        f"over a soak of {SOAK_TARGET:,} requests"
    )
    if mem is None or mem.after_soak_mb is None or mem.soak_growth_mb is None or mem.growth_mb is None:
        return {"target": name, "measured": "no soak run", "result": "SKIP"}
    measured = (
        f"{mem.after_soak_mb:.1f} MB; {mem.soak_growth_mb:+.1f} MB over {mem.soak_requests:,} soak requests "
        f"({mem.growth_mb:+.1f} MB since warm-up)"
    )
    if mem.soak_requests < SOAK_TARGET:
        return {"target": name, "measured": measured + f" (soak < {SOAK_TARGET:,})", "result": "SKIP"}
    ok = mem.after_soak_mb <= TARGET_RSS_MB and mem.soak_growth_mb < TARGET_RSS_GROWTH_MB
    return {"target": name, "measured": measured, "result": _verdict(ok)}


def ledger_check(ledger: Ledger) -> dict[str, str]:
    measured = (
        f"{ledger.completed:,} completed; rows {ledger.rows_running or 0:,} running, "
        f"{ledger.rows_after_shutdown or 0:,} after shutdown (allowed +{ledger.slack})"
    )
    if ledger.rows_running is None:
        return {"target": "every request's ledger row present", "measured": "not run", "result": "SKIP"}
    ok = ledger.ok(ledger.rows_running) and ledger.ok(ledger.rows_after_shutdown)
    return {
        "target": "every request's ledger row present",
        "measured": measured,
        "result": "PASS" if ok else "FAIL",
    }


def memory_lines(mem: Memory | None) -> list[str]:
    if mem is None:
        return []
    lines = [
        f"Gateway RSS ({mem.verified}):",
        f"- at readiness: {mem.ready_mb:.1f} MB",
        f"- start (after warm-up): {mem.start_mb:.1f} MB",
        f"- after the measured runs: {mem.after_runs_mb:.1f} MB",
    ]
    if mem.after_soak_mb is not None and mem.growth_mb is not None and mem.soak_growth_mb is not None:
        lines += [
            f"- after a soak of {mem.soak_requests:,} requests: {mem.after_soak_mb:.1f} MB",
            f"- growth over the soak: {mem.soak_growth_mb:+.1f} MB; "
            f"from start (after warm-up) to after the soak: {mem.growth_mb:+.1f} MB",
        ]
    else:
        lines.append("- no soak (--quick or --soak 0)")
    if mem.after_drain_mb is not None:
        lines.append(f"- after the late ledger backlog was written (diagnostic): {mem.after_drain_mb:.1f} MB")
    return lines


def ledger_lines(ledger: Ledger) -> list[str]:
    if ledger.rows_running is None:
        return []
    verdict = {True: "PASS", False: "FAIL"}
    lines = [
        f"Ledger check: {ledger.completed:,} requests completed against the gateway (warm-ups and soak "
        f"included); rows may exceed that by at most {ledger.slack} (in flight when wrk stopped)",
        f"- rows ~1 s after the last run: {ledger.rows_running:,} -> "
        f"{verdict[ledger.ok(ledger.rows_running)]}",
        f"- rows after SIGINT shutdown:   {ledger.rows_after_shutdown or 0:,} -> "
        f"{verdict[ledger.ok(ledger.rows_after_shutdown)]}",
    ]
    if ledger.rows_running < ledger.completed:
        caught = "not within the wait" if ledger.caught_up_s is None else f"{ledger.caught_up_s}s"
        lines.append(
            f"- (diagnostic) the running gateway was {ledger.completed - ledger.rows_running:,} rows behind; "
            f"its ledger caught up {caught} after the last run"
        )
    return lines


def soak_lines(runs: list[WrkResult]) -> list[str]:
    soaks = [r for r in runs if r.kind == "soak"]
    if not soaks:
        return []
    parts = [
        f"{r.mode} {r.requests:,} in {r.seconds:.1f}s ({r.rps:,.0f} req/s, {r.error_text()} errors)"
        for r in soaks
    ]
    total = sum(r.requests for r in soaks)
    return [f"Soak at c={max(CONCURRENCIES)}: {total:,} requests: " + "; ".join(parts), ""]


def render(out: Outcome) -> str:
    lines = ["", "## Results", "", *results_table(out.runs), ""]
    for target in ("aigateway", "litellm"):
        if find_run(out.runs, target, "non-stream", 1):
            added = added_p50(out.runs, target)
            parts = [f"{mode} {'-' if v is None else f'{v:+.3f} ms'}" for mode, v in added.items()]
            lines.append(f"Added p50 latency at c=1, {target} - direct: " + ", ".join(parts))
    bad = [r for r in out.runs if r.errors]
    if bad:
        lines += [
            "",
            "**!!! RUNS WITH ERRORS (not valid measurements): "
            + "; ".join(f"{r.target} {r.kind} {r.mode} c={r.conns}: {r.error_text()}" for r in bad)
            + " !!!**",
        ]
    lines += ["", *soak_lines(out.runs), *memory_lines(out.memory), "", *ledger_lines(out.ledger), ""]
    lines += ["## Targets", "", "| target | measured | result |", "|---|---|---|"]
    lines += [f"| {c['target']} | {c['measured']} | {c['result']} |" for c in target_checks(out)]
    lines += [f"\nNote: {note}" for note in out.notes]
    return "\n".join(lines)


def write_json(out: Outcome, args: argparse.Namespace) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = Path(args.out) if args.out else BENCH_DIR / "results" / f"{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "timestamp": stamp,
        "args": vars(args),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "runs": [asdict(r) | {"errors": r.errors} for r in out.runs],
        "added_p50_ms": {t: added_p50(out.runs, t) for t in ("aigateway", "litellm")},
        "memory": None if out.memory is None else asdict(out.memory),
        "ledger": asdict(out.ledger),
        "targets": target_checks(out),
        "notes": out.notes,
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


# -- main ---------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark nginx direct vs. aigateway (one worker) [vs. LiteLLM]."
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 2 s per measurement, no soak")
    p.add_argument("--litellm", action="store_true", help="also benchmark a LiteLLM proxy")
    p.add_argument("--duration", type=int, default=None, help="seconds per measurement (default 10; quick 2)")
    p.add_argument("--soak", type=int, default=None, help=f"soak requests (default {SOAK_TARGET:,}; quick 0)")
    p.add_argument("--out", default=None, help="JSON results file (default bench/results/<timestamp>.json)")
    p.add_argument("--port", type=int, default=8390, help="gateway port (default 8390)")
    p.add_argument("--litellm-port", type=int, default=8391, help="LiteLLM port (default 8391)")
    p.add_argument("--keep", action="store_true", help="keep the temp directory (logs, DB) for inspection")
    args = p.parse_args(argv)
    args.duration = args.duration or (2 if args.quick else 10)
    args.soak = (0 if args.quick else SOAK_TARGET) if args.soak is None else args.soak
    args.warmup = 1 if args.quick else 3
    return args


def find_nginx() -> str | None:
    found = shutil.which("nginx")  # /usr/sbin is not on every user's PATH
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def preflight(args: argparse.Namespace) -> str:
    nginx = find_nginx()
    if nginx is None or shutil.which("wrk") is None:
        missing = " and ".join(n for n, ok in (("nginx", nginx), ("wrk", shutil.which("wrk"))) if not ok)
        print(f"{missing} not found; install with:\n  {INSTALL_HINT}", file=sys.stderr)
        raise SystemExit(2)
    for port, what in ((UPSTREAM_PORT, "the nginx upstream"), (args.port, "the gateway (--port)")):
        if port_in_use(port):
            print(
                f"port {port} (for {what}) is already in use: stop whatever listens there first.",
                file=sys.stderr,
            )
            raise SystemExit(2)
    return nginx


@contextlib.contextmanager
def workspace(keep: bool) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="aigw-bench-"))
    try:
        yield tmp
    finally:
        if keep:
            print(f"\n(temp directory kept: {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_all(args: argparse.Namespace, nginx: str, tmp: Path, procs: Procs) -> Outcome:
    out = Outcome()
    print(
        f"aigateway benchmark: {args.duration}s per run, warm-up {args.warmup}s, "
        f"soak {args.soak:,} requests, {os.cpu_count()} CPUs",
        flush=True,
    )
    upstream = start_nginx(nginx, tmp, procs)
    out.runs += warm_up(direct_target(), args.warmup) + measure(direct_target(), args.duration)
    bench_gateway(args, tmp, procs, out)
    if args.litellm:
        bench_litellm(args, tmp, procs, out)
    procs.stop(upstream)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nginx = preflight(args)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    procs = Procs()
    with workspace(args.keep) as tmp:
        try:
            out = run_all(args, nginx, tmp, procs)
        except (StartupError, RuntimeError, OSError, sqlite3.Error, subprocess.SubprocessError) as exc:
            print(f"\nerror: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("\ninterrupted: stopping everything this run started", file=sys.stderr)
            return 130
        finally:
            procs.stop_all()
    print(render(out))
    print(f"\nJSON results: {write_json(out, args)}")
    failed = any(r.errors for r in out.runs) or ledger_check(out.ledger)["result"] == "FAIL"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
