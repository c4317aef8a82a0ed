"""The ledger journal: one line per recorded entry, rotated at each flush, unlinked once stored,
replayed (once) from dead processes, never from a live one. Runs on a SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from aigateway.core.ledger import LedgerEntry
from aigateway.services.ledger_writer import LedgerWriter
from aigateway.services.limits import MemorySpendBook
from aigateway.services.limits_setup import scope_loader
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.schema import ledger
from aigateway.storage.spend import SpendStore

CREDIT = 1_000_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AccountStore]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    yield AccountStore(engine)
    engine.dispose()


@pytest.fixture
def account(store: AccountStore) -> str:
    account_id = store.create_account("journal")
    store.add_credit(account_id, CREDIT)
    return account_id


def _entry(account: str, n: int, cost: int = 10) -> LedgerEntry:
    return LedgerEntry(
        request_id=f"req-{n}",
        account_id=account,
        key_id="key_x",
        endpoint="chat.completions",
        model="sim/gpt",
        provider="sim",
        upstream_model="sim-gpt",
        mode="live",
        status="ok",
        http_status=200,
        input_units=3,
        output_units=4,
        cost_nanousd=cost,
        meters={"input_tokens": 3, "output_tokens": 4},
    )


def _writer(store: AccountStore, journal: Path, **kw: object) -> LedgerWriter:
    kw.setdefault("rotate_bytes", 0)  # these tests follow a segment per flush; see the rotation test
    loader = scope_loader(store, SpendStore(store.engine))
    return LedgerWriter(
        store.engine,
        store,
        MemorySpendBook(loader, refresh_s=60),
        loader=loader,
        interval_s=3600,  # the tests flush by hand
        batch_size=kw.pop("batch_size", 100),  # type: ignore[arg-type]
        journal_dir=journal,
        **kw,  # type: ignore[arg-type]
    )


def _segments(journal: Path) -> list[Path]:
    return sorted(journal.glob("ledger-*.jsonl"))


def _lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _rows(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return sorted((r[0], r[1]) for r in conn.execute(select(ledger.c.call_id, ledger.c.request_id)))


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ledger)).scalar_one())


def _abandon(writer: LedgerWriter) -> None:
    """What ``kill -9`` leaves: the segment files, unlocked, with nothing flushed."""
    writer._journal.close(keep=True)


def test_record_journals_one_line_and_flush_rotates_and_unlinks(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"

    async def scenario() -> None:
        writer = _writer(store, journal)
        first = _segments(journal)
        assert len(first) == 1 and first[0].stat().st_size == 0
        assert first[0].name.startswith(f"ledger-{os.getpid()}-")
        entries = [_entry(account, n) for n in range(3)]
        for entry in entries:
            writer.record(entry)
            await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        lines = _lines(first[0])
        assert [LedgerEntry.from_json_dict(line) for line in lines] == entries
        assert await writer.flush() is True
        after = _segments(journal)
        assert first[0] not in after and len(after) == 1  # sealed, stored, unlinked; a fresh one open
        assert after[0].stat().st_size == 0
        assert await writer.flush() is True  # nothing buffered: no rotation
        assert _segments(journal) == after
        await writer.close()

    asyncio.run(scenario())
    assert _segments(journal) == []
    assert len(_rows(store.engine)) == 3
    assert store.balances([account]) == {account: CREDIT - 30}


def test_a_failed_flush_keeps_the_segment_until_it_is_stored(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"

    async def scenario() -> None:
        writer = _writer(store, journal)
        real_write = writer._sink.write
        calls = {"n": 0}

        def flaky(entries: list[LedgerEntry], *, idempotent: bool = False) -> object:
            calls["n"] += 1
            if calls["n"] == 1:
                raise OperationalError("INSERT", {}, Exception("database is locked"))
            return real_write(entries, idempotent=idempotent)

        writer._sink.write = flaky  # type: ignore[method-assign,assignment]
        writer.record(_entry(account, 1))
        await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        writer.record(_entry(account, 2))
        await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        sealed = _segments(journal)[0]
        assert await writer.flush() is False
        assert sealed.exists() and len(_lines(sealed)) == 2
        writer.record(_entry(account, 3))  # goes to the fresh segment
        await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        fresh = [p for p in _segments(journal) if p != sealed]
        assert len(fresh) == 1 and len(_lines(fresh[0])) == 1
        assert _count(store.engine) == 0
        assert await writer.flush() is True
        assert not sealed.exists() and not fresh[0].exists()
        await writer.close()

    asyncio.run(scenario())
    assert _count(store.engine) == 3
    assert store.balances([account]) == {account: CREDIT - 30}


def test_a_dead_process_journal_is_replayed_once_however_often_it_is_read(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"
    copy = tmp_path / "copy"

    async def scenario() -> None:
        dead = _writer(store, journal)
        for n in range(5):
            dead.record(_entry(account, n, cost=100))
            await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        # The first two reached storage before the crash; the segment was not unlinked yet.
        dead._sink.write(dead._buffer[:2])
        _abandon(dead)
        shutil.copytree(journal, copy)

        second = _writer(store, journal)
        await second.start()
        assert _count(store.engine) == 5
        await second.close()
        assert _segments(journal) == []

        # The same files once more (a crash between storing and unlinking): nothing new.
        shutil.copytree(copy, journal, dirs_exist_ok=True)
        third = _writer(store, journal)
        await third.start()
        await third.close()

    asyncio.run(scenario())
    rows = _rows(store.engine)
    assert len(rows) == 5 and len({call for call, _ in rows}) == 5
    assert store.balances([account]) == {account: CREDIT - 500}
    assert _segments(journal) == []


def test_a_segment_locked_by_a_live_sibling_is_left_alone(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    sibling = journal / "ledger-99999-cafebabe-00000001.jsonl"
    sibling.write_bytes(orjson.dumps(_entry(account, 1).to_json_dict()) + b"\n")
    fd = os.open(sibling, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a live worker holds it (own descriptor)

    async def start_and_close() -> None:
        writer = _writer(store, journal)
        await writer.start()
        await writer.close()

    try:
        asyncio.run(start_and_close())
        assert sibling.exists() and _count(store.engine) == 0
    finally:
        os.close(fd)  # the sibling dies
    asyncio.run(start_and_close())
    assert not sibling.exists() and _count(store.engine) == 1


def test_a_torn_line_is_kept_for_a_person_and_the_rest_replayed(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"
    journal.mkdir()
    dead = journal / "ledger-99999-deadbeef-00000001.jsonl"
    good = orjson.dumps(_entry(account, 1).to_json_dict()) + b"\n"
    torn = orjson.dumps(_entry(account, 2).to_json_dict())[:50]
    dead.write_bytes(good + torn)

    async def start_and_close() -> None:
        writer = _writer(store, journal)
        await writer.start()
        await writer.close()

    asyncio.run(start_and_close())
    assert _count(store.engine) == 1
    assert not dead.exists()
    assert (journal / (dead.name + ".unreadable")).read_bytes() == good + torn


def test_spill_files_of_earlier_versions_are_replayed(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    spill = data / "spill"
    spill.mkdir(parents=True)
    old = dataclasses.asdict(_entry(account, 7, cost=70))
    for name in ("call_id", "operation", "unit_kind", "price_basis", "origin", "parent_id", "sub_account_id"):
        old.pop(name)  # what the previous LedgerEntry did not have
    old["created_at"] = datetime(2026, 11, 1, tzinfo=UTC)
    (spill / "ledger-spill-20261101T000000000000.jsonl").write_bytes(orjson.dumps(old) + b"\n")

    async def start_and_close() -> None:
        writer = _writer(store, data / "ledger-journal")
        await writer.start()
        await writer.close()

    asyncio.run(start_and_close())
    assert _rows(store.engine) == [("req-7", "req-7")]  # call id = request id, as the migration does
    assert list(spill.iterdir()) == []
    assert store.balances([account]) == {account: CREDIT - 70}


def test_storage_down_at_shutdown_leaves_the_journal_for_the_next_start(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"

    def down(entries: list[LedgerEntry], *, idempotent: bool = False) -> object:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    async def scenario() -> None:
        writer = _writer(store, journal)
        writer._sink.write = down  # type: ignore[method-assign,assignment]
        writer.record(_entry(account, 1))
        await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        await writer.close()
        assert sum(len(_lines(p)) for p in _segments(journal)) == 1
        writer.record(_entry(account, 2))  # settled after shutdown: a file of its own
        await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        assert sum(len(_lines(p)) for p in _segments(journal)) == 2

        again = _writer(store, journal)
        await again.start()
        await again.close()

    asyncio.run(scenario())
    assert _count(store.engine) == 2
    assert _segments(journal) == []


def test_backpressure_counts_entries_taken_but_not_stored(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        writer = _writer(store, tmp_path / "journal", high_water=4)
        real_write = writer._sink.write

        def down(entries: list[LedgerEntry], *, idempotent: bool = False) -> object:
            raise OperationalError("INSERT", {}, Exception("connection refused"))

        writer._sink.write = down  # type: ignore[method-assign,assignment]
        for n in range(3):
            writer.record(_entry(account, n))
            await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        assert await writer.flush() is False  # taken, not stored
        writer.record(_entry(account, 3))
        await asyncio.sleep(0)  # the iteration ends: its journal lines are written
        waiter = asyncio.create_task(writer.wait_for_room())
        await asyncio.sleep(0)
        assert not waiter.done()
        writer._sink.write = real_write  # type: ignore[method-assign]
        assert await writer.flush() is True
        await asyncio.wait_for(waiter, 5)
        await writer.close()

    asyncio.run(scenario())
    assert _count(store.engine) == 4


def test_small_segments_are_kept_across_flushes_and_unlinked_once_stored(
    store: AccountStore, account: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal"

    async def scenario() -> None:
        writer = _writer(store, journal, rotate_bytes=10**9)
        try:
            writer.record(_entry(account, 1))
            await asyncio.sleep(0)
            first = _segments(journal)
            assert await writer.flush() is True
            assert _segments(journal) == first  # under the rotation size: the same segment carries on
            writer.record(_entry(account, 2))
            await asyncio.sleep(0)
            assert len(_lines(first[0])) == 2
            assert await writer.flush() is True
            assert _count(store.engine) == 2
        finally:
            await writer.close()
        assert _segments(journal) == []  # everything stored: a clean close unlinks it

    asyncio.run(scenario())
