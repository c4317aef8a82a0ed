"""POST /v1/images/generations through the real gateway, with the openai SDK as the client.

Live keys reach the upstream simulator: a synthesized dall-e answer is a URL on the simulator, which
the gateway downloads (private addresses allowed for this gateway only) and serves from its own
signed URL; gpt-image answers base64 with its token usage; FLUX runs Black Forest Labs' submit and
poll. The recordings are replayed: the recorded answer's URL (an expired Azure blob) cannot be
fetched, which is a clear 502 and never a dead URL; the recorded 400 keeps its message and param.
A gateway that does not allow private fetches refuses the simulator's URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import httpx
import openai
import pytest

from aigateway.providers.wire.base import UpstreamRequest
from aigateway.providers.wire.images import OpenAIImages
from aigateway.simulators.server import SimulatorServer
from aigateway.simulators.synth_images import FIXED_CREATED, png_size
from tests.integration.conftest import RECORDINGS, Gateway, start_gateway, stop_gateway
from tests.integration.models_vectors import UPSTREAM_KEY


def _rid() -> str:
    return "req-img-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def images_gateway(
    backend: str, gateway: Gateway, simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A second gateway on the session's database (bootstrapped by ``gateway``: its test key)."""
    workdir = tmp_path_factory.mktemp("images-gateway")
    extra = {
        "AIGATEWAY_ALLOW_PRIVATE_FETCH": "true",  # the simulator serves its images on 127.0.0.1
        "AIGATEWAY_IMAGE_POLL_INTERVAL_S": "0.05",
        "AIGATEWAY_BFL_BASE_URL": simulator.url + "/bfl/v1",
        "BFL_API_KEY": UPSTREAM_KEY,
    }
    gw = start_gateway(workdir, backend, simulator, extra_env=extra, test_key=gateway.test_key)
    try:
        yield gw
    finally:
        stop_gateway(gw)


def _fetch(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30)  # no key: the signature is the credential


