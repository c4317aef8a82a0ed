"""Writing ledger entries and debiting wallets, in one transaction per batch.

The insert goes to the driver's ``executemany`` with plain tuples: SQLAlchemy's per-row parameter
processing cost three times as much CPU (measured: ~13 us a row against ~5 us on SQLite), and this
runs beside the request path on the same two cores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC

from sqlalchemy import Engine, select, update

from aigateway.core.ledger import LedgerEntry
from aigateway.storage.schema import accounts, ledger

_COLUMNS = tuple(c.name for c in ledger.columns if c.name != "id")


class LedgerSink:
    """Prepared batch writer for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._sql = (
            f"INSERT INTO ledger ({', '.join(_COLUMNS)}) VALUES ({', '.join(mark for _ in _COLUMNS)})"
        )

    def _row(self, entry: LedgerEntry) -> tuple[object, ...]:
        values = entry.as_row()
        if self.sqlite:
            # The text form SQLAlchemy itself uses for DateTime on SQLite (UTC, no offset).
            values["created_at"] = entry.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return tuple(values[c] for c in _COLUMNS)

    def write(self, entries: Sequence[LedgerEntry]) -> dict[str, int]:
        """Insert ``entries`` and debit each account's wallet by its chargeable total, atomically.

        Returns the new balances (nano-dollars) of the accounts the batch touched.
        """
        debits: dict[str, int] = defaultdict(int)
        for entry in entries:
            debits[entry.account_id] += entry.chargeable
        rows = [self._row(e) for e in entries]
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self._sql, rows)
            for account_id, amount in debits.items():
                if amount:
                    conn.execute(
                        update(accounts)
                        .where(accounts.c.id == account_id)
                        .values(balance_nanousd=accounts.c.balance_nanousd - amount)
                    )
            found = conn.execute(
                select(accounts.c.id, accounts.c.balance_nanousd).where(accounts.c.id.in_(list(debits)))
            ).all()
        return {r[0]: int(r[1]) for r in found}


def write_batch(engine: Engine, entries: Sequence[LedgerEntry]) -> dict[str, int]:
    """One-off convenience over LedgerSink (tests, spill replay)."""
    return LedgerSink(engine).write(entries)
