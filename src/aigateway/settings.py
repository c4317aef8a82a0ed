"""Settings: AIGATEWAY_* environment variables, then an optional TOML config file.

Precedence: environment > config file > defaults. The config file (``AIGATEWAY_CONFIG``, else
``./aigateway.toml`` when present) may also declare extra upstream providers (``[providers.NAME]``)
and extra models (``[[models]]``); see docs/configuration.md.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProviderConfig(BaseModel):
    """An operator's upstream: a new OpenAI-compatible endpoint, or overrides for a built-in one."""

    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    api_key_env: str | None = None
    wire: str | None = None
    auth: str | None = None  # bearer | x-api-key | x-goog-api-key | api-key | token; default: the wire's
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIGATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    server: str = "uvicorn"  # "uvicorn" or "granian"
    data_dir: Path = Path("./data")
    database_url: str | None = None  # default: sqlite file under data_dir
    admin_key: str | None = Field(default=None, repr=False)
    config: Path | None = None
    catalog_path: Path | None = None  # replaces the bundled catalog (operators' own models: [[models]])
    log_level: str = "info"
    access_log: bool = False

    max_body_bytes: int = 32 * 1024 * 1024
    upstream_connect_timeout_s: float = 10.0
    upstream_timeout_s: float = 600.0
    upstream_pool_size: int = 512

    key_cache_ttl_s: float = 5.0
    balance_refresh_s: float = 2.0
    ledger_flush_interval_s: float = 0.05
    ledger_batch_size: int = 2000
    # Admission (docs/ARCHITECTURE.md): a thin wallet admits a call whose output limit it can lower
    # to at least this many tokens; below that, 402.
    min_output_tokens: int = 16
    # ... and lowers it to this fraction (1/N) of what the wallet can pay, so concurrent calls fit too.
    thin_wallet_slices: int = 8
    # What a cache hit is billed, as a fraction of list price (0 = free).
    cache_hit_price_fraction: Decimal = Decimal(0)
    # The model POST /v1/rerank uses when a request names none (the contract makes model optional).
    default_rerank_model: str = "cohere/rerank-v3.5"
    # The models of the other operations whose contract makes model optional.
    default_moderation_model: str = "openai/omni-moderation"
    default_translation_model: str = "meta/m2m100-1.2b"
    default_classification_model: str = "huggingface/distilbert-sst-2"
    default_detection_model: str = "facebook/detr-resnet-50"
    default_ocr_model: str = "microsoft/trocr-base-printed"
    # Speech to text: the largest audio upload or audio_url accepted (413 above).
    max_audio_bytes: int = 25 * 1024 * 1024
    # URLs the gateway fetches for a client (audio_url): private and loopback hosts only if allowed.
    allow_private_fetch: bool = False
    fetch_timeout_s: float = 30.0
    # Generated images: how long a gateway image URL works (seconds), the largest image downloaded from
    # a provider, and how often / how long an asynchronous provider (Black Forest Labs) is polled.
    image_url_ttl_s: int = 3600
    image_fetch_max_bytes: int = 64 * 1024 * 1024
    image_poll_interval_s: float = 1.0
    image_poll_timeout_s: float = 300.0
    # Absolute URLs the gateway hands out (signed image URLs): this base, else the host the client called.
    public_url: str | None = None
    # The HMAC secret of signed URLs; unset, one is kept in <data_dir>/signing-secret (made on first use).
    signing_secret: str | None = Field(default=None, repr=False)
    # Blobs (images, files, job results) in an S3-compatible bucket when a bucket is set, else on local
    # disk under data_dir/blobs. Credentials: the standard AWS_* variables (storage/blobs_s3.py).
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # a non-AWS server (MinIO, R2, ...); unset: AWS S3
    s3_region: str | None = None
    s3_prefix: str = ""  # every object key starts with it (a folder of a shared bucket)
    # True: blob URLs are pre-signed S3 URLs (downloads skip the gateway); false: the gateway serves them.
    s3_presign: bool = False
    # Files (POST /v1/files): the largest upload accepted (413 above).
    max_file_bytes: int = 512 * 1024 * 1024

    # Sub-accounts, caps, budgets and rate limits (docs/accounts.md).
    # Redis shares wallets, caps, budgets and RPM counters among gateway processes (unset: in-process).
    redis_url: str | None = Field(default=None, repr=False)
    redis_prefix: str = "aig"  # every Redis key starts with it: one per deployment
    # Redis unreachable: "closed" refuses calls (503 limits_unavailable); "open" uses the in-process book.
    redis_failure: str = "closed"
    # usage.threshold.exceeded fires when a cap's or budget's spend crosses each of these percentages.
    usage_thresholds_pct: list[int] = Field(default_factory=lambda: [80, 100])
    # balance.low fires when a wallet falls below this many cents.
    balance_low_cents: int = 100
    # How long a rotated-out sub-account key keeps working unless PATCH names its own grace period.
    key_rotation_grace_s: int = 0
    # The longest grace period PATCH accepts (7 days).
    key_rotation_max_grace_s: int = 7 * 24 * 3600

    # Signed webhooks (README "Webhooks"): whether this process runs the delivery loop, how often it
    # looks for work, how long one attempt may take, and how long a rotated-out secret still signs.
    webhooks_enabled: bool = True
    webhook_poll_s: float = 1.0
    webhook_timeout_s: float = 10.0
    webhook_secret_overlap_s: int = 24 * 3600

    # The durable job queue (docs/ARCHITECTURE.md "Jobs"): whether `aigateway serve` runs a job worker
    # (`aigateway worker` always does), how many jobs one process runs at once, the lease a worker
    # holds on a job (a killed worker's job is taken over once it runs out), how often the lease is
    # renewed, and how often the queue is polled when idle.
    worker_in_serve: bool = True
    worker_concurrency: int = 4
    job_lease_s: float = 60.0
    job_heartbeat_s: float = 15.0
    job_poll_s: float = 1.0
    # Registers the test-only job kinds (test.sleep) that the crash tests run; never in production.
    test_job_kinds: bool = False

    # Filled from the config file, not the environment.
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    models: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aigateway.db').as_posix()}"


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, the config file and explicit overrides (CLI flags)."""
    env_config = os.environ.get("AIGATEWAY_CONFIG")
    path = Path(overrides.get("config") or env_config or "aigateway.toml")
    file_values: dict[str, Any] = {}
    if path.is_file():
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
        gateway = doc.get("gateway", {})
        file_values.update({k: v for k, v in gateway.items()})
        file_values["providers"] = doc.get("providers", {})
        file_values["models"] = doc.get("models", [])
        file_values["config"] = path
    elif overrides.get("config") or env_config:
        raise FileNotFoundError(f"config file not found: {path}")
    # Environment wins over the file: drop file values that the environment sets.
    for key in list(file_values):
        if f"AIGATEWAY_{key.upper()}" in os.environ:
            file_values.pop(key)
    file_values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**file_values)
