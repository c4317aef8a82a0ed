"""The documented image, moderation, task and speech endpoints against the code that serves them.

Each request body goes through the operation's own validation (services/operations/) and the schema
of the committed document (src/aigateway/data/openapi.json): what one accepts the other accepts, what
one refuses the other refuses. Then a test-mode key, answered in process by the simulated transport
through the real adapters, calls every endpoint: its answers, headers and errors must fit the document.
"""

from __future__ import annotations

import base64
import copy
import json
import struct
import zlib
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from aigateway.core.errors import InvalidRequest
from aigateway.services.operations.classifications import ClassificationsOperation
from aigateway.services.operations.detections import DetectionsOperation
from aigateway.services.operations.images import ImagesOperation
from aigateway.services.operations.moderations import ModerationsOperation
from aigateway.services.operations.ocr import OcrOperation
from aigateway.services.operations.speech import SpeechOperation
from aigateway.services.operations.translations import TranslationsOperation
from tests.unit.test_openapi import _check, _check_headers, _documented_status, _validator, served

__all__ = ["served"]  # the fixture, shared with test_openapi.py


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    text = resources.files("aigateway.data").joinpath("openapi.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x20\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = base64.b64encode(_png(64, 48)).decode()
CHAT = "openai/gpt-5.4-mini"  # a vision chat model: serves every task by prompt
FLUX = "black-forest-labs/flux-2-klein-9b"
IMAGES = ImagesOperation()
MODERATE = ModerationsOperation("openai/omni-moderation")
TRANSLATE = TranslationsOperation("meta/m2m100-1.2b")
CLASSIFY = ClassificationsOperation("huggingface/distilbert-sst-2")
DETECT = DetectionsOperation("facebook/detr-resnet-50")
OCR = OcrOperation("microsoft/trocr-base-printed")
SPEECH = SpeechOperation()
TEXT = {"type": "text", "text": "hi"}
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}

ACCEPTED: dict[str, tuple[Any, list[dict[str, Any]]]] = {
    "ImagesRequest": (
        IMAGES,
        [
            {"model": FLUX, "prompt": "a cat"},
            {"model": FLUX, "prompt": "a", "n": 10, "size": "1024x1536", "response_format": "b64_json"},
            {"model": FLUX, "prompt": "a", "size": "auto", "quality": "hd", "style": "vivid", "user": "u"},
            {"model": FLUX, "prompt": "a", "background": "transparent", "output_format": "webp"},
            {"model": FLUX, "prompt": "a", "output_compression": 0, "moderation": "low"},
            {"model": FLUX, "prompt": "a", "n": None, "size": None, "response_format": None},
            {"model": FLUX, "prompt": "p" * 32000, "seed": 7},  # unknown fields are forwarded
        ],
    ),
    "ModerationRequest": (
        MODERATE,
        [
            {"input": "hello"},
            {"input": ""},
            {"model": None, "input": ["a", "b"]},
            {"model": "meta/llama-guard-3-8b", "input": ["x"] * 32},
            {"input": [TEXT, IMAGE]},
            {"input": [{"type": "image_url", "image_url": {"url": "data:,", "detail": "low"}}]},
        ],
    ),
    "TextTranslationRequest": (
        TRANSLATE,
        [
            {"text": "Hello", "source_lang": "en", "target_lang": "fr"},
            {"model": CHAT, "text": "t" * 100_000, "source_lang": "English", "target_lang": "German"},
            {"model": None, "text": "a", "source_lang": "en", "target_lang": "f" * 64, "glossary": {}},
        ],
    ),
    "ClassificationRequest": (
        CLASSIFY,
        [
            {"input": "I love it"},
            {"input": ["a"] * 100},
            {"model": CHAT, "input": ["a", "b"], "labels": ["x", "y"]},
            {"input": "a", "labels": None, "model": None},
            {"input": "a", "labels": [str(i) for i in range(50)]},
        ],
    ),
    "DetectionRequest": (
        DETECT,
        [
            {"image_b64": PNG},
            {"model": CHAT, "image_url": "https://example.com/a.jpg"},
            {"image_url": "http://example.com/a.jpg", "image_b64": None},
            {"image_url": "data:image/png;base64," + PNG},
            {"image_url": "data:image/png;base64,"},
        ],
    ),
    "OcrRequest": (
        OCR,
        [
            {"image_b64": PNG},
            {"image_url": "https://example.com/receipt.png"},
            {"model": "mistral/mistral-ocr-latest", "document_url": "https://example.com/a.pdf"},
            {"document_url": "data:application/pdf;base64,JVBERi0=", "pages": [0, 2, 999]},
            {"document_url": "https://example.com/a.pdf", "pages": None, "image_url": None},
        ],
    ),
    "SpeechRequest": (
        SPEECH,
        [
            {"model": "deepgram/aura-2-en", "input": "Hello"},
            {"model": "m", "input": "x" * 10_000, "voice": "alloy", "response_format": "pcm", "speed": 4},
            {"model": "m", "input": "a", "voice": {"id": "JBFqnCBsd6RMkjVDRZzb"}, "speed": 0.25},
            {"model": "m", "input": "a", "instructions": "i" * 4096, "stream_format": "audio"},
            {"model": "m", "input": "a", "voice": None, "response_format": None, "speed": 1},
        ],
    ),
}

