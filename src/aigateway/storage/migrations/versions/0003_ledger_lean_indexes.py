"""Fewer ledger indexes on the write path: no index on the client's request id, a partial one on
the parent id.

Every index is paid on every insert, and the ledger is written on every call. Measured with the
benchmark, the two indexes 0002 added cost the ledger writer ~50% more time per row, which on a
2-core machine came out of the requests' share of the CPU. Most calls have no parent, so the parent
index keeps only the rows that have one (SQLite and PostgreSQL both take partial indexes).

Revision ID: 0003_ledger_lean_indexes
Revises: 0002_ledger_calls
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_ledger_lean_indexes"
down_revision = "0002_ledger_calls"
branch_labels = None
depends_on = None

_HAS_PARENT = sa.text("parent_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_ledger_request_id", table_name="ledger")
    op.drop_index("ix_ledger_parent_id", table_name="ledger")
    op.create_index(
        "ix_ledger_parent_id",
        "ledger",
        ["parent_id"],
        sqlite_where=_HAS_PARENT,
        postgresql_where=_HAS_PARENT,
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_parent_id", table_name="ledger")
    op.create_index("ix_ledger_parent_id", "ledger", ["parent_id"])
    op.create_index("ix_ledger_request_id", "ledger", ["request_id"])
