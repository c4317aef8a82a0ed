"""Accounts, keys and wallet credits: the synchronous repository (called off the hot path)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, Select, func, select, update

from aigateway.core.keys import display_prefix, generate_key, hash_key, is_test_key, new_id
from aigateway.core.ledger import utcnow
from aigateway.storage.schema import accounts, api_keys, wallet_credits

PARENT_SCOPES = ("manage", "inference")


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    account_id: str
    name: str
    prefix: str
    mode: str
    is_admin: bool
    created_at: datetime
    revoked_at: datetime | None  # also set (to expires_at) once a rotated-out key's grace is over
    sub_account_id: str | None = None
    scope: str = "manage"  # manage | inference | sub_account
    expires_at: datetime | None = None
    rate_limit_rpm: int | None = None


def key_record(row: RowMapping, now: datetime | None = None) -> KeyRecord:
    """A KeyRecord from a ``key_query`` row; a key past its expiry reads as revoked at that time."""
    record = KeyRecord(**row)
    if record.expires_at is None:
        return record
    expires = as_utc(record.expires_at)
    if record.revoked_at is None and expires <= (now or utcnow()):
        return replace(record, revoked_at=expires, expires_at=expires)
    return replace(record, expires_at=expires)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC text); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def key_query() -> Select[Any]:
    """The columns of a KeyRecord (the key joined to its account for is_admin)."""
    return select(
        api_keys.c.id,
        api_keys.c.account_id,
        api_keys.c.name,
        api_keys.c.prefix,
        api_keys.c.mode,
        accounts.c.is_admin,
        api_keys.c.created_at,
        api_keys.c.revoked_at,
        api_keys.c.sub_account_id,
        api_keys.c.scope,
        api_keys.c.expires_at,
        api_keys.c.rate_limit_rpm,
    ).join(accounts, accounts.c.id == api_keys.c.account_id)


def insert_key(
    conn: Connection,
    account_id: str,
    name: str,
    plain: str,
    *,
    scope: str = "manage",
    sub_account_id: str | None = None,
    rate_limit_rpm: int | None = None,
) -> str:
    """Insert a key row inside the caller's transaction; returns the key's id."""
    key_id = new_id("key")
    conn.execute(
        api_keys.insert().values(
            id=key_id,
            account_id=account_id,
            name=name,
            key_hash=hash_key(plain),
            prefix=display_prefix(plain),
            mode="test" if is_test_key(plain) else "live",
            created_at=utcnow(),
            revoked_at=None,
            sub_account_id=sub_account_id,
            scope=scope,
            expires_at=None,
            rate_limit_rpm=rate_limit_rpm,
        )
    )
    return key_id


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: str
    name: str
    is_admin: bool
    balance_nanousd: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """What first start created. Plain keys are only ever held here, to be printed once."""

    admin_account_id: str
    admin_key: str | None
    test_key: str | None


class AccountStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- accounts -------------------------------------------------------------------------------
    def create_account(self, name: str, *, is_admin: bool = False) -> str:
        account_id = new_id("acct")
        with self.engine.begin() as conn:
            conn.execute(
                accounts.insert().values(
                    id=account_id, name=name, is_admin=is_admin, balance_nanousd=0, created_at=utcnow()
                )
            )
        return account_id

    def admin_account_id(self) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(accounts.c.id).where(accounts.c.is_admin.is_(True)).order_by(accounts.c.created_at)
            ).first()
        return row[0] if row else None

    def get_account(self, account_id: str) -> AccountRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings().first()
        return AccountRecord(**row) if row else None

    def list_accounts(self) -> list[AccountRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(accounts).order_by(accounts.c.created_at)).mappings().all()
        return [AccountRecord(**r) for r in rows]

    def bootstrap(self, admin_key: str | None = None) -> Bootstrap:
        """First start: create the admin account, an admin key (or take ``admin_key``) and a test key.

        Idempotent: when an admin account exists, only ensures a given ``admin_key`` is registered.
        """
        existing = self.admin_account_id()
        if existing is not None:
            if admin_key and self.find_key(hash_key(admin_key)) is None:
                self._insert_key(existing, "admin (AIGATEWAY_ADMIN_KEY)", admin_key)
            return Bootstrap(existing, None, None)
        account_id = self.create_account("admin", is_admin=True)
        live = admin_key or generate_key()
        self._insert_key(account_id, "admin", live)
        test = generate_key(test=True)
        self._insert_key(account_id, "admin test-mode", test)
        return Bootstrap(account_id, None if admin_key else live, test)

    # -- keys -----------------------------------------------------------------------------------
    def create_key(
        self,
        account_id: str,
        name: str,
        *,
        test: bool = False,
        scope: str = "manage",
        rate_limit_rpm: int | None = None,
    ) -> tuple[str, KeyRecord]:
        """A parent-account key: ``scope`` "manage" (management rights) or "inference" (model calls only).

        Sub-account keys are made by SubAccountStore, in the transaction that creates or rotates them.
        """
        if scope not in PARENT_SCOPES:
            raise ValueError(f"a parent key's scope is one of {', '.join(PARENT_SCOPES)}, not {scope!r}")
        if self.get_account(account_id) is None:
            raise LookupError(f"no account {account_id}")
        plain = generate_key(test=test)
        record = self._insert_key(account_id, name, plain, scope=scope, rate_limit_rpm=rate_limit_rpm)
        return plain, record

    def _insert_key(
        self,
        account_id: str,
        name: str,
        plain: str,
        *,
        scope: str = "manage",
        rate_limit_rpm: int | None = None,
    ) -> KeyRecord:
        with self.engine.begin() as conn:
            insert_key(conn, account_id, name, plain, scope=scope, rate_limit_rpm=rate_limit_rpm)
        found = self.find_key(hash_key(plain))
        assert found is not None
        return found

    def find_key(self, key_hash: str) -> KeyRecord | None:
        """The key with this hash; one past its ``expires_at`` comes back with ``revoked_at`` set."""
        query = key_query().where(api_keys.c.key_hash == key_hash)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return key_record(row) if row else None

    def get_key(self, key_id: str) -> KeyRecord | None:
        """A key by its id (``key_...``), revoked or not."""
        query = key_query().where(api_keys.c.id == key_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return key_record(row) if row else None

    def list_keys(self, account_id: str | None = None) -> list[KeyRecord]:
        query = key_query()
        if account_id:
            query = query.where(api_keys.c.account_id == account_id)
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(api_keys.c.created_at)).mappings().all()
        return [key_record(r, now) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        return bool(result.rowcount)

    # -- wallet ---------------------------------------------------------------------------------
    def add_credit(self, account_id: str, amount_nanousd: int, note: str = "") -> int:
        """Credit (or, negative, debit) a wallet; returns the new balance in nano-dollars."""
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(balance_nanousd=accounts.c.balance_nanousd + amount_nanousd)
            )
            if not updated.rowcount:
                raise LookupError(f"no account {account_id}")
            conn.execute(
                wallet_credits.insert().values(
                    account_id=account_id, amount_nanousd=amount_nanousd, note=note, created_at=utcnow()
                )
            )
            balance = conn.execute(
                select(accounts.c.balance_nanousd).where(accounts.c.id == account_id)
            ).scalar_one()
        return int(balance)

    def balances(self, account_ids: list[str]) -> dict[str, int]:
        if not account_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(accounts.c.id, accounts.c.balance_nanousd).where(accounts.c.id.in_(account_ids))
            ).all()
        return {r[0]: int(r[1]) for r in rows}

    def count_accounts(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(accounts)).scalar_one())
