#!/usr/bin/env python3
"""The project's benchmark: nginx upstream direct vs. this gateway (one worker) [vs. LiteLLM], in one run.

The gateway is measured in one process on the OpenAI wire (chat relayed; embeddings) and on the Anthropic
Messages wire (translated both ways), so the translation's cost is the difference of the two. With
--baseline-src, a second gateway runs another source tree's code and its chat runs take turns with the
current gateway's (A/B in the same run conditions).

    python bench/run.py                # full run: 10 s per measurement, 100k-request memory soak
    python bench/run.py --quick        # smoke run: 2 s per measurement, no soak
    python bench/run.py --litellm      # add a LiteLLM proxy (installed into bench/.venv-litellm on demand)
    python bench/run.py --baseline-src /tmp/aig-baseline/src   # A/B against e.g. a `git worktree`

Needs the Debian packages nginx and wrk. Standard library only; see bench/README.md.
Exit status: 0 = ran cleanly, 1 = some run had errors or the ledger check failed, 2 = could not run.

This file is the entry point; the work is done by its sibling modules (imported as top-level modules,
which works because Python puts a script's own directory first on `sys.path`):
common (constants, data), procs (processes, ports), rss (gateway memory), wrk (load runs),
ledger_check (ledger rows) and report (tables, targets, JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from capped import make_capped
from common import (
    CONCURRENCIES,
    GATEWAY,
    GATEWAY_BASELINE,
    INSTALL_HINT,
    SOAK_TARGET,
    UPSTREAM_PORT,
    Baseline,
    Memory,
    Outcome,
    StartupError,
)
from ledger_check import check_ledger
from procs import (
    Procs,
    anthropic_target,
    baseline_target,
    direct_target,
    ensure_litellm,
    find_nginx,
    gateway_target,
    git_commit,
    litellm_target,
    port_in_use,
    start_gateway,
    start_litellm,
    start_nginx,
    tail,
)
from report import ledger_check, render, write_json
from rss import rss_mb, server_pid
from wrk import ab_rounds, measure, soak, warm_up


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def bench_gateway(args: argparse.Namespace, tmp: Path, procs: Procs, out: Outcome) -> None:
    """The OpenAI-wire (chat, embeddings) and Anthropic-wire runs against one gateway process, its RSS and
    its ledger; with --baseline-src, the same chat runs against a second gateway running that code, taking
    turns with the current one.

    The soak (memory) is OpenAI-wire chat only; the ledger check covers every request of every run. With
    --capped (the default) the current gateway's targets call as a sub-account (bench/capped.py).
    """
    proc, out.module_file = start_gateway(args.port, tmp, procs)
    base_proc = None
    if args.baseline_src is not None:
        src = Path(args.baseline_src)
        base_proc, module = start_gateway(args.baseline_port, tmp / "baseline", procs, src=src)
        out.baseline = Baseline(src=str(src), module_file=module, commit=git_commit(src))
        if Path(module).resolve() == Path(out.module_file).resolve():
            raise StartupError(f"the baseline and the current gateway both import {module}")
    memory = out.memory = gateway_memory(proc.pid, args.port)
    memories = [memory]
    if base_proc is not None and out.baseline is not None:
        out.baseline.memory = gateway_memory(base_proc.pid, args.baseline_port)
        memories.append(out.baseline.memory)
    # The current gateway's targets: with --capped, the sub-account's key; the baseline keeps the admin
    # key (its code has no sub-accounts). Each target knows its server pid (CPU time per request).
    mine: dict[str, Any] = {"pid": memory.pid}
    if args.capped:
        out.capped = make_capped(f"http://127.0.0.1:{args.port}")
        mine["key"] = out.capped.key
        out.ledger.sub_account_id = out.capped.sub_account_id
    target = replace(gateway_target(args.port), **mine)
    targets = [target]
    base_target = None
    if out.baseline is not None and out.baseline.memory is not None:
        base_target = replace(baseline_target(args.baseline_port), pid=out.baseline.memory.pid)
        targets.append(base_target)
    targets.append(replace(anthropic_target(args.port), **mine))
    runs = warm_up(targets, args.warmup)
    for m in memories:
        m.start_mb = rss_mb(m.pid)
    runs += measure(targets, args.duration)
    if base_target is not None and args.ab_rounds > 1:
        runs += ab_rounds(target, base_target, args.ab_rounds - 1, args.duration)
    for m in memories:
        m.after_runs_mb = rss_mb(m.pid)
    if args.soak > 0:
        c16 = [r for r in runs if r.target == GATEWAY and r.kind == "run" and r.conns == max(CONCURRENCIES)]
        rps = {r.mode: r.rps for r in c16}
        soak_runs = soak(target, args.soak, rps)
        runs += soak_runs
        memory.soak_requests = sum(r.requests for r in soak_runs)
        memory.after_soak_mb = rss_mb(memory.pid)
    out.runs += runs
    if any(r.errors for r in runs):
        for log in (tmp / "gateway.log", tmp / "baseline" / "gateway.log"):
            if log.exists():
                print(f"\n  !! some runs had errors; the end of {log}:\n{tail(log)}")
    ours = [r for r in runs if r.target != GATEWAY_BASELINE]
    check_ledger(tmp, procs, proc, ours, out.ledger, memory)
    if base_proc is not None and out.baseline is not None:
        print("\n  baseline gateway:")
        theirs = [r for r in runs if r.target == GATEWAY_BASELINE]
        check_ledger(tmp / "baseline", procs, base_proc, theirs, out.baseline.ledger, out.baseline.memory)


def gateway_memory(pid: int, port: int) -> Memory:
    server, verified = server_pid(pid, port)
    print(f"\n  RSS (port {port}) is read from {verified}", flush=True)
    return Memory(pid=server, verified=verified, ready_mb=rss_mb(server))


def bench_litellm(args: argparse.Namespace, tmp: Path, procs: Procs, out: Outcome) -> None:
    exe = ensure_litellm()
    if exe is None:
        out.notes.append("LiteLLM skipped: install failed")
        return
    if port_in_use(args.litellm_port):
        out.notes.append(f"LiteLLM skipped: port {args.litellm_port} in use")
        print(f"\n!! port {args.litellm_port} is in use: skipping LiteLLM (--litellm-port)")
        return
    proc = start_litellm(exe, args.litellm_port, tmp, procs)
    if proc is None:
        out.notes.append("LiteLLM skipped: did not start")
        return
    target = litellm_target(args.litellm_port)
    out.runs += warm_up([target], args.warmup) + measure([target], args.duration)
    procs.stop(proc)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark nginx direct vs. aigateway (1 worker; OpenAI, Anthropic wire; embeddings) "
        "[vs. a baseline source tree] [vs. LiteLLM]."
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 2 s per measurement, no soak")
    p.add_argument("--litellm", action="store_true", help="also benchmark a LiteLLM proxy")
    p.add_argument("--duration", type=int, default=None, help="seconds per measurement (default 10; quick 2)")
    p.add_argument("--soak", type=int, default=None, help=f"soak requests (default {SOAK_TARGET:,}; quick 0)")
    p.add_argument("--out", default=None, help="JSON results file (default bench/results/<timestamp>.json)")
    p.add_argument("--port", type=int, default=8390, help="gateway port (default 8390)")
    p.add_argument("--litellm-port", type=int, default=8391, help="LiteLLM port (default 8391)")
    p.add_argument("--keep", action="store_true", help="keep the temp directory (logs, DB) for inspection")
    p.add_argument(
        "--baseline-src",
        default=None,
        metavar="DIR",
        help="A/B: also run a gateway whose `aigateway` package is imported from DIR (a source tree's src/, "
        "e.g. of a `git worktree`), chat runs taking turns with the current gateway",
    )
    p.add_argument("--baseline-port", type=int, default=8392, help="baseline gateway port (default 8392)")
    p.add_argument(
        "--ab-rounds",
        type=int,
        default=1,
        metavar="N",
        help="with --baseline-src: measure the chat runs of both gateways N times, taking turns; "
        "the A/B compares medians (default 1)",
    )
    p.add_argument(
        "--capped",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the current gateway's targets call with a sub-account's key (huge cap, RPM limit, default "
        "tag with a budget): all three reservation scopes and the RPM window on every call "
        "(default: on; --no-capped calls with the admin key, as before)",
    )
    args = p.parse_args(argv)
    args.duration = args.duration or (2 if args.quick else 10)
    args.soak = (0 if args.quick else SOAK_TARGET) if args.soak is None else args.soak
    args.warmup = 1 if args.quick else 3
    if args.ab_rounds < 1:
        p.error("--ab-rounds must be at least 1")
    return args


def preflight(args: argparse.Namespace) -> str:
    nginx = find_nginx()
    if nginx is None or shutil.which("wrk") is None:
        missing = " and ".join(n for n, ok in (("nginx", nginx), ("wrk", shutil.which("wrk"))) if not ok)
        print(f"{missing} not found; install with:\n  {INSTALL_HINT}", file=sys.stderr)
        raise SystemExit(2)
    ports = [(UPSTREAM_PORT, "the nginx upstream"), (args.port, "the gateway (--port)")]
    if args.baseline_src is not None:
        if not (Path(args.baseline_src) / "aigateway" / "__init__.py").is_file():
            print(f"--baseline-src {args.baseline_src}: no aigateway/__init__.py there", file=sys.stderr)
            raise SystemExit(2)
        ports.append((args.baseline_port, "the baseline gateway (--baseline-port)"))
    for port, what in ports:
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
    out.runs += warm_up([direct_target()], args.warmup) + measure([direct_target()], args.duration)
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
    ledgers = [out.ledger] + ([out.baseline.ledger] if out.baseline else [])
    failed = any(r.errors for r in out.runs) or any(ledger_check(x)["result"] == "FAIL" for x in ledgers)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
