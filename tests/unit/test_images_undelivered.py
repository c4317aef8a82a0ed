"""Images the provider generated but the gateway could not deliver are billed: the provider charged
for them. In process (TestClient) with a live key whose upstream is the simulated transport, so the
call is priced; the blob store (or the download of the provider's URL) is made to fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from aigateway.app import create_app
from aigateway.providers.fetch import FetchRefused
from aigateway.settings import Settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate
from tests.unit.test_images_flow import App as ImagesApp

MODELS: list[dict[str, Any]] = [
    {  # OpenAI's images wire answers base64: the gateway stores it for a `url` answer
        "id": "t/img-b64",
        "modality": "image",
        "pricing": {"per_image": "0.04"},
        "deployments": [{"provider": "openai", "upstream_model": "gpt-image-1"}],
    },
    {  # xAI answers a URL the gateway downloads
        "id": "t/img-url",
        "modality": "image",
        "pricing": {"per_image": "0.02"},
        "deployments": [{"provider": "xai", "upstream_model": "grok-imagine-image"}],
    },
]
START_NANO = 10 * 10_000_000 * 100  # $10


class FailingBlobs:
    def put(self, key: str, data: bytes, content_type: str) -> None:
        raise OSError(28, "No space left on device")

    def url(self, key: str, ttl_s: float) -> str:
        raise AssertionError("never reached")


class RefusingFetcher:
    async def get(self, url: str) -> Any:
        raise FetchRefused("connection refused")


class App(ImagesApp):
    """The images test app (its ledger lookup), with a live key and a plain JSON post."""

    def post(self, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}"}
        return self.http.post("/v1/images/generations", json=body, headers=headers)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("XAI_API_KEY", "xai-test")
    url = f"sqlite:///{tmp_path}/t.db"
    engine = create_db_engine(url)
    migrate(engine)
    store = AccountStore(engine)
    account = store.create_account("images")
    store.add_credit(account, START_NANO, "test")
    key, _record = store.create_key(account, "live")
    settings = Settings(data_dir=tmp_path, database_url=url, ledger_flush_interval_s=0.01, models=MODELS)
    with TestClient(create_app(settings), base_url="http://gw.example") as http:
        gateway = http.app.state.gateway  # type: ignore[attr-defined]
        gateway.transport = gateway.simulated  # live calls, priced, answered by the simulated provider
        yield App(http, key, engine)
    engine.dispose()


def test_a_blob_store_failure_is_a_billed_502(app: App) -> None:
    app.http.app.state.ctx.blobs = FailingBlobs()  # type: ignore[attr-defined]
    answer = app.post({"model": "t/img-b64", "prompt": "a red fox", "response_format": "url"})
    assert answer.status_code == 502, answer.text[:300]
    error = answer.json()["error"]
    assert error["type"] == "provider_error"
    assert "generated 1 image(s)" in error["message"] and "No space left on device" in error["message"]
    assert "billed" in error["message"]
    call_id = answer.headers.get("x-call-id") or error["message"].rsplit("call ", 1)[1].rstrip(").")
    row = app.ledger_row(call_id)
    assert row["status"] == "error" and row["http_status"] == 502
    assert row["cost_nanousd"] == 40_000_000  # one image at $0.04
    assert row["unit_kind"] == "images" and row["output_units"] == 1
    assert "could not deliver" in row["detail"]


def test_a_failed_download_of_the_providers_url_is_billed(app: App) -> None:
    app.http.app.state.ctx.fetcher = RefusingFetcher()  # type: ignore[attr-defined]
    answer = app.post({"model": "t/img-url", "prompt": "a red fox", "n": 2, "response_format": "url"})
    assert answer.status_code == 502, answer.text[:300]
    message = answer.json()["error"]["message"]
    assert "generated 2 image(s)" in message and "could not fetch" in message
    row = app.ledger_row(message.rsplit("call ", 1)[1].rstrip(").").rstrip(")"))
    assert row["status"] == "error" and row["cost_nanousd"] == 40_000_000  # two images at $0.02


def test_a_delivered_image_is_billed_once_and_a_provider_failure_not_at_all(app: App) -> None:
    ok = app.post({"model": "t/img-b64", "prompt": "a red fox", "response_format": "b64_json"})
    assert ok.status_code == 200, ok.text[:300]
    assert app.ledger_row(ok.headers["x-call-id"])["cost_nanousd"] == 40_000_000
    refused = app.post({"model": "t/img-b64", "prompt": "a red fox", "size": "32x32"})
    assert refused.status_code == 400
