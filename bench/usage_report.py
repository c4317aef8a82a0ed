"""Usage reports over a big ledger: how long by-tag, by-sub-account and one sub-account's report take.

Builds a database holding ``--rows`` ledger rows (default 1,000,000) over one UTC month for one
account and its sub-accounts, then times UsageStore.by_tag / by_sub_account / for_sub_account
(median of ``--runs`` runs each) on SQLite and, with ``--postgres URL``, on PostgreSQL (a fresh
database is created on that server and dropped afterwards). Target: under 100 ms each.

On SQLite the rows go through LedgerSink.write in batches of 2,000, as the ledger writer flushes
them (rows, debits, rollups, spend, events). On PostgreSQL, where that takes ~20x longer than COPY,
the rows are COPYed and the rollups built per chunk by the flush's own code (ledger_effects.sums and
FlushEffects.add_rollups) in the chunk's transaction, so they are exactly what the flush keeps.
Traffic is shaped like a reseller's: each sub-account mostly uses its default tag and a few
favourite models, some calls carry no sub-account (the parent's own keys), ~10% are test mode, ~3%
fail. ``--check`` also compares the rollups with the ledger's own sums (UsageStore.check).

    .venv/bin/python bench/usage_report.py [--rows N] [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aigateway.core.ledger import LedgerEntry  # noqa: E402
from aigateway.storage.accounts import AccountStore  # noqa: E402
from aigateway.storage.db import create_db_engine, migrate, normalise_url  # noqa: E402
from aigateway.storage.ledger import LedgerSink, _slices  # noqa: E402
from aigateway.storage.ledger_effects import FlushEffects, sums  # noqa: E402
from aigateway.storage.schema import ledger  # noqa: E402
from aigateway.storage.usage import UsageStore  # noqa: E402

MONTH = "2026-11"
START = datetime(2026, 11, 1, tzinfo=UTC)
SECONDS = 30 * 24 * 3600
MODELS = [  # (model, unit kind, nano-USD per call): popular first
    ("openai/gpt-5.4-mini", "tokens", 120_000),
    ("anthropic/claude-sonnet-4.5", "tokens", 900_000),
    ("openai/text-embedding-3-small", "tokens", 2_000),
    ("google/gemini-2.5-flash", "tokens", 80_000),
    ("openai/gpt-5.4", "tokens", 1_500_000),
    ("openai/tts-1", "characters", 30_000),
    ("openai/whisper-1", "seconds", 60_000),
    ("black-forest-labs/flux-schnell", "images", 3_000_000),
]
CHUNK = 20_000  # rows per COPY (PostgreSQL)
BATCH = 2_000  # rows per LedgerSink.write (SQLite): settings.ledger_batch_size
COLUMNS = [c.name for c in ledger.columns if c.name != "id"]
_MARK = {"qmark": "?", "pyformat": "%s", "format": "%s"}
TARGET_MS = 100.0
ROLLUP_TABLES = ("usage_rollups", "usage_monthly", "usage_daily")


def _traffic(account: str, rows: int, subs: int, tags: int, seed: int) -> Iterator[LedgerEntry]:
    rng = random.Random(seed)
    sub_ids = [f"sub_{rng.getrandbits(96):024x}" for _ in range(subs)]
    tag_names = [f"team-{i}" for i in range(tags)]
    default_tag = {sub: rng.choice(tag_names) for sub in sub_ids}
    favourites = {sub: rng.sample(range(len(MODELS)), 3) for sub in [*sub_ids, None]}
    step = SECONDS * 1_000_000 // rows
    for n in range(rows):
        sub = rng.choice(sub_ids) if rng.random() < 0.9 else None
        r = rng.random()
        tag = (default_tag[sub] if sub and r < 0.8 else rng.choice(tag_names)) if r < 0.95 else None
        model, kind, price = MODELS[rng.choice(favourites[sub]) if rng.random() < 0.9 else rng.randrange(8)]
        failed = rng.random() < 0.03
        yield LedgerEntry(
            request_id=f"req-{n}",
            account_id=account,
            key_id="key_bench",
            endpoint="chat.completions",
            model=model,
            provider=model.split("/")[0],
            upstream_model=model.split("/")[1],
            mode="test" if rng.random() < 0.1 else "live",
            status="error" if failed else "ok",
            http_status=500 if failed else 200,
            call_id=f"call_{n:012x}{rng.getrandbits(48):012x}",
            unit_kind=kind,
            sub_account_id=sub,
            tag=tag,
            input_units=rng.randrange(10, 4000),
            output_units=rng.randrange(0, 800),
            cost_nanousd=0 if failed else price + rng.randrange(price // 2 + 1),
            latency_ms=rng.randrange(50, 3000),
            # In time order, as the ledger receives them: a flush batch spans minutes, not the month.
            created_at=START + timedelta(microseconds=n * step + rng.randrange(step)),
        )


def _chunks(entries: Iterator[LedgerEntry], size: int) -> Iterator[list[LedgerEntry]]:
    chunk: list[LedgerEntry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(engine: Engine, rows: int, subs: int, tags: int) -> tuple[str, list[str]]:
    """The account id and its sub-account ids, after writing ``rows`` ledger rows with their rollups."""
    store = AccountStore(engine)
    account = store.create_account("bench")
    sink = LedgerSink(engine)
    effects = FlushEffects(_MARK[engine.dialect.paramstyle], _slices, (), 0)
    postgres = engine.dialect.name == "postgresql"
    seen: set[str] = set()
    started = time.perf_counter()
    done = 0
    for chunk in _chunks(_traffic(account, rows, subs, tags, seed=8), CHUNK if postgres else BATCH):
        if not postgres:
            sink.write(chunk)  # the flush itself: rows, debit, rollups, spend, events
        else:
            # The flush's INSERTs run ~20x slower on PostgreSQL than COPY: the rows go in by COPY,
            # the rollups by the flush's own code, in one transaction per chunk.
            with engine.begin() as conn:
                raw = conn.connection.dbapi_connection
                assert raw is not None
                with raw.cursor() as cur, cur.copy(f"COPY ledger ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for entry in chunk:
                        values = entry.as_row()
                        copy.write_row([values[c] for c in COLUMNS])
                effects.add_rollups(conn, sums(chunk).rollups)
        seen.update(e.sub_account_id for e in chunk if e.sub_account_id)
        done += len(chunk)
        if done // 100_000 != (done - len(chunk)) // 100_000:
            print(f"  {done:>9,} rows  {time.perf_counter() - started:6.1f} s", file=sys.stderr)
    print(f"  built {done:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if postgres:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return account, sorted(seen)


def _median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # warm: the first run reads the pages from disk
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(label: str, engine: Engine, args: argparse.Namespace) -> list[tuple[str, str, float]]:
    migrate(engine)
    account, subs = build(engine, args.rows, args.subs, args.tags)
    usage = UsageStore(engine)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in ROLLUP_TABLES}
    print(f"  {label}: " + ", ".join(f"{n:,} rows in {t}" for t, n in counts.items()), file=sys.stderr)
    if args.check:
        started = time.perf_counter()
        assert usage.check(account, MONTH) == [], "rollups differ from the ledger"
        print(
            f"  {label}: rollups equal the ledger's sums ({time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
        )
    report = usage.by_tag(account, MONTH)
    assert report.live.requests + report.test.requests == args.rows
    sub = subs[0]
    return [
        (label, "by_tag", _median_ms(lambda: usage.by_tag(account, MONTH), args.runs)),
        (label, "by_sub_account", _median_ms(lambda: usage.by_sub_account(account, MONTH), args.runs)),
        (label, "for_sub_account", _median_ms(lambda: usage.for_sub_account(account, sub, MONTH), args.runs)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="ledger rows to build (default 1,000,000)"
    )
    parser.add_argument("--subs", type=int, default=50, help="sub-accounts (default 50)")
    parser.add_argument("--tags", type=int, default=10, help="tags (default 10)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per report (median; default 7)")
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this PostgreSQL server (a scratch database)"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--check", action="store_true", help="also check the rollups against the ledger")
    args = parser.parse_args()
    results: list[tuple[str, str, float]] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_db_engine(f"sqlite:///{tmp}/usage.db")
            print("SQLite:", file=sys.stderr)
            results += measure("sqlite", engine, args)
            engine.dispose()
    if args.postgres:
        name = "aig_bench_usage_" + secrets.token_hex(4)
        admin = create_engine(normalise_url(args.postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine = create_db_engine(args.postgres.rsplit("/", 1)[0] + "/" + name)
            print("PostgreSQL:", file=sys.stderr)
            results += measure("postgres", engine, args)
            engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(
        f"\nusage reports over {args.rows:,} ledger rows"
        f" ({MONTH}, {args.subs} sub-accounts, {args.tags} tags, {args.runs} runs each)"
    )
    print(f"{'backend':<10} {'report':<16} {'median ms':>10}  target < {TARGET_MS:g} ms")
    for label, report_name, ms in results:
        verdict = "ok" if ms < TARGET_MS else "OVER"
        print(f"{label:<10} {report_name:<16} {ms:>10.1f}  {verdict}")


if __name__ == "__main__":
    main()
