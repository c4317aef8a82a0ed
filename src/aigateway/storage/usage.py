"""Usage reports, read from the rollups the ledger flush keeps (never from the ledger itself).

A report reads usage_monthly (per tag or sub-account, model, mode and unit kind for the month) and
usage_daily (per tag or sub-account, day and mode): a few hundred rows however many calls the month
had. The detailed usage_rollups (sub-account x tag x day x model x mode x kind) are tens of thousands
of rows for a busy month, measured at 200-500 ms to sum per report (bench/usage_report.py), so they
serve the check, not the reports. Test traffic is reported apart from live traffic and is never
counted as spend. ``ledger_totals`` sums the ledger itself for the same month, and ``check`` compares
the two: the proof that the rollups are in step with the ledger.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, case, func, select

from aigateway.storage.schema import ledger, usage_daily, usage_monthly, usage_rollups

_SUMS = ("requests", "errors", "cost_nanousd", "input_units", "output_units")
_DIMENSIONS = {"tag": "tag", "sub_account": "sub"}

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# (sub_account_id, tag, model, mode, unit_kind) -> (requests, errors, cost_nanousd, input, output);
# '' for no sub-account / no tag, as in the rollups.
TotalsKey = tuple[str, str, str, str, str]
Totals = dict[TotalsKey, tuple[int, int, int, int, int]]


@dataclass(slots=True)
class UnitUsage:
    input: int = 0
    output: int = 0


@dataclass(slots=True)
class ModelUsage:
    model: str
    requests: int = 0
    cost_nanousd: int = 0
    units: dict[str, UnitUsage] = field(default_factory=dict)  # unit kind -> totals


@dataclass(slots=True)
class DayUsage:
    day: str  # YYYY-MM-DD (UTC)
    requests: int = 0
    cost_nanousd: int = 0


@dataclass(slots=True)
class UsageTotals:
    """One group's traffic of one mode (live or test)."""

    requests: int = 0
    errors: int = 0
    cost_nanousd: int = 0
    units: dict[str, UnitUsage] = field(default_factory=dict)
    by_model: list[ModelUsage] = field(default_factory=list)  # by model id
    by_day: list[DayUsage] = field(default_factory=list)  # by day


@dataclass(slots=True)
class UsageGroup:
    key: str | None  # the tag or sub-account id; None: untagged / the parent's own traffic
    live: UsageTotals = field(default_factory=UsageTotals)
    test: UsageTotals = field(default_factory=UsageTotals)  # recorded, never charged


@dataclass(slots=True)
class UsageReport:
    month: str
    group_by: str  # "tag" | "sub_account"
    groups: list[UsageGroup]  # ordered by key, None first
    live: UsageTotals  # over every group
    test: UsageTotals


