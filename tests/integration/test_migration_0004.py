"""Migration 0004 on a database written under 0003: the ledger's rows are rolled up, tag spend is
counted, old keys become manage keys, and the flush then carries on from there. SQLite and
PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import Engine, select

from aigateway.core.keys import hash_key
from aigateway.core.ledger import LedgerEntry
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import alembic_config, create_db_engine
from aigateway.storage.ledger import write_batch
from aigateway.storage.schema import accounts, api_keys, ledger
from aigateway.storage.spend import SpendStore
from aigateway.storage.usage import UsageStore

WHEN = datetime(2026, 10, 31, 22, 0, tzinfo=UTC)


def _upgrade(url: str, engine: Engine, revision: str) -> None:
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _old_rows(account: str, count: int) -> list[dict[str, object]]:
    rng = random.Random(4)
    rows = []
    for n in range(count):
        entry = LedgerEntry(
            request_id=f"r{n}",
            account_id=account,
            key_id="key_old",
            endpoint="chat.completions",
            model=rng.choice(["sim/a", "sim/b"]),
            provider="sim",
            upstream_model="x",
            mode=rng.choice(["live", "live", "test"]),
            status=rng.choice(["ok", "ok", "error"]),
            http_status=200,
            tag=rng.choice(["prod", None]),
            input_units=rng.randrange(100),
            output_units=rng.randrange(100),
            cost_nanousd=rng.randrange(10**6),
            created_at=WHEN + timedelta(minutes=rng.randrange(240)),  # October and November
        )
        rows.append(entry.as_row())
    return rows


def test_0004_rolls_up_the_existing_ledger(fresh_db: str) -> None:
    engine = create_db_engine(fresh_db)
    _upgrade(fresh_db, engine, "0003_ledger_lean_indexes")
    # Under 0003 (accounts and the ledger are as they are now): an account, a ledger of mixed rows.
    with engine.begin() as conn:
        conn.execute(
            accounts.insert(),
            {"id": "acct_a", "name": "a", "is_admin": False, "balance_nanousd": 0, "created_at": WHEN},
        )
        old_key = "sk-aig-" + "O" * 40
        conn.execute(
            api_keys.insert().values(
                id="key_old",
                account_id="acct_a",
                name="old",
                key_hash=hash_key(old_key),
                prefix="sk-aig-OOOO...",
                mode="live",
                created_at=WHEN,
            )
        )
        rows = _old_rows("acct_a", 120)
        conn.execute(ledger.insert(), rows)
    store = AccountStore(engine)
    _upgrade(fresh_db, engine, "head")

    before = store.find_key(hash_key(old_key))
    assert before is not None and before.scope == "manage" and before.sub_account_id is None
    assert before.expires_at is None and before.revoked_at is None
    plain, key = store.create_key("acct_a", "new")
    found = store.find_key(hash_key(plain))
    assert found == key and found.scope == "manage"
    with engine.connect() as conn:
        assert {r[0] for r in conn.execute(select(api_keys.c.scope))} == {"manage"}

    usage = UsageStore(engine)
    for month in ("2026-10", "2026-11"):
        assert usage.check("acct_a", month) == []
        live = [r for r in rows if r["mode"] == "live" and str(r["created_at"])[:7] == month]
        assert usage.by_tag("acct_a", month).live.requests == len(live)
        charged = sum(int(r["cost_nanousd"]) for r in live if r["tag"] == "prod")  # type: ignore[call-overload]
        assert SpendStore(engine).one("tag:acct_a:prod", month) == charged
    # The flush carries on from the backfilled figures.
    write_batch(
        engine,
        [LedgerEntry("r", "acct_a", "k", "e", "sim/a", "sim", "x", "live", "ok", 200, created_at=WHEN)],
    )
    assert usage.check("acct_a", "2026-10") == []
    engine.dispose()
