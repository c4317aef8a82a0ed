"""A/B: the current gateway against the --baseline-src gateway, measured in the same run, taking turns.

Judged on non-streaming chat at c=1 and c=16: the current code may be at most 5 % slower than the
baseline in p50 latency and in requests per second. p99 is printed alongside, not judged (a single
ledger flush or GC pause moves it by more than that). With --ab-rounds N each figure is the median of
N runs (the measured run and N-1 more rounds, order flipping), and each round's RPS ratio is listed.
"""

from __future__ import annotations

import statistics
from typing import Any

from common import (
    CHAT_MODES,
    CONCURRENCIES,
    GATEWAY,
    GATEWAY_BASELINE,
    TARGET_AB_REGRESSION,
    Baseline,
    WrkResult,
    fmt_ms,
)


def _ratio(new: float | None, old: float | None) -> float | None:
    return None if new is None or old is None or old == 0 else new / old


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _rounds(runs: list[WrkResult], target: str, mode: str, conns: int) -> list[WrkResult]:
    """The measured run and any further A/B rounds, in the order they ran."""
    return [
        r
        for r in runs
        if r.target == target and r.mode == mode and r.conns == conns and r.kind in ("run", "ab")
    ]


def _figures(rounds: list[WrkResult]) -> dict[str, Any]:
    return {
        "rps": _median([r.rps for r in rounds]),
        "p50_ms": _median([r.p50_ms for r in rounds]),
        "p99_ms": _median([r.p99_ms for r in rounds]),
        "cpu_us": _median([r.cpu_us for r in rounds]),
        "errors": sum(r.errors for r in rounds),
    }


def ab_pairs(runs: list[WrkResult]) -> list[dict[str, Any]]:
    """Per chat mode and concurrency, where both gateways were measured: their figures (medians over the
    rounds), new/old of those, and each round's RPS new/old."""
    pairs = []
    for mode in CHAT_MODES:
        for conns in CONCURRENCIES:
            new = _rounds(runs, GATEWAY, mode, conns)
            old = _rounds(runs, GATEWAY_BASELINE, mode, conns)
            if not new or not old:
                continue
            a, b = _figures(old), _figures(new)
            pairs.append(
                {
                    "mode": mode,
                    "conns": conns,
                    "rounds": min(len(new), len(old)),
                    "old": a,
                    "new": b,
                    "ratio": {k: _ratio(b[k], a[k]) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")},
                    "rps_ratio_per_round": [_ratio(n.rps, o.rps) for n, o in zip(new, old, strict=False)],
                }
            )
    return pairs


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _fmt_cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def ab_lines(runs: list[WrkResult], baseline: Baseline | None, current_module: str) -> list[str]:
    if baseline is None:
        return []
    commit = f" (git {baseline.commit})" if baseline.commit else ""
    pairs = ab_pairs(runs)
    rounds = max((p["rounds"] for p in pairs), default=0)
    how = f"medians of {rounds} rounds" if rounds > 1 else "one round"
    lines = [
        "## A/B: current vs baseline",
        "",
        f"Baseline: `{baseline.src}`{commit}, imports `{baseline.module_file}`; "
        f"current imports `{current_module}`. Same python, config, upstream; runs take turns ({how}).",
        "",
        "| mode | c | RPS old | RPS new | new/old | p50 old | p50 new | new/old "
        "| p99 old | p99 new | new/old | CPU us/req old | new | new/old |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in pairs:
        old, new, ratio = p["old"], p["new"], p["ratio"]
        lines.append(
            f"| {p['mode']} | {p['conns']} | {old['rps']:,.1f} | {new['rps']:,.1f} "
            f"| {_fmt_ratio(ratio['rps'])} "
            f"| {fmt_ms(old['p50_ms'])} | {fmt_ms(new['p50_ms'])} | {_fmt_ratio(ratio['p50_ms'])} "
            f"| {fmt_ms(old['p99_ms'])} | {fmt_ms(new['p99_ms'])} | {_fmt_ratio(ratio['p99_ms'])} "
            f"| {_fmt_cpu(old['cpu_us'])} | {_fmt_cpu(new['cpu_us'])} | {_fmt_ratio(ratio['cpu_us'])} |"
        )
    if rounds > 1:
        lines += ["", "RPS new/old per round:"]
        lines += [
            f"- {p['mode']} c={p['conns']}: " + ", ".join(map(_fmt_ratio, p["rps_ratio_per_round"]))
            for p in pairs
        ]
    return [*lines, ""]


def ab_check(runs: list[WrkResult]) -> dict[str, str]:
    """Non-streaming chat at every concurrency: RPS new/old >= 0.95 and p50 new/old <= 1.05."""
    limit = TARGET_AB_REGRESSION
    name = (
        f"non-streaming chat vs baseline: p50 and RPS within {limit:.0%} "
        f"at c={' and c='.join(map(str, CONCURRENCIES))}"
    )
    pairs = [p for p in ab_pairs(runs) if p["mode"] == "non-stream"]
    if len(pairs) < len(CONCURRENCIES):
        return {"target": name, "measured": "no baseline run", "result": "SKIP"}
    parts, ok = [], True
    for p in pairs:
        rps, p50 = p["ratio"]["rps"], p["ratio"]["p50_ms"]
        errored = p["old"]["errors"] or p["new"]["errors"]
        good = rps is not None and p50 is not None and rps >= 1 - limit and p50 <= 1 + limit and not errored
        ok = ok and good
        parts.append(
            f"c={p['conns']}: RPS x{_fmt_ratio(rps)}, p50 x{_fmt_ratio(p50)}"
            + (" (a run had errors)" if errored else "")
        )
    return {"target": name, "measured": "; ".join(parts) + " (new/old)", "result": "PASS" if ok else "MISS"}
