"""Tag budgets: a monthly (UTC) cap on one tag across an account and its sub-accounts.

One budget per (account, tag): creating one for a tag that has one replaces its cap and keeps its id,
so a client can POST the same budget again without making duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, RowMapping, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from aigateway.core.keys import new_id
from aigateway.core.ledger import MAX_TAG, utcnow
from aigateway.storage.accounts import as_utc
from aigateway.storage.schema import budgets


@dataclass(frozen=True, slots=True)
class BudgetRecord:
    id: str
    account_id: str
    tag: str
    cap_nanousd: int
    created_at: datetime
    updated_at: datetime


class BudgetStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upsert(self, account_id: str, tag: str, cap_nanousd: int) -> BudgetRecord:
        """Create the tag's budget, or replace the cap of the one it has (same id)."""
        if not tag or len(tag) > MAX_TAG:
            raise ValueError(f"a budget's tag is 1 to {MAX_TAG} characters")
        if cap_nanousd < 0:
            raise ValueError("a budget's cap cannot be negative")
        now = utcnow()
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(budgets).values(
            id=new_id("bud"),
            account_id=account_id,
            tag=tag,
            cap_nanousd=cap_nanousd,
            created_at=now,
            updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["account_id", "tag"],
            set_={"cap_nanousd": statement.excluded.cap_nanousd, "updated_at": statement.excluded.updated_at},
        )
        with self.engine.begin() as conn:
            conn.execute(statement)
            row = (
                conn.execute(select(budgets).where(budgets.c.account_id == account_id, budgets.c.tag == tag))
                .mappings()
                .one()
            )
        return _record(row)

    def list(self, account_id: str) -> list[BudgetRecord]:
        query = select(budgets).where(budgets.c.account_id == account_id).order_by(budgets.c.tag)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query).mappings()]

    def get(self, account_id: str, budget_id: str) -> BudgetRecord | None:
        query = select(budgets).where(budgets.c.account_id == account_id, budgets.c.id == budget_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _record(row) if row else None

    def delete(self, account_id: str, budget_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(budgets).where(budgets.c.account_id == account_id, budgets.c.id == budget_id)
            )
        return bool(result.rowcount)

    def for_account(self, account_id: str) -> dict[str, int]:
        """tag -> cap in nano-dollars: what admission caches for the account."""
        query = select(budgets.c.tag, budgets.c.cap_nanousd).where(budgets.c.account_id == account_id)
        with self.engine.connect() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(query)}


def _record(row: RowMapping) -> BudgetRecord:
    return BudgetRecord(
        id=row["id"],
        account_id=row["account_id"],
        tag=row["tag"],
        cap_nanousd=int(row["cap_nanousd"]),
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
    )
