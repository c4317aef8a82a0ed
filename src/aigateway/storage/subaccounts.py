"""Sub-accounts: a parent account's customers or teams, each with a scoped key and a hard spend cap.

A sub-account spends from its parent's wallet (ledger rows carry the parent's account_id and the
sub-account's id). Every change that a webhook reports is made in one transaction with its outbox
event. Deleting one keeps its row (and its ledger rows) with ``deleted_at`` set and revokes every key
of it at once; get and list never return a deleted one.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, and_, or_, select, update

from aigateway.core.keys import display_prefix, generate_key, hash_key, new_id
from aigateway.core.ledger import utcnow
from aigateway.storage import outbox
from aigateway.storage.accounts import KeyRecord, as_utc, insert_key, key_query, key_record
from aigateway.storage.schema import accounts, api_keys, sub_accounts
from aigateway.storage.spend import SpendStore, sub_scope

MODES = ("live", "test")
CAP_PERIODS = ("month", "lifetime")
# What update() may change; the ones that may be None (cleared).
_CHANGEABLE = ("name", "external_ref", "spend_cap_nanousd", "cap_period", "rate_limit_rpm", "default_tag")
_NULLABLE = ("external_ref", "rate_limit_rpm", "default_tag")


@dataclass(frozen=True, slots=True)
class SubAccountRecord:
    id: str
    account_id: str
    name: str
    external_ref: str | None
    mode: str
    spend_cap_nanousd: int
    cap_period: str
    rate_limit_rpm: int | None
    default_tag: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class SubAccountStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        account_id: str,
        *,
        name: str,
        spend_cap_nanousd: int,
        mode: str = "live",
        external_ref: str | None = None,
        cap_period: str = "month",
        rate_limit_rpm: int | None = None,
        default_tag: str | None = None,
    ) -> tuple[SubAccountRecord, str]:
        """The sub-account, its key (returned in plain once) and its subaccount.created event."""
        if mode not in MODES:
            raise ValueError(f"mode is one of {', '.join(MODES)}")
        _check(
            {
                "name": name,
                "spend_cap_nanousd": spend_cap_nanousd,
                "cap_period": cap_period,
                "rate_limit_rpm": rate_limit_rpm,
            }
        )
        sub_id = new_id("sub")
        now = utcnow()
        plain = generate_key(test=mode == "test")
        with self.engine.begin() as conn:
            if conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first() is None:
                raise LookupError(f"no account {account_id}")
            conn.execute(
                sub_accounts.insert().values(
                    id=sub_id,
                    account_id=account_id,
                    name=name,
                    external_ref=external_ref,
                    mode=mode,
                    spend_cap_nanousd=spend_cap_nanousd,
                    cap_period=cap_period,
                    rate_limit_rpm=rate_limit_rpm,
                    default_tag=default_tag,
                    created_at=now,
                    updated_at=now,
                    deleted_at=None,
                )
            )
            insert_key(
                conn,
                account_id,
                f"sub-account {name}"[:200],
                plain,
                scope="sub_account",
                sub_account_id=sub_id,
            )
            data = {
                "sub_account_id": sub_id,
                "name": name,
                "external_ref": external_ref,
                "spend_cap_cents": outbox.cents(spend_cap_nanousd),
                "rate_limit_rpm": rate_limit_rpm,
                "default_tag": default_tag,
                "mode": mode,
            }
            outbox.write(conn, account_id, "subaccount.created", data, f"subaccount.created:{sub_id}")
            record = self._get(conn, account_id, sub_id)
        assert record is not None
        return record, plain

    def get(self, account_id: str, sub_id: str) -> SubAccountRecord | None:
        """None when it does not exist, is deleted, or belongs to another account (never a hint)."""
        with self.engine.connect() as conn:
            return self._get(conn, account_id, sub_id)

    def _get(self, conn: Connection, account_id: str, sub_id: str) -> SubAccountRecord | None:
        row = (
            conn.execute(
                select(sub_accounts).where(
                    sub_accounts.c.id == sub_id,
                    sub_accounts.c.account_id == account_id,
                    sub_accounts.c.deleted_at.is_(None),
                )
            )
            .mappings()
            .first()
        )
        return _record(row) if row else None

    def list(self, account_id: str, *, limit: int = 100, after: str | None = None) -> list[SubAccountRecord]:
        """Oldest first; ``after`` (a sub-account id from the previous page) continues past it."""
        query = select(sub_accounts).where(
            sub_accounts.c.account_id == account_id, sub_accounts.c.deleted_at.is_(None)
        )
        with self.engine.connect() as conn:
            if after is not None:
                # The cursor's own row may be deleted by now: its position still counts.
                mark = conn.execute(
                    select(sub_accounts.c.created_at).where(
                        sub_accounts.c.id == after, sub_accounts.c.account_id == account_id
                    )
                ).first()
                if mark is None:
                    return []
                query = query.where(
                    or_(
                        sub_accounts.c.created_at > mark[0],
                        and_(sub_accounts.c.created_at == mark[0], sub_accounts.c.id > after),
                    )
                )
            query = query.order_by(sub_accounts.c.created_at, sub_accounts.c.id).limit(limit)
            return [_record(r) for r in conn.execute(query).mappings()]

    def update(self, account_id: str, sub_id: str, **changes: Any) -> SubAccountRecord | None:
        """Change name, external_ref, spend_cap_nanousd, cap_period, rate_limit_rpm, default_tag.

        None clears external_ref, rate_limit_rpm and default_tag. None when there is no such
        (live) sub-account of the account.
        """
        unknown = set(changes) - set(_CHANGEABLE)
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
        _check(changes)
        with self.engine.begin() as conn:
            if changes:
                result = conn.execute(
                    update(sub_accounts)
                    .where(
                        sub_accounts.c.id == sub_id,
                        sub_accounts.c.account_id == account_id,
                        sub_accounts.c.deleted_at.is_(None),
                    )
                    .values(**changes, updated_at=utcnow())
                )
                if not result.rowcount:
                    return None
            return self._get(conn, account_id, sub_id)

    def rotate_key(self, account_id: str, sub_id: str, grace_s: int) -> tuple[str, KeyRecord] | None:
        """A new key; the old ones stop at once (``grace_s`` 0) or work ``grace_s`` more seconds.

        A key already due to expire sooner keeps its earlier expiry. The key.rotated event is
        written in the same transaction. None when there is no such sub-account.
        """
        if grace_s < 0:
            raise ValueError("grace_s cannot be negative")
        now = utcnow()
        with self.engine.begin() as conn:
            record = self._get(conn, account_id, sub_id)
            if record is None:
                return None
            live = or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now)
            of_sub = and_(api_keys.c.sub_account_id == sub_id, api_keys.c.revoked_at.is_(None), live)
            old = conn.execute(
                select(api_keys.c.prefix).where(of_sub).order_by(api_keys.c.created_at.desc())
            ).first()
            expires: datetime | None = None
            if grace_s == 0:
                conn.execute(update(api_keys).where(of_sub).values(revoked_at=now))
            else:
                expires = now + timedelta(seconds=grace_s)
                sooner = or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > expires)
                conn.execute(update(api_keys).where(of_sub, sooner).values(expires_at=expires))
            plain = generate_key(test=record.mode == "test")
            key_id = insert_key(
                conn,
                account_id,
                f"sub-account {record.name}"[:200],
                plain,
                scope="sub_account",
                sub_account_id=sub_id,
            )
            data = {
                "sub_account_id": sub_id,
                "old_key_prefix": old[0] if old else None,
                "new_key_prefix": display_prefix(plain),
                "old_key_expires_at": int(expires.timestamp()) if expires and old else None,
            }
            outbox.write(conn, account_id, "key.rotated", data, f"key.rotated:{key_id}")
            row = conn.execute(key_query().where(api_keys.c.key_hash == hash_key(plain))).mappings().one()
        return plain, key_record(row)

    def keys(self, account_id: str, sub_id: str) -> builtins.list[KeyRecord]:
        """Every key the sub-account ever had (rotated-out and revoked ones too), oldest first."""
        query = key_query().where(api_keys.c.account_id == account_id, api_keys.c.sub_account_id == sub_id)
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(api_keys.c.created_at)).mappings().all()
        return [key_record(r, now) for r in rows]

    def delete(self, account_id: str, sub_id: str) -> bool:
        """Mark it deleted and revoke all of its keys now; its ledger rows stay (the money was spent)."""
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(sub_accounts)
                .where(
                    sub_accounts.c.id == sub_id,
                    sub_accounts.c.account_id == account_id,
                    sub_accounts.c.deleted_at.is_(None),
                )
                .values(deleted_at=now, updated_at=now)
            )
            if not result.rowcount:
                return False
            conn.execute(
                update(api_keys)
                .where(api_keys.c.sub_account_id == sub_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return True

    def spent(self, sub_id: str, period: str) -> int:
        """What the sub-account spent in ``period`` ("YYYY-MM" or "lifetime"), from spend_periods."""
        return SpendStore(self.engine).one(sub_scope(sub_id), period)


def _check(values: Mapping[str, Any]) -> None:
    for name in set(values) - set(_NULLABLE):
        if values[name] is None:
            raise ValueError(f"{name} cannot be cleared")
    if "name" in values and not (0 < len(values["name"]) <= 200):
        raise ValueError("name is 1 to 200 characters")
    if "spend_cap_nanousd" in values and values["spend_cap_nanousd"] < 0:
        raise ValueError("spend_cap_nanousd cannot be negative")
    if "cap_period" in values and values["cap_period"] not in CAP_PERIODS:
        raise ValueError(f"cap_period is one of {', '.join(CAP_PERIODS)}")
    rpm = values.get("rate_limit_rpm")
    if rpm is not None and rpm <= 0:
        raise ValueError("rate_limit_rpm is a positive number")


def _record(row: RowMapping) -> SubAccountRecord:
    deleted = row["deleted_at"]
    return SubAccountRecord(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        external_ref=row["external_ref"],
        mode=row["mode"],
        spend_cap_nanousd=int(row["spend_cap_nanousd"]),
        cap_period=row["cap_period"],
        rate_limit_rpm=row["rate_limit_rpm"],
        default_tag=row["default_tag"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        deleted_at=None if deleted is None else as_utc(deleted),
    )
