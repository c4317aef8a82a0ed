"""What a ledger batch changes besides its rows: usage rollups (usage_rollups, and the reports'
usage_monthly and usage_daily), spend per period, outbox events.

Run by LedgerSink inside the transaction that inserts the rows and debits the wallets, so none of it
can disagree with the ledger: a batch that rolls back takes its rollups, spend and events with it,
and an idempotent replay skips stored rows before any of this is counted. It is on the flush's hot
path, so it works per batch, never per row: rows are aggregated in Python first (one upsert row per
distinct rollup group or spend scope, sent as one multi-row statement per slice, for the reason the
ledger insert is: module docstring of storage/ledger.py), and caps are read with one SELECT per kind.

Events are crossings: a scope whose spent went from below a threshold (old = new - this batch's
amount) to at or past it, and a balance that fell below the low mark or to zero. Both values are
read in the transaction that applied the delta (PostgreSQL holds the rows' locks until commit), so
concurrent flushes each see their own step; the outbox's dedupe key makes a repeat a no-op anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from sqlalchemy import Connection

from aigateway.core.ledger import LedgerEntry
from aigateway.core.money import NANO_PER_CENT
from aigateway.storage import outbox
from aigateway.storage.spend import LIFETIME, sub_scope, tag_scope

_ROLLUP_KEY = ("account_id", "sub_account_id", "tag", "day", "model", "mode", "unit_kind")
_ROLLUP_SUMS = ("requests", "errors", "cost_nanousd", "input_units", "output_units")
_SCOPE_WIDTH = 300  # spend_periods.scope
_REPORT_KEY = ("account_id", "dimension", "group_key")

SpendKey = tuple[str, str]  # (scope, period)
Slices = Callable[[int], list[tuple[int, int]]]  # (start, length) pieces of n rows in fixed sizes


def _day(entry: LedgerEntry, days: dict[date, str]) -> str:
    """The UTC day of the entry (``YYYY-MM-DD``), formatted once per distinct day of a batch."""
    when = entry.created_at
    if when.tzinfo is not UTC:
        when = when.astimezone(UTC)
    day = when.date()
    text = days.get(day)
    if text is None:
        text = days[day] = day.isoformat()
    return text


@dataclass(slots=True)
class BatchSums:
    """A batch summed in one pass: what each wallet is debited, each rollup group adds, each spend
    group (account, sub-account, tag, day) is charged."""

    debits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rollups: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    spend: dict[tuple[str, str | None, str | None, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )


def sums(entries: Iterable[LedgerEntry], *, rollups: bool = True) -> BatchSums:
    """Rollup groups hold [requests, errors, cost_nanousd, input_units, output_units]; a
    quarantined row is summed without them (``rollups`` False): it is charged, not reported."""
    out = BatchSums()
    debits, groups, spent = out.debits, out.rollups, out.spend
    days: dict[date, str] = {}
    for e in entries:
        charged = e.cost_nanousd if e.mode == "live" else 0  # LedgerEntry.chargeable, inlined
        debits[e.account_id] += charged
        if not rollups and charged <= 0:
            continue
        day = _day(e, days)
        if charged > 0 and (e.sub_account_id or e.tag):
            spent[(e.account_id, e.sub_account_id, e.tag, day)] += charged
        if not rollups:
            continue
        key = (e.account_id, e.sub_account_id or "", e.tag or "", day, e.model, e.mode, e.unit_kind)
        group = groups.get(key)
        if group is None:
            group = groups[key] = [0, 0, 0, 0, 0]
        group[0] += 1
        if e.status != "ok":
            group[1] += 1
        group[2] += e.cost_nanousd
        group[3] += e.input_units
        group[4] += e.output_units
    return out


def spend_deltas(groups: dict[tuple[str, str | None, str | None, str], int]) -> dict[SpendKey, int]:
    """What the charged groups add to each (scope, period): sub-accounts by month and lifetime, tags
    by month. Scopes spend_periods cannot hold (a tag too wide, a NUL) are left out: only rows on
    their way to quarantine carry them, and no cap could name them."""
    out: dict[SpendKey, int] = defaultdict(int)
    for (account, sub, tag, day), amount in groups.items():
        month = day[:7]
        if sub:
            scope = sub_scope(sub)
            if _storable(scope):
                out[(scope, month)] += amount
                out[(scope, LIFETIME)] += amount
        if tag:
            scope = tag_scope(account, tag)
            if _storable(scope):
                out[(scope, month)] += amount
    return out


def _add(into: dict[tuple[str, ...], list[int]], key: tuple[str, ...], sums: Sequence[int]) -> None:
    found = into.get(key)
    if found is None:
        into[key] = list(sums)
    else:
        for i, value in enumerate(sums):
            found[i] += value


def _storable(scope: str) -> bool:
    return len(scope) <= _SCOPE_WIDTH and "\x00" not in scope


class _Upsert:
    """``INSERT .. VALUES (..), (..) ON CONFLICT (key) DO UPDATE`` adding to the stored sums.

    Sent in the ledger's fixed statement sizes (``slices``), so the drivers' statement caches hold a
    few statements per table rather than one per group count.
    """

    def __init__(
        self, table: str, keys: Sequence[str], sums: Sequence[str], mark: str, slices: Slices
    ) -> None:
        row = "(" + ", ".join(mark for _ in (*keys, *sums)) + ")"
        added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
        self._row = row
        self._head = f"INSERT INTO {table} ({', '.join((*keys, *sums))}) VALUES "
        self._tail = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"
        if table == "spend_periods":
            self._tail += f" RETURNING {', '.join((*keys, *sums))}"
        self._slices = slices
        self._sql: dict[int, str] = {}

    def run(self, conn: Connection, rows: Sequence[tuple[Sequence[object], Sequence[int]]]) -> list[Any]:
        """Upsert ``rows`` of (key values, sums); returns what RETURNING gave (spend_periods)."""
        out: list[Any] = []
        for start, size in self._slices(len(rows)):
            sql = self._sql.get(size)
            if sql is None:
                sql = self._sql[size] = self._head + ", ".join(self._row for _ in range(size)) + self._tail
            params: list[object] = []
            for key, sums in rows[start : start + size]:
                params.extend(key)
                params.extend(sums)
            result = conn.exec_driver_sql(sql, tuple(params))
            if result.returns_rows:
                out.extend(result.all())
        return out


class FlushEffects:
    """The SQL of the flush's side effects for one engine (paramstyle) and one set of thresholds."""

    def __init__(
        self, mark: str, slices: Slices, thresholds_pct: Sequence[int], balance_low_nanousd: int
    ) -> None:
        self._mark = mark
        self.thresholds = tuple(sorted(set(thresholds_pct)))
        self.balance_low = balance_low_nanousd
        sums = _ROLLUP_SUMS
        self._rollups = _Upsert("usage_rollups", _ROLLUP_KEY, sums, mark, slices)
        self._monthly = _Upsert(
            "usage_monthly", (*_REPORT_KEY, "month", "model", "mode", "unit_kind"), sums, mark, slices
        )
        self._daily = _Upsert("usage_daily", (*_REPORT_KEY, "day", "mode"), sums[:3], mark, slices)
        self._spend = _Upsert("spend_periods", ("scope", "period"), ("spent_nanousd",), mark, slices)

    def _marks(self, count: int) -> str:
        return ", ".join(self._mark for _ in range(count))

    # -- rollups -----------------------------------------------------------------------------------
    def add_rollups(self, conn: Connection, groups: dict[tuple[str, ...], list[int]]) -> None:
        """usage_rollups, and the reports' usage_monthly and usage_daily summed from the same groups."""
        monthly: dict[tuple[str, ...], list[int]] = {}
        daily: dict[tuple[str, ...], list[int]] = {}
        for (account, sub, tag, day, model, mode, kind), sums in groups.items():
            month = day[:7]
            for dimension, key in (("tag", tag), ("sub", sub)):
                _add(monthly, (account, dimension, key, month, model, mode, kind), sums)
                _add(daily, (account, dimension, key, day, mode), sums[:3])
        # Sorted: concurrent flushes then lock the rows they share in one order (no deadlock).
        self._rollups.run(conn, sorted(groups.items()))
        self._monthly.run(conn, sorted(monthly.items()))
        self._daily.run(conn, sorted(daily.items()))

    # -- spend and its events ----------------------------------------------------------------------
    def add_spend(
        self, conn: Connection, groups: dict[tuple[str, str | None, str | None, str], int]
    ) -> dict[SpendKey, tuple[int, int]]:
        """Upsert spend_periods; (scope, period) -> (amount added now, new stored spent)."""
        deltas = spend_deltas(groups)
        if not deltas:
            return {}
        out: dict[SpendKey, tuple[int, int]] = {}
        stored = self._spend.run(
            conn, [((scope, period), (amount,)) for (scope, period), amount in sorted(deltas.items())]
        )
        for scope, period, spent in stored:
            out[(scope, period)] = (deltas[(scope, period)], int(spent))
        self._threshold_events(conn, out)
        return out

    def _threshold_events(self, conn: Connection, spent: dict[SpendKey, tuple[int, int]]) -> None:
        subs = {scope[4:] for scope, _ in spent if scope.startswith("sub:")}
        tags = {scope for scope, _ in spent if scope.startswith("tag:")}
        caps: dict[str, tuple[str, int, str, str]] = {}  # scope -> (account, cap, cap_period, name)
        if subs:
            sql = (
                "SELECT id, account_id, spend_cap_nanousd, cap_period FROM sub_accounts"
                f" WHERE id IN ({self._marks(len(subs))})"
            )
            for sub_id, account, cap, period in conn.exec_driver_sql(sql, tuple(sorted(subs))):
                caps[sub_scope(sub_id)] = (account, int(cap), period, sub_id)
        if tags:
            accounts = sorted({scope.split(":", 2)[1] for scope in tags})
            sql = (
                "SELECT account_id, tag, cap_nanousd FROM budgets"
                f" WHERE account_id IN ({self._marks(len(accounts))})"
            )
            for account, tag, cap in conn.exec_driver_sql(sql, tuple(accounts)):
                scope = tag_scope(account, tag)
                if scope in tags:
                    caps[scope] = (account, int(cap), "month", tag)
        for (scope, period), (amount, new) in sorted(spent.items()):
            found = caps.get(scope)
            if found is None or amount <= 0:
                continue
            account, cap, cap_period, name = found
            if (period == LIFETIME) != (cap_period == LIFETIME):
                continue  # a monthly cap's lifetime total (or the reverse): not what the cap counts
            self._crossings(conn, scope, period, account, cap, name, new - amount, new)

    def _crossings(
        self, conn: Connection, scope: str, period: str, account: str, cap: int, name: str, old: int, new: int
    ) -> None:
        is_sub = scope.startswith("sub:")
        for pct in self.thresholds:
            mark = cap * pct  # compared with spent * 100: exact in integers
            if old * 100 < mark <= new * 100:
                data = {
                    "scope": "sub_account" if is_sub else "budget",
                    ("sub_account_id" if is_sub else "tag"): name,
                    "period": period,
                    "threshold_pct": pct,
                    "cap_cents": outbox.cents(cap),
                    "spent_cents": outbox.cents(new),
                }
                outbox.write(
                    conn, account, "usage.threshold.exceeded", data, f"usage.threshold:{scope}:{period}:{pct}"
                )
        if is_sub and old < cap <= new:
            data = {
                "sub_account_id": name,
                "period": period,
                "cap_cents": outbox.cents(cap),
                "spent_cents": outbox.cents(new),
            }
            outbox.write(
                conn, account, "subaccount.spend.exceeded", data, f"subaccount.spend.exceeded:{name}:{period}"
            )

    # -- balances ----------------------------------------------------------------------------------
    def balance_events(self, conn: Connection, debits: dict[str, int], balances: dict[str, int]) -> None:
        """balance.low / balance.exhausted for the wallets this transaction's debits pushed across."""
        crossed: list[tuple[str, str, int]] = []  # (type, account, balance)
        for account, amount in debits.items():
            new = balances.get(account)
            if not amount or new is None:
                continue
            old = new + amount
            if old >= self.balance_low > new:
                crossed.append(("balance.low", account, new))
            if old > 0 >= new:
                crossed.append(("balance.exhausted", account, new))
        if not crossed:
            return
        accounts = sorted({account for _, account, _ in crossed})
        sql = (
            "SELECT account_id, MAX(id) FROM wallet_credits"
            f" WHERE account_id IN ({self._marks(len(accounts))}) GROUP BY account_id"
        )
        # The latest top-up's id arms each event once per top-up: the next credit re-arms it.
        latest = {a: int(n) for a, n in conn.exec_driver_sql(sql, tuple(accounts))}
        for kind, account, balance in crossed:
            n = latest.get(account, 0)
            data: dict[str, object] = {"account_id": account, "balance_cents": outbox.cents(balance)}
            if kind == "balance.low":
                data["threshold_cents"] = outbox.cents(self.balance_low)
            outbox.write(conn, account, kind, data, f"{kind}:{account}:{n}")


def default_balance_low() -> int:
    """settings.balance_low_cents' default (100 cents = $1) in nano-dollars."""
    return 100 * NANO_PER_CENT
