"""The images adapters (pure translation), the PNG encoder, and BFL's submit-then-poll behind one call
(the poll interval and timeout from settings, the sleep and clock injected so nothing waits)."""

from __future__ import annotations

import base64
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from aigateway.app import create_app
from aigateway.core.errors import InvalidRequest, ProviderError, UpstreamTimeout
from aigateway.providers.vendors import BUILTIN_VENDORS
from aigateway.providers.wire.base import Target
from aigateway.providers.wire.images import OpenAIImages, nearest_aspect
from aigateway.providers.wire.images_google import GeminiImages
from aigateway.providers.wire.images_native import BflImages, CloudflareImages
from aigateway.services.operations.images import ImagesOperation
from aigateway.services.pipeline import Completed
from aigateway.settings import Settings
from aigateway.simulators.synth_images import png, png_size
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate

VENDORS = {v.name: v for v in BUILTIN_VENDORS}


def test_the_png_encoder_writes_valid_deterministic_pngs() -> None:
    image = png(33, 17, "seed")
    assert png_size(image) == (33, 17) and image == png(33, 17, "seed") != png(33, 17, "other")
    # Walk the chunks: every CRC right, and IDAT inflates to height rows of 1 + 3 * width bytes.
    offset, idat = 8, b""
    while offset < len(image):
        (length,) = struct.unpack(">I", image[offset : offset + 4])
        kind, data = image[offset + 4 : offset + 8], image[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", image[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data)
        idat += data if kind == b"IDAT" else b""
        offset += 12 + length
    assert len(zlib.decompress(idat)) == 17 * (1 + 3 * 33)


def test_openai_wire_forwards_unknown_fields_and_drops_response_format_for_gpt_image() -> None:
    body = {"model": "openai/gpt-image-2", "prompt": "p", "response_format": "url", "partner_field": 7}
    request = OpenAIImages().build_request(body, Target("gpt-image-2"), VENDORS["openai"], "sk")
    sent = orjson.loads(request.body or b"")
    assert sent == {"model": "gpt-image-2", "prompt": "p", "partner_field": 7}
    assert (
        request.url == "https://api.openai.com/v1/images/generations"
        and request.context["response_format"] == "url"
    )
    dalle = OpenAIImages().build_request(
        {"model": "m", "prompt": "p"}, Target("dall-e-3"), VENDORS["xai"], "k"
    )
    assert orjson.loads(dalle.body or b"") == {"model": "dall-e-3", "prompt": "p"}
    assert dalle.context["response_format"] == "url" and dalle.url.startswith("https://api.x.ai/v1/")
    answer = {
        "created": 1,
        "data": [{"b64_json": "eA=="}],
        "usage": {"input_tokens": 9, "output_tokens": 4160, "input_tokens_details": {"cached_tokens": 2}},
    }
    parsed = OpenAIImages().parse_response(orjson.dumps(answer), request)
    assert parsed.usage is not None
    assert (parsed.usage.input_tokens, parsed.usage.cached_input_tokens, parsed.usage.output_tokens) == (
        9,
        2,
        4160,
    )
    assert parsed.usage.output_images == 1


def test_together_gets_width_height_and_its_base64_name() -> None:
    body = {"model": "m", "prompt": "p", "size": "1024x768", "response_format": "b64_json", "steps": 4}
    request = OpenAIImages().build_request(
        body, Target("black-forest-labs/FLUX.1-schnell"), VENDORS["together"], "k"
    )
    assert orjson.loads(request.body or b"") == {
        "model": "black-forest-labs/FLUX.1-schnell",
        "prompt": "p",
        "response_format": "base64",
        "steps": 4,
        "width": 1024,
        "height": 768,
    }
    assert request.context["response_format"] == "b64_json"


def test_imagen_and_gemini_requests_and_usage() -> None:
    adapter = GeminiImages()
    google = VENDORS["google"]
    imagen = adapter.build_request(
        {"model": "m", "prompt": "p", "n": 3, "size": "1792x1024", "output_format": "jpeg"},
        Target("imagen-3.0-generate-001"),
        google,
        "k",
    )
    assert imagen.url.endswith("/models/imagen-3.0-generate-001:predict")
    assert orjson.loads(imagen.body or b"") == {
        "instances": [{"prompt": "p"}],
        "parameters": {"sampleCount": 3, "aspectRatio": "16:9", "outputOptions": {"mimeType": "image/jpeg"}},
    }
    with pytest.raises(ProviderError, match="SAFETY"):
        adapter.parse_response(b'{"predictions": [{"raiFilteredReason": "SAFETY"}]}', imagen)
    gemini = adapter.build_request(
        {"model": "m", "prompt": "p", "size": "1024x1536"}, Target("gemini-2.5-flash-image"), google, "k"
    )
    sent = orjson.loads(gemini.body or b"")
    assert sent["generationConfig"] == {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "2:3"},
    }
    answer = {
        "candidates": [
            {
                "content": {
                    "parts": [{"text": "ok"}, {"inline_data": {"mimeType": "image/png", "data": "eA=="}}]
                }
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 7,
            "candidatesTokenCount": 1300,
            "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}],
        },
    }
    parsed = adapter.parse_response(orjson.dumps(answer), gemini)
    assert parsed.usage is not None
    # The image's own 1290 tokens are what per_image covers: only the 10 text tokens are billed as tokens.
    assert (parsed.usage.input_tokens, parsed.usage.output_tokens, parsed.usage.output_images) == (7, 10, 1)
    with pytest.raises(InvalidRequest):
        adapter.build_request(
            {"model": "m", "prompt": "p", "n": 2}, Target("gemini-2.5-flash-image"), google, "k"
        )
    with pytest.raises(ProviderError, match="IMAGE_SAFETY"):
        adapter.parse_response(b'{"candidates": [{"finishReason": "IMAGE_SAFETY"}]}', gemini)


def test_bfl_submit_poll_and_its_statuses() -> None:
    adapter = BflImages()
    bfl = VENDORS["bfl"]
    request = adapter.build_request(
        {"model": "m", "prompt": "p", "size": "1000x700", "seed": 4}, Target("flux-pro-1.1"), bfl, "key"
    )
    assert request.url == "https://api.bfl.ai/v1/flux-pro-1.1" and request.headers["x-key"] == "key"
    assert orjson.loads(request.body or b"") == {
        "prompt": "p",
        "seed": 4,
        "width": 992,
        "height": 704,
        "output_format": "png",
    }
    ultra = adapter.build_request(
        {"model": "m", "prompt": "p", "size": "1792x1024"}, Target("flux-pro-1.1-ultra"), bfl, "k"
    )
    assert orjson.loads(ultra.body or b"")["aspect_ratio"] == "16:9"
    submitted = orjson.loads(
        adapter.parse_response(
            b'{"id": "t1", "polling_url": "https://api.us1.bfl.ai/v1/get_result?id=t1"}', request
        ).body
    )
    assert submitted["pending"] == {"id": "t1", "polling_url": "https://api.us1.bfl.ai/v1/get_result?id=t1"}
    # A polling URL off the vendor's domain is not followed.
    elsewhere = orjson.loads(
        adapter.parse_response(b'{"id": "t1", "polling_url": "http://169.254.169.254/x"}', request).body
    )
    assert elsewhere["pending"]["polling_url"] == "https://api.bfl.ai/v1/get_result?id=t1"
    pending = submitted["pending"]
    poll = adapter.poll_request(pending, request, bfl, "key")
    assert (poll.method, poll.url, poll.body, poll.headers["x-key"]) == (
        "GET",
        pending["polling_url"],
        None,
        "key",
    )
    assert "pending" in orjson.loads(adapter.parse_poll(b'{"status": "Pending"}', poll, pending).body)
    ready = adapter.parse_poll(
        b'{"status": "Ready", "result": {"sample": "https://delivery.bfl.ai/s.png"}}', poll, pending
    )
    assert orjson.loads(ready.body)["data"] == [{"url": "https://delivery.bfl.ai/s.png"}]
    with pytest.raises(InvalidRequest):
        adapter.parse_poll(b'{"status": "Content Moderated"}', poll, pending)
    with pytest.raises(ProviderError, match="Error"):
        adapter.parse_poll(b'{"status": "Error"}', poll, pending)
    failure = adapter.parse_error(422, b'{"detail": [{"loc": ["body", "width"], "msg": "bad width"}]}', {})
    assert (failure.message, failure.param) == ("width: bad width", "width")


def test_cloudflare_answers_binary_or_json_base64() -> None:
    adapter = CloudflareImages()
    vendor = VENDORS["cloudflare"]
    request = adapter.build_request(
        {"model": "m", "prompt": "p", "size": "512x768"}, Target("@cf/x/sdxl"), vendor, "t"
    )
    assert request.url.endswith("/run/@cf/x/sdxl") and orjson.loads(request.body or b"") == {
        "prompt": "p",
        "width": 512,
        "height": 768,
    }
    image = png(4, 4, "x")
    binary = orjson.loads(adapter.parse_response(image, request).body)
    assert base64.b64decode(binary["data"][0]["b64_json"]) == image
    encoded = base64.b64encode(image).decode()
    wrapped = orjson.loads(adapter.parse_response(orjson.dumps({"result": {"image": encoded}}), request).body)
    assert wrapped["data"][0]["b64_json"] == encoded


def test_cloudflare_flux_2_models_take_a_multipart_form() -> None:
    request = CloudflareImages().build_request(
        {"model": "m", "prompt": "p", "size": "512x512"},
        Target("@cf/black-forest-labs/flux-2-klein-9b"),
        VENDORS["cloudflare"],
        "t",
    )
    assert request.body is None and "Content-Type" not in request.headers
    text = "text/plain; charset=utf-8"
    assert request.form == [
        ("prompt", "p", None, text),
        ("width", "512", None, text),
        ("height", "512", None, text),
    ]


def test_nearest_aspect() -> None:
    assert nearest_aspect("1024x1024") == "1:1" and nearest_aspect("1536x1024") == "3:2"
    assert nearest_aspect("auto") is None and nearest_aspect(None) is None


class FakeTime:
    def __init__(self, jump: float = 0.0) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self.jump = jump

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds + self.jump


def _bfl_app(tmp_path: Path) -> tuple[Any, str, Any]:
    url = f"sqlite:///{tmp_path}/t.db"
    engine = create_db_engine(url)
    migrate(engine)
    store = AccountStore(engine)
    key, _ = store.create_key(store.create_account("bfl"), "k", test=True)
    model = {
        "id": "t/flux",
        "modality": "image",
        "pricing": {"per_image": "0.04"},
        "deployments": [{"provider": "bfl", "upstream_model": "flux-pro-1.1"}],
    }
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        image_poll_interval_s=2.5,
        image_poll_timeout_s=10,
        models=[model],
    )
    return create_app(settings), key, engine


