"""A ledger batch with bad rows: the good rows land, each wallet is debited exactly once, duplicates
are skipped, rows the columns cannot hold are quarantined with their debit. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from aigateway.core.ledger import MAX_TAG, LedgerEntry
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.ledger import LedgerSink, write_batch
from aigateway.storage.schema import ledger, ledger_quarantine

CREDIT = 10**12


@pytest.fixture
def store(fresh_db: str) -> AccountStore:
    engine = create_db_engine(fresh_db)
    migrate(engine)
    return AccountStore(engine)


def _entry(account: str, n: int, cost: int) -> LedgerEntry:
    return LedgerEntry(
        request_id="same-client-id",  # clients reuse their ids: not a key any more
        account_id=account,
        key_id="key_x",
        endpoint="chat.completions",
        model="sim/gpt",
        provider="sim",
        upstream_model="sim-gpt",
        mode="live",
        status="ok",
        http_status=200,
        tag=f"t{n}",
        input_units=n,
        cost_nanousd=cost,
    )


def _call_ids(store: AccountStore) -> list[str]:
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(ledger.c.call_id))]


def _quarantine(store: AccountStore) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(ledger_quarantine)).mappings()]


def test_one_duplicate_and_one_oversized_row_do_not_block_the_batch(store: AccountStore) -> None:
    postgres = store.engine.dialect.name == "postgresql"
    a = store.create_account("a")
    b = store.create_account("b")
    store.add_credit(a, CREDIT)
    store.add_credit(b, CREDIT)
    stored = _entry(a, 0, 5_000)
    write_batch(store.engine, [stored])

    batch = [_entry(a if n % 2 else b, n, 1_000 + n) for n in range(1, 301)]
    batch[150] = stored  # already in the ledger (a journal replayed after its batch was stored)
    oversized = batch[77]
    if postgres:  # SQLite does not enforce VARCHAR widths
        oversized.tag = "x" * (MAX_TAG + 1)
    result = write_batch(store.engine, batch)

    fresh = [e for e in batch if e is not stored]
    quarantined = [oversized] if postgres else []
    assert (result.written, result.duplicates, result.quarantined) == (
        len(fresh) - len(quarantined),
        1,
        len(quarantined),
    )
    ids = _call_ids(store)
    assert len(ids) == len(set(ids)) == 1 + len(fresh) - len(quarantined)
    assert set(ids) == {stored.call_id} | {e.call_id for e in fresh if e not in quarantined}
    # Every entry but the duplicate is debited exactly once, the quarantined one included.
    want = {
        acct: CREDIT - sum(e.cost_nanousd for e in [stored, *fresh] if e.account_id == acct)
        for acct in (a, b)
    }
    assert result.balances == want
    assert store.balances([a, b]) == want

    rows = _quarantine(store)
    if postgres:
        assert len(rows) == 1
        row = rows[0]
        assert row["call_id"] == oversized.call_id and row["account_id"] == oversized.account_id
        assert row["cost_nanousd"] == oversized.cost_nanousd
        assert "too long" in str(row["error"])
        assert LedgerEntry.from_json_dict(json.loads(str(row["payload"]))) == oversized
    else:
        assert rows == []

    # Written again, as is or as a replay: nothing new is stored, quarantined or debited.
    assert write_batch(store.engine, batch).written == 0
    replay = write_batch(store.engine, batch, idempotent=True)
    assert (replay.written, replay.duplicates, replay.quarantined) == (0, len(batch), 0)
    assert replay.balances == want
    assert len(_call_ids(store)) == len(ids)
    assert len(_quarantine(store)) == len(rows)


def test_a_replay_writes_only_the_missing_entries(store: AccountStore) -> None:
    a = store.create_account("a")
    store.add_credit(a, CREDIT)
    entries = [_entry(a, n, 100) for n in range(600)]
    write_batch(store.engine, entries[:250])
    sink = LedgerSink(store.engine)
    first = sink.write(entries + entries[:10], idempotent=True)  # repeats inside the batch too
    assert (first.written, first.duplicates, first.quarantined) == (350, 260, 0)
    again = sink.write(entries, idempotent=True)
    assert (again.written, again.duplicates) == (0, 600)
    assert again.balances == {a: CREDIT - 600 * 100}
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger)).scalar_one() == 600


def test_a_debit_the_balance_cannot_hold_is_quarantined_without_it(store: AccountStore) -> None:
    a = store.create_account("a")
    store.add_credit(a, CREDIT)
    batch = [_entry(a, n, 10) for n in range(8)]
    batch[3].cost_nanousd = 2**70  # wider than BIGINT: both the row and its debit are refused
    result = write_batch(store.engine, batch)
    assert (result.written, result.duplicates, result.quarantined) == (7, 0, 1)
    assert store.balances([a]) == {a: CREDIT - 70}
    (row,) = _quarantine(store)
    assert row["call_id"] == batch[3].call_id and row["cost_nanousd"] is None
    assert "debit refused too" in str(row["error"])
    assert json.loads(str(row["payload"]))["cost_nanousd"] == 2**70


def test_a_storage_outage_propagates_instead_of_bisecting() -> None:
    sink = LedgerSink(create_db_engine("postgresql://postgres@127.0.0.1:1/nowhere"))
    with pytest.raises(OperationalError):
        sink.write([_entry("acct_x", 1, 1)])


def test_a_duplicate_the_look_up_missed_is_found_by_bisecting(store: AccountStore) -> None:
    """A row stored between the look-up and the write (by another writer) is still skipped."""

    class BlindSink(LedgerSink):
        def _unknown(self, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
            return list(entries)

    a = store.create_account("a")
    store.add_credit(a, CREDIT)
    batch = [_entry(a, n, 10) for n in range(40)]
    write_batch(store.engine, batch[25:26])
    result = BlindSink(store.engine).write(batch)
    assert (result.written, result.duplicates, result.quarantined) == (39, 1, 0)
    assert result.balances == {a: CREDIT - 400}
    assert _quarantine(store) == []