REFUSED: dict[str, list[dict[str, Any]]] = {
    "ImagesRequest": [
        {"prompt": "a"},
        {"model": FLUX},
        {"model": "", "prompt": "a"},
        {"model": FLUX, "prompt": ""},
        {"model": FLUX, "prompt": "p" * 32001},
        {"model": FLUX, "prompt": "a", "n": 0},
        {"model": FLUX, "prompt": "a", "n": 11},
        {"model": FLUX, "prompt": "a", "n": "2"},
        {"model": FLUX, "prompt": "a", "n": True},
        {"model": FLUX, "prompt": "a", "size": "large"},
        {"model": FLUX, "prompt": "a", "size": "1024"},
        {"model": FLUX, "prompt": "a", "response_format": "png"},
        {"model": FLUX, "prompt": "a", "background": "white"},
        {"model": FLUX, "prompt": "a", "output_format": "gif"},
        {"model": FLUX, "prompt": "a", "output_compression": 101},
        {"model": FLUX, "prompt": "a", "moderation": "high"},
        {"model": FLUX, "prompt": "a", "quality": "q" * 17},
        {"model": FLUX, "prompt": "a", "user": 7},
    ],
    "ModerationRequest": [
        {},
        {"model": "m"},
        {"input": None},
        {"input": 3},
        {"input": []},
        {"input": ["x"] * 33},
        {"input": ["a", 1]},
        {"input": ["a", TEXT]},
        {"input": [{"type": "text"}]},
        {"input": [{"type": "audio", "audio": "x"}]},
        {"input": [{**TEXT, "extra": 1}]},
        {"input": [{"type": "image_url", "image_url": {"url": ""}}]},
        {"input": [{"type": "image_url", "image_url": "https://example.com/a.png"}]},
        {"model": "", "input": "a"},
        {"model": 1, "input": "a"},
    ],
    "TextTranslationRequest": [
        {"source_lang": "en", "target_lang": "fr"},
        {"text": "a", "target_lang": "fr"},
        {"text": "a", "source_lang": "en"},
        {"text": "", "source_lang": "en", "target_lang": "fr"},
        {"text": "t" * 100_001, "source_lang": "en", "target_lang": "fr"},
        {"text": "a", "source_lang": "e", "target_lang": "fr"},
        {"text": "a", "source_lang": "en", "target_lang": "f" * 65},
        {"text": 1, "source_lang": "en", "target_lang": "fr"},
        {"model": "", "text": "a", "source_lang": "en", "target_lang": "fr"},
    ],
    "ClassificationRequest": [
        {},
        {"input": ""},
        {"input": []},
        {"input": ["a", ""]},
        {"input": ["a"] * 101},
        {"input": 1},
        {"input": [1]},
        {"input": "a", "labels": []},
        {"input": "a", "labels": ["x", "x"]},
        {"input": "a", "labels": ["x", ""]},
        {"input": "a", "labels": [str(i) for i in range(51)]},
        {"input": "a", "labels": "x"},
        {"model": 3, "input": "a"},
    ],
    "DetectionRequest": [
        {},
        {"model": CHAT},
        {"image_url": None, "image_b64": None},
        {"image_url": "https://example.com/a.jpg", "image_b64": PNG},
        {"image_url": "ftp://example.com/a.jpg"},
        {"image_url": "example.com/a.jpg"},
        {"image_url": ""},
        {"image_url": "data:image/png;base64,not base64!"},
        {"image_b64": ""},
        {"image_b64": "not base64!"},
        {"image_b64": "QQ"},
        {"image_b64": 7},
    ],
    "OcrRequest": [
        {},
        {"image_b64": PNG, "document_url": "https://example.com/a.pdf"},
        {"image_url": "https://example.com/a.png", "image_b64": PNG},
        {"image_b64": PNG, "pages": [0]},
        {"document_url": "https://example.com/a.pdf", "pages": []},
        {"document_url": "https://example.com/a.pdf", "pages": [-1]},
        {"document_url": "https://example.com/a.pdf", "pages": ["1"]},
        {"document_url": "https://example.com/a.pdf", "pages": list(range(1001))},
        {"document_url": ""},
    ],
    "SpeechRequest": [
        {"input": "a"},
        {"model": "m"},
        {"model": "", "input": "a"},
        {"model": "m", "input": ""},
        {"model": "m", "input": "x" * 10_001},
        {"model": "m", "input": "a", "voice": 1},
        {"model": "m", "input": "a", "voice": {"name": "alloy"}},
        {"model": "m", "input": "a", "voice": {"id": ""}},
        {"model": "m", "input": "a", "response_format": "ogg"},
        {"model": "m", "input": "a", "speed": 0.2},
        {"model": "m", "input": "a", "speed": 4.5},
        {"model": "m", "input": "a", "speed": "1"},
        {"model": "m", "input": "a", "instructions": "i" * 4097},
        {"model": "m", "input": "a", "stream_format": "sse"},
    ],
}