def test_bfl_polls_at_the_settings_interval_through_the_calls_transport(tmp_path: Path) -> None:
    app, key, engine = _bfl_app(tmp_path)
    fake = FakeTime()
    started = time.monotonic()
    with TestClient(app) as client:
        gateway = app.state.gateway

        async def run() -> Any:
            principal = await gateway.ctx.keys.authenticate(f"Bearer {key}")
            operation = ImagesOperation(sleep=fake.sleep, clock=fake.clock)
            body = {"model": "t/flux", "prompt": "a fox", "size": "512x512", "response_format": "b64_json"}
            return await gateway.call(principal, operation, body, request_id="bfl-1")

        result = client.portal.call(run)  # type: ignore[union-attr]
    engine.dispose()
    assert isinstance(result, Completed)
    assert fake.slept == [2.5, 2.5]  # Pending once, then Ready: two polls, no real waiting
    assert time.monotonic() - started < 30
    image = base64.b64decode(orjson.loads(result.body)["data"][0]["b64_json"])
    assert png_size(image) == (512, 512)
    assert result.usage.output_images == 1 and result.headers["X-Unit-Kind"] == "images"


def test_bfl_polling_gives_up_at_the_settings_timeout(tmp_path: Path) -> None:
    app, key, engine = _bfl_app(tmp_path)
    fake = FakeTime(jump=60.0)
    with TestClient(app) as client:
        gateway = app.state.gateway

        async def run() -> Any:
            principal = await gateway.ctx.keys.authenticate(f"Bearer {key}")
            operation = ImagesOperation(sleep=fake.sleep, clock=fake.clock)
            return await gateway.call(
                principal, operation, {"model": "t/flux", "prompt": "a fox"}, request_id="bfl-2"
            )

        with pytest.raises(UpstreamTimeout, match="10 s"):
            client.portal.call(run)  # type: ignore[union-attr]
    engine.dispose()
    assert fake.slept == [2.5]
