"""What each cap's scope has spent per period (``spend_periods``): names, and the read side.

The ledger flush keeps the table (storage/ledger_effects.py) in the transaction that stores the
ledger rows, so a scope's spent is exactly the sum of its live, charged ledger rows (quarantined
rows included: they are debited too). Admission reads it once per scope and counts from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, or_, select

from aigateway.storage.schema import spend_periods

LIFETIME = "lifetime"


def sub_scope(sub_id: str) -> str:
    return f"sub:{sub_id}"


def tag_scope(account_id: str, tag: str) -> str:
    return f"tag:{account_id}:{tag}"


def month_of(when: datetime) -> str:
    """The UTC calendar month (``YYYY-MM``) a moment falls in: the period of monthly caps."""
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return f"{when.year:04d}-{when.month:02d}"


def cap_period_of(cap_period: str, when: datetime) -> str:
    """The spend period a cap of kind ``cap_period`` ("month" | "lifetime") counts at ``when``."""
    return LIFETIME if cap_period == LIFETIME else month_of(when)


class SpendStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def spent(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Stored spent of each (scope, period); 0 for one nothing was spent on yet."""
        wanted = list(dict.fromkeys(keys))
        out = dict.fromkeys(wanted, 0)
        for start in range(0, len(wanted), 200):
            part = wanted[start : start + 200]
            query = select(spend_periods).where(
                or_(*(and_(spend_periods.c.scope == s, spend_periods.c.period == p) for s, p in part))
            )
            with self.engine.connect() as conn:
                for row in conn.execute(query):
                    out[(row.scope, row.period)] = int(row.spent_nanousd)
        return out

    def one(self, scope: str, period: str) -> int:
        return self.spent([(scope, period)])[(scope, period)]
