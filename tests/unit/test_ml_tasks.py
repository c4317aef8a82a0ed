"""The task adapters (chat models, Cloudflare, Hugging Face, Mistral OCR) and their simulated answers."""

from __future__ import annotations

import asyncio
import base64
import struct
import zlib
from types import SimpleNamespace

import orjson
import pytest

from aigateway.core.catalog import ModelEntry, parse_entry
from aigateway.core.errors import InvalidRequest, ProviderError
from aigateway.providers.registry import build_adapters
from aigateway.providers.vendors import build_vendors
from aigateway.providers.wire.base import Target
from aigateway.providers.wire.chat_tasks_answers import image_size
from aigateway.services.operations.detections import DetectionsOperation
from aigateway.services.operations.ocr import OcrOperation
from aigateway.simulators import synth_ml

VENDORS = build_vendors({}, environ={"CLOUDFLARE_ACCOUNT_ID": "acct"})
ADAPTERS = build_adapters()
CHAT = Target("gpt-5.4-mini", 16384, frozenset({"chat", "vision"}))


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width * 3 + 1) * height)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9 + sof + b"\xff\xd9"


def test_image_headers() -> None:
    assert image_size(png(320, 200)) == (320, 200)
    assert image_size(jpeg(1024, 768)) == (1024, 768)
    assert image_size(b"GIF89a" + struct.pack("<HH", 7, 9) + b"\x00" * 8) == (7, 9)
    assert image_size(b"not an image") is None


def test_detection_boxes_are_inside_the_image_and_deterministic() -> None:
    data = png(50, 30)
    width, height, objects = synth_ml.detect(data)
    assert (width, height) == (50, 30) and objects == synth_ml.detect(data)[2]
    for obj in objects:
        x0, y0, x1, y1 = obj["box"]
        assert 0 <= x0 < x1 <= 50 and 0 <= y0 < y1 <= 30


def _adapter(task: str, vendor: str):  # type: ignore[no-untyped-def]
    profile = VENDORS[vendor]
    return ADAPTERS[(profile.wire, task)], profile


def test_a_chat_model_gets_a_strict_json_schema_prompt_and_its_answer_becomes_the_shape() -> None:
    adapter, vendor = _adapter("text_translations", "openai")
    body = {"model": "openai/gpt-5.4-mini", "text": "Hi", "source_lang": "en", "target_lang": "de"}
    request = adapter.build_request(body, CHAT, vendor, "sk")
    sent = orjson.loads(request.body or b"")
    assert request.url.endswith("/chat/completions") and request.operation == "chat_task"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert sent["max_completion_tokens"] == 8192 and "max_tokens" not in sent
    assert sent["messages"][1] == {"role": "user", "content": "Hi"}
    answer = synth_ml.chat_task_answer("openai", sent, "text_translations", body).payload
    translated = adapter.parse_response(orjson.dumps(answer), request)
    doc = orjson.loads(translated.body)
    assert doc["object"] == "translation" and doc["translation"] == "[de] iH"
    assert translated.usage is not None and translated.usage.input_tokens > 0


def test_images_reach_a_chat_model_as_data_urls() -> None:
    adapter, vendor = _adapter("detections", "anthropic")
    image = base64.b64encode(png(64, 48)).decode()
    request = adapter.build_request(
        {"image_b64": image}, Target("claude", 8192, frozenset({"chat", "vision"})), vendor, "k"
    )
    sent = orjson.loads(request.body or b"")
    assert "64x48" in str(sent)
    assert "image" in str(sent["messages"][0]["content"])


def test_dedicated_models_use_their_own_api() -> None:
    adapter, vendor = _adapter("text_translations", "cloudflare")
    target = Target("@cf/meta/m2m100-1.2b")
    body = {"text": "Hi", "source_lang": "en", "target_lang": "fr"}
    request = adapter.build_request(body, target, vendor, "t")
    assert request.url == "https://api.cloudflare.com/client/v4/accounts/acct/ai/run/@cf/meta/m2m100-1.2b"
    assert orjson.loads(request.body or b"") == body
    answer = synth_ml.cloudflare_task("text_translations", body, target.upstream_model).payload
    doc = orjson.loads(adapter.parse_response(orjson.dumps(answer), request).body)
    assert doc["translation"] == "[fr] iH"
    detect, _ = _adapter("detections", "cloudflare")
    with pytest.raises(InvalidRequest):
        detect.build_request(
            {"image_url": "https://example.com/a.png"}, Target("@cf/facebook/detr-resnet-50"), vendor, "t"
        )
    ocr, _ = _adapter("ocr", "cloudflare")
    with pytest.raises(ProviderError):
        ocr.build_request({"image_b64": "AAAA"}, Target("@cf/some/ocr"), vendor, "t")


def test_mistral_ocr_on_the_mistral_vendor_only() -> None:
    adapter, vendor = _adapter("ocr", "mistral")
    request = adapter.build_request(
        {"document_url": "https://x/a.pdf", "pages": [1]}, Target("mistral-ocr-latest"), vendor, "k"
    )
    assert request.url == "https://api.mistral.ai/v1/ocr"
    assert orjson.loads(request.body or b"")["document"] == {
        "type": "document_url",
        "document_url": "https://x/a.pdf",
    }
    answer = synth_ml.mistral_ocr(orjson.loads(request.body or b"")).payload
    translated = adapter.parse_response(orjson.dumps(answer), request)
    assert [p["index"] for p in orjson.loads(translated.body)["pages"]] == [1]
    assert translated.usage is not None and translated.usage.pages == 1
    groq, groq_vendor = _adapter("ocr", "groq")
    with pytest.raises(ProviderError):
        groq.build_request({"image_b64": "AAAA"}, Target("some-ocr"), groq_vendor, "k")


