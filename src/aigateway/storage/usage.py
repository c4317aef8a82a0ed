"""Usage reports, read from the usage rollups the ledger flush keeps (never from the ledger itself).

A month of one account is at most (sub-accounts x tags x models x modes x unit kinds x 31) rollup
rows however many calls it made, so a report over a million ledger rows reads a few thousand rows
(bench/usage_report.py measures it). Test traffic is reported apart from live traffic and is never
counted as spend. ``ledger_totals`` sums the ledger itself for the same month, and ``check`` compares
the two: the proof that the rollups are in step with the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Select, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from aigateway.storage.schema import ledger, usage_rollups

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
        return self._report(account_id, month, "tag", usage_rollups.c.tag)

    def by_sub_account(self, account_id: str, month: str) -> UsageReport:
        """The account's traffic per sub-account (key None: calls made with the parent's own keys)."""
        return self._report(account_id, month, "sub_account", usage_rollups.c.sub_account_id)

    def for_sub_account(self, account_id: str, sub_id: str, month: str) -> UsageReport:
        """One sub-account's traffic (one group, zero when it made no calls that month)."""
        report = self._report(
            account_id,
            month,
            "sub_account",
            usage_rollups.c.sub_account_id,
            usage_rollups.c.sub_account_id == sub_id,
        )
        if not report.groups:
            report.groups.append(UsageGroup(sub_id))
        return report

    def _report(
        self,
        account_id: str,
        month: str,
        group_by: str,
        key: ColumnElement[str],
        *where: ColumnElement[bool],
    ) -> UsageReport:
        month_range(month)
        r = usage_rollups.c
        query = (
            select(
                key,
                r.mode,
                r.model,
                r.day,
                r.unit_kind,
                func.sum(r.requests),
                func.sum(r.errors),
                func.sum(r.cost_nanousd),
                func.sum(r.input_units),
                func.sum(r.output_units),
            )
            .where(r.account_id == account_id, r.day >= f"{month}-01", r.day <= f"{month}-31", *where)
            .group_by(key, r.mode, r.model, r.day, r.unit_kind)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return _assemble(month, group_by, rows)

    # -- the check -------------------------------------------------------------------------------
    def rollup_totals(self, account_id: str, month: str) -> Totals:
        """The rollups' month, summed per (sub-account, tag, model, mode, unit kind)."""
        month_range(month)
        r = usage_rollups.c
        keys = (r.sub_account_id, r.tag, r.model, r.mode, r.unit_kind)
        sums = (r.requests, r.errors, r.cost_nanousd, r.input_units, r.output_units)
        query = (
            select(*keys, *(func.sum(c) for c in sums))
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

    def check(self, account_id: str, month: str) -> list[TotalsKey]:
        """The groups whose rollups differ from the ledger's sums (empty: they agree)."""
        rolled = self.rollup_totals(account_id, month)
        summed = self.ledger_totals(account_id, month)
        return sorted(k for k in rolled.keys() | summed.keys() if rolled.get(k) != summed.get(k))

    def _totals(self, query: Select[Any]) -> Totals:
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out: Totals = {}
        for row in rows:
            a, b, c, d, e = (int(v or 0) for v in row[5:10])
            out[(str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]))] = (a, b, c, d, e)
        return out


class _Accumulator:
    """Adds rollup rows into one UsageTotals, with its per-model and per-day lines."""

    __slots__ = ("days", "models", "totals")

    def __init__(self, totals: UsageTotals) -> None:
        self.totals = totals
        self.models: dict[str, ModelUsage] = {}
        self.days: dict[str, DayUsage] = {}

    def add(self, model: str, day: str, kind: str, sums: tuple[int, int, int, int, int]) -> None:
        requests, errors, cost, units_in, units_out = sums
        totals = self.totals
        totals.requests += requests
        totals.errors += errors
        totals.cost_nanousd += cost
        _add_units(totals.units, kind, units_in, units_out)
        by_model = self.models.get(model)
        if by_model is None:
            by_model = self.models[model] = ModelUsage(model)
        by_model.requests += requests
        by_model.cost_nanousd += cost
        _add_units(by_model.units, kind, units_in, units_out)
        by_day = self.days.get(day)
        if by_day is None:
            by_day = self.days[day] = DayUsage(day)
        by_day.requests += requests
        by_day.cost_nanousd += cost

    def finish(self) -> None:
        self.totals.by_model = [self.models[m] for m in sorted(self.models)]
        self.totals.by_day = [self.days[d] for d in sorted(self.days)]


def _assemble(month: str, group_by: str, rows: Sequence[Sequence[Any]]) -> UsageReport:
    overall = UsageGroup(None)
    everything = {"live": _Accumulator(overall.live), "test": _Accumulator(overall.test)}
    groups: dict[str, tuple[UsageGroup, dict[str, _Accumulator]]] = {}
    for row in rows:
        key, mode, model, day, kind = row[0], row[1], row[2], row[3], row[4]
        sums = row[5:10]
        found = groups.get(key)
        if found is None:
            group = UsageGroup(key or None)
            found = groups[key] = (
                group,
                {"live": _Accumulator(group.live), "test": _Accumulator(group.test)},
            )
        side = "test" if mode == "test" else "live"
        numbers = (int(sums[0]), int(sums[1]), int(sums[2]), int(sums[3]), int(sums[4]))
        found[1][side].add(model, day, kind, numbers)
        everything[side].add(model, day, kind, numbers)
    for _group, accumulators in groups.values():
        for accumulator in accumulators.values():
            accumulator.finish()
    for accumulator in everything.values():
        accumulator.finish()
    ordered = sorted((g for g, _ in groups.values()), key=lambda g: (g.key is not None, g.key or ""))
    return UsageReport(month, group_by, ordered, overall.live, overall.test)


def _add_units(units: dict[str, UnitUsage], kind: str, units_in: int, units_out: int) -> None:
    found = units.get(kind)
    if found is None:
        found = units[kind] = UnitUsage()
    found.input += units_in
    found.output += units_out
