"""Sub-accounts, key scopes and expiry, tag budgets, spend per period, usage rollups (and the
reports' monthly and daily shapes of them), the outbox.

Existing keys become "manage" keys (what every key could do before); none belongs to a
sub-account or expires. The ledger already has its sub_account_id column (0002). Rollups and spend
start empty and are then kept by the ledger flush; rows written before this revision are backfilled
here from the ledger, the same way the flush counts them, so reports and caps cover them too.

Revision ID: 0004_sub_accounts
Revises: 0003_ledger_lean_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_sub_accounts"
down_revision = "0003_ledger_lean_indexes"
branch_labels = None
depends_on = None


_SUMS = ("requests", "errors", "cost_nanousd", "input_units", "output_units")


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("sub_account_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="manage"))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rate_limit_rpm", sa.Integer, nullable=True))
        batch.create_index("ix_api_keys_sub_account_id", ["sub_account_id"])

    op.create_table(
        "sub_accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("spend_cap_nanousd", sa.BigInteger, nullable=False),
        sa.Column("cap_period", sa.String(16), nullable=False, server_default="month"),
        sa.Column("rate_limit_rpm", sa.Integer, nullable=True),
        sa.Column("default_tag", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sub_accounts_account_created", "sub_accounts", ["account_id", "created_at"])

    op.create_table(
        "budgets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("tag", sa.String(200), nullable=False),
        sa.Column("cap_nanousd", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("account_id", "tag", name="uq_budgets_account_tag"),
    )

    op.create_table(
        "spend_periods",
        sa.Column("scope", sa.String(300), primary_key=True),
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("spent_nanousd", sa.BigInteger, nullable=False),
    )

    op.create_table(
        "usage_rollups",
        sa.Column("account_id", sa.String(40), primary_key=True),
        sa.Column("sub_account_id", sa.String(40), primary_key=True),
        sa.Column("tag", sa.String(200), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("mode", sa.String(8), primary_key=True),
        sa.Column("unit_kind", sa.String(16), primary_key=True),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("cost_nanousd", sa.BigInteger, nullable=False),
        sa.Column("input_units", sa.BigInteger, nullable=False),
        sa.Column("output_units", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_usage_rollups_account_day", "usage_rollups", ["account_id", "day"])

    op.create_table(
        "usage_monthly",
        *_report_key(),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("mode", sa.String(8), primary_key=True),
        sa.Column("unit_kind", sa.String(16), primary_key=True),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in _SUMS),
    )
    op.create_table(
        "usage_daily",
        *_report_key(),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("mode", sa.String(8), primary_key=True),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in _SUMS[:3]),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("dedupe_key", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_delivered_created", "outbox", ["delivered_at", "created_at"])

    _backfill()


def _report_key() -> list[sa.Column[str]]:
    return [
        sa.Column("account_id", sa.String(40), primary_key=True),
        sa.Column("dimension", sa.String(8), primary_key=True),
        sa.Column("group_key", sa.String(200), primary_key=True),
    ]


def _backfill() -> None:
    """Rollups of the rows already in the ledger (before 0004 no row had a sub-account), and the
    reports' tables summed from them."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        day = "substr(created_at, 1, 10)"
        month = "substr(created_at, 1, 7)"
    else:
        day = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        month = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
    op.execute(
        "INSERT INTO usage_rollups (account_id, sub_account_id, tag, day, model, mode, unit_kind,"
        " requests, errors, cost_nanousd, input_units, output_units)"
        f" SELECT account_id, COALESCE(sub_account_id, ''), COALESCE(tag, ''), {day}, model, mode,"
        " unit_kind, COUNT(*), SUM(CASE WHEN status = 'ok' THEN 0 ELSE 1 END), SUM(cost_nanousd),"
        " SUM(input_units), SUM(output_units) FROM ledger"
        f" GROUP BY account_id, COALESCE(sub_account_id, ''), COALESCE(tag, ''), {day}, model, mode,"
        " unit_kind"
    )
    for dimension, column in (("tag", "tag"), ("sub", "sub_account_id")):
        op.execute(
            "INSERT INTO usage_monthly (account_id, dimension, group_key, month, model, mode, unit_kind,"
            " requests, errors, cost_nanousd, input_units, output_units)"
            f" SELECT account_id, '{dimension}', {column}, substr(day, 1, 7), model, mode, unit_kind,"
            " SUM(requests), SUM(errors), SUM(cost_nanousd), SUM(input_units), SUM(output_units)"
            f" FROM usage_rollups GROUP BY account_id, {column}, substr(day, 1, 7), model, mode, unit_kind"
        )
        op.execute(
            "INSERT INTO usage_daily (account_id, dimension, group_key, day, mode, requests, errors,"
            f" cost_nanousd) SELECT account_id, '{dimension}', {column}, day, mode, SUM(requests),"
            f" SUM(errors), SUM(cost_nanousd) FROM usage_rollups GROUP BY account_id, {column}, day, mode"
        )
    op.execute(
        "INSERT INTO spend_periods (scope, period, spent_nanousd)"
        f" SELECT 'tag:' || account_id || ':' || tag, {month}, SUM(cost_nanousd) FROM ledger"
        " WHERE mode = 'live' AND cost_nanousd > 0 AND tag IS NOT NULL"
        f" GROUP BY account_id, tag, {month}"
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_delivered_created", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("usage_daily")
    op.drop_table("usage_monthly")
    op.drop_index("ix_usage_rollups_account_day", table_name="usage_rollups")
    op.drop_table("usage_rollups")
    op.drop_table("spend_periods")
    op.drop_table("budgets")
    op.drop_index("ix_sub_accounts_account_created", table_name="sub_accounts")
    op.drop_table("sub_accounts")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_sub_account_id")
        for name in ("rate_limit_rpm", "expires_at", "scope", "sub_account_id"):
            batch.drop_column(name)
