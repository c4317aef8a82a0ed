"""Sub-accounts, key scopes and expiry, budgets and the outbox: the storage contract on SQLite and
PostgreSQL (real databases, migrated the way the gateway migrates them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, inspect, select, text, update

from aigateway.core.keys import hash_key
from aigateway.storage import outbox
from aigateway.storage.accounts import AccountStore
from aigateway.storage.budgets import BudgetStore
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.outbox import OutboxStore, new_event_id
from aigateway.storage.schema import api_keys
from aigateway.storage.subaccounts import SubAccountStore

CENT = 10_000_000


@pytest.fixture
def engine(fresh_db: str) -> Engine:
    engine = create_db_engine(fresh_db)
    migrate(engine)
    return engine


@pytest.fixture
def store(engine: Engine) -> AccountStore:
    return AccountStore(engine)


@pytest.fixture
def subs(engine: Engine) -> SubAccountStore:
    return SubAccountStore(engine)


def test_migration_0004_tables(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert {"sub_accounts", "budgets", "spend_periods", "usage_rollups", "outbox"} <= names
    columns = {c["name"] for c in inspect(engine).get_columns("api_keys")}
    assert {"sub_account_id", "scope", "expires_at", "rate_limit_rpm"} <= columns
    with engine.connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar_one()
    assert version >= "0004_sub_accounts"  # 0004 or a later revision on top of it


def test_parent_keys_have_a_scope(store: AccountStore) -> None:
    account = store.create_account("acme")
    _plain, manage = store.create_key(account, "ops")
    plain, inference = store.create_key(account, "app", scope="inference", rate_limit_rpm=60)
    assert manage.scope == "manage" and manage.sub_account_id is None and manage.expires_at is None
    found = store.find_key(hash_key(plain))
    assert found == inference
    assert found.scope == "inference" and found.rate_limit_rpm == 60
    with pytest.raises(ValueError):
        store.create_key(account, "bad", scope="sub_account")


def test_key_past_expiry_reads_as_revoked(store: AccountStore) -> None:
    account = store.create_account("acme")
    plain, record = store.create_key(account, "ops")
    soon = datetime.now(UTC) + timedelta(hours=1)
    with store.engine.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == record.id).values(expires_at=soon))
    live = store.find_key(hash_key(plain))
    assert live is not None and live.revoked_at is None and live.expires_at is not None
    past = datetime.now(UTC) - timedelta(seconds=1)
    with store.engine.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == record.id).values(expires_at=past))
    expired = store.find_key(hash_key(plain))
    assert expired is not None and expired.revoked_at is not None
    assert abs((expired.revoked_at - past).total_seconds()) < 1
    assert store.get_key(record.id) == expired
    assert [k.revoked_at is not None for k in store.list_keys(account)] == [True]


def test_create_sub_account_key_and_event(store: AccountStore, subs: SubAccountStore) -> None:
    account = store.create_account("parent")
    record, plain = subs.create(
        account, name="acme", spend_cap_nanousd=1234 * CENT // 100, external_ref="cust-1", default_tag="acme"
    )
    assert record.id.startswith("sub_") and len(record.id) == 28
    assert record.account_id == account and record.mode == "live" and record.cap_period == "month"
    assert record.deleted_at is None and record.spend_cap_nanousd == 1234 * CENT // 100
    key = store.find_key(hash_key(plain))
    assert key is not None
    assert key.account_id == account and key.sub_account_id == record.id and key.scope == "sub_account"
    assert key.mode == "live" and not key.is_admin and key.revoked_at is None
    events = OutboxStore(store.engine).for_account(account)
    assert [(e.type, e.dedupe_key) for e in events] == [
        ("subaccount.created", f"subaccount.created:{record.id}")
    ]
    assert events[0].data == {
        "sub_account_id": record.id,
        "name": "acme",
        "external_ref": "cust-1",
        "spend_cap_cents": Decimal("12.34"),
        "rate_limit_rpm": None,
        "default_tag": "acme",
        "mode": "live",
    }
    assert '"spend_cap_cents": 12.34' in events[0].payload  # an exact JSON number


def test_test_mode_sub_account_gets_test_key(store: AccountStore, subs: SubAccountStore) -> None:
    account = store.create_account("parent")
    record, plain = subs.create(
        account, name="sandbox", spend_cap_nanousd=CENT, mode="test", cap_period="lifetime"
    )
    assert plain.startswith("sk-aig-test-")
    key = store.find_key(hash_key(plain))
    assert key is not None and key.mode == "test" and record.cap_period == "lifetime"
    with pytest.raises(ValueError):
        subs.create(account, name="x", spend_cap_nanousd=CENT, mode="staging")
    with pytest.raises(ValueError):
        subs.create(account, name="x", spend_cap_nanousd=CENT, cap_period="week")
    with pytest.raises(LookupError):
        subs.create("acct_missing", name="x", spend_cap_nanousd=CENT)


def test_get_list_are_per_account_and_skip_deleted(store: AccountStore, subs: SubAccountStore) -> None:
    mine = store.create_account("mine")
    theirs = store.create_account("theirs")
    made = [subs.create(mine, name=f"s{i}", spend_cap_nanousd=CENT)[0] for i in range(5)]
    other, _ = subs.create(theirs, name="other", spend_cap_nanousd=CENT)
    assert subs.get(mine, made[0].id) == made[0]
    assert subs.get(mine, other.id) is None  # another account's: as if missing
    assert subs.get(mine, "sub_missing") is None
    assert [r.id for r in subs.list(mine)] == [r.id for r in made]
    first = subs.list(mine, limit=2)
    rest = subs.list(mine, limit=10, after=first[-1].id)
    assert [r.id for r in first + rest] == [r.id for r in made]
    assert subs.delete(mine, made[1].id)
    assert subs.get(mine, made[1].id) is None
    assert made[1].id not in [r.id for r in subs.list(mine)]
    # a deleted cursor still marks its place
    assert [r.id for r in subs.list(mine, after=made[1].id)] == [r.id for r in made[2:]]
    assert subs.list(theirs) == [other]


def test_update_changes_and_clears(store: AccountStore, subs: SubAccountStore) -> None:
    account = store.create_account("parent")
    record, _ = subs.create(account, name="acme", spend_cap_nanousd=CENT, rate_limit_rpm=10, default_tag="a")
    changed = subs.update(
        account,
        record.id,
        name="acme2",
        spend_cap_nanousd=5 * CENT,
        cap_period="lifetime",
        rate_limit_rpm=None,
    )
    assert changed is not None
    assert (changed.name, changed.spend_cap_nanousd, changed.cap_period) == ("acme2", 5 * CENT, "lifetime")
    assert changed.rate_limit_rpm is None and changed.default_tag == "a"
    assert changed.updated_at >= record.updated_at
    cleared = subs.update(account, record.id, default_tag=None, external_ref=None)
    assert cleared is not None and cleared.default_tag is None
    assert subs.update(account, record.id) == cleared
    with pytest.raises(ValueError):
        subs.update(account, record.id, name=None)
    with pytest.raises(ValueError):
        subs.update(account, record.id, mode="test")
    other = store.create_account("other")
    assert subs.update(other, record.id, name="stolen") is None
    assert subs.get(account, record.id) == cleared


def test_rotate_with_grace_keeps_old_key_until_expiry(store: AccountStore, subs: SubAccountStore) -> None:
    account = store.create_account("parent")
    record, old_plain = subs.create(account, name="acme", spend_cap_nanousd=CENT)
    rotated = subs.rotate_key(account, record.id, grace_s=3600)
    assert rotated is not None
    new_plain, new_key = rotated
    assert new_plain != old_plain and new_key.sub_account_id == record.id and new_key.scope == "sub_account"
    old = store.find_key(hash_key(old_plain))
    assert old is not None and old.revoked_at is None and old.expires_at is not None
    assert 3590 < (old.expires_at - datetime.now(UTC)).total_seconds() <= 3600
    events = [e for e in OutboxStore(store.engine).for_account(account) if e.type == "key.rotated"]
    assert len(events) == 1 and events[0].dedupe_key == f"key.rotated:{new_key.id}"
    assert events[0].data == {
        "sub_account_id": record.id,
        "old_key_prefix": old.prefix,
        "new_key_prefix": new_key.prefix,
        "old_key_expires_at": int(old.expires_at.timestamp()),
    }
    # A second rotation with a longer grace does not extend the first key's life.
    again = subs.rotate_key(account, record.id, grace_s=7200)
    assert again is not None
    assert store.find_key(hash_key(old_plain)) == old
    assert len(subs.keys(account, record.id)) == 3


def test_rotate_without_grace_revokes_at_once(store: AccountStore, subs: SubAccountStore) -> None:
    account = store.create_account("parent")
    record, old_plain = subs.create(account, name="acme", spend_cap_nanousd=CENT, mode="test")
    rotated = subs.rotate_key(account, record.id, grace_s=0)
    assert rotated is not None and rotated[0].startswith("sk-aig-test-")
    old = store.find_key(hash_key(old_plain))
    assert old is not None and old.revoked_at is not None
    event = next(e for e in OutboxStore(store.engine).for_account(account) if e.type == "key.rotated")
    assert event.data["old_key_expires_at"] is None
    assert subs.rotate_key(store.create_account("other"), record.id, grace_s=0) is None


def test_delete_revokes_every_key(store: AccountStore, subs: SubAccountStore) -> None:
    account = store.create_account("parent")
    record, first = subs.create(account, name="acme", spend_cap_nanousd=CENT)
    rotated = subs.rotate_key(account, record.id, grace_s=3600)
    assert rotated is not None
    _parent_plain, parent_key = store.create_key(account, "parent key")
    assert not subs.delete(store.create_account("other"), record.id)
    assert subs.delete(account, record.id)
    assert not subs.delete(account, record.id)  # once
    for plain in (first, rotated[0]):
        key = store.find_key(hash_key(plain))
        assert key is not None and key.revoked_at is not None
    assert store.get_key(parent_key.id) == parent_key  # the parent's keys are untouched
    assert subs.rotate_key(account, record.id, grace_s=0) is None
    assert subs.update(account, record.id, name="back") is None


def test_budgets_upsert_by_tag(engine: Engine, store: AccountStore) -> None:
    budgets = BudgetStore(engine)
    account = store.create_account("parent")
    other = store.create_account("other")
    first = budgets.upsert(account, "research", 10 * CENT)
    assert first.id.startswith("bud_") and first.cap_nanousd == 10 * CENT
    again = budgets.upsert(account, "research", 25 * CENT)
    assert again.id == first.id and again.cap_nanousd == 25 * CENT and again.created_at == first.created_at
    prod = budgets.upsert(account, "prod", 5 * CENT)
    theirs = budgets.upsert(other, "research", CENT)
    assert theirs.id != first.id
    assert [b.tag for b in budgets.list(account)] == ["prod", "research"]
    assert budgets.for_account(account) == {"research": 25 * CENT, "prod": 5 * CENT}
    assert budgets.get(account, prod.id) == prod
    assert budgets.get(other, prod.id) is None
    assert not budgets.delete(other, prod.id)
    assert budgets.delete(account, prod.id)
    assert budgets.get(account, prod.id) is None
    assert budgets.for_account(account) == {"research": 25 * CENT}
    with pytest.raises(ValueError):
        budgets.upsert(account, "", CENT)


def test_outbox_writes_once_per_dedupe_key(engine: Engine, store: AccountStore) -> None:
    account = store.create_account("parent")
    with engine.begin() as conn:
        assert outbox.write(
            conn, account, "balance.low", {"balance_cents": Decimal("0.5")}, "balance.low:x:0"
        )
        assert not outbox.write(conn, account, "balance.low", {"balance_cents": 1}, "balance.low:x:0")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        outbox.write(conn, account, "balance.exhausted", {}, "rolled-back")
        raise RuntimeError("the state change failed: its event goes with it")
    box = OutboxStore(engine)
    pending = box.pending()
    assert [e.dedupe_key for e in pending] == ["balance.low:x:0"]
    assert pending[0].data == {"balance_cents": Decimal("0.5")} and pending[0].attempts == 0
    assert pending[0].id.startswith("evt_") and len(pending[0].id) == 28
    box.record_attempt([pending[0].id])
    assert box.pending()[0].attempts == 1
    assert box.mark_delivered([pending[0].id]) == 1
    assert box.pending() == []
    assert box.mark_delivered([pending[0].id]) == 0


def test_event_ids_are_time_ordered() -> None:
    ids = [new_event_id() for _ in range(50)]
    stamps = [int(i[4:16], 16) for i in ids]
    assert stamps == sorted(stamps)
    assert len(set(ids)) == 50


def test_deleted_sub_account_keeps_its_keys_rows(
    engine: Engine, store: AccountStore, subs: SubAccountStore
) -> None:
    account = store.create_account("parent")
    record, _ = subs.create(account, name="acme", spend_cap_nanousd=CENT)
    subs.delete(account, record.id)
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys.c.revoked_at).where(api_keys.c.sub_account_id == record.id)).all()
    assert len(rows) == 1 and rows[0][0] is not None
