"""Gateway.call without HTTP: what batches, evals, replays and jobs will use.

The app is built and started (its lifespan) with a test-mode key; the call runs on the app's own
event loop through the same pipeline as an HTTP request and leaves its ledger row with its origin.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from aigateway.app import create_app
from aigateway.services.operations.chat import ChatOperation
from aigateway.services.operations.embeddings import EmbeddingsOperation
from aigateway.services.pipeline import Completed, Streaming
from aigateway.settings import Settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.schema import ledger


def test_a_call_in_process_is_metered_and_recorded_with_its_origin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    engine = create_db_engine(url)
    migrate(engine)
    store = AccountStore(engine)
    account = store.create_account("in-process")
    key, _record = store.create_key(account, "batch-runner", test=True)
    app = create_app(Settings(data_dir=tmp_path, database_url=url, ledger_flush_interval_s=0.01))
    with TestClient(app) as client:
        gateway = app.state.gateway

        async def run() -> Any:
            principal = await gateway.ctx.keys.authenticate(f"Bearer {key}")
            body = {"model": "openai/text-embedding-3-small", "input": ["a line of a batch"]}
            return await gateway.call(
                principal,
                EmbeddingsOperation(),
                body,
                request_id="batch_1-line-7",
                origin="batch",
                parent_id="batch_1",
                price_basis="batch",
            )

        result = client.portal.call(run)  # type: ignore[union-attr]
        assert isinstance(result, Completed)
        doc = json.loads(result.body)
        assert len(doc["data"][0]["embedding"]) == 1536
        assert result.headers["X-Model"] == "openai/text-embedding-3-small"
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as conn:
                rows = (
                    conn.execute(select(ledger).where(ledger.c.request_id == "batch_1-line-7"))
                    .mappings()
                    .all()
                )
            if rows or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    engine.dispose()
    assert len(rows) == 1
    row = rows[0]
    assert (row["origin"], row["parent_id"], row["price_basis"]) == ("batch", "batch_1", "batch")
    assert (
        row["operation"] == "embeddings" and row["mode"] == "test" and row["call_id"] == result.call.call_id
    )


def test_a_stream_closed_before_it_started_is_settled_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    engine = create_db_engine(url)
    migrate(engine)
    store = AccountStore(engine)
    account = store.create_account("in-process")
    key, _record = store.create_key(account, "streamer", test=True)
    app = create_app(Settings(data_dir=tmp_path, database_url=url, ledger_flush_interval_s=0.01))
    with TestClient(app) as client:
        gateway = app.state.gateway

        async def run() -> Any:
            principal = await gateway.ctx.keys.authenticate(f"Bearer {key}")
            body = {
                "model": "openai/gpt-5.4",
                "messages": [{"role": "user", "content": "Hi"}],
                "stream": True,
            }
            result = await gateway.call(principal, ChatOperation(), body, request_id="never-read")
            await result.aclose()  # the client left before the first byte
            await result.aclose()  # closing twice settles nothing more
            return result

        result = client.portal.call(run)  # type: ignore[union-attr]
        assert isinstance(result, Streaming) and result.call.settled
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as conn:
                rows = (
                    conn.execute(select(ledger).where(ledger.c.request_id == "never-read")).mappings().all()
                )
            if rows or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    engine.dispose()
    assert len(rows) == 1 and rows[0]["status"] == "client_cancelled" and rows[0]["input_units"] > 0
