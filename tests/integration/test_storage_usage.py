"""The ledger flush keeps usage rollups, spend per period and threshold / balance events in step with
the ledger: the totals equal the ledger's sums, on SQLite and PostgreSQL, through bisects, quarantines
and replays."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from aigateway.core.ledger import LedgerEntry
from aigateway.storage.accounts import AccountStore
from aigateway.storage.budgets import BudgetStore
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.ledger import LedgerSink
from aigateway.storage.outbox import OutboxStore
from aigateway.storage.schema import usage_rollups
from aigateway.storage.spend import SpendStore
from aigateway.storage.subaccounts import SubAccountStore
from aigateway.storage.usage import UsageStore

CENT = 10_000_000
MAY = datetime(2026, 5, 31, 23, 0, tzinfo=UTC)  # one hour before June (UTC)


@pytest.fixture
def engine(fresh_db: str) -> Engine:
    engine = create_db_engine(fresh_db)
    migrate(engine)
    return engine


def _entry(
    account: str, *, cost: int = CENT, sub: str | None = None, tag: str | None = None, **kw: object
) -> LedgerEntry:
    entry = LedgerEntry(
        request_id="r",
        account_id=account,
        key_id="key_x",
        endpoint="chat.completions",
        model="sim/gpt",
        provider="sim",
        upstream_model="sim-gpt",
        mode="live",
        status="ok",
        http_status=200,
        sub_account_id=sub,
        tag=tag,
        input_units=10,
        output_units=5,
        cost_nanousd=cost,
    )
    for name, value in kw.items():
        setattr(entry, name, value)
    return entry


def _mixed(account: str, subs: list[str], rng: random.Random, count: int) -> list[LedgerEntry]:
    models = [
        ("sim/gpt", "tokens"),
        ("sim/embed", "tokens"),
        ("sim/tts", "characters"),
        ("sim/img", "images"),
    ]
    out = []
    for n in range(count):
        model, kind = rng.choice(models)
        failed = rng.random() < 0.15
        out.append(
            _entry(
                account,
                cost=0 if failed and n % 2 else rng.randrange(1, 5 * CENT),
                sub=rng.choice([*subs, None]),
                tag=rng.choice(["prod", "research", "dev", None]),
                mode="test" if rng.random() < 0.2 else "live",
                status="error" if failed else "ok",
                http_status=500 if failed else 200,
                model=model,
                unit_kind=kind,
                input_units=rng.randrange(0, 5000),
                output_units=rng.randrange(0, 900),
                created_at=MAY + timedelta(minutes=rng.randrange(-3000, 3000)),
            )
        )
    return out


def _month(entry: LedgerEntry) -> str:
    return entry.created_at.strftime("%Y-%m")


def test_rollups_and_spend_equal_the_ledger(engine: Engine) -> None:
    store = AccountStore(engine)
    account = store.create_account("parent")
    other = store.create_account("other")
    store.add_credit(account, 10**15)
    store.add_credit(other, 10**15)
    subs = [
        SubAccountStore(engine).create(account, name=f"s{i}", spend_cap_nanousd=10**14)[0].id
        for i in range(2)
    ]
    rng = random.Random(8)
    entries = _mixed(account, subs, rng, 400) + _mixed(other, [], rng, 50)
    sink = LedgerSink(engine)
    spent: dict[tuple[str, str], tuple[int, int]] = {}
    for start in range(0, 300, 75):
        result = sink.write(entries[start : start + 75])
        for key, (amount, stored) in result.spent.items():
            spent[key] = (spent.get(key, (0, 0))[0] + amount, stored)
    # A batch with a stored row in it is bisected; a replay of stored rows counts nothing twice.
    rest = [*entries[300:], entries[10]]
    result = sink.write(rest)
    assert (result.written, result.duplicates) == (len(rest) - 1, 1)
    for key, (amount, stored) in result.spent.items():
        spent[key] = (spent.get(key, (0, 0))[0] + amount, stored)
    replay = sink.write(entries[:120], idempotent=True)
    assert (replay.written, replay.duplicates, replay.spent) == (0, 120, {})

    usage = UsageStore(engine)
    for month in ("2026-05", "2026-06"):
        assert usage.check(account, month) == []
        assert usage.check(other, month) == []
        assert usage.rollup_totals(account, month) == usage.ledger_totals(account, month)
        rows = [e for e in entries if e.account_id == account and _month(e) == month]
        report = usage.by_tag(account, month)
        for side, mode in ((report.live, "live"), (report.test, "test")):
            mine = [e for e in rows if e.mode == mode]
            assert side.requests == len(mine)
            assert side.errors == sum(e.status != "ok" for e in mine)
            assert side.cost_nanousd == sum(e.cost_nanousd for e in mine)
            assert sum(d.requests for d in side.by_day) == len(mine)
            assert sum(m.cost_nanousd for m in side.by_model) == side.cost_nanousd
            tokens = side.units["tokens"]
            assert tokens.input == sum(e.input_units for e in mine if e.unit_kind == "tokens")
        assert [g.key for g in report.groups] == [None, "dev", "prod", "research"]
        for group in report.groups:
            tagged = [e for e in rows if e.tag == group.key and e.mode == "live"]
            assert group.live.cost_nanousd == sum(e.cost_nanousd for e in tagged)
        by_sub = usage.by_sub_account(account, month)
        assert [g.key for g in by_sub.groups] == [None, *sorted(subs)]
        assert (by_sub.live, by_sub.test) == (report.live, report.test)  # the account's totals
        assert sum(g.live.cost_nanousd for g in by_sub.groups) == report.live.cost_nanousd
        for sub in subs:
            (one,) = usage.for_sub_account(account, sub, month).groups
            (same,) = [g for g in by_sub.groups if g.key == sub]
            assert one == same
            assert one.test.requests == sum(e.sub_account_id == sub and e.mode == "test" for e in rows)

    # spend_periods: live, charged rows only; sub-accounts per month and lifetime, tags per month.
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for e in entries:
        if e.mode != "live" or e.cost_nanousd <= 0:
            continue
        if e.sub_account_id:
            expected[(f"sub:{e.sub_account_id}", _month(e))] += e.cost_nanousd
            expected[(f"sub:{e.sub_account_id}", "lifetime")] += e.cost_nanousd
        if e.tag:
            expected[(f"tag:{e.account_id}:{e.tag}", _month(e))] += e.cost_nanousd
    assert SpendStore(engine).spent(expected) == expected
    assert {k: amount for k, (amount, _stored) in spent.items()} == expected
    assert {k: stored for k, (_amount, stored) in spent.items()} == expected
    assert SubAccountStore(engine).spent(subs[0], "lifetime") == expected[(f"sub:{subs[0]}", "lifetime")]
    assert SpendStore(engine).one("sub:sub_none", "2026-05") == 0


def test_for_sub_account_with_no_traffic_is_zero(engine: Engine) -> None:
    account = AccountStore(engine).create_account("parent")
    (group,) = UsageStore(engine).for_sub_account(account, "sub_x", "2026-05").groups
    assert group.key == "sub_x" and group.live.requests == 0 and group.test.by_day == []
    with pytest.raises(ValueError):
        UsageStore(engine).by_tag(account, "2026-13")


def test_quarantined_rows_are_spent_but_not_rolled_up(engine: Engine) -> None:
    store = AccountStore(engine)
    account = store.create_account("parent")
    store.add_credit(account, 100 * CENT)
    sub = SubAccountStore(engine).create(account, name="s", spend_cap_nanousd=100 * CENT)[0].id
    batch = [_entry(account, sub=sub, tag="t", created_at=MAY) for _ in range(9)]
    broken = batch[4]
    broken.request_id = None  # type: ignore[assignment]  # NOT NULL: the ledger refuses the row
    result = LedgerSink(engine).write(batch)
    assert (result.written, result.quarantined) == (8, 1)
    assert result.balances[account] == 91 * CENT  # the quarantined row was debited too
    assert result.spent[(f"sub:{sub}", "2026-05")] == (9 * CENT, 9 * CENT)
    assert result.spent[(f"tag:{account}:t", "2026-05")] == (9 * CENT, 9 * CENT)
    with engine.connect() as conn:
        requests = conn.execute(select(func.sum(usage_rollups.c.requests))).scalar_one()
    assert requests == 8
    assert UsageStore(engine).check(account, "2026-05") == []


def test_threshold_events_fire_once_per_crossing(engine: Engine) -> None:
    store = AccountStore(engine)
    account = store.create_account("parent")
    store.add_credit(account, 10**12)
    subs = SubAccountStore(engine)
    monthly = subs.create(account, name="monthly", spend_cap_nanousd=10 * CENT)[0].id
    lifetime = subs.create(account, name="forever", spend_cap_nanousd=10 * CENT, cap_period="lifetime")[0].id
    BudgetStore(engine).upsert(account, "prod", 20 * CENT)
    sink = LedgerSink(engine, thresholds_pct=[50, 80, 100])
    box = OutboxStore(engine)

    def events() -> list[tuple[str, str]]:
        return [(e.type, e.dedupe_key) for e in box.for_account(account) if e.type != "subaccount.created"]

    sink.write([_entry(account, cost=7 * CENT, sub=monthly, tag="prod", created_at=MAY)])
    assert events() == [("usage.threshold.exceeded", f"usage.threshold:sub:{monthly}:2026-05:50")]
    sink.write([_entry(account, cost=CENT, sub=monthly, created_at=MAY)])  # 8 of 10: 80% exactly
    sink.write([_entry(account, cost=CENT, sub=monthly, created_at=MAY)])  # 9: nothing new
    assert events()[1:] == [("usage.threshold.exceeded", f"usage.threshold:sub:{monthly}:2026-05:80")]
    batch = [_entry(account, cost=2 * CENT, sub=monthly, tag="prod", created_at=MAY) for _ in range(2)]
    sink.write(batch)  # 13 of 10; the budget 11 of 20
    got = events()[2:]
    assert sorted(got) == sorted(
        [
            ("usage.threshold.exceeded", f"usage.threshold:sub:{monthly}:2026-05:100"),
            ("subaccount.spend.exceeded", f"subaccount.spend.exceeded:{monthly}:2026-05"),
            ("usage.threshold.exceeded", f"usage.threshold:tag:{account}:prod:2026-05:50"),
        ]
    )
    exceeded = next(e for e in box.for_account(account) if e.type == "subaccount.spend.exceeded")
    assert exceeded.data == {
        "sub_account_id": monthly,
        "period": "2026-05",
        "cap_cents": 10,
        "spent_cents": 13,
    }
    budget = next(e for e in box.for_account(account) if e.dedupe_key.startswith("usage.threshold:tag:"))
    assert budget.data == {
        "scope": "budget",
        "tag": "prod",
        "period": "2026-05",
        "threshold_pct": 50,
        "cap_cents": 20,
        "spent_cents": 11,
    }
    # A new month starts the monthly cap afresh; the lifetime cap counts across months.
    june = MAY + timedelta(hours=2)
    sink.write([_entry(account, cost=6 * CENT, sub=lifetime, created_at=MAY)])
    sink.write([_entry(account, cost=9 * CENT, sub=monthly, created_at=june)])
    sink.write([_entry(account, cost=5 * CENT, sub=lifetime, created_at=june)])
    new = {k for _, k in events()[5:]}
    assert new == {
        f"usage.threshold:sub:{lifetime}:lifetime:50",
        f"usage.threshold:sub:{monthly}:2026-06:50",
        f"usage.threshold:sub:{monthly}:2026-06:80",
        f"usage.threshold:sub:{lifetime}:lifetime:80",
        f"usage.threshold:sub:{lifetime}:lifetime:100",
        f"subaccount.spend.exceeded:{lifetime}:lifetime",
    }
    # Test traffic never counts.
    before = len(events())
    sink.write([_entry(account, cost=50 * CENT, sub=monthly, tag="prod", mode="test", created_at=june)])
    assert len(events()) == before


def test_balance_events_and_rearming_by_top_up(engine: Engine) -> None:
    store = AccountStore(engine)
    account = store.create_account("parent")
    store.add_credit(account, 150 * CENT)
    sink = LedgerSink(engine, balance_low_nanousd=100 * CENT)
    box = OutboxStore(engine)

    def events() -> list[str]:
        return [e.dedupe_key for e in box.for_account(account)]

    sink.write([_entry(account, cost=40 * CENT)])  # 110: above the mark
    assert events() == []
    sink.write([_entry(account, cost=20 * CENT), _entry(account, cost=CENT)])  # 89: crossed
    with engine.connect() as conn:
        credit = conn.exec_driver_sql("SELECT MAX(id) FROM wallet_credits").scalar_one()
    assert events() == [f"balance.low:{account}:{credit}"]
    low = box.for_account(account)[0]
    assert low.data == {"account_id": account, "balance_cents": 89, "threshold_cents": 100}
    sink.write([_entry(account, cost=89 * CENT)])  # 0: exhausted
    assert events()[1:] == [f"balance.exhausted:{account}:{credit}"]
    sink.write([_entry(account, cost=CENT)])  # below zero already: nothing new
    assert len(events()) == 2
    store.add_credit(account, 150 * CENT)  # 149: re-armed
    sink.write([_entry(account, cost=60 * CENT, mode="test")])  # test: no debit
    sink.write([_entry(account, cost=60 * CENT)])
    assert len(events()) == 3 and events()[2] == f"balance.low:{account}:{credit + 1}"


def test_flush_without_charges_touches_no_spend(engine: Engine) -> None:
    account = AccountStore(engine).create_account("parent")
    result = LedgerSink(engine).write(
        [_entry(account, cost=0, tag="t"), _entry(account, mode="test", tag="t")]
    )
    assert result.written == 2 and result.spent == {}
    assert UsageStore(engine).by_tag(account, datetime.now(UTC).strftime("%Y-%m")).test.requests == 1