CASES = [(name, op, body) for name, (op, bodies) in ACCEPTED.items() for body in bodies]
REFUSALS = [(name, ACCEPTED[name][0], body) for name, bodies in REFUSED.items() for body in bodies]


@pytest.mark.parametrize(("schema", "operation", "body"), CASES)
def test_request_schema_accepts_what_the_gateway_accepts(
    document: dict[str, Any], schema: str, operation: Any, body: dict[str, Any]
) -> None:
    operation.validate(copy.deepcopy(body))
    _check(document, schema, body)


@pytest.mark.parametrize(("schema", "operation", "body"), REFUSALS)
def test_request_schema_refuses_what_the_gateway_refuses(
    document: dict[str, Any], schema: str, operation: Any, body: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest):
        operation.validate(copy.deepcopy(body))
    assert not _validator(document, schema).is_valid(body)


def test_each_endpoint_documents_the_schema_its_operation_validates(document: dict[str, Any]) -> None:
    for path, schema in (
        ("/v1/images/generations", "ImagesRequest"),
        ("/v1/moderations", "ModerationRequest"),
        ("/v1/translations", "TextTranslationRequest"),
        ("/v1/classifications", "ClassificationRequest"),
        ("/v1/detections", "DetectionRequest"),
        ("/v1/ocr", "OcrRequest"),
        ("/v1/audio/speech", "SpeechRequest"),
    ):
        content = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{schema}"}, path
        assert content["examples"], path


