"""The application factory: everything is built here from settings, nothing at import time."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from aigateway.api import account, models
from aigateway.api.chat import ChatEndpoint, make_chat_endpoint
from aigateway.api.errors import install_error_handlers
from aigateway.core.catalog import load_catalog
from aigateway.providers.transport import create_session
from aigateway.providers.vendors import build_vendors
from aigateway.services.auth import KeyCache
from aigateway.services.chat import ChatService
from aigateway.services.context import GatewayContext
from aigateway.services.ledger_writer import LedgerWriter
from aigateway.services.wallet import WalletBook
from aigateway.settings import Settings, load_settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine

log = logging.getLogger("aigateway")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    catalog = load_catalog(settings.catalog_path, extra_models=settings.models)
    vendors = build_vendors(settings.providers)
    for model in catalog.models.values():
        for dep in model.deployments:
            if dep.provider not in vendors:
                raise ValueError(f"model {model.id} names unknown provider {dep.provider!r}")

    holder: dict[str, ChatService] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_db_engine(settings.resolved_database_url)
        store = AccountStore(engine)
        wallets = WalletBook(store, settings.balance_refresh_s)
        ledger = LedgerWriter(
            engine,
            store,
            wallets,
            interval_s=settings.ledger_flush_interval_s,
            batch_size=settings.ledger_batch_size,
            spill_dir=settings.data_dir / "spill",
        )
        session = create_session(
            pool_size=settings.upstream_pool_size,
            connect_timeout_s=settings.upstream_connect_timeout_s,
            total_timeout_s=settings.upstream_timeout_s,
        )
        ctx = GatewayContext(
            settings=settings,
            catalog=catalog,
            vendors=vendors,
            engine=engine,
            store=store,
            keys=KeyCache(store, settings.key_cache_ttl_s),
            wallets=wallets,
            ledger=ledger,
            session=session,
        )
        app.state.ctx = ctx
        holder["chat"] = ChatService(ctx)
        await ledger.start()
        # Everything built so far (framework, catalog, schemas) lives as long as the process: move
        # it out of the collector's generations. Measured: without this, full collections that
        # re-scan those objects put p99 at ~75 ms under load (c=16) against ~6 ms with it.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await ledger.close()
            await session.close()
            engine.dispose()

    app = FastAPI(
        title="AIgateway",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the committed document (data/openapi.json) is served instead
    )
    openapi_doc = resources.files("aigateway.data").joinpath("openapi.json").read_bytes()

    async def openapi(request: Request) -> Response:
        return Response(openapi_doc, media_type="application/json")

    app.router.add_route("/openapi.json", openapi, methods=["GET"], include_in_schema=False)
    install_error_handlers(app)
    app.include_router(models.router)
    app.include_router(account.router)

    app.router.add_route("/v1/chat/completions", _lazy_chat(holder), methods=["POST"])
    return app


def _lazy_chat(holder: dict[str, ChatService]) -> ChatEndpoint:
    """The chat endpoint is built once the lifespan has made the service (first request)."""
    endpoint: ChatEndpoint | None = None

    async def chat(request: Request) -> Response:
        nonlocal endpoint
        if endpoint is None:
            endpoint = make_chat_endpoint(holder["chat"])
        return await endpoint(request)

    return chat


def create_app_from_env() -> FastAPI:
    """Factory for ASGI servers (``uvicorn --factory aigateway.app:create_app_from_env``)."""
    return create_app(load_settings())
