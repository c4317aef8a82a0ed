"""Files: a row per file (storage/schema.py ``files``) describing a blob in the blob store.

The blob is written first and the row second, so a row always has its bytes; a crash between the two
leaves an orphan blob under ``files/`` that no row names (harmless, never served). Deleting marks the
row first (from then on the file is gone for every reader) and then removes the blob.

A file belongs to its account; ``sub_account_id`` records which sub-account uploaded it. Readers pass
``sub_account_id`` when the caller is a sub-account key: it then sees only its own files, and any
other id reads exactly like one that does not exist. A file past ``expires_at`` reads as gone too.

Synchronous (database and blob store): async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy import Engine, RowMapping, insert, or_, select, update

from aigateway.storage.accounts import as_utc
from aigateway.storage.blobs import BlobStore
from aigateway.storage.schema import files

# OpenAI's purposes, plus the gateway's own batch_output (written by batches, readable by clients).
PURPOSES = ("assistants", "batch", "batch_output", "fine-tune", "vision", "user_data")
MAX_FILENAME = 500
MAX_LIST = 10_000


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: str
    account_id: str
    sub_account_id: str | None
    filename: str
    purpose: str
    bytes: int
    content_type: str
    blob_key: str
    status: str
    created_at: datetime
    deleted_at: datetime | None
    expires_at: datetime | None


def new_file_id(now_s: float) -> str:
    """``file-`` + 12 hex of the ms clock + 12 random hex: ids sort in creation order (pages by id)."""
    return f"file-{int(now_s * 1000):012x}{secrets.token_hex(6)}"


class FileStore:
    def __init__(self, engine: Engine, blobs: BlobStore, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.blobs = blobs
        self.clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def create(
        self,
        account_id: str,
        *,
        filename: str,
        purpose: str,
        source: BinaryIO,
        size: int,
        content_type: str = "application/octet-stream",
        sub_account_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> FileRecord:
        """Store ``source`` (read in chunks from its current position, ``size`` bytes) as a new file."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        now = self._now()
        file_id = new_file_id(now.timestamp())
        key = f"files/{account_id}/{file_id}"
        self.blobs.put_file(key, source, content_type)
        row: dict[str, Any] = {
            "id": file_id,
            "account_id": account_id,
            "sub_account_id": sub_account_id,
            "filename": filename[:MAX_FILENAME],
            "purpose": purpose,
            "bytes": size,
            "content_type": content_type[:200],
            "blob_key": key,
            "status": "processed",
            "created_at": now,
            "deleted_at": None,
            "expires_at": expires_at,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(files).values(**row))
        except Exception:
            self.blobs.delete(key)
            raise
        return FileRecord(**row)

    def create_bytes(
        self, account_id: str, *, filename: str, purpose: str, data: bytes, **kw: Any
    ) -> FileRecord:
        """A file from bytes in memory (files the gateway writes itself, e.g. a batch's output)."""
        return self.create(
            account_id, filename=filename, purpose=purpose, source=io.BytesIO(data), size=len(data), **kw
        )

    def _visible(self, account_id: str, sub_account_id: str | None) -> list[Any]:
        now = self._now()
        where = [
            files.c.account_id == account_id,
            files.c.deleted_at.is_(None),
            or_(files.c.expires_at.is_(None), files.c.expires_at > now),
        ]
        if sub_account_id is not None:
            where.append(files.c.sub_account_id == sub_account_id)
        return where

    def get(self, account_id: str, file_id: str, sub_account_id: str | None = None) -> FileRecord | None:
        query = select(files).where(files.c.id == file_id, *self._visible(account_id, sub_account_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _record(row) if row else None

    def list(
        self,
        account_id: str,
        *,
        sub_account_id: str | None = None,
        purpose: str | None = None,
        limit: int = MAX_LIST,
        after: str | None = None,
        order: str = "desc",
    ) -> tuple[list[FileRecord], bool]:
        """A page of files (newest first unless ``order="asc"``) after the file ``after``; has_more."""
        where = self._visible(account_id, sub_account_id)
        if purpose is not None:
            where.append(files.c.purpose == purpose)
        if after is not None:
            where.append(files.c.id > after if order == "asc" else files.c.id < after)
        column = files.c.id.asc() if order == "asc" else files.c.id.desc()
        query = select(files).where(*where).order_by(column).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_record(r) for r in rows[:limit]], len(rows) > limit

    def delete(self, account_id: str, file_id: str, sub_account_id: str | None = None) -> bool:
        """Mark the file deleted (gone for every reader at once), then remove its blob."""
        record = self.get(account_id, file_id, sub_account_id)
        if record is None:
            return False
        with self.engine.begin() as conn:
            done = conn.execute(
                update(files)
                .where(files.c.id == file_id, files.c.deleted_at.is_(None))
                .values(deleted_at=self._now())
            ).rowcount
        if done:
            self.blobs.delete(record.blob_key)
        return bool(done)

    def content(self, record: FileRecord) -> Iterator[bytes] | None:
        """The file's bytes in chunks (None if its blob is gone)."""
        found = self.blobs.stream(record.blob_key)
        return None if found is None else found[0]


def _record(row: RowMapping) -> FileRecord:
    return FileRecord(
        id=row["id"],
        account_id=row["account_id"],
        sub_account_id=row["sub_account_id"],
        filename=row["filename"],
        purpose=row["purpose"],
        bytes=int(row["bytes"]),
        content_type=row["content_type"],
        blob_key=row["blob_key"],
        status=row["status"],
        created_at=as_utc(row["created_at"]),
        deleted_at=as_utc(row["deleted_at"]) if row["deleted_at"] else None,
        expires_at=as_utc(row["expires_at"]) if row["expires_at"] else None,
    )
