"""FileStore (storage/files.py) on SQLite and PostgreSQL with an injected clock: expiry, pages,
isolation, deletion, and what a failed write leaves behind."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from aigateway.storage.blobs import LocalBlobStore, UrlSigner
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.files import FileStore

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(fresh_db: str, clock: Clock, tmp_path: Path) -> Iterator[FileStore]:
    engine = create_db_engine(fresh_db)
    migrate(engine)
    blobs = LocalBlobStore(tmp_path / "blobs", UrlSigner(b"s" * 32), None, "http://h")
    try:
        yield FileStore(engine, blobs, clock)
    finally:
        engine.dispose()


def _put(store: FileStore, account: str, data: bytes = b"x", **kw: object) -> str:
    return store.create_bytes(account, filename="f.txt", purpose="user_data", data=data, **kw).id  # type: ignore[arg-type]


def test_the_migration_makes_the_files_table(store: FileStore) -> None:
    columns = {c["name"] for c in inspect(store.engine).get_columns("files")}
    assert {
        "id",
        "account_id",
        "sub_account_id",
        "filename",
        "purpose",
        "bytes",
        "blob_key",
        "expires_at",
    } <= columns


def test_a_file_reads_back_and_ids_sort_by_creation(store: FileStore, clock: Clock) -> None:
    ids = []
    for i in range(3):
        ids.append(_put(store, "acct_a", b"%d" % i))
        clock.now += 0.002
    assert sorted(ids) == ids and all(i.startswith("file-") and len(i) == 29 for i in ids)
    record = store.get("acct_a", ids[0])
    assert record is not None and record.bytes == 1 and record.status == "processed"
    assert record.created_at == datetime.fromtimestamp(T0, UTC)
    chunks = store.content(record)
    assert chunks is not None and b"".join(chunks) == b"0"
    page, more = store.list("acct_a", limit=2)
    assert [r.id for r in page] == ids[::-1][:2] and more
    page, more = store.list("acct_a", limit=2, after=ids[1])
    assert [r.id for r in page] == [ids[0]] and not more
    page, _ = store.list("acct_a", order="asc", after=ids[0])
    assert [r.id for r in page] == ids[1:]


def test_an_expired_file_reads_as_gone(store: FileStore, clock: Clock) -> None:
    expires = datetime.fromtimestamp(T0 + 3600, UTC)
    file_id = _put(store, "acct_a", expires_at=expires)
    assert store.get("acct_a", file_id) is not None
    clock.now += 3601
    assert store.get("acct_a", file_id) is None
    assert store.list("acct_a") == ([], False)
    assert not store.delete("acct_a", file_id)


def test_accounts_and_sub_accounts_see_only_what_is_theirs(store: FileStore) -> None:
    parents = _put(store, "acct_a")
    subs = _put(store, "acct_a", sub_account_id="sub_1")
    assert store.get("acct_b", parents) is None and store.get("acct_b", subs) is None
    assert store.get("acct_a", parents, "sub_1") is None
    assert store.get("acct_a", subs, "sub_2") is None
    assert {r.id for r in store.list("acct_a")[0]} == {parents, subs}
    assert [r.id for r in store.list("acct_a", sub_account_id="sub_1")[0]] == [subs]
    assert not store.delete("acct_b", parents) and not store.delete("acct_a", parents, "sub_1")
    assert store.get("acct_a", parents) is not None


def test_delete_hides_the_row_and_removes_the_blob(store: FileStore, clock: Clock) -> None:
    file_id = _put(store, "acct_a", b"bytes")
    record = store.get("acct_a", file_id)
    assert record is not None
    assert store.delete("acct_a", file_id)
    assert store.get("acct_a", file_id) is None and store.blobs.get(record.blob_key) is None
    assert not store.delete("acct_a", file_id)


def test_a_row_that_cannot_be_written_leaves_no_blob(store: FileStore, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        store.create("acct_a", filename="f", purpose="nope", source=io.BytesIO(b"x"), size=1)
    store.engine.dispose()
    broken = FileStore(create_db_engine(f"sqlite:///{tmp_path / 'no-tables.db'}"), store.blobs)
    with pytest.raises(Exception):  # noqa: B017 - no files table: whatever the driver raises
        _put(broken, "acct_a")
    assert not [p for p in (tmp_path / "blobs").rglob("*") if p.is_file() and not p.name.endswith(".type")]
    broken.engine.dispose()
