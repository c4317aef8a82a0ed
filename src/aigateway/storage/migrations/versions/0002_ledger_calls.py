"""Ledger rows keyed by the gateway's call id; the client's request id no longer unique; quarantine.

Existing rows were written when the request id was the key (and unique), so it becomes their call
id. The new descriptive columns get server defaults only while they are added, so old rows read as
what they were (HTTP chat calls counted in tokens at standard prices); new rows always name them.

Revision ID: 0002_ledger_calls
Revises: 0001_core
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_ledger_calls"
down_revision = "0001_core"
branch_labels = None
depends_on = None

# 0001 declared request_id unique inline: PostgreSQL named it ``ledger_request_id_key``, SQLite left
# it unnamed. Batch mode names reflected unnamed constraints by this convention so it can be dropped.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
# column -> (width, what every existing row was)
_DESCRIPTIVE = {
    "operation": (32, "chat"),
    "origin": (16, "http"),
    "unit_kind": (16, "tokens"),
    "price_basis": (16, "standard"),
}


def _request_id_unique() -> str:
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("ledger"):
        if constraint["column_names"] == ["request_id"]:
            return constraint["name"] or "uq_ledger_request_id"
    raise RuntimeError("ledger.request_id has no unique constraint to drop: not a 0001 schema")


def upgrade() -> None:
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("call_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("sub_account_id", sa.String(40), nullable=True))
        for name, (width, default) in _DESCRIPTIVE.items():
            batch.add_column(sa.Column(name, sa.String(width), nullable=False, server_default=default))
        batch.add_column(sa.Column("parent_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("meters", sa.Text, nullable=True))

    op.execute("UPDATE ledger SET call_id = request_id")

    request_id_unique = _request_id_unique()
    with op.batch_alter_table("ledger", naming_convention=_NAMING) as batch:
        batch.alter_column("call_id", existing_type=sa.String(128), nullable=False)
        for name, (width, _default) in _DESCRIPTIVE.items():
            batch.alter_column(name, existing_type=sa.String(width), server_default=None)
        batch.drop_constraint(request_id_unique, type_="unique")
        batch.create_unique_constraint("uq_ledger_call_id", ["call_id"])
        batch.create_index("ix_ledger_request_id", ["request_id"])
        batch.create_index("ix_ledger_parent_id", ["parent_id"])

    op.create_table(
        "ledger_quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("cost_nanousd", sa.BigInteger, nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ledger_quarantine_call_id", "ledger_quarantine", ["call_id"])


def downgrade() -> None:
    """Only possible while no two rows share a request id (the old unique key comes back)."""
    op.drop_table("ledger_quarantine")
    with op.batch_alter_table("ledger") as batch:
        batch.drop_index("ix_ledger_parent_id")
        batch.drop_index("ix_ledger_request_id")
        batch.drop_constraint("uq_ledger_call_id", type_="unique")
        batch.create_unique_constraint("ledger_request_id_key", ["request_id"])
        for name in ("meters", "price_basis", "unit_kind", "parent_id", "origin", "operation"):
            batch.drop_column(name)
        batch.drop_column("sub_account_id")
        batch.drop_column("call_id")