def month_range(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a ``YYYY-MM`` UTC month; ValueError for anything else."""
    found = _MONTH.match(month)
    if found is None:
        raise ValueError(f"month is YYYY-MM, not {month!r}")
    year, number = int(found.group(1)), int(found.group(2))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


class UsageStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def by_tag(self, account_id: str, month: str) -> UsageReport:
        """The account's traffic (its own and its sub-accounts') per tag."""
        return self._report(account_id, month, "tag")

    def by_sub_account(self, account_id: str, month: str) -> UsageReport:
        """The account's traffic per sub-account (key None: calls made with the parent's own keys)."""
        return self._report(account_id, month, "sub_account")

    def for_sub_account(self, account_id: str, sub_id: str, month: str) -> UsageReport:
        """One sub-account's traffic (one group, zero when it made no calls that month)."""
        report = self._report(account_id, month, "sub_account", sub_id)
        if not report.groups:
            report.groups.append(UsageGroup(sub_id))
        return report

    def _report(self, account_id: str, month: str, group_by: str, key: str | None = None) -> UsageReport:
        """Reads the reports' own tables (schema.py): rows already summed per model and per day.

        The account's totals are the same summed over tags or over sub-accounts; a by-sub-account
        report takes them from the tag side, which has far fewer rows than hundreds of
        sub-accounts' days (measured: this halves the report's time at 500 sub-accounts).
        """
        month_range(month)
        with self.engine.connect() as conn:
            model_rows, day_rows = self._read(conn, account_id, month, _DIMENSIONS[group_by], key)
            groups = _groups(model_rows, day_rows, collapse=False)
            if key is not None:
                overall = groups[0] if groups else UsageGroup(None)
            elif group_by == "tag":
                overall = _groups(model_rows, day_rows, collapse=True)[0] if groups else UsageGroup(None)
            else:
                tag_rows = self._read(conn, account_id, month, "tag", None)
                overall = _groups(*tag_rows, collapse=True)[0] if groups else UsageGroup(None)
        return UsageReport(month, group_by, groups, overall.live, overall.test)

    @staticmethod
    def _read(
        conn: Connection, account_id: str, month: str, dimension: str, key: str | None
    ) -> tuple[Sequence[Sequence[Any]], Sequence[Sequence[Any]]]:
        m, d = usage_monthly.c, usage_daily.c
        by_model = select(m.group_key, m.mode, m.model, m.unit_kind, *(m[c] for c in _SUMS)).where(
            m.account_id == account_id, m.dimension == dimension, m.month == month
        )
        by_day = select(d.group_key, d.mode, d.day, d.requests, d.cost_nanousd).where(
            d.account_id == account_id,
            d.dimension == dimension,
            d.day >= f"{month}-01",
            d.day <= f"{month}-31",
        )
        if key is not None:
            by_model = by_model.where(m.group_key == key)
            by_day = by_day.where(d.group_key == key)
        return conn.execute(by_model).all(), conn.execute(by_day).all()

    # -- the check -------------------------------------------------------------------------------
    def rollup_totals(self, account_id: str, month: str) -> Totals:
        """The rollups' month, summed per (sub-account, tag, model, mode, unit kind)."""
        month_range(month)
        r = usage_rollups.c
        keys = (r.sub_account_id, r.tag, r.model, r.mode, r.unit_kind)
        query = (
            select(*keys, *(func.sum(r[c]) for c in _SUMS))
            .where(r.account_id == account_id, r.day >= f"{month}-01", r.day <= f"{month}-31")
            .group_by(*keys)
        )
        return self._totals(query)

    def ledger_totals(self, account_id: str, month: str) -> Totals:
        """The same sums straight from the ledger's rows of that month (slow: a check, not a report)."""
        start, end = month_range(month)
        c = ledger.c
        keys = (func.coalesce(c.sub_account_id, ""), func.coalesce(c.tag, ""), c.model, c.mode, c.unit_kind)
        errors = func.sum(case((c.status == "ok", 0), else_=1))
        query = (
            select(
                *keys,
                func.count(),
                errors,
                func.sum(c.cost_nanousd),
                func.sum(c.input_units),
                func.sum(c.output_units),
            )
            .where(c.account_id == account_id, c.created_at >= start, c.created_at < end)
            .group_by(*keys)
        )
        return self._totals(query)

    def check(self, account_id: str, month: str) -> list[str]:
        """What disagrees (empty: all agree): the rollups against the ledger's own sums, and the
        reports' tables against the rollups, per group of each."""
        rolled = self.rollup_totals(account_id, month)
        summed = self.ledger_totals(account_id, month)
        out = [f"rollups {k}: {rolled.get(k)} != ledger {summed.get(k)}" for k in _differ(rolled, summed)]
        m, d, r = usage_monthly.c, usage_daily.c, usage_rollups.c
        for dimension, column in (("tag", r.tag), ("sub", r.sub_account_id)):
            expected: dict[tuple[str, ...], tuple[int, ...]] = defaultdict(lambda: (0, 0, 0, 0, 0))
            for (sub, tag, model, mode, kind), sums in rolled.items():
                key = (tag if dimension == "tag" else sub, model, mode, kind)
                expected[key] = tuple(a + b for a, b in zip(expected[key], sums, strict=True))
            query = select(m.group_key, m.model, m.mode, m.unit_kind, *(m[c] for c in _SUMS)).where(
                m.account_id == account_id, m.dimension == dimension, m.month == month
            )
            found = self._rows(query, 4)
            out += [f"usage_monthly {dimension} {k}: {found.get(k)}" for k in _differ(dict(expected), found)]
            month_rows = (r.account_id == account_id, r.day >= f"{month}-01", r.day <= f"{month}-31")
            three = (r.requests, r.errors, r.cost_nanousd)
            query = (
                select(column, r.day, r.mode, *(func.sum(c) for c in three))
                .where(*month_rows)
                .group_by(column, r.day, r.mode)
            )
            days_expected = self._rows(query, 3)
            query = select(d.group_key, d.day, d.mode, d.requests, d.errors, d.cost_nanousd).where(
                d.account_id == account_id,
                d.dimension == dimension,
                d.day >= f"{month}-01",
                d.day <= f"{month}-31",
            )
            days_found = self._rows(query, 3)
            out += [
                f"usage_daily {dimension} {k}: {days_found.get(k)}"
                for k in _differ(days_expected, days_found)
            ]
        return out

    def _rows(self, query: Select[Any], width: int) -> dict[tuple[str, ...], tuple[int, ...]]:
        with self.engine.connect() as conn:
            return {
                tuple(str(v) for v in row[:width]): tuple(int(v or 0) for v in row[width:])
                for row in conn.execute(query)
            }

    def _totals(self, query: Select[Any]) -> Totals:
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out: Totals = {}
        for row in rows:
            a, b, c, d, e = (int(v or 0) for v in row[5:10])
            out[(str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]))] = (a, b, c, d, e)
        return out