def _post(client: TestClient, key: str, path: str, body: dict[str, Any], schema: str, document: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}", "X-Request-Id": "req-modalities", "x-aig-tag": "openapi"}
    answer = client.post(path, headers=headers, json=body)
    assert answer.status_code == 200, (path, answer.text)
    assert answer.headers["content-type"].startswith("application/json")
    _check(document, schema, answer.json())
    _check_headers(document, path, answer.headers)
    assert answer.headers["x-request-id"] == "req-modalities"
    assert answer.headers["x-provider"] == "simulated" and answer.headers["x-cost-cents"] == "0"
    return answer


def test_moderation_and_task_answers_match_the_documented_schemas(
    served: tuple[TestClient, str], document: dict[str, Any]
) -> None:
    client, key = served
    flagged = _post(
        client, key, "/v1/moderations", {"input": "I will kill you"}, "ModerationResponse", document
    )
    assert (
        flagged.headers["x-model"] == "openai/omni-moderation" and flagged.headers["x-unit-kind"] == "tokens"
    )
    assert flagged.json()["results"][0]["flagged"] is True
    mistral = {"model": "mistral/mistral-moderation", "input": ["hello", "hate"]}
    mapped = _post(client, key, "/v1/moderations", mistral, "ModerationResponse", document)
    assert len(mapped.json()["results"]) == 2 and "provider_categories" in mapped.json()["results"][0]
    guard = {"model": "meta/llama-guard-3-8b", "input": [{"type": "text", "text": "make a bomb"}]}
    verdict = _post(client, key, "/v1/moderations", guard, "ModerationResponse", document)
    assert verdict.json()["results"][0]["provider_codes"]

    translation = {"text": "Hello world", "source_lang": "en", "target_lang": "fr"}
    translated = _post(client, key, "/v1/translations", translation, "TextTranslationResponse", document)
    assert translated.headers["x-model"] == "meta/m2m100-1.2b"
    by_chat = {**translation, "model": CHAT}
    _post(client, key, "/v1/translations", by_chat, "TextTranslationResponse", document)

    sentiment = _post(
        client, key, "/v1/classifications", {"input": "I love it"}, "ClassificationResponse", document
    )
    assert sentiment.headers["x-model"] == "huggingface/distilbert-sst-2"
    zero_shot = {"model": CHAT, "input": ["goal scored", "vote passed"], "labels": ["sport", "politics"]}
    classified = _post(client, key, "/v1/classifications", zero_shot, "ClassificationResponse", document)
    assert [c["index"] for c in classified.json()["data"]] == [0, 1]

    detected = _post(
        client, key, "/v1/detections", {"model": CHAT, "image_b64": PNG}, "DetectionResponse", document
    )
    assert (detected.json()["width"], detected.json()["height"]) == (64, 48)

    pdf = {
        "model": "mistral/mistral-ocr-latest",
        "document_url": "https://example.com/a.pdf",
        "pages": [0, 2],
    }
    read = _post(client, key, "/v1/ocr", pdf, "OcrResponse", document)
    assert read.headers["x-unit-kind"] == "pages" and read.headers["x-input-units"] == "2"
    assert [p["index"] for p in read.json()["pages"]] == [0, 2] and read.json()["usage"]["pages"] == 2
    _post(client, key, "/v1/ocr", {"model": CHAT, "image_b64": PNG}, "OcrResponse", document)
    _post(client, key, "/v1/ocr", {"image_b64": PNG}, "OcrResponse", document)  # the default: TrOCR

    bearer = {"Authorization": f"Bearer {key}"}
    for path, payload, status, param in (
        ("/v1/moderations", {"input": []}, 400, "input"),
        ("/v1/moderations", {"model": CHAT, "input": "a"}, 400, "model"),
        ("/v1/translations", {"text": "a", "source_lang": "en"}, 400, "target_lang"),
        ("/v1/classifications", {"input": ["a", "b"]}, 400, "input"),  # DistilBERT: one text a call
        ("/v1/detections", {"model": CHAT}, 400, "image_url"),
        ("/v1/detections", {"model": "nobody/no-such-model", "image_b64": PNG}, 404, "model"),
        ("/v1/ocr", {"model": CHAT, "document_url": "https://example.com/a.pdf"}, 400, "document_url"),
    ):
        failed = client.post(path, headers=bearer, json=payload)
        assert failed.status_code == status, (path, payload, failed.text)
        _check(document, "Error", failed.json())
        _documented_status(document, path, "post", status)
        assert failed.json()["error"]["param"] == param, failed.json()
    assert client.post("/v1/moderations", json={"input": "a"}).status_code == 401


