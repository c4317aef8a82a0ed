"""Webhook storage: signing secrets, endpoints, and the deliveries the deliverer sends.

An outbox event becomes a delivery in one transaction that also marks it taken in the outbox
(``outbox.delivered_at``: handed to the deliverer), so a crash leaves it in exactly one of the two
places. The delivery's id is fixed from then on: every attempt, in whichever process, sends it as
``x-aig-delivery-id``. Sending starts with a claim (an UPDATE of due rows that sets a claim token and
a lease, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite runs one writer at a time, so the UPDATE
itself is atomic), which also counts the attempt: two processes never send the same attempt, and a
killed sender's claim runs out so another process sends the next attempt with the same id.
"""

from __future__ import annotations

import json
import secrets as random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, RowMapping, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from aigateway.storage.accounts import as_utc
from aigateway.storage.schema import outbox, webhook_deliveries, webhook_endpoints, webhook_secrets


def new_secret() -> str:
    return "whsec_" + random.token_hex(24)


def new_delivery_id() -> str:
    return "whd_" + random.token_hex(12)


def _opt(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


@dataclass(frozen=True, slots=True)
class SecretRecord:
    account_id: str
    secret: str
    previous_secret: str | None
    previous_expires_at: datetime | None
    created_at: datetime
    rotated_at: datetime | None

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, then the previous one while its overlap lasts."""
        found = [self.secret]
        if self.previous_secret and self.previous_expires_at is not None and now < self.previous_expires_at:
            found.append(self.previous_secret)
        return found


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    account_id: str
    url: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    event_id: str
    account_id: str
    event_type: str
    url: str
    body: str
    attempts: int  # after a claim: the number of the attempt being sent (1-based)
    next_attempt_at: datetime
    claim_token: str | None
    last_status: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    given_up_at: datetime | None


def _secret(row: RowMapping) -> SecretRecord:
    return SecretRecord(
        row["account_id"],
        row["secret"],
        row["previous_secret"],
        _opt(row["previous_expires_at"]),
        as_utc(row["created_at"]),
        _opt(row["rotated_at"]),
    )


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        event_id=row["event_id"],
        account_id=row["account_id"],
        event_type=row["event_type"],
        url=row["url"],
        body=row["body"],
        attempts=int(row["attempts"]),
        next_attempt_at=as_utc(row["next_attempt_at"]),
        claim_token=row["claim_token"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        last_attempt_at=_opt(row["last_attempt_at"]),
        created_at=as_utc(row["created_at"]),
        delivered_at=_opt(row["delivered_at"]),
        given_up_at=_opt(row["given_up_at"]),
    )


def event_body(event_id: str, type: str, occurred_at: int, payload: str) -> str:
    """The WebhookEvent JSON, with the outbox's stored data text as is (its cents stay exact)."""
    return (
        f'{{"id":{json.dumps(event_id)},"type":{json.dumps(type)},"occurred_at":{int(occurred_at)},'
        f'"data":{payload}}}'
    )


class WebhookStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self):  # type: ignore[no-untyped-def]
        return postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert

    # -- secrets -------------------------------------------------------------------------------
    def secret(self, account_id: str, now: datetime) -> SecretRecord:
        """The account's secret, made on first use (two processes making it at once keep one)."""
        return self.secrets([account_id], now)[account_id]

    def secrets(self, account_ids: Sequence[str], now: datetime) -> dict[str, SecretRecord]:
        wanted = sorted(set(account_ids))
        if not wanted:
            return {}
        query = select(webhook_secrets).where(webhook_secrets.c.account_id.in_(wanted))
        with self.engine.begin() as conn:
            found = {r["account_id"]: _secret(r) for r in conn.execute(query).mappings()}
            missing = [a for a in wanted if a not in found]
            for account_id in missing:
                conn.execute(
                    self._insert()(webhook_secrets)
                    .values(account_id=account_id, secret=new_secret(), created_at=now)
                    .on_conflict_do_nothing(index_elements=["account_id"])
                )
            if missing:
                again = select(webhook_secrets).where(webhook_secrets.c.account_id.in_(missing))
                found.update({r["account_id"]: _secret(r) for r in conn.execute(again).mappings()})
        return found

    def rotate(self, account_id: str, now: datetime, overlap_s: int) -> SecretRecord:
        """A new current secret; the old one keeps signing (as a second v1) for ``overlap_s``."""
        self.secret(account_id, now)
        with self.engine.begin() as conn:
            conn.execute(
                update(webhook_secrets)
                .where(webhook_secrets.c.account_id == account_id)
                .values(
                    previous_secret=webhook_secrets.c.secret,
                    previous_expires_at=now + timedelta(seconds=overlap_s),
                    secret=new_secret(),
                    rotated_at=now,
                )
            )
            row = (
                conn.execute(select(webhook_secrets).where(webhook_secrets.c.account_id == account_id))
                .mappings()
                .one()
            )
        return _secret(row)

    # -- endpoints -----------------------------------------------------------------------------
    def endpoint(self, account_id: str) -> EndpointRecord | None:
        query = select(webhook_endpoints).where(webhook_endpoints.c.account_id == account_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _endpoint(row)

    def set_endpoint(self, account_id: str, url: str | None, now: datetime) -> EndpointRecord | None:
        """Set (or with None, remove) where the account's events go; deliveries already made keep theirs."""
        with self.engine.begin() as conn:
            if url is None:
                conn.execute(webhook_endpoints.delete().where(webhook_endpoints.c.account_id == account_id))
                return None
            statement = self._insert()(webhook_endpoints).values(
                account_id=account_id, url=url, created_at=now, updated_at=now
            )
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["account_id"], set_={"url": url, "updated_at": now}
                )
            )
            row = (
                conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.account_id == account_id))
                .mappings()
                .one()
            )
        return _endpoint(row)

    # -- deliveries ----------------------------------------------------------------------------
    def take_events(self, now: datetime, limit: int = 100) -> int:
        """Turn pending outbox events into deliveries (one per event, to the account's endpoint
        now); events of an account without an endpoint are taken and not sent. Returns how many
        deliveries were made."""
        made = 0
        with self.engine.begin() as conn:
            events = conn.execute(
                select(outbox.c.id, outbox.c.account_id, outbox.c.type, outbox.c.payload, outbox.c.created_at)
                .where(outbox.c.delivered_at.is_(None))
                .order_by(outbox.c.created_at, outbox.c.id)
                .limit(limit)
            ).all()
            if not events:
                return 0
            accounts = sorted({e.account_id for e in events})
            urls = dict(
                conn.execute(
                    select(webhook_endpoints.c.account_id, webhook_endpoints.c.url).where(
                        webhook_endpoints.c.account_id.in_(accounts)
                    )
                ).all()
            )
            for event in events:
                url = urls.get(event.account_id)
                if url is None:
                    continue
                body = event_body(
                    event.id, event.type, int(as_utc(event.created_at).timestamp()), event.payload
                )
                inserted = conn.execute(
                    self._insert()(webhook_deliveries)
                    .values(
                        id=new_delivery_id(),
                        event_id=event.id,
                        account_id=event.account_id,
                        event_type=event.type,
                        url=url,
                        body=body,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["event_id"])
                    .returning(webhook_deliveries.c.id)
                ).first()
                made += inserted is not None
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([e.id for e in events]), outbox.c.delivered_at.is_(None))
                .values(delivered_at=now)
            )
        return made

    def claim(self, now: datetime, lease_s: float, limit: int = 50) -> list[Delivery]:
        """Claim due deliveries for one attempt each (the attempt count goes up by one)."""
        token = random.token_hex(12)
        due = (
            select(webhook_deliveries.c.id)
            .where(
                webhook_deliveries.c.delivered_at.is_(None),
                webhook_deliveries.c.given_up_at.is_(None),
                webhook_deliveries.c.next_attempt_at <= now,
                or_(webhook_deliveries.c.claimed_until.is_(None), webhook_deliveries.c.claimed_until <= now),
            )
            .order_by(webhook_deliveries.c.next_attempt_at)
            .limit(limit)
        )
        if self.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        statement = (
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.id.in_(due.scalar_subquery()),
                # checked again by the UPDATE itself: a row claimed meanwhile is not taken twice
                or_(webhook_deliveries.c.claimed_until.is_(None), webhook_deliveries.c.claimed_until <= now),
            )
            .values(
                attempts=webhook_deliveries.c.attempts + 1,
                claim_token=token,
                claimed_until=now + timedelta(seconds=lease_s),
                last_attempt_at=now,
            )
            .returning(*webhook_deliveries.c)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(statement).mappings().all()
        return sorted((_delivery(r) for r in rows), key=lambda d: d.next_attempt_at)

    def finish(
        self,
        delivery: Delivery,
        now: datetime,
        *,
        status: int | None,
        error: str | None,
        delivered: bool,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Record an attempt's outcome: delivered, retried at ``next_attempt_at``, or (None) given up.
        Only the claim's holder may (False when the claim was lost, e.g. its lease ran out)."""
        values: dict[str, object] = {
            "last_status": status,
            "last_error": None if error is None else error[:500],
            "claim_token": None,
            "claimed_until": None,
        }
        if delivered:
            values["delivered_at"] = now
        elif next_attempt_at is None:
            values["given_up_at"] = now
        else:
            values["next_attempt_at"] = next_attempt_at
        with self.engine.begin() as conn:
            result = conn.execute(
                update(webhook_deliveries)
                .where(
                    and_(
                        webhook_deliveries.c.id == delivery.id,
                        webhook_deliveries.c.claim_token == delivery.claim_token,
                    )
                )
                .values(**values)
            )
        return int(result.rowcount) == 1

    def get(self, delivery_id: str) -> Delivery | None:
        query = select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _delivery(row)

    def for_account(self, account_id: str, limit: int = 100) -> list[Delivery]:
        """An account's deliveries, oldest first (for operators and tests)."""
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.account_id == account_id)
            .order_by(webhook_deliveries.c.created_at, webhook_deliveries.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(query).mappings()]


def _endpoint(row: RowMapping) -> EndpointRecord:
    return EndpointRecord(row["account_id"], row["url"], as_utc(row["created_at"]), as_utc(row["updated_at"]))
