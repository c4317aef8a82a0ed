"""Migration 0002 on a ledger written under 0001: rows and balances kept, call ids backfilled from the
(then unique) request ids, request ids free to repeat, call ids unique. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from aigateway.core.ledger import LedgerEntry
from aigateway.storage.db import alembic_config, create_db_engine
from aigateway.storage.ledger import write_batch
from aigateway.storage.schema import accounts, ledger, ledger_quarantine

WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
LONG_ID = "client-" + "x" * 100  # 107 characters: fits request_id (128), so it must fit call_id too

# The ledger as revision 0001 created it (the current schema has more columns).
ledger_0001 = sa.table(
    "ledger",
    *map(sa.column, ("request_id", "account_id", "key_id", "tag", "endpoint", "model", "provider")),
    *map(sa.column, ("upstream_model", "mode", "status", "http_status", "error_type", "stream")),
    *map(sa.column, ("input_units", "cached_input_units", "cache_write_units", "output_units")),
    *map(sa.column, ("reasoning_units", "usage_estimated", "cost_nanousd", "latency_ms", "detail")),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _upgrade(url: str, engine: Engine, revision: str) -> None:
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _old_row(request_id: str, account: str, cost: int) -> dict[str, object]:
    return {
        "request_id": request_id,
        "account_id": account,
        "key_id": "key_old",
        "tag": "legacy",
        "endpoint": "chat.completions",
        "model": "openai/gpt-5.4",
        "provider": "openai",
        "upstream_model": "gpt-5.4",
        "mode": "live",
        "status": "ok",
        "http_status": 200,
        "error_type": None,
        "stream": False,
        "input_units": 11,
        "cached_input_units": 0,
        "cache_write_units": 0,
        "output_units": 22,
        "reasoning_units": 0,
        "usage_estimated": False,
        "cost_nanousd": cost,
        "latency_ms": 40,
        "detail": None,
        "created_at": WHEN,
    }


def _entry(account: str, request_id: str, call_id: str | None = None) -> LedgerEntry:
    entry = LedgerEntry(
        request_id=request_id,
        account_id=account,
        key_id="key_new",
        endpoint="embeddings",
        model="openai/text-embedding-3-small",
        provider="openai",
        upstream_model="text-embedding-3-small",
        mode="live",
        status="ok",
        http_status=200,
        operation="embeddings",
        cost_nanousd=7,
        meters={"input_tokens": 5},
    )
    if call_id is not None:
        entry.call_id = call_id
    return entry


def test_0002_backfills_call_ids_and_frees_request_ids(fresh_db: str) -> None:
    engine = create_db_engine(fresh_db)
    _upgrade(fresh_db, engine, "0001_core")
    with engine.begin() as conn:
        conn.execute(
            accounts.insert(),
            [
                {"id": "acct_a", "name": "a", "is_admin": True, "balance_nanousd": 900, "created_at": WHEN},
                {"id": "acct_b", "name": "b", "is_admin": False, "balance_nanousd": -5, "created_at": WHEN},
            ],
        )
        conn.execute(
            ledger_0001.insert(),
            [
                _old_row("req_1", "acct_a", 100),
                _old_row("req_2", "acct_b", 5),
                _old_row(LONG_ID, "acct_a", 0),
            ],
        )

    _upgrade(fresh_db, engine, "head")

    with engine.connect() as conn:
        rows = {r["request_id"]: dict(r) for r in conn.execute(select(ledger)).mappings()}
        balances = {r[0]: r[1] for r in conn.execute(select(accounts.c.id, accounts.c.balance_nanousd))}
        assert conn.execute(select(ledger_quarantine)).all() == []
    assert balances == {"acct_a": 900, "acct_b": -5}
    assert set(rows) == {"req_1", "req_2", LONG_ID}
    for request_id, row in rows.items():
        assert row["call_id"] == request_id
        assert (row["operation"], row["origin"], row["unit_kind"], row["price_basis"]) == (
            "chat",
            "http",
            "tokens",
            "standard",
        )
        assert row["parent_id"] is None and row["sub_account_id"] is None and row["meters"] is None
        assert row["tag"] == "legacy" and row["input_units"] == 11 and row["output_units"] == 22
        assert row["created_at"].replace(tzinfo=UTC) == WHEN
    assert rows["req_1"]["cost_nanousd"] == 100 and rows["req_2"]["account_id"] == "acct_b"

    # Two calls may now share a client's request id (also one an old row used) ...
    result = write_batch(engine, [_entry("acct_a", "req_1"), _entry("acct_a", "req_1")])
    assert result.written == 2 and result.balances == {"acct_a": 900 - 14}
    with engine.connect() as conn:
        shared = conn.execute(select(ledger.c.operation).where(ledger.c.request_id == "req_1")).all()
    assert sorted(r[0] for r in shared) == ["chat", "embeddings", "embeddings"]

    # ... but a call id is the key: the database itself refuses a second row with one.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(ledger.insert(), _entry("acct_a", "req_9", call_id="req_2").as_row())
    engine.dispose()