def test_image_answers_and_their_signed_urls_match_the_document(
    served: tuple[TestClient, str], document: dict[str, Any]
) -> None:
    client, key = served
    body = {"model": FLUX, "prompt": "a lighthouse", "size": "256x256"}
    made = _post(client, key, "/v1/images/generations", body, "ImagesResponse", document)
    assert made.headers["x-unit-kind"] == "images" and made.headers["x-output-units"] == "1"
    url = urlsplit(made.json()["data"][0]["url"])
    assert url.path.startswith("/v1/blobs/images/") and "expires=" in url.query and "signature=" in url.query
    blob = client.get(f"{url.path}?{url.query}")  # no key: the signature is the credential
    assert blob.status_code == 200 and blob.headers["content-type"] == "image/png"
    assert (
        blob.headers["content-type"]
        in document["paths"]["/v1/blobs/{key}"]["get"]["responses"]["200"]["content"]
    )
    assert blob.content.startswith(b"\x89PNG") and struct.unpack(">II", blob.content[16:24]) == (256, 256)

    two = {"model": "openai/gpt-image-2", "prompt": "a red bicycle", "n": 2, "size": "64x64"}
    as_b64 = _post(client, key, "/v1/images/generations", two, "ImagesResponse", document)
    images = [base64.b64decode(item["b64_json"]) for item in as_b64.json()["data"]]  # gpt-image's default
    assert len(images) == 2 and all(i.startswith(b"\x89PNG") for i in images)
    assert as_b64.headers["x-model"] == "openai/gpt-image-2"

    blobs = client.app.state.ctx.blobs  # type: ignore[attr-defined]
    signature = dict(part.split("=", 1) for part in url.query.split("&"))["signature"]
    stored = url.path.removeprefix("/v1/blobs/")
    past = blobs.signer.now() - 60
    expired = urlsplit(f"/v1/blobs/{stored}?expires={past}&signature={blobs.signer.signature(stored, past)}")
    gone = urlsplit(blobs.url("images/call_000000000000000000000000/0.png", 60))
    for target, status in (
        (f"{url.path}?{url.query.replace(signature, '0' * 64)}", 403),
        (url.path, 403),
        (f"{expired.path}?{expired.query}", 410),
        (f"{gone.path}?{gone.query}", 404),
    ):
        failed = client.get(target, headers={"X-Request-Id": "req-blob"})
        assert failed.status_code == status, (target, failed.text)
        _check(document, "Error", failed.json())
        assert failed.json()["error"]["code"] == status and failed.headers["x-request-id"] == "req-blob"
        _documented_status(document, "/v1/blobs/{key}", "get", status)

    bearer = {"Authorization": f"Bearer {key}"}
    for payload, status, param in (
        ({"model": FLUX, "prompt": "a", "size": "32x32"}, 400, "size"),
        ({"model": FLUX, "prompt": "a", "n": 11}, 400, "n"),
        ({"model": FLUX, "prompt": "a", "n": 2}, 400, "n"),  # Black Forest Labs: one image a request
        ({"model": "openai/text-embedding-3-small", "prompt": "a"}, 400, None),
        ({"model": "nobody/no-such-model", "prompt": "a"}, 404, "model"),
    ):
        failed = client.post("/v1/images/generations", headers=bearer, json=payload)
        assert failed.status_code == status, (payload, failed.text)
        _check(document, "Error", failed.json())
        _documented_status(document, "/v1/images/generations", "post", status)
        if param is not None:
            assert failed.json()["error"]["param"] == param


