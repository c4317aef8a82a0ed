"""POST /v1/images/generations end to end in process: the openai SDK over the app (TestClient),
a test key, and the simulated transport answering every images wire through the real adapters.

Each wire's images come back as real PNGs of the size asked; ``url`` answers are the gateway's own
signed URLs (never the provider's), which serve the PNG without a key until they expire.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from aigateway.app import create_app
from aigateway.settings import Settings
from aigateway.simulators.synth_images import png_size
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.schema import ledger

EXTRA_MODELS: list[dict[str, Any]] = [
    {
        "id": "t/flux",
        "modality": "image",
        "pricing": {"per_image": "0.04"},
        "deployments": [{"provider": "bfl", "upstream_model": "flux-pro-1.1"}],
    },
    {
        "id": "t/cf-sdxl",
        "modality": "image",
        "pricing": {"per_image": "0.01"},
        "deployments": [
            {"provider": "cloudflare", "upstream_model": "@cf/stabilityai/stable-diffusion-xl-base-1.0"}
        ],
    },
    {
        "id": "t/cf-flux",
        "modality": "image",
        "pricing": {"per_image": "0.01"},
        "deployments": [{"provider": "cloudflare", "upstream_model": "@cf/black-forest-labs/flux-1-schnell"}],
    },
    {
        "id": "t/cf-flux-2",
        "modality": "image",
        "pricing": {"per_image": "0.015"},
        "deployments": [
            {"provider": "cloudflare", "upstream_model": "@cf/black-forest-labs/flux-2-klein-9b"}
        ],
    },
    {
        "id": "t/dalle-3",
        "modality": "image",
        "pricing": {"per_image": "0.04"},
        "deployments": [{"provider": "openai", "upstream_model": "dall-e-3"}],
    },
]
BASE = "http://gw.example:8123"


class App:
    def __init__(self, http: TestClient, key: str, engine: Any) -> None:
        self.http = http
        self.key = key
        self.engine = engine
        self.client = openai.OpenAI(api_key=key, base_url=BASE + "/v1", http_client=http, max_retries=0)

    def ledger_row(self, call_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(select(ledger).where(ledger.c.call_id == call_id)).mappings().all()
            if rows or time.monotonic() > deadline:
                assert len(rows) == 1
                return dict(rows[0])
            time.sleep(0.02)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("images")
    url = f"sqlite:///{tmp}/t.db"
    engine = create_db_engine(url)
    migrate(engine)
    store = AccountStore(engine)
    key, _record = store.create_key(store.create_account("images"), "k", test=True)
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        ledger_flush_interval_s=0.01,
        image_poll_interval_s=0.0,
        models=EXTRA_MODELS,
    )
    with TestClient(create_app(settings), base_url=BASE) as http:
        yield App(http, key, engine)
    engine.dispose()


CASES = [
    ("openai/gpt-image-2", {"size": "1024x1536"}, (1024, 1536), "b64_json"),
    ("xai/grok-imagine-image", {"response_format": "url", "size": "512x512"}, (512, 512), "url"),
    ("google/imagen-3.0", {"size": "1792x1024", "n": 2}, (1408, 768), "url"),
    (
        "google/gemini-2.5-flash-image",
        {"response_format": "b64_json", "size": "1024x1024"},
        (1024, 1024),
        "b64_json",
    ),
    ("t/flux", {"size": "512x768"}, (512, 768), "url"),
    ("t/cf-sdxl", {"size": "512x512", "response_format": "b64_json"}, (512, 512), "b64_json"),
    ("t/cf-flux", {}, (1024, 1024), "url"),
    ("t/dalle-3", {"size": "1024x1024"}, (1024, 1024), "url"),
    ("t/cf-flux-2", {"size": "512x768"}, (512, 768), "url"),
]


@pytest.mark.parametrize(("model", "extra", "size", "kind"), CASES, ids=[c[0] for c in CASES])
def test_every_images_wire_answers_real_pngs_in_the_asked_format(
    app: App, model: str, extra: dict[str, Any], size: tuple[int, int], kind: str
) -> None:
    raw = app.client.images.with_raw_response.generate(model=model, prompt="a red fox in the snow", **extra)
    answer = raw.parse()
    assert len(answer.data) == extra.get("n", 1)
    assert raw.headers["x-model"] == model and raw.headers["x-cost-cents"] == "0"
    for item in answer.data:
        if kind == "b64_json":
            assert item.url is None and item.b64_json
            image = base64.b64decode(item.b64_json)
        else:
            assert item.b64_json is None and item.url and item.url.startswith(BASE + "/v1/blobs/images/")
            served = app.http.get(item.url)  # no key
            assert served.status_code == 200 and served.headers["content-type"] == "image/png"
            image = served.content
        assert png_size(image) == size
    row = app.ledger_row(raw.headers["x-call-id"])
    assert row["operation"] == "images" and row["endpoint"] == "images.generations"
    assert row["status"] == "ok" and row["mode"] == "test"
    meters = row["meters"] if isinstance(row["meters"], dict) else json.loads(row["meters"])
    assert meters["output_images"] == extra.get("n", 1)


def test_gpt_image_reports_its_token_usage_and_dall_e_3_its_revised_prompt(app: App) -> None:
    gpt = app.client.images.generate(model="openai/gpt-image-2", prompt="a lighthouse", size="1024x1024")
    assert gpt.usage is not None and gpt.usage.output_tokens == 4096 and gpt.usage.input_tokens > 0
    dalle = app.client.images.generate(model="t/dalle-3", prompt="a lighthouse", response_format="b64_json")
    assert dalle.data[0].revised_prompt == "A detailed picture of a lighthouse"
    assert dalle.usage is None


def test_the_same_prompt_gives_the_same_image_and_another_prompt_another(app: App) -> None:
    def image(prompt: str) -> str:
        out = app.client.images.generate(model="google/imagen-3.0", prompt=prompt, response_format="b64_json")
        assert out.data[0].b64_json
        return out.data[0].b64_json

    assert image("a blue whale") == image("a blue whale") != image("a green whale")


def test_a_signed_url_refuses_a_changed_key_expiry_or_signature(app: App) -> None:
    out = app.client.images.generate(model="t/dalle-3", prompt="a door")
    url = out.data[0].url
    assert url
    http = app.http
    assert http.get(url).status_code == 200
    path, _, query = url.partition("?")
    expires, signature = (part.split("=", 1)[1] for part in query.split("&"))
    assert http.get(f"{path}?expires={int(expires) + 1}&signature={signature}").status_code == 403
    assert http.get(url.replace("/0.png", "/1.png")).status_code == 403
    assert http.get(path).status_code == 403
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert http.get(f"{path}?expires={expires}&signature={flipped}").status_code == 403


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "t/dalle-3"}, "prompt"),
        ({"model": "t/dalle-3", "prompt": "x", "n": 11}, "n"),
        ({"model": "t/dalle-3", "prompt": "x", "size": "big"}, "size"),
        ({"model": "t/dalle-3", "prompt": "x", "response_format": "png"}, "response_format"),
        ({"model": "t/flux", "prompt": "x", "n": 2}, "n"),
        ({"model": "openai/text-embedding-3-small", "prompt": "x"}, "model"),
    ],
)
def test_bad_requests_are_a_clear_400(app: App, body: dict[str, Any], param: str) -> None:
    answer = app.http.post(
        "/v1/images/generations", json=body, headers={"Authorization": f"Bearer {app.key}"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param


def test_the_endpoint_no_longer_answers_501(tmp_path: Path) -> None:
    from aigateway.api.unbuilt import UNBUILT

    assert all(path != "/v1/images/generations" for _method, path, _what in UNBUILT)
