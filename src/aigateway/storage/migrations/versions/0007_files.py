"""Files: uploads (POST /v1/files) and files the gateway writes (batch output), each a blob in the
blob store described by a row here.

Revision ID: 0007_files
Revises: 0006_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_files"
down_revision = "0006_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("sub_account_id", sa.String(40), nullable=True),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("blob_key", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_files_account_id_id", "files", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_files_account_id_id", table_name="files")
    op.drop_table("files")
