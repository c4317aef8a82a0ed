"""Storage contract: the same behaviour on SQLite and PostgreSQL, against real databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, text

from aigateway.core.keys import hash_key
from aigateway.core.ledger import LedgerEntry
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.ledger import write_batch
from aigateway.storage.schema import api_keys, ledger, wallet_credits


@pytest.fixture
def store(fresh_db: str) -> AccountStore:
    engine = create_db_engine(fresh_db)
    migrate(engine)
    return AccountStore(engine)


def _entry(account: str, rid: str, cost: int, mode: str = "live") -> LedgerEntry:
    return LedgerEntry(
        request_id=rid,
        account_id=account,
        key_id="key_x",
        endpoint="chat.completions",
        model="openai/gpt-5.4",
        provider="openai",
        upstream_model="gpt-5.4",
        mode=mode,
        status="ok",
        http_status=200,
        input_units=10,
        output_units=20,
        cost_nanousd=cost,
    )


def test_migrations_create_tables_and_are_idempotent(store: AccountStore) -> None:
    migrate(store.engine)  # a second run is a no-op
    tables = set(inspect(store.engine).get_table_names())
    assert {"accounts", "api_keys", "wallet_credits", "ledger", "ledger_quarantine"} <= tables
    with store.engine.connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar_one()
    # The newest revision on disk (one head: the migrations form a single chain).
    from alembic.script import ScriptDirectory

    from aigateway.storage.db import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1 and version == heads[0]


def test_bootstrap_creates_admin_once(store: AccountStore) -> None:
    first = store.bootstrap()
    assert first.admin_key and first.admin_key.startswith("sk-aig-")
    assert first.test_key and first.test_key.startswith("sk-aig-test-")
    again = store.bootstrap()
    assert again.admin_account_id == first.admin_account_id
    assert again.admin_key is None and again.test_key is None
    admin = store.find_key(hash_key(first.admin_key))
    assert admin is not None and admin.is_admin and admin.mode == "live"


def test_bootstrap_takes_given_admin_key(store: AccountStore) -> None:
    given = "sk-aig-" + "Z" * 40
    boot = store.bootstrap(given)
    assert boot.admin_key is None  # the operator already knows it
    record = store.find_key(hash_key(given))
    assert record is not None and record.account_id == boot.admin_account_id


def test_keys_are_stored_hashed_and_revocable(store: AccountStore) -> None:
    account = store.create_account("acme")
    plain, record = store.create_key(account, "ci", test=False)
    _plain_test, test_record = store.create_key(account, "ci-test", test=True)
    assert test_record.mode == "test"
    with store.engine.connect() as conn:
        stored = [dict(r) for r in conn.execute(select(api_keys)).mappings()]
    dump = repr(stored)
    assert plain not in dump and plain[7:] not in dump
    assert any(r["key_hash"] == hash_key(plain) for r in stored)
    assert record.prefix == plain[:11] + "..."
    assert store.revoke_key(record.id) is True
    assert store.revoke_key(record.id) is False
    found = store.find_key(hash_key(plain))
    assert found is not None and found.revoked_at is not None
    with pytest.raises(LookupError):
        store.create_key("acct_missing", "x")


def test_wallet_credits_are_exact_and_audited(store: AccountStore) -> None:
    account = store.create_account("wallet")
    assert store.add_credit(account, 10_000_000_000, "ten dollars") == 10_000_000_000
    assert store.add_credit(account, -1, "one nano") == 9_999_999_999
    with store.engine.connect() as conn:
        notes = [
            r.note for r in conn.execute(select(wallet_credits).where(wallet_credits.c.account_id == account))
        ]
    assert notes == ["ten dollars", "one nano"]
    with pytest.raises(LookupError):
        store.add_credit("acct_missing", 1)


def test_ledger_batch_debits_live_traffic_only_atomically(store: AccountStore) -> None:
    a = store.create_account("a")
    b = store.create_account("b")
    store.add_credit(a, 1_000_000)
    balances = write_batch(
        store.engine,
        [_entry(a, "r1", 300), _entry(a, "r2", 200), _entry(b, "r3", 50), _entry(a, "r4", 999, mode="test")],
    ).balances
    assert balances == {a: 1_000_000 - 500, b: -50}
    with store.engine.connect() as conn:
        rows = conn.execute(select(ledger.c.request_id, ledger.c.cost_nanousd, ledger.c.mode)).all()
    assert sorted(r[0] for r in rows) == ["r1", "r2", "r3", "r4"]
    # A second call under a client's request id is its own row; an entry whose call id is already
    # stored is skipped without a second debit, and the rest of its batch lands.
    again = _entry(a, "r1", 7)
    first = _entry(a, "r5", 9)
    write_batch(store.engine, [first])
    result = write_batch(store.engine, [again, first])
    assert (result.written, result.duplicates) == (1, 1)
    assert store.balances([a]) == {a: 1_000_000 - 500 - 9 - 7}
    with store.engine.connect() as conn:
        assert len(conn.execute(select(ledger.c.id).where(ledger.c.request_id == "r1")).all()) == 2


def test_concurrent_batches_lose_no_debit(store: AccountStore) -> None:
    account = store.create_account("busy")
    store.add_credit(account, 10**12)

    def worker(n: int) -> None:
        engine = create_db_engine(str(store.engine.url.render_as_string(hide_password=False)))
        for i in range(10):
            write_batch(engine, [_entry(account, f"c{n}-{i}-{j}", 1_000) for j in range(5)])
        engine.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.balances([account]) == {account: 10**12 - 4 * 10 * 5 * 1_000}


def test_ledger_entry_round_trip(store: AccountStore) -> None:
    account = store.create_account("rt")
    entry = _entry(account, "rt-1", 12345)
    entry.tag = "team-x"
    entry.created_at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    write_batch(store.engine, [entry])
    with store.engine.connect() as conn:
        row = conn.execute(select(ledger).where(ledger.c.request_id == "rt-1")).mappings().one()
    assert row["tag"] == "team-x" and row["cost_nanousd"] == 12345 and row["input_units"] == 10