def test_a_dall_e_url_answer_is_downloaded_and_served_from_the_gateway(images_gateway: Gateway) -> None:
    rid = _rid()
    client = images_gateway.client()
    raw = client.images.with_raw_response.generate(
        model="sim/dall-e-3",
        prompt="a lighthouse at dusk",
        size="1024x1024",
        extra_headers={"X-Request-Id": rid},
    )
    answer = raw.parse()
    assert answer.created == FIXED_CREATED
    assert answer.data[0].revised_prompt == "A detailed picture of a lighthouse at dusk"
    url = answer.data[0].url
    assert url and url.startswith(images_gateway.url + "/v1/blobs/images/")
    served = _fetch(url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert png_size(served.content) == (1024, 1024)
    # The simulator answered a URL of its own; the client never sees it.
    sent = images_gateway.simulator.requests("dall-e-3")[-1]
    assert sent["body"]["model"] == "dall-e-3" and "response_format" not in sent["body"]
    assert images_gateway.simulator.url not in url
    headers = raw.headers
    assert (headers["x-unit-kind"], headers["x-output-units"], headers["x-cost-cents"]) == (
        "images",
        "1",
        "4",
    )
    row = images_gateway.ledger_row(rid)
    assert row["cost_nanousd"] == 40_000_000 and row["operation"] == "images" and row["unit_kind"] == "images"
    assert row["output_units"] == 1


def test_an_expired_or_tampered_url_is_410_or_403(images_gateway: Gateway) -> None:
    answer = images_gateway.client().images.generate(model="sim/dall-e-3", prompt="a kite")
    url = answer.data[0].url
    assert url
    path = url.partition("?")[0]
    key = path.split("/v1/blobs/", 1)[1]
    secret = (images_gateway.workdir / "data" / "signing-secret").read_bytes().strip()
    past = int(time.time()) - 5
    signature = hmac.new(secret, key.encode() + b"\n" + str(past).encode(), hashlib.sha256).hexdigest()
    assert _fetch(f"{path}?expires={past}&signature={signature}").status_code == 410
    assert _fetch(url.replace("signature=", "signature=ab")).status_code == 403
    assert _fetch(path).status_code == 403


def test_b64_json_and_gpt_image_usage(images_gateway: Gateway) -> None:
    client = images_gateway.client()
    b64 = client.images.generate(model="sim/dall-e-3", prompt="a kite", response_format="b64_json", n=2)
    assert len(b64.data) == 2 and all(item.url is None for item in b64.data)
    assert png_size(base64.b64decode(b64.data[0].b64_json or "")) == (1024, 1024)
    rid = _rid()
    raw = client.images.with_raw_response.generate(
        model="sim/gpt-image",
        prompt="a kite",
        size="1536x1024",
        quality="high",
        extra_headers={"X-Request-Id": rid},
    )
    gpt = raw.parse()
    assert gpt.usage is not None and gpt.usage.output_tokens == 1536 * 1024 // 256
    assert png_size(base64.b64decode(gpt.data[0].b64_json or "")) == (1536, 1024)
    assert "response_format" not in images_gateway.simulator.requests("gpt-image-1")[-1]["body"]
    expected = (Decimal(gpt.usage.input_tokens) * 5 + Decimal(gpt.usage.output_tokens) * 40) / 1_000_000
    assert images_gateway.ledger_row(rid)["cost_nanousd"] == int(expected * 1_000_000_000)
    assert raw.headers["x-unit-kind"] == "tokens"


def test_flux_on_black_forest_labs_submits_polls_and_answers_once(images_gateway: Gateway) -> None:
    rid = _rid()
    raw = images_gateway.client().images.with_raw_response.generate(
        model="sim/flux", prompt="a fox", size="768x512", extra_headers={"X-Request-Id": rid}
    )
    url = raw.parse().data[0].url
    assert url and url.startswith(images_gateway.url + "/v1/blobs/")
    assert png_size(_fetch(url).content) == (768, 512)
    sent = images_gateway.simulator.requests("flux-pro-1.1")[-1]
    assert sent["body"]["width"] == 768 and sent["body"]["height"] == 512
    assert images_gateway.ledger_row(rid)["cost_nanousd"] == 40_000_000


def test_imagen_on_the_simulator_answers_per_image(images_gateway: Gateway) -> None:
    rid = _rid()
    raw = images_gateway.client().images.with_raw_response.generate(
        model="google/imagen-3.0",
        prompt="a harbour",
        size="1792x1024",
        n=2,
        extra_headers={"X-Request-Id": rid},
    )
    answer = raw.parse()
    assert len(answer.data) == 2 and all(item.url for item in answer.data)
    assert png_size(_fetch(answer.data[1].url or "").content) == (1408, 768)
    sent = images_gateway.simulator.requests("imagen-3.0-generate-001")[-1]
    assert sent["body"]["parameters"] == {"sampleCount": 2, "aspectRatio": "16:9"}
    assert (raw.headers["x-unit-kind"], raw.headers["x-output-units"]) == ("images", "2")
    assert images_gateway.ledger_row(rid)["cost_nanousd"] == 2 * 40_000_000


def test_the_recorded_url_answer_cannot_be_fetched_and_is_a_clear_502(images_gateway: Gateway) -> None:
    recorded = json.loads((RECORDINGS / "openai" / "images-generations-url.json").read_text())
    body = recorded["response"]["body"].encode()
    # The adapter keeps the recorded answer as sent (created, the provider's URL) ...
    parsed = OpenAIImages().parse_response(body, UpstreamRequest(url="", headers={}, body=None))
    assert json.loads(parsed.body) == json.loads(body) and json.loads(body)["created"] == 1774963099
    # ... and the gateway, which must serve the image itself, cannot reach the expired Azure blob.
    rid = _rid()
    with pytest.raises(openai.APIStatusError) as caught:
        images_gateway.client().images.generate(
            model="rec/images-url",
            prompt="a white siamese cat",
            size="256x256",
            extra_headers={"X-Request-Id": rid},
        )
    assert caught.value.status_code == 502
    message = caught.value.body["message"] if isinstance(caught.value.body, dict) else str(caught.value)
    assert "could not fetch" in message and "no image to return" in message
    assert images_gateway.ledger_row(rid)["status"] == "error"


def test_the_recorded_400_keeps_its_message_and_param(images_gateway: Gateway) -> None:
    recorded = json.loads((RECORDINGS / "openai" / "images-generations-error-400.json").read_text())
    error = json.loads(recorded["response"]["body"])["error"]
    with pytest.raises(openai.BadRequestError) as caught:
        images_gateway.client().images.generate(
            model="rec/images-error-400", prompt="a white siamese cat", size="256x256", quality="standard"
        )
    body = caught.value.body
    assert isinstance(body, dict)
    assert error["message"] in body["message"] and body["param"] == error["param"] == "quality"


def test_a_gateway_that_allows_no_private_fetch_refuses_the_simulators_url(gateway: Gateway) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.client().images.generate(model="sim/dall-e-3", prompt="a kite")
    assert caught.value.status_code == 502
    assert "private or local address" in str(caught.value)


def test_test_keys_get_pngs_from_the_catalog_models_in_process(images_gateway: Gateway) -> None:
    client = images_gateway.client(images_gateway.test_key)
    for model in (
        "openai/gpt-image-2",
        "xai/grok-imagine-image",
        "google/imagen-3.0",
        "google/gemini-2.5-flash-image",
    ):
        out = client.images.generate(model=model, prompt="a red fox", size="1024x1024")
        item = out.data[0]
        image = base64.b64decode(item.b64_json) if item.b64_json else _fetch(item.url or "").content
        assert png_size(image) == (1024, 1024), model
