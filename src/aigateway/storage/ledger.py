"""Writing ledger entries and debiting wallets, in one transaction per batch.

Built for writing beside a busy event loop, from a thread. Two measured traps shape it:
- SQLAlchemy's per-row parameter processing costs ~13 us a row of GIL-holding Python (the driver's
  own binding: ~5 us), so statements go to the driver as plain SQL with tuples;
- the sqlite3 module releases and re-takes the GIL around every statement step, and each re-take can
  wait out the loop's 5 ms switch interval, so ``executemany`` from a thread crawled at ~3k rows/s
  under load. One multi-row ``INSERT ... VALUES (...), (...)`` per slice of rows is one step: the
  thread takes the GIL a handful of times per batch, and the loop is never stalled by the write.
So the fast path has no per-row step at all (no per-row RETURNING, no lookups): one transaction of a
few INSERTs, one debit per account and one balance read, plus what the batch adds to the usage
rollups and to spend per period (aggregated in Python first, one upsert row per group) and the outbox
events of the thresholds it crossed (storage/ledger_effects.py).

When that transaction fails on a row (a duplicate call id, a value a column cannot hold), one look-up
sets aside the rows whose call ids are already stored, and the rest is bisected: each half goes in its
own transaction, recursively, so one bad row costs about 2 * log2(batch) small transactions and never
holds up the others. A row that still fails alone is a duplicate (its call id is already stored:
skipped, no second debit) or is quarantined: kept whole as JSON in ``ledger_quarantine`` with the
error, and its wallet debit applied in that same transaction. Errors that are not about a row
(connection lost, database locked, ...) propagate: the writer keeps the batch and tries again later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError

from aigateway.core.ledger import LedgerEntry, utcnow
from aigateway.storage.ledger_effects import BatchSums, FlushEffects, default_balance_low, sums
from aigateway.storage.schema import ledger, ledger_quarantine

log = logging.getLogger("aigateway.ledger")

_COLUMNS = tuple(c.name for c in ledger.columns if c.name != "id")
# SQLite allows 32,766 bound variables per statement; stay well below it. Statements come in a few
# fixed sizes (256, 128, ..., 1 rows) so the drivers' prepared-statement caches stay small: one
# statement per exact batch length held up to ~70 MB of cached statements in the soak benchmark.
_STATEMENT_SIZES = (256, 128, 64, 32, 16, 8, 4, 2, 1)
# Errors that a row's values cause. The sqlite3 module raises OverflowError itself (not a DB-API error)
# for an integer wider than 64 bits; PostgreSQL reports the same as a DataError.
_ROW_ERRORS = (IntegrityError, DataError, OverflowError)
_QUARANTINE_KEY = 128  # the width of ledger_quarantine.call_id and .account_id


def _slices(total: int) -> list[tuple[int, int]]:
    """(start, length) pieces of ``total`` rows, each length one of _STATEMENT_SIZES."""
    out: list[tuple[int, int]] = []
    start = 0
    for size in _STATEMENT_SIZES:
        while total - start >= size:
            out.append((start, size))
            start += size
    return out


@dataclass(slots=True)
class LedgerWriteResult:
    """What became of a batch: every entry is exactly one of written, duplicate or quarantined."""

    balances: dict[str, int] = field(default_factory=dict)  # new balances of the accounts touched
    # (scope, period) -> (amount this batch added, new stored spent) of every spend_periods row touched
    spent: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    written: int = 0
    duplicates: int = 0  # already stored (or already quarantined): skipped, not debited again
    quarantined: int = 0


class LedgerSink:
    """Prepared batch writer for one engine."""

    def __init__(
        self,
        engine: Engine,
        *,
        thresholds_pct: Sequence[int] = (80, 100),
        balance_low_nanousd: int = default_balance_low(),
    ) -> None:
        """``thresholds_pct`` and ``balance_low_nanousd``: settings.usage_thresholds_pct and
        settings.balance_low_cents, the crossings the flush writes outbox events for."""
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._row_marks = "(" + ", ".join(self._mark for _ in _COLUMNS) + ")"
        self._insert_head = f"INSERT INTO ledger ({', '.join(_COLUMNS)}) VALUES "
        self._inserts: dict[int, str] = {}
        m = self._mark
        self._debit = f"UPDATE accounts SET balance_nanousd = balance_nanousd - {m} WHERE id = {m}"
        self._effects = FlushEffects(m, _slices, thresholds_pct, balance_low_nanousd)

    def _insert_sql(self, rows: int) -> str:
        sql = self._inserts.get(rows)
        if sql is None:
            sql = self._insert_head + ", ".join(self._row_marks for _ in range(rows))
            self._inserts[rows] = sql
        return sql

    def _marks(self, count: int) -> str:
        return ", ".join(self._mark for _ in range(count))

    def _values(self, entry: LedgerEntry) -> list[object]:
        values = entry.as_row()
        if self.sqlite:
            # The text form SQLAlchemy itself uses for DateTime on SQLite (UTC, no offset).
            values["created_at"] = entry.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return [values[c] for c in _COLUMNS]

    def write(self, entries: Sequence[LedgerEntry], *, idempotent: bool = False) -> LedgerWriteResult:
        """Insert ``entries`` and debit each account's wallet by its chargeable total.

        One transaction when every row is good; row-level failures are bisected (module docstring).
        ``idempotent`` (replays of a journal or spill file) first looks up which call ids are already
        stored or quarantined and writes only the others, so replaying twice never double-debits.
        """
        result = LedgerWriteResult()
        if not entries:
            return result
        accounts = list(dict.fromkeys(entry.account_id for entry in entries))
        todo: Sequence[LedgerEntry] = entries
        if idempotent:
            todo = self._unknown(entries)
            result.duplicates += len(entries) - len(todo)
            if result.duplicates:
                log.warning(
                    "replay: %d of %d ledger entries were already stored", result.duplicates, len(entries)
                )
        balances: dict[str, int] | None = None
        if todo:
            try:
                balances = self._transaction(todo, accounts, result)
                result.written += len(todo)
            except _ROW_ERRORS as exc:
                # Most often some rows are stored already (a retry after a commit whose answer was
                # lost, a replay): one look-up sets those aside before the rest is bisected.
                rest = self._unknown(todo)
                result.duplicates += len(todo) - len(rest)
                log.warning(
                    "a ledger batch of %d entries was refused (%s); %d already stored, bisecting the rest",
                    len(todo),
                    _error_text(exc).partition("\n")[0],
                    len(todo) - len(rest),
                )
                self._bisect(rest, result)
        if balances is None:
            with self.engine.connect() as conn:
                balances = self._balances(conn, accounts)
        result.balances = balances
        return result

    # -- the fast path: one transaction ------------------------------------------------------------
    def _transaction(
        self, entries: Sequence[LedgerEntry], accounts: list[str] | None, result: LedgerWriteResult
    ) -> dict[str, int] | None:
        """Insert, debit, roll up and count spend in one transaction (ledger_effects.py), merging the
        spend into ``result``; returns ``accounts``' balances read in it when given."""
        batch = sums(entries)
        with self.engine.begin() as conn:
            for start, size in _slices(len(entries)):
                part = entries[start : start + size]
                params: list[object] = []
                for entry in part:
                    params.extend(self._values(entry))
                conn.exec_driver_sql(self._insert_sql(len(part)), tuple(params))
            self._effects.add_rollups(conn, batch.rollups)
            spent, balances = self._charge(conn, batch, accounts)
        _merge_spent(result, spent)
        return balances

    def _charge(
        self, conn: Connection, batch: BatchSums, accounts: list[str] | None
    ) -> tuple[dict[tuple[str, str], tuple[int, int]], dict[str, int] | None]:
        """Debit the wallets and count spend per period, with the events of what that crossed.

        Returns the spend and, when ``accounts`` is given, their balances (one read serves both).
        """
        # Sorted by account: concurrent flushes lock the wallets they share in one order.
        charged = sorted(
            ((amount, account) for account, amount in batch.debits.items() if amount), key=_second
        )
        spent: dict[tuple[str, str], tuple[int, int]] = {}
        if not charged:
            return spent, None if accounts is None else self._balances(conn, accounts)
        conn.exec_driver_sql(self._debit, charged)
        spent = self._effects.add_spend(conn, batch.spend)
        debited = {account: amount for amount, account in charged}
        balances = self._balances(conn, list(debited) if accounts is None else accounts)
        self._effects.balance_events(conn, debited, balances)
        return spent, None if accounts is None else balances

    def _balances(self, conn: Connection, accounts: list[str]) -> dict[str, int]:
        sql = f"SELECT id, balance_nanousd FROM accounts WHERE id IN ({self._marks(len(accounts))})"
        return {r[0]: int(r[1]) for r in conn.exec_driver_sql(sql, tuple(accounts)).all()}

    # -- the slow path: bisect, then settle single rows ---------------------------------------------
    def _bisect(self, entries: Sequence[LedgerEntry], result: LedgerWriteResult) -> None:
        if not entries:
            return
        try:
            self._transaction(entries, None, result)
            result.written += len(entries)
            return
        except _ROW_ERRORS as exc:
            if len(entries) == 1:
                self._refused(entries[0], exc, result)
                return
        mid = len(entries) // 2
        self._bisect(entries[:mid], result)
        self._bisect(entries[mid:], result)

    def _refused(self, entry: LedgerEntry, exc: BaseException, result: LedgerWriteResult) -> None:
        """One row the ledger will not take: a duplicate, or quarantined with its debit."""
        with self.engine.connect() as conn:
            known = self._known(conn, [entry.call_id])
        if known:
            result.duplicates += 1
            log.warning("ledger entry %s is already stored; skipped (no second debit)", entry.call_id)
            return
        error = _error_text(exc)
        # The standard json module: unlike orjson it writes integers wider than 64 bits, one reason
        # for being here.
        payload = json.dumps(entry.to_json_dict(), default=str, ensure_ascii=False)
        try:
            _merge_spent(result, self._quarantine(entry, payload, error, debit=True))
        except _ROW_ERRORS as second:
            # Even the debit was refused (an amount the balance column cannot hold): keep the entry,
            # without a debit, for a person to settle by hand.
            self._quarantine(
                entry, payload, f"{error}\n(debit refused too: {_error_text(second)})", debit=False
            )
            log.critical(
                "ledger entry %s QUARANTINED WITHOUT ITS DEBIT of %s nano-USD to %s: %s",
                entry.call_id,
                entry.chargeable,
                entry.account_id,
                error,
            )
        else:
            log.error(
                "ledger entry %s QUARANTINED (debit of %s nano-USD to %s applied); see ledger_quarantine: %s",
                entry.call_id,
                entry.chargeable,
                entry.account_id,
                error,
            )
        result.quarantined += 1

    def _quarantine(
        self, entry: LedgerEntry, payload: str, error: str, *, debit: bool
    ) -> dict[tuple[str, str], tuple[int, int]]:
        """Keep the entry in ledger_quarantine; with ``debit``, charge it as the ledger would have
        (wallet, spend per period, events), though it counts in no usage rollup."""
        row = {
            "call_id": _clean(entry.call_id)[:_QUARANTINE_KEY],
            "account_id": _clean(entry.account_id)[:_QUARANTINE_KEY],
            "cost_nanousd": entry.cost_nanousd if debit else None,
            "payload": payload,
            "error": _clean(error),
            "created_at": utcnow(),
        }
        with self.engine.begin() as conn:
            conn.execute(ledger_quarantine.insert(), row)
            if debit:
                return self._charge(conn, sums([entry], rollups=False), None)[0]
        return {}

    # -- idempotence --------------------------------------------------------------------------------
    def _unknown(self, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
        """The entries whose call ids are neither stored nor quarantined (first of any repeats)."""
        with self.engine.connect() as conn:
            known = self._known(conn, list(dict.fromkeys(entry.call_id for entry in entries)))
        out: list[LedgerEntry] = []
        for entry in entries:
            if entry.call_id not in known:
                known.add(entry.call_id)
                out.append(entry)
        return out

    def _known(self, conn: Connection, call_ids: list[str]) -> set[str]:
        """Which of ``call_ids`` the ledger or the quarantine already holds (looked up in chunks)."""
        found: set[str] = set()
        for table in ("ledger", "ledger_quarantine"):
            for start, size in _slices(len(call_ids)):
                sql = f"SELECT call_id FROM {table} WHERE call_id IN ({self._marks(size)})"
                found.update(r[0] for r in conn.exec_driver_sql(sql, tuple(call_ids[start : start + size])))
        return found


def _second(pair: tuple[int, str]) -> str:
    return pair[1]


def _merge_spent(result: LedgerWriteResult, spent: dict[tuple[str, str], tuple[int, int]]) -> None:
    """Add one transaction's spend to the batch's: amounts add up, the stored spent is the newest."""
    for key, (amount, stored) in spent.items():
        before = result.spent.get(key)
        result.spent[key] = (amount + (before[0] if before else 0), stored)


def _error_text(exc: BaseException) -> str:
    """The driver's own message (SQLAlchemy's adds the statement and every bound value)."""
    return str(getattr(exc, "orig", None) or exc)[:4000]


def _clean(text: str) -> str:
    """PostgreSQL text cannot hold NUL, which is one reason a row lands in quarantine at all."""
    return text.replace("\x00", "\\x00")


def write_batch(
    engine: Engine, entries: Iterable[LedgerEntry], *, idempotent: bool = False
) -> LedgerWriteResult:
    """One-off convenience over LedgerSink (tests, tools)."""
    return LedgerSink(engine).write(list(entries), idempotent=idempotent)
