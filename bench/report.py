"""The report: the Markdown results table, A/B and embeddings lines, RSS and ledger lines, the targets
(PASS/MISS), the JSON file."""

from __future__ import annotations

import argparse
import json
import os
import platform
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from ab import ab_check, ab_lines, ab_pairs
from common import (
    BENCH_DIR,
    CAPPED_TAG,
    CHAT_MODES,
    CONCURRENCIES,
    DIRECT,
    GATEWAY,
    GATEWAY_ANTHROPIC,
    GATEWAY_BASELINE,
    LITELLM,
    SCRIPTS,
    SOAK_TARGET,
    TARGET_ADDED_P50_MS,
    TARGET_RPS_C16,
    TARGET_RSS_GROWTH_MB,
    TARGET_RSS_MB,
    TARGET_TRANSLATION_P50_MS,
    Ledger,
    Memory,
    Outcome,
    WrkResult,
    find_run,
    fmt_ms,
)

# targets whose added latency over direct is reported
COMPARED = (GATEWAY, GATEWAY_BASELINE, GATEWAY_ANTHROPIC, LITELLM)


def results_table(runs: list[WrkResult]) -> list[str]:
    lines = [
        "| target | mode | c | RPS | p50 ms | p99 ms | CPU us/req | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        if r.kind != "run":
            continue
        errors = r.error_text() if not r.errors else f"**{r.error_text()}**"
        cpu = "-" if r.cpu_us is None else f"{r.cpu_us:,.0f}"
        lines.append(
            f"| {r.target} | {r.mode} | {r.conns} | {r.rps:,.1f} | {fmt_ms(r.p50_ms)} | "
            f"{fmt_ms(r.p99_ms)} | {cpu} | {errors} |"
        )
    return lines


def added_p50(
    runs: list[WrkResult], target: str, base: str = DIRECT, modes: tuple[str, ...] = tuple(SCRIPTS)
) -> dict[str, float | None]:
    """Per mode: `target`'s p50 at c=1 minus `base`'s (default: the nginx upstream direct)."""
    added: dict[str, float | None] = {}
    for mode in modes:
        theirs, mine = find_run(runs, base, mode, 1), find_run(runs, target, mode, 1)
        base_p50 = theirs.p50_ms if theirs else None
        mine_p50 = mine.p50_ms if mine else None
        added[mode] = None if base_p50 is None or mine_p50 is None else mine_p50 - base_p50
    return added


def translation_p50(runs: list[WrkResult]) -> dict[str, float | None]:
    """Per mode: the Anthropic-wire run's p50 at c=1 minus the OpenAI-wire run's (same gateway process)."""
    return added_p50(runs, GATEWAY_ANTHROPIC, base=GATEWAY, modes=CHAT_MODES)


def translation_lines(runs: list[WrkResult]) -> list[str]:
    if find_run(runs, GATEWAY_ANTHROPIC, "non-stream", 1) is None:
        return []
    parts = [f"{mode} {'-' if v is None else f'{v:+.3f} ms'}" for mode, v in translation_p50(runs).items()]
    lines = ["Translation overhead p50 at c=1 = anthropic-wire p50 - openai-wire p50: " + ", ".join(parts)]
    ratios = []
    for mode in CHAT_MODES:
        mine, base = (find_run(runs, t, mode, max(CONCURRENCIES)) for t in (GATEWAY_ANTHROPIC, GATEWAY))
        if mine and base and base.rps:
            ratios.append(f"{mode} {mine.rps:,.0f} vs {base.rps:,.0f} RPS ({mine.rps / base.rps - 1:+.1%})")
    if ratios:
        lines.append(
            f"Throughput at c={max(CONCURRENCIES)}, anthropic wire vs openai wire: " + ", ".join(ratios)
        )
    return lines


def _verdict(ok: bool | None) -> str:
    return "SKIP" if ok is None else ("PASS" if ok else "MISS")


def target_checks(out: Outcome) -> list[dict[str, str]]:
    checks = [
        latency_check(out.runs),
        translation_check(out.runs),
        throughput_check(out.runs),
        memory_check(out.memory),
        ledger_check(out.ledger),
        ab_check(out.runs),
    ]
    if out.baseline is not None:
        checks.append(ledger_check(out.baseline.ledger, "baseline: "))
    return checks


def _with_errors(text: str, run: WrkResult | None) -> str:
    return f"{text} (run had errors: {run.error_text()})" if run and run.errors else text


def latency_check(runs: list[WrkResult]) -> dict[str, str]:
    c1 = find_run(runs, GATEWAY, "non-stream", 1)
    add = added_p50(runs, GATEWAY)["non-stream"]
    ok = None if add is None or c1 is None else (add <= TARGET_ADDED_P50_MS and not c1.errors)
    return {
        "target": f"added p50 latency at c=1, non-streaming <= {TARGET_ADDED_P50_MS} ms",
        "measured": _with_errors("-" if add is None else f"{add:.3f} ms", c1),
        "result": _verdict(ok),
    }


def translation_check(runs: list[WrkResult]) -> dict[str, str]:
    """Judged non-streaming; the streaming figure is printed alongside."""
    pair = [find_run(runs, t, "non-stream", 1) for t in (GATEWAY, GATEWAY_ANTHROPIC)]
    added = translation_p50(runs)
    add = added["non-stream"]
    erred = [r for r in pair if r is not None and r.errors]
    ok = None if add is None else (add <= TARGET_TRANSLATION_P50_MS and not erred)
    measured = "-" if add is None else f"{add:+.3f} ms"
    if added["stream"] is not None:
        measured += f" (streaming: {added['stream']:+.3f} ms)"
    for run in erred:
        measured += f" ({run.target} run had errors: {run.error_text()})"
    return {
        "target": f"Anthropic translation adds <= {TARGET_TRANSLATION_P50_MS} ms p50 "
        "over the OpenAI-wire run at c=1 (non-streaming)",
        "measured": measured,
        "result": _verdict(ok),
    }


def throughput_check(runs: list[WrkResult]) -> dict[str, str]:
    c16 = find_run(runs, GATEWAY, "non-stream", max(CONCURRENCIES))
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


def ledger_check(ledger: Ledger, label: str = "") -> dict[str, str]:
    name = f"{label}every request's ledger row present"
    measured = (
        f"{ledger.completed:,} completed; rows {ledger.rows_running or 0:,} running, "
        f"{ledger.rows_after_shutdown or 0:,} after shutdown (allowed +{ledger.slack})"
    )
    if ledger.rows_running is None:
        return {"target": name, "measured": "not run", "result": "SKIP"}
    if ledger.sub_account_id is not None:
        measured += f"; {ledger.capped_rows or 0:,} billed to the --capped sub-account and tag"
    ok = ledger.ok(ledger.rows_running) and ledger.ok(ledger.rows_after_shutdown) and ledger.capped_ok()
    return {
        "target": name,
        "measured": measured,
        "result": "PASS" if ok else "FAIL",
    }


def memory_lines(mem: Memory | None, label: str = "Gateway") -> list[str]:
    if mem is None:
        return []
    lines = [
        f"{label} RSS ({mem.verified}):",
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
    elif label == "Gateway":
        lines.append("- no soak (--quick or --soak 0)")
    if mem.after_drain_mb is not None:
        lines.append(f"- after the late ledger backlog was written (diagnostic): {mem.after_drain_mb:.1f} MB")
    return lines


def ledger_lines(ledger: Ledger, label: str = "the gateway") -> list[str]:
    if ledger.rows_running is None:
        return []
    verdict = {True: "PASS", False: "FAIL"}
    lines = [
        f"Ledger check: {ledger.completed:,} requests completed against {label} (warm-ups and soak "
        f"included); rows may exceed that by at most {ledger.slack} (in flight when wrk stopped)",
        f"- rows ~1 s after the last run: {ledger.rows_running:,} -> "
        f"{verdict[ledger.ok(ledger.rows_running)]}",
        f"- rows after SIGINT shutdown:   {ledger.rows_after_shutdown or 0:,} -> "
        f"{verdict[ledger.ok(ledger.rows_after_shutdown)]}",
    ]
    if ledger.sub_account_id is not None:
        lines.append(
            f"- rows billed to the --capped sub-account {ledger.sub_account_id} under tag "
            f"{CAPPED_TAG!r}: {ledger.capped_rows or 0:,} (must be all of them) -> "
            f"{verdict[ledger.capped_ok()]}"
        )
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


def embeddings_lines(runs: list[WrkResult]) -> list[str]:
    mine = {c: find_run(runs, GATEWAY, "embeddings", c) for c in CONCURRENCIES}
    direct = {c: find_run(runs, DIRECT, "embeddings", c) for c in CONCURRENCIES}
    if not any(mine.values()):
        return []
    parts = []
    for c in CONCURRENCIES:
        run, base = mine[c], direct[c]
        if run is None:
            continue
        text = f"c={c}: {run.rps:,.1f} RPS, p50 {fmt_ms(run.p50_ms)} ms, p99 {fmt_ms(run.p99_ms)} ms"
        if base is not None and base.p50_ms is not None and run.p50_ms is not None:
            added = run.p50_ms - base.p50_ms
            text += f" (direct {base.rps:,.1f} RPS, p50 {fmt_ms(base.p50_ms)} ms: added {added:+.3f} ms)"
        parts.append(text)
    return ["Embeddings (bench/embed-bench, one 1536-float vector, OpenAI wire): " + "; ".join(parts)]


def capped_lines(out: Outcome) -> list[str]:
    if out.capped is None:
        return ["Current gateway called with the admin key (--no-capped): wallet scope only.", ""]
    return [
        f"Current gateway called as sub-account {out.capped.sub_account_id} (--capped): every call "
        f"counts an RPM window and reserves on the wallet, the sub-account's cap and the budget of tag "
        f"{CAPPED_TAG!r}; the baseline calls with the admin key.",
        "",
    ]


def render(out: Outcome) -> str:
    lines = ["", "## Results", "", *capped_lines(out), *results_table(out.runs), ""]
    for target in COMPARED:
        if find_run(out.runs, target, "non-stream", 1):
            added = added_p50(out.runs, target)
            parts = [f"{mode} {v:+.3f} ms" for mode, v in added.items() if v is not None]
            lines.append(f"Added p50 latency at c=1, {target} - direct: " + ", ".join(parts))
    lines += translation_lines(out.runs)
    lines += embeddings_lines(out.runs)
    bad = [r for r in out.runs if r.errors]
    if bad:
        lines += [
            "",
            "**!!! RUNS WITH ERRORS (not valid measurements): "
            + "; ".join(f"{r.target} {r.kind} {r.mode} c={r.conns}: {r.error_text()}" for r in bad)
            + " !!!**",
        ]
    lines += ["", *ab_lines(out.runs, out.baseline, out.module_file)]
    lines += [*soak_lines(out.runs), *memory_lines(out.memory), "", *ledger_lines(out.ledger), ""]
    if out.baseline is not None:
        lines += [*memory_lines(out.baseline.memory, "Baseline gateway"), ""]
        lines += [*ledger_lines(out.baseline.ledger, "the baseline gateway"), ""]
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
        "added_p50_ms": {t: added_p50(out.runs, t) for t in COMPARED},
        "translation_p50_ms": translation_p50(out.runs),
        "memory": None if out.memory is None else asdict(out.memory),
        "ledger": asdict(out.ledger),
        "module_file": out.module_file,
        "baseline": None if out.baseline is None else asdict(out.baseline),
        "capped": None if out.capped is None else asdict(out.capped) | {"key": "(redacted)"},
        "ab": ab_pairs(out.runs),
        "targets": target_checks(out),
        "notes": out.notes,
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
