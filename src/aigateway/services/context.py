"""Everything a request needs, built once per process from settings (no module-level state)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from sqlalchemy import Engine

from aigateway.core.catalog import Catalog
from aigateway.providers.fetch import Fetcher
from aigateway.providers.vendors import VendorProfile
from aigateway.services.admission import Admission
from aigateway.services.auth import KeyCache
from aigateway.services.ledger_writer import LedgerWriter
from aigateway.services.limits import SpendBook
from aigateway.services.webhooks import WebhookDeliverer
from aigateway.settings import Settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.blobs import BlobStore
from aigateway.storage.jobs import JobStore


@dataclass(slots=True)
class GatewayContext:
    settings: Settings
    catalog: Catalog
    vendors: dict[str, VendorProfile]
    engine: Engine
    store: AccountStore
    keys: KeyCache
    book: SpendBook  # wallets, caps and budgets (services/limits.py, limits_redis.py)
    admission: Admission
    ledger: LedgerWriter
    session: aiohttp.ClientSession
    fetcher: Fetcher | None = None  # guarded downloads of URLs from outside (providers/fetch.py)
    blobs: BlobStore | None = None  # media the gateway serves by signed URL (storage/blobs.py)
    jobs: JobStore | None = None  # the durable job queue (storage/jobs.py, services/jobs.py)
    webhooks: WebhookDeliverer | None = None  # the outbox's deliverer (services/webhooks.py)