def _differ(a: Mapping[Any, object], b: Mapping[Any, object]) -> list[Any]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def _groups(
    model_rows: Sequence[Sequence[Any]], day_rows: Sequence[Sequence[Any]], *, collapse: bool
) -> list[UsageGroup]:
    """UsageGroups from (key, mode, model, kind, 5 sums) and (key, mode, day, requests, cost) rows,
    ordered by key (None first); ``collapse`` sums every key into one group. Tight loops: a
    by-sub-account report of hundreds of sub-accounts has tens of thousands of day rows."""
    groups: dict[str, UsageGroup] = {}
    models: dict[tuple[str, str], dict[str, ModelUsage]] = {}
    days: dict[tuple[str, str], dict[str, DayUsage]] = {}

    def totals(key: str, mode: str) -> UsageTotals:
        group = groups.get(key)
        if group is None:
            group = groups[key] = UsageGroup(key or None)
        return group.test if mode == "test" else group.live

    for key, mode, model, kind, requests, errors, cost, units_in, units_out in model_rows:
        side = (("" if collapse else key), mode)
        sums = totals(*side)
        sums.requests += requests
        sums.errors += errors
        sums.cost_nanousd += cost
        _add_units(sums.units, kind, units_in, units_out)
        lines = models.get(side)
        if lines is None:
            lines = models[side] = {}
        line = lines.get(model)
        if line is None:
            line = lines[model] = ModelUsage(model)
        line.requests += requests
        line.cost_nanousd += cost
        _add_units(line.units, kind, units_in, units_out)
    for key, mode, day, requests, cost in day_rows:
        side = (("" if collapse else key), mode)
        per_day = days.get(side)
        if per_day is None:
            per_day = days[side] = {}
        entry = per_day.get(day)
        if entry is None:
            entry = per_day[day] = DayUsage(day)
        entry.requests += requests
        entry.cost_nanousd += cost
    for side, lines in models.items():
        totals(*side).by_model = [lines[m] for m in sorted(lines)]
    for side, per_day in days.items():
        totals(*side).by_day = [per_day[d] for d in sorted(per_day)]
    return sorted(groups.values(), key=lambda g: (g.key is not None, g.key or ""))


def _add_units(units: dict[str, UnitUsage], kind: str, units_in: int, units_out: int) -> None:
    found = units.get(kind)
    if found is None:
        found = units[kind] = UnitUsage()
    found.input += units_in
    found.output += units_out
