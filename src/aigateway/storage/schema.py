"""Table definitions (SQLAlchemy Core). Alembic migrations under ``migrations/`` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    # Wallet balance in nano-dollars (1e-9 USD). Never a float.
    Column("balance_nanousd", BigInteger, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(40), nullable=False),
    Column("mode", String(8), nullable=False),  # "live" or "test"
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # Set for a sub-account's keys; the key's account_id stays the parent (whose wallet pays).
    Column("sub_account_id", String(40), nullable=True, index=True),
    Column("scope", String(16), nullable=False, server_default="manage"),  # manage|inference|sub_account
    # A rotated-out key keeps working until then (the grace period); find_key reports it revoked after.
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("rate_limit_rpm", Integer, nullable=True),  # an optional per-key RPM limit
)

wallet_credits = Table(
    "wallet_credits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("amount_nanousd", BigInteger, nullable=False),
    Column("note", String(400), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The gateway's own id for the call (unique: replays and retries of a write are told apart by
    # it). 128 wide, not 40: rows from before it existed carry their request id as their call id.
    Column("call_id", String(128), nullable=False),
    # The client's correlation id (X-Request-Id): clients and their retries reuse it, so not unique.
    # Not indexed: the ledger is written far more than it is searched by it, and every index is paid
    # on every insert (measured: two more indexes cost the writer ~50%); lookups by the client's id
    # belong to the request capture that replays read.
    Column("request_id", String(128), nullable=False),
    Column("account_id", String(40), nullable=False),
    Column("sub_account_id", String(40), nullable=True),
    Column("key_id", String(40), nullable=False),
    Column("tag", String(200), nullable=True),
    Column("endpoint", String(64), nullable=False),
    Column("operation", String(32), nullable=False),  # chat | embeddings | rerank | ...
    Column("origin", String(16), nullable=False),  # http | batch | eval | replay | job
    Column("parent_id", String(64), nullable=True),  # the batch, eval, ... it belongs to
    Column("model", String(200), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("upstream_model", String(200), nullable=False),
    Column("mode", String(8), nullable=False),  # "live" or "test": test traffic is never charged
    Column("status", String(32), nullable=False),  # ok | error | client_cancelled | stream_error
    Column("http_status", Integer, nullable=False),
    Column("error_type", String(64), nullable=True),
    Column("stream", Boolean, nullable=False, default=False),
    Column("unit_kind", String(16), nullable=False),  # what input_units/output_units count
    Column("price_basis", String(16), nullable=False),  # standard | batch | cache_hit
    Column("input_units", BigInteger, nullable=False, default=0),
    Column("cached_input_units", BigInteger, nullable=False, default=0),
    Column("cache_write_units", BigInteger, nullable=False, default=0),
    Column("output_units", BigInteger, nullable=False, default=0),
    Column("reasoning_units", BigInteger, nullable=False, default=0),
    Column("usage_estimated", Boolean, nullable=False, default=False),
    Column("cost_nanousd", BigInteger, nullable=False, default=0),
    Column("latency_ms", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("detail", Text, nullable=True),
    Column("meters", Text, nullable=True),  # JSON object of every non-zero meter of the call
    UniqueConstraint("call_id", name="uq_ledger_call_id"),
    Index("ix_ledger_account_created", "account_id", "created_at"),
    Index("ix_ledger_tag", "tag"),
    # Partial: most calls have no parent, and their inserts should not touch this index at all.
    Index(
        "ix_ledger_parent_id",
        "parent_id",
        sqlite_where=text("parent_id IS NOT NULL"),
        postgresql_where=text("parent_id IS NOT NULL"),
    ),
)

# Entries the ledger refused row by row (a value its columns cannot hold). The wallet debit of each is
# applied all the same, in the transaction that stores it here, so money stays right while an operator
# looks at ``payload`` (the entry's JSON) and ``error``; nothing in the gateway reads this table back.
ledger_quarantine = Table(
    "ledger_quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("account_id", String(128), nullable=False),
    Column("cost_nanousd", BigInteger, nullable=True),  # NULL when even the debit was refused
    Column("payload", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A parent account's customers or teams: each spends from the parent's wallet, never past its cap.
sub_accounts = Table(
    "sub_accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("external_ref", String(200), nullable=True),
    Column("mode", String(8), nullable=False),  # "live" or "test"
    Column("spend_cap_nanousd", BigInteger, nullable=False),
    Column("cap_period", String(16), nullable=False, server_default="month"),  # month | lifetime
    Column("rate_limit_rpm", Integer, nullable=True),
    Column("default_tag", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    Index("ix_sub_accounts_account_created", "account_id", "created_at"),
)

# A monthly (UTC) cap on one tag across an account and its sub-accounts.
budgets = Table(
    "budgets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("tag", String(200), nullable=False),
    Column("cap_nanousd", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("account_id", "tag", name="uq_budgets_account_tag"),
)

# What each cap's scope has spent per period, kept by the ledger flush in the ledger's transaction:
# scope "sub:{sub_id}" (periods "YYYY-MM" and "lifetime") or "tag:{account_id}:{tag}" ("YYYY-MM").
# Live, charged rows only. Admission loads caps' spent from here instead of summing the ledger.
spend_periods = Table(
    "spend_periods",
    metadata,
    Column("scope", String(300), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("spent_nanousd", BigInteger, nullable=False),
)

# Per-day totals of every ledger row (any status, any mode), kept by the ledger flush in the ledger's
# transaction, so usage reports read a few thousand rows instead of summing a month of the ledger.
# '' (not NULL) stands for "no sub-account" / "no tag", so the primary key can hold it.
usage_rollups = Table(
    "usage_rollups",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("sub_account_id", String(40), primary_key=True),
    Column("tag", String(200), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("model", String(200), primary_key=True),
    Column("mode", String(8), primary_key=True),
    Column("unit_kind", String(16), primary_key=True),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("cost_nanousd", BigInteger, nullable=False),
    Column("input_units", BigInteger, nullable=False),
    Column("output_units", BigInteger, nullable=False),
    Index("ix_usage_rollups_account_day", "account_id", "day"),
)

# The usage reports' own shapes, kept by the flush beside usage_rollups (from the same per-batch
# aggregate): a month of usage_rollups is group x day x model x mode x kind, tens of thousands of rows
# for a busy account, too many to sum within a report's 100 ms on SQLite; these hold exactly what a
# report reads (per tag or per sub-account: by model for the month, and by day), so a report reads a
# few hundred rows. dimension: "tag" (group_key the tag) or "sub" (the sub-account id); '' for none.
usage_monthly = Table(
    "usage_monthly",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("dimension", String(8), primary_key=True),
    Column("group_key", String(200), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM, UTC
    Column("model", String(200), primary_key=True),
    Column("mode", String(8), primary_key=True),
    Column("unit_kind", String(16), primary_key=True),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("cost_nanousd", BigInteger, nullable=False),
    Column("input_units", BigInteger, nullable=False),
    Column("output_units", BigInteger, nullable=False),
)

usage_daily = Table(
    "usage_daily",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("dimension", String(8), primary_key=True),
    Column("group_key", String(200), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("mode", String(8), primary_key=True),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("cost_nanousd", BigInteger, nullable=False),
)

# Events written in the transaction of the state change they report, for the webhook deliverer.
# dedupe_key is unique and inserts skip a conflict, so an event is stored once however many
# processes see the same crossing.
outbox = Table(
    "outbox",
    metadata,
    Column("id", String(40), primary_key=True),  # evt_ + 12 hex of the ms clock + 12 random hex
    Column("account_id", String(40), nullable=False),
    Column("type", String(64), nullable=False),
    Column("payload", Text, nullable=False),  # JSON of the event's data
    Column("dedupe_key", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    Index("ix_outbox_delivered_created", "delivered_at", "created_at"),
)

# The durable job queue (0005, storage/jobs.py): long-running work a worker claims under a lease
# (lease_owner, lease_expires_at, kept alive by heartbeats), so a killed worker's job is claimed
# again once its lease runs out. ``step`` and ``state`` are what a multi-step job (submit -> poll ->
# fetch) persisted after each step, so a second attempt resumes after the last saved step.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),  # job_ + 12 hex of the ms clock + 12 random hex
    Column("account_id", String(40), nullable=False),
    Column("sub_account_id", String(40), nullable=True),
    Column("key_id", String(40), nullable=True),
    Column("kind", String(64), nullable=False),  # video | music | 3d | chat | batch | test.sleep ...
    Column("status", String(16), nullable=False),  # queued|processing|completed|failed|cancelled
    Column("payload", Text, nullable=False),  # JSON: what the job was asked to do
    Column("result", Text, nullable=True),  # JSON, once completed
    Column("error", Text, nullable=True),  # JSON {"message", "code"} of the last failure
    Column("attempts", Integer, nullable=False, server_default="0"),  # claims so far
    Column("max_attempts", Integer, nullable=False, server_default="5"),
    Column("run_after", DateTime(timezone=True), nullable=False),  # not claimed before (backoff)
    Column("lease_owner", String(100), nullable=True),
    Column("lease_expires_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("step", String(64), nullable=True),  # the last step completed
    Column("state", Text, nullable=False, server_default="{}"),  # JSON the steps persisted
    Column("webhook_url", String(2000), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Index("ix_jobs_claim", "status", "run_after"),
    Index("ix_jobs_lease", "status", "lease_expires_at"),
    Index("ix_jobs_account_created", "account_id", "created_at"),
)

# Signed webhooks (0006): an account's signing secret, and the one before it while a rotation's
# overlap lasts (deliveries carry a signature by each, so receivers can switch without a gap).
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("account_id", String(40), ForeignKey("accounts.id"), primary_key=True),
    Column("secret", String(100), nullable=False),
    Column("previous_secret", String(100), nullable=True),
    Column("previous_expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
)

# Where an account's events are sent (PUT /v1/webhook-endpoint); no row: they are not sent.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("account_id", String(40), ForeignKey("accounts.id"), primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row per event sent to an endpoint; its id is the x-aig-delivery-id of every attempt. A sender
# claims a due row (claim_token, claimed_until) before it sends, so two processes never send the same
# attempt; a claim left by a killed process runs out and the row is sent again (the next attempt).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),  # whd_ + 24 hex
    Column("event_id", String(40), nullable=False),
    Column("account_id", String(40), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("body", Text, nullable=False),  # the exact bytes signed and sent, the same on every attempt
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("claim_token", String(40), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("given_up_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("event_id", name="uq_webhook_deliveries_event_id"),
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        sqlite_where=text("delivered_at IS NULL AND given_up_at IS NULL"),
        postgresql_where=text("delivered_at IS NULL AND given_up_at IS NULL"),
    ),
    Index("ix_webhook_deliveries_account", "account_id", "created_at"),
)


# Files (0007, POST /v1/files): the row describes a blob in the blob store (storage/blobs.py). Ids are
# time-ordered (file- + 12 hex of the ms clock + 12 random hex) so pages walk them by id. A file is
# its account's; sub_account_id is who uploaded it (a sub-account key sees only its own).
files = Table(
    "files",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), nullable=False),
    Column("sub_account_id", String(40), nullable=True),
    Column("filename", String(500), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("blob_key", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Index("ix_files_account_id_id", "account_id", "id"),
)
