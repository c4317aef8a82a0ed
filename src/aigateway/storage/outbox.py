"""The durable outbox: events written in the transaction of the state change they report.

Writing the event with the change (not after it) means a crash can never leave one without the
other. ``dedupe_key`` is unique and inserts skip a conflict (``ON CONFLICT DO NOTHING``, which SQLite
and PostgreSQL both have), so several processes that see the same crossing store one event. The
webhook deliverer reads ``pending`` and calls ``mark_delivered``.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select, update
from sqlalchemy.dialects import postgresql, sqlite

from aigateway.core.ledger import utcnow
from aigateway.core.money import nano_to_cents_str
from aigateway.storage.accounts import as_utc
from aigateway.storage.schema import outbox

# Decimal values are written as exact JSON numbers (cents): json has no hook for raw number text, so
# they go through as a marked string and the marks are taken off afterwards.
_DECIMAL_MARK = "\u0001dec:"
_DECIMAL_TEXT = re.compile(r'"\\u0001dec:(-?[0-9.]+)"')


def new_event_id() -> str:
    """``evt_`` + 12 hex digits of the millisecond clock + 12 random hex: ids sort by time."""
    return f"evt_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


def cents(nano: int) -> Decimal:
    """Nano-dollars as exact cents for an event's data (rendered as a JSON number)."""
    return Decimal(nano_to_cents_str(nano))


def dumps(data: Mapping[str, Any]) -> str:
    def default(value: object) -> str:
        if isinstance(value, Decimal):
            return _DECIMAL_MARK + format(value, "f")
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(f"not JSON: {type(value).__name__}")

    return _DECIMAL_TEXT.sub(r"\1", json.dumps(dict(data), default=default, ensure_ascii=False))


def write(conn: Connection, account_id: str, type: str, data: Mapping[str, Any], dedupe_key: str) -> bool:
    """Add an event inside the caller's transaction; False when ``dedupe_key`` is already stored."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(outbox)
        .values(
            id=new_event_id(),
            account_id=account_id,
            type=type,
            payload=dumps(data),
            dedupe_key=dedupe_key,
            created_at=utcnow(),
            delivered_at=None,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(outbox.c.id)
    )
    # RETURNING, not rowcount: through SQLAlchemy on psycopg a skipped conflict still counted one row.
    return conn.execute(statement).first() is not None


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    id: str
    account_id: str
    type: str
    data: dict[str, Any]  # cents as exact Decimals
    payload: str  # the stored JSON text: what a deliverer sends as the event's data
    dedupe_key: str
    created_at: datetime
    delivered_at: datetime | None
    attempts: int

    @property
    def occurred_at(self) -> int:
        """Unix seconds, as the contract's WebhookEvent carries it."""
        return int(self.created_at.timestamp())


class OutboxStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pending(self, limit: int = 100) -> list[OutboxEvent]:
        """Undelivered events, oldest first."""
        query = (
            select(outbox)
            .where(outbox.c.delivered_at.is_(None))
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_event(r) for r in rows]

    def for_account(self, account_id: str, *, limit: int = 100) -> list[OutboxEvent]:
        """An account's events, oldest first (delivered or not): for tests and operators."""
        query = select(outbox).where(outbox.c.account_id == account_id).order_by(outbox.c.id).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_event(r) for r in rows]

    def mark_delivered(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(ids)), outbox.c.delivered_at.is_(None))
                .values(delivered_at=utcnow())
            )
        return int(result.rowcount)

    def record_attempt(self, ids: Sequence[str]) -> None:
        """Count a failed delivery attempt (the deliverer backs off by it)."""
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox).where(outbox.c.id.in_(list(ids))).values(attempts=outbox.c.attempts + 1)
            )


def _event(row: RowMapping) -> OutboxEvent:
    return OutboxEvent(
        id=row["id"],
        account_id=row["account_id"],
        type=row["type"],
        data=json.loads(row["payload"], parse_float=Decimal),
        payload=row["payload"],
        dedupe_key=row["dedupe_key"],
        created_at=as_utc(row["created_at"]),
        delivered_at=None if row["delivered_at"] is None else as_utc(row["delivered_at"]),
        attempts=int(row["attempts"]),
    )