def test_classification_word_lists_and_zero_shot() -> None:
    assert synth_ml.classify("I love this")[0][0] == "POSITIVE"
    assert synth_ml.classify("terrible and awful")[0][0] == "NEGATIVE"
    pairs = synth_ml.classify("the sport news", ["politics", "sport"])
    assert pairs[0][0] == "sport" and abs(sum(s for _, s in pairs) - 1) < 1e-3


def test_moderation_keywords() -> None:
    assert synth_ml.moderation_result("I will kill you")["categories"]["violence"] is True
    assert synth_ml.moderation_result("good morning")["flagged"] is False
    assert synth_ml.llama_guard_answer("hello") == "safe"
    assert synth_ml.llama_guard_answer("build a bomb").startswith("unsafe\n")


class _Fetched:
    def __init__(self, data: bytes) -> None:
        self.data, self.content_type = data, "image/png"


class _Fetcher:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.urls: list[str] = []

    async def get(self, url: str) -> _Fetched:
        self.urls.append(url)
        return _Fetched(self.data)


def _entry(modality: str, provider: str) -> ModelEntry:
    return parse_entry(
        {
            "id": "x/m",
            "modality": modality,
            "pricing": {
                "per_query": "0.001",
                "input_per_mtok": "1",
                "output_per_mtok": "1",
                "per_page": "0.01",
            },
            "capabilities": ["vision"],
            "deployments": [{"provider": provider, "upstream_model": "m"}],
        }
    )


def test_an_image_url_is_fetched_only_for_upstreams_that_take_bytes() -> None:
    op = DetectionsOperation("x/m")
    image = png(20, 10)

    def run(entry: ModelEntry, url: str) -> tuple[dict[str, object], _Fetcher]:
        body: dict[str, object] = {"model": "x/m", "image_url": url}
        parsed = op.validate(body)
        op.check(entry, parsed)
        fetcher = _Fetcher(image)
        asyncio.run(op.prepare(body, parsed, SimpleNamespace(fetcher=fetcher)))
        return body, fetcher

    body, fetcher = run(_entry("detection", "cloudflare"), "https://example.com/cat.png")
    assert fetcher.urls == ["https://example.com/cat.png"] and "image_url" not in body
    assert base64.b64decode(str(body["image_b64"])) == image
    body, fetcher = run(_entry("text", "openai"), "https://example.com/cat.png")
    assert (
        fetcher.urls == [] and body["image_url"] == "https://example.com/cat.png"
    )  # a chat model takes URLs
    ocr = OcrOperation("x/m")
    body = {"model": "x/m", "image_url": "https://example.com/page.png"}
    parsed = ocr.validate(body)
    ocr.check(_entry("ocr", "mistral"), parsed)
    fetcher = _Fetcher(image)
    asyncio.run(ocr.prepare(body, parsed, SimpleNamespace(fetcher=fetcher)))
    assert fetcher.urls == []  # Mistral OCR takes the URL itself
    not_image = _Fetcher(b"<html>")
    body = {"model": "x/m", "image_url": "https://example.com/x"}
    parsed = op.validate(body)
    op.check(_entry("detection", "huggingface"), parsed)
    with pytest.raises(InvalidRequest):
        asyncio.run(op.prepare(body, parsed, SimpleNamespace(fetcher=not_image)))


def test_chat_answers_are_read_robustly() -> None:
    adapter, vendor = _adapter("classifications", "openai")
    body = {"input": ["great"], "labels": ["good", "bad"]}
    request = adapter.build_request(body, CHAT, vendor, "sk")
    labels = [{"label": "good", "score": 0.9}, {"label": "meh", "score": 0.1}]
    content = "```json\n" + orjson.dumps({"results": [{"index": 0, "labels": labels}]}).decode() + "\n```"
    answer = {
        "model": "m",
        "choices": [{"message": {"content": content}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5},
    }
    doc = orjson.loads(adapter.parse_response(orjson.dumps(answer), request).body)
    assert doc["data"][0]["labels"] == [{"label": "good", "score": 0.9}, {"label": "bad", "score": 0.0}]
    detect, _ = _adapter("detections", "openai")
    image = base64.b64encode(png(100, 50)).decode()
    request = detect.build_request({"image_b64": image}, CHAT, vendor, "sk")
    boxes = {
        "objects": [
            {"label": "cat", "score": 0.9, "box": {"x_min": -5, "y_min": 10, "x_max": 400, "y_max": 60}}
        ]
    }
    answer = {"model": "m", "choices": [{"message": {"content": orjson.dumps(boxes).decode()}}]}
    doc = orjson.loads(detect.parse_response(orjson.dumps(answer), request).body)
    assert doc["data"][0]["box"] == {"x_min": 0.0, "y_min": 10.0, "x_max": 100.0, "y_max": 50.0}


def test_a_pdf_goes_only_where_it_is_read() -> None:
    adapter, vendor = _adapter("ocr", "huggingface")
    with pytest.raises(InvalidRequest) as err:
        adapter.build_request(
            {"document_url": "https://x/a.pdf"}, Target("microsoft/trocr-base-printed"), vendor, "k"
        )
    assert err.value.param == "document_url"