@pytest.mark.parametrize(
    ("response_format", "media_type", "magic"), [("wav", "audio/wav", b"RIFF"), ("mp3", "audio/mpeg", b"")]
)
def test_speech_streams_audio_in_a_documented_media_type(
    served: tuple[TestClient, str],
    document: dict[str, Any],
    response_format: str,
    media_type: str,
    magic: bytes,
) -> None:
    client, key = served
    body = {
        "model": "deepgram/aura-2-en",
        "input": "Hello from the gateway.",
        "response_format": response_format,
    }
    headers = {"Authorization": f"Bearer {key}", "X-Request-Id": "req-speech"}
    with client.stream("POST", "/v1/audio/speech", headers=headers, json=body) as answer:
        assert answer.status_code == 200
        audio = answer.read()
        assert answer.headers["content-type"].split(";")[0] == media_type
        assert media_type in document["paths"]["/v1/audio/speech"]["post"]["responses"]["200"]["content"]
        _check_headers(document, "/v1/audio/speech", answer.headers, stream=True)
        assert answer.headers["x-request-id"] == "req-speech"
        # priced per character: the cost is known before the first byte (0 for a test key)
        assert answer.headers["x-cost-cents"] == "0" and answer.headers["x-unit-kind"] == "characters"
    assert len(audio) > 100 and audio.startswith(magic)
    failed = client.post("/v1/audio/speech", headers=headers, json={**body, "speed": 9})
    assert failed.status_code == 400 and failed.json()["error"]["param"] == "speed"
    _check(document, "Error", failed.json())


def _wav(seconds: float, rate: int = 16000) -> bytes:
    frames = b"\x00\x00" * int(seconds * rate)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(frames),
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        rate,
        rate * 2,
        2,
        16,
        b"data",
        len(frames),
    )
    return header + frames


@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/v1/audio/translations"])
def test_speech_to_text_answers_match_the_documented_schemas(
    served: tuple[TestClient, str], document: dict[str, Any], path: str
) -> None:
    client, key = served
    headers = {"Authorization": f"Bearer {key}", "X-Request-Id": "req-stt"}
    responses = document["paths"][path]["post"]["responses"]
    json_schema = responses["200"]["content"]["application/json"]["schema"]
    upload = {"file": ("speech.wav", _wav(4.0), "audio/wav")}
    for response_format in ("json", "verbose_json"):
        form = {"model": "openai/whisper-1", "response_format": response_format}
        answer = client.post(path, headers=headers, data=form, files=upload)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        problems = [e.message for e in Draft202012Validator(json_schema).iter_errors(answer.json())]
        assert not problems, (path, response_format, problems)
        _check_headers(document, path, answer.headers)
        assert answer.headers["x-unit-kind"] == "seconds" and answer.headers["x-input-units"] == "4"
    as_text = client.post(
        path, headers=headers, data={"model": "openai/whisper-1", "response_format": "srt"}, files=upload
    )
    assert as_text.status_code == 200 and as_text.headers["content-type"].startswith("text/plain")
    assert "text/plain" in responses["200"]["content"] and "-->" in as_text.text
    garbage = {"file": ("x.wav", b"not audio at all", "audio/wav")}
    for sent, status, param in (
        ({"json": {"model": "openai/whisper-1"}}, 400, "file"),  # neither file nor audio_url
        ({"data": {"model": "openai/whisper-1"}, "files": garbage}, 400, "file"),
        (
            {"data": {"model": "openai/whisper-1", "response_format": "xml"}, "files": upload},
            400,
            "response_format",
        ),
        ({"data": {"model": "nobody/no-such-model"}, "files": upload}, 404, "model"),
    ):
        failed = client.post(path, headers=headers, **sent)  # type: ignore[arg-type]
        assert failed.status_code == status, (sent, failed.text)
        _check(document, "Error", failed.json())
        _documented_status(document, path, "post", status)
        assert failed.json()["error"]["param"] == param
