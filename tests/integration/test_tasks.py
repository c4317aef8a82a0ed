"""POST /v1/translations, /v1/classifications, /v1/detections and /v1/ocr through the real gateway.

Dedicated models go to Cloudflare Workers AI, the Hugging Face Inference API and Mistral OCR (the
upstream simulator for live keys, the simulated transport for test keys); chat models serve every
task through a prompt and structured output, billed in tokens at their chat price.
"""

from __future__ import annotations

import base64
import json
import struct
import uuid
import zlib
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Gateway


def png(width: int, height: int) -> str:
    """A real PNG of the given size, base64."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width * 3 for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(data).decode()


IMAGE = png(320, 200)


def _post(gateway: Gateway, path: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    rid = "req-task-" + uuid.uuid4().hex[:12]
    headers = {"Authorization": f"Bearer {key or gateway.admin_key}", "X-Request-Id": rid}
    with httpx.Client(base_url=gateway.base_url, timeout=60) as http:
        return http.post(path, json=body, headers=headers)


def _rid(answer: httpx.Response) -> str:
    return answer.headers["x-request-id"]


TRANSLATE = {"text": "Hello world, how are you?", "source_lang": "en", "target_lang": "fr"}


@pytest.mark.parametrize("model", ["ml/m2m", "ml/hf-opus", "sim/gpt", "claude-sim/sonnet"])
def test_translation_test_key(gateway: Gateway, model: str) -> None:
    answer = _post(gateway, "/translations", {"model": model, **TRANSLATE}, gateway.test_key)
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["object"] == "translation" and doc["target_lang"] == "fr"
    assert doc["translation"] == "[fr] olleH dlrow, woh era uoy?"  # the simulator's transformation
    assert doc["usage"]["prompt_tokens"] > 0
    assert answer.headers["x-cost-cents"] == "0" and answer.headers["x-provider"] == "simulated"
    again = _post(gateway, "/translations", {"model": model, **TRANSLATE}, gateway.test_key)
    assert again.json()["translation"] == doc["translation"]


def test_translation_live_is_billed(gateway: Gateway) -> None:
    answer = _post(gateway, "/translations", {"model": "ml/m2m", **TRANSLATE})
    assert answer.status_code == 200, answer.text
    usage = answer.json()["usage"]
    tokens = usage["prompt_tokens"] + usage["completion_tokens"]
    assert Decimal(answer.headers["x-cost-cents"]) == Decimal(tokens) * Decimal("0.342") / 10**4
    row = gateway.ledger_row(_rid(answer))
    assert row["operation"] == "text_translations" and row["usage_estimated"] is True
    hf = _post(gateway, "/translations", {"model": "ml/hf-opus", **TRANSLATE})
    assert hf.status_code == 200 and hf.json()["translation"].startswith("[fr] ")
    assert hf.headers["x-unit-kind"] == "queries" and Decimal(hf.headers["x-cost-cents"]) == Decimal("0.1")
    chat = _post(gateway, "/translations", {"model": "sim/gpt", **TRANSLATE})
    assert chat.status_code == 200, chat.text
    assert isinstance(chat.json()["translation"], str)
    sent = gateway.simulator.requests("sim-gpt")[-1]["body"]
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert "from en to fr" in sent["messages"][0]["content"]


@pytest.mark.parametrize("model", ["ml/sst", "ml/hf-sst", "sim/gpt"])
def test_classification_sentiment(gateway: Gateway, model: str) -> None:
    body = {
        "model": model,
        "input": "I love this great movie" if model == "ml/sst" else ["I love it", "awful, bad"],
    }
    answer = _post(gateway, "/classifications", body, gateway.test_key)
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["object"] == "list"
    assert doc["data"][0]["label"] == "POSITIVE" and doc["data"][0]["object"] == "classification"
    assert {x["label"] for x in doc["data"][0]["labels"]} == {"POSITIVE", "NEGATIVE"}
    assert abs(sum(x["score"] for x in doc["data"][0]["labels"]) - 1) < 1e-3
    if len(doc["data"]) > 1:
        assert doc["data"][1]["label"] == "NEGATIVE"


@pytest.mark.parametrize("model", ["ml/hf-mnli", "sim/gpt"])
def test_zero_shot_labels(gateway: Gateway, model: str) -> None:
    body = {"model": model, "input": "a great sport event tonight", "labels": ["sport", "politics"]}
    answer = _post(gateway, "/classifications", body, gateway.test_key)
    assert answer.status_code == 200, answer.text
    top = answer.json()["data"][0]
    assert top["label"] == "sport" and [x["label"] for x in top["labels"]] == ["sport", "politics"]


def test_classification_live_and_refusals(gateway: Gateway) -> None:
    answer = _post(gateway, "/classifications", {"model": "ml/sst", "input": "good"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"][0]["label"] == "POSITIVE"
    many = _post(gateway, "/classifications", {"model": "ml/sst", "input": ["a", "b"]}, gateway.test_key)
    assert many.status_code == 400 and "one text a call" in many.text
    labels = _post(
        gateway, "/classifications", {"model": "ml/sst", "input": "a", "labels": ["x"]}, gateway.test_key
    )
    assert labels.status_code == 400 and labels.json()["error"]["param"] == "labels"
    empty = _post(gateway, "/classifications", {"model": "ml/sst", "input": []}, gateway.test_key)
    assert empty.status_code == 400


@pytest.mark.parametrize("model", ["ml/detr", "ml/hf-detr", "sim/gpt"])
@pytest.mark.parametrize("live", [False, True])
def test_detection_boxes_inside_the_image(gateway: Gateway, model: str, live: bool) -> None:
    key = None if live else gateway.test_key
    answer = _post(gateway, "/detections", {"model": model, "image_b64": IMAGE}, key)
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["object"] == "detection"
    if live and model == "sim/gpt":  # the simulator's generic structured answer: shape only
        assert isinstance(doc["data"], list)
        return
    assert (doc["width"], doc["height"]) == (320, 200)
    assert doc["data"], "at least one object"
    scores = [o["score"] for o in doc["data"]]
    assert scores == sorted(scores, reverse=True)
    for obj in doc["data"]:
        box = obj["box"]
        assert 0 <= box["x_min"] < box["x_max"] <= 320 and 0 <= box["y_min"] < box["y_max"] <= 200
        assert isinstance(obj["label"], str) and 0 < obj["score"] <= 1


def test_detection_refusals_and_billing(gateway: Gateway) -> None:
    # An http(s) URL is downloaded for Workers AI through the guarded fetcher: never a private address.
    private = _post(gateway, "/detections", {"model": "ml/detr", "image_url": "http://127.0.0.1:9/a.png"})
    assert private.status_code == 400 and private.json()["error"]["param"] == "image_url", private.text
    blind = _post(gateway, "/detections", {"model": "sim/text-only", "image_b64": IMAGE}, gateway.test_key)
    assert blind.status_code == 400 and "vision" in blind.text
    both = _post(gateway, "/detections", {"model": "ml/detr"}, gateway.test_key)
    assert both.status_code == 400
    unfit = _post(gateway, "/detections", {"model": "ml/detr-per-output-image", "image_b64": IMAGE})
    assert unfit.status_code == 502 and "billed $0" in unfit.text
    billed = _post(gateway, "/detections", {"model": "ml/detr", "image_b64": IMAGE})
    assert billed.status_code == 200 and Decimal(billed.headers["x-cost-cents"]) == Decimal("0.2")
    data_url = _post(
        gateway, "/detections", {"model": "ml/detr", "image_url": "data:image/png;base64," + IMAGE}
    )
    assert data_url.status_code == 200 and data_url.json()["data"] == billed.json()["data"]


@pytest.mark.parametrize("model", ["ml/hf-trocr", "ml/mistral-ocr", "sim/gpt"])
def test_ocr_is_deterministic_per_image(gateway: Gateway, model: str) -> None:
    answer = _post(gateway, "/ocr", {"model": model, "image_b64": IMAGE}, gateway.test_key)
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["object"] == "ocr" and len(doc["pages"]) == 1 and doc["pages"][0]["index"] == 0
    assert doc["text"] and doc["pages"][0]["markdown"]
    again = _post(gateway, "/ocr", {"model": model, "image_b64": IMAGE}, gateway.test_key)
    assert again.json()["text"] == doc["text"]
    other = _post(gateway, "/ocr", {"model": model, "image_b64": png(64, 64)}, gateway.test_key)
    assert other.json()["text"] != doc["text"]


def test_ocr_pdf_pages_billed_per_page(gateway: Gateway) -> None:
    body = {"model": "ml/mistral-ocr", "document_url": "https://example.com/report.pdf", "pages": [0, 2]}
    answer = _post(gateway, "/ocr", body)
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert [p["index"] for p in doc["pages"]] == [0, 2] and doc["usage"]["pages"] == 2
    assert answer.headers["x-unit-kind"] == "pages" and Decimal(answer.headers["x-cost-cents"]) == Decimal(
        "0.2"
    )
    sent = gateway.simulator.requests("mistral-ocr-latest")[-1]["body"]
    assert sent["document"] == {"type": "document_url", "document_url": "https://example.com/report.pdf"}
    chat = _post(
        gateway, "/ocr", {"model": "sim/gpt", "document_url": "https://example.com/a.pdf"}, gateway.test_key
    )
    assert chat.status_code == 400 and chat.json()["error"]["param"] == "document_url"
    pages = _post(
        gateway, "/ocr", {"model": "ml/hf-trocr", "image_b64": IMAGE, "pages": [1]}, gateway.test_key
    )
    assert pages.status_code == 400 and pages.json()["error"]["param"] == "pages"


def test_live_hf_ocr_and_faults(gateway: Gateway) -> None:
    answer = _post(gateway, "/ocr", {"model": "ml/hf-trocr", "image_b64": IMAGE})
    assert answer.status_code == 200, answer.text
    test_mode = _post(gateway, "/ocr", {"model": "ml/hf-trocr", "image_b64": IMAGE}, gateway.test_key)
    assert answer.json()["text"] == test_mode.json()["text"]  # server and in-process agree
    gateway.simulator.add_faults("@cf/meta/m2m100-1.2b", [{"kind": "status", "status": 503}])
    failed = _post(gateway, "/translations", {"model": "ml/m2m", **TRANSLATE})
    assert failed.status_code >= 500
    row = gateway.ledger_row(_rid(failed))
    assert row["status"] == "error" and row["cost_nanousd"] == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/translations", {"model": "meta/m2m100-1.2b", **TRANSLATE}),
        ("/translations", {**TRANSLATE}),  # the default model: the contract's m2m100
        ("/classifications", {"model": "huggingface/distilbert-sst-2", "input": "great"}),
        ("/classifications", {"input": "great"}),
        ("/ocr", {"model": "mistral/mistral-ocr-latest", "image_b64": IMAGE}),
        ("/detections", {"image_b64": IMAGE}),  # the default model: the contract's DETR ResNet-50
        ("/ocr", {"image_b64": IMAGE}),  # the default model: the contract's TrOCR base (printed)
        ("/translations", {"model": "openai/gpt-5.4-mini", **TRANSLATE}),
        (
            "/classifications",
            {"model": "openai/gpt-5.4-mini", "input": ["great", "awful"], "labels": ["good", "bad"]},
        ),
        ("/detections", {"model": "openai/gpt-5.4-mini", "image_b64": IMAGE}),
        ("/ocr", {"model": "openai/gpt-5.4-mini", "image_url": "https://example.com/scan.png"}),
    ],
)
def test_catalog_models_with_a_test_key(gateway: Gateway, path: str, body: dict[str, Any]) -> None:
    answer = _post(gateway, path, body, gateway.test_key)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-cost-cents"] == "0"
    row = gateway.ledger_row(_rid(answer))
    assert row["status"] == "ok" and row["mode"] == "test"
    if body.get("model") == "openai/gpt-5.4-mini":
        assert row["unit_kind"] == "tokens" and row["output_units"] > 0  # billed as the chat model


@pytest.mark.parametrize(
    ("modality", "model"), [("detection", "facebook/detr-resnet-50"), ("ocr", "microsoft/trocr-base-printed")]
)
def test_contract_vision_models_are_listed(gateway: Gateway, modality: str, model: str) -> None:
    with httpx.Client(base_url=gateway.base_url, timeout=60) as http:
        listed = http.get(
            f"/models?modality={modality}", headers={"Authorization": f"Bearer {gateway.test_key}"}
        )
    assert listed.status_code == 200, listed.text
    assert model in [m["id"] for m in listed.json()["data"]]
    with httpx.Client(base_url=gateway.base_url, timeout=60) as http:
        one = http.get(f"/models/{model}", headers={"Authorization": f"Bearer {gateway.test_key}"}).json()
    assert [d["provider"] for d in one["deployments"]] == ["huggingface"]
    assert one["deployments"][0]["pricing"]["per_compute_second"] == "0.00012"


@pytest.mark.parametrize(
    ("path", "model"), [("/detections", "facebook/detr-resnet-50"), ("/ocr", "microsoft/trocr-base-printed")]
)
def test_contract_vision_models_billed_per_compute_second(gateway: Gateway, path: str, model: str) -> None:
    """Live through the Hugging Face simulator: no ``model`` given, billed by the measured upstream time
    at $0.00012 a second, never $0, never more than the reserved ceiling (the upstream timeout)."""
    answer = _post(gateway, path, {"image_b64": IMAGE})
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"] == model and answer.headers["x-unit-kind"] == "seconds"
    seconds = Decimal(answer.headers["x-input-units"])
    assert 0 < seconds <= 600 and answer.headers["x-output-units"] == "0"
    assert Decimal(answer.headers["x-cost-cents"]) == seconds * Decimal("0.012")  # exact: $0.00012/s
    row = gateway.ledger_row(_rid(answer))
    assert row["status"] == "ok" and row["unit_kind"] == "seconds" and row["cost_nanousd"] > 0
    meters = row["meters"] if isinstance(row["meters"], dict) else json.loads(row["meters"])
    assert meters["compute_ms"] == int(seconds * 1000)
    assert row["cost_nanousd"] == meters["compute_ms"] * 120  # $0.00012/s = 120 nano-dollars/ms
