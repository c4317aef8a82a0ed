"""Writing ledger entries and debiting wallets, in one transaction per batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Engine, select, update

from aigateway.core.ledger import LedgerEntry
from aigateway.storage.schema import accounts, ledger


def write_batch(engine: Engine, entries: Sequence[LedgerEntry]) -> dict[str, int]:
    """Insert ``entries`` and debit each account's wallet by its chargeable total, atomically.

    Returns the new balances (nano-dollars) of the accounts the batch touched.
    """
    debits: dict[str, int] = defaultdict(int)
    for entry in entries:
        debits[entry.account_id] += entry.chargeable
    with engine.begin() as conn:
        conn.execute(ledger.insert(), [e.as_row() for e in entries])
        for account_id, amount in debits.items():
            if amount:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.id == account_id)
                    .values(balance_nanousd=accounts.c.balance_nanousd - amount)
                )
        rows = conn.execute(
            select(accounts.c.id, accounts.c.balance_nanousd).where(accounts.c.id.in_(list(debits)))
        ).all()
    return {r[0]: int(r[1]) for r in rows}
