"""The committed OpenAPI document (src/aigateway/data/openapi.json) against the app that serves it."""

from __future__ import annotations

import base64
import copy
import inspect
import json
import re
import struct
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from aigateway.api.budgets import BudgetCreate
from aigateway.api.management import validate as validate_body
from aigateway.api.subaccounts import SubAccountCreate, SubAccountUpdate
from aigateway.api.unbuilt import UNBUILT
from aigateway.api.webhooks import EndpointBody
from aigateway.app import create_app
from aigateway.core import errors
from aigateway.core.errors import InvalidRequest
from aigateway.services.operations.chat_schema import validate_chat
from aigateway.services.operations.classifications import ClassificationsOperation
from aigateway.services.operations.detections import DetectionsOperation
from aigateway.services.operations.embeddings import EmbeddingsOperation
from aigateway.services.operations.images import ImagesOperation
from aigateway.services.operations.moderations import ModerationsOperation
from aigateway.services.operations.ocr import OcrOperation
from aigateway.services.operations.rerank import RerankOperation
from aigateway.services.operations.speech import SpeechOperation
from aigateway.services.operations.transcriptions import TranscriptionsOperation
from aigateway.services.operations.translations import TranslationsOperation
from aigateway.settings import Settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
DOC_URI = "urn:aigateway:openapi"
# The gateway's own checks of each documented request schema (what the examples must also pass).
GATEWAY_VALIDATES: dict[str, Any] = {
    "ChatCompletionRequest": validate_chat,
    "EmbeddingsRequest": EmbeddingsOperation().validate,
    "RerankRequest": RerankOperation("cohere/rerank-v3.5").validate,
    "ImagesRequest": ImagesOperation().validate,
    "ModerationRequest": ModerationsOperation("openai/omni-moderation").validate,
    "TextTranslationRequest": TranslationsOperation("meta/m2m100-1.2b").validate,
    "ClassificationRequest": ClassificationsOperation("huggingface/distilbert-sst-2").validate,
    "DetectionRequest": DetectionsOperation("facebook/detr-resnet-50").validate,
    "OcrRequest": OcrOperation("microsoft/trocr-base-printed").validate,
    "SpeechRequest": SpeechOperation().validate,
    "TranscriptionUrlRequest": TranscriptionsOperation("transcribe", 25 << 20).validate,
    "TranslationUrlRequest": TranscriptionsOperation("translate", 25 << 20).validate,
    "SubAccountCreateRequest": lambda body: validate_body(SubAccountCreate, body),
    "SubAccountUpdateRequest": lambda body: validate_body(SubAccountUpdate, body),
    "BudgetRequest": lambda body: validate_body(BudgetCreate, body),
    "WebhookEndpointRequest": lambda body: validate_body(EndpointBody, body),
}
# Documented response headers sent only in some circumstances (a thin wallet lowered the limit).
CONDITIONAL_HEADERS = {"X-Output-Limit"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    text = resources.files("aigateway.data").joinpath("openapi.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _template(path: str) -> str:
    """``/v1/models/{model_id:path}`` and ``/v1/models/{id}`` both become ``/v1/models/{}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _served_routes(app: Any) -> Iterator[tuple[str, str]]:
    """(path template, lower-case method) for every HTTP route of the app, HEAD excepted."""
    try:  # FastAPI >= 0.1xx keeps an included router as one node; this flattens them
        from fastapi.routing import iter_route_contexts

        routes: Any = iter_route_contexts(app.router.routes)
    except ImportError:  # older FastAPI: included routes are copied into the app's router
        routes = app.router.routes
    for route in routes:
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        if not path or not methods:  # websockets, mounts
            continue
        for method in methods:
            if method != "HEAD":
                yield _template(path), method.lower()


def _documented_routes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (_template(path), method)
        for path, item in doc["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def _validator(doc: dict[str, Any], name: str) -> Draft202012Validator:
    registry: Registry = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(doc))
    return Draft202012Validator({"$ref": f"{DOC_URI}#/components/schemas/{name}"}, registry=registry)


def _check(doc: dict[str, Any], name: str, instance: Any) -> None:
    problems = [e.message for e in _validator(doc, name).iter_errors(instance)]
    assert not problems, f"{name}: {problems}"


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert document["info"]["title"] == "AIgateway"
    assert document["info"]["version"] == "0.1.0"
    assert document["servers"][0]["url"] == "http://127.0.0.1:8080"


def test_creating_the_app_does_not_touch_storage(tmp_path: Path) -> None:
    create_app(Settings(data_dir=tmp_path / "data"))
    assert not (tmp_path / "data").exists()


def test_every_served_route_is_documented_and_every_documented_route_served(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    served = set(_served_routes(app))
    documented = _documented_routes(document)
    assert served, "no routes found on the app"
    # The 501 routes are added with include_in_schema=False, which hides them from FastAPI's own
    # schema only: they are served, so walking the router sees them and they must be documented.
    assert {(_template(path), method.lower()) for method, path, _what in UNBUILT} <= served
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield path, method, op


def test_the_contract_routes_not_built_yet_are_documented_as_501(document: dict[str, Any]) -> None:
    not_built = {
        (method.upper(), path): op
        for path, method, op in _operations(document)
        if op.get("x-aig-status") == "not-built"
    }
    assert set(not_built) == {(method, path) for method, path, _what in UNBUILT}
    for method, path, what in UNBUILT:
        op = not_built[(method, path)]
        assert op["summary"] == f"Not built yet: {what}", (method, path)
        assert op["responses"] == {"501": {"$ref": "#/components/responses/NotBuilt"}}, (method, path)
        assert op["security"] == [], (method, path)  # they answer 501 before any key is read
    assert {op.get("x-aig-status") for _p, _m, op in _operations(document)} == {None, "not-built"}


def test_every_error_type_the_code_can_produce_is_documented(document: dict[str, Any]) -> None:
    documented = set(
        document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["type"]["enum"]
    )
    produced = {
        cls.error_type
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.GatewayError)
    }
    assert produced <= documented, produced - documented


def test_every_documented_error_status_uses_the_envelope(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    name = response["$ref"].rsplit("/", 1)[-1]
                    body = document["components"]["responses"][name]["content"]["application/json"]
                    assert body["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method, status)


USER = {"role": "user", "content": "hi"}
ACCEPTED = [
    {"model": "m", "messages": [USER]},
    {
        "model": "m",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "a"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                    {"type": "image_url", "image_url": "https://example.com/b.png"},
                    {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}},
                ],
            }
        ],
    },
    {
        "model": "m",
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "developer", "content": "d"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "r"},
            {"role": "function", "name": "f", "content": "r"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "parallel_tool_calls": False,
    },
    {
        "model": "m",
        "messages": [USER],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "n", "schema": {"type": "object"}},
        },
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.5,
        "top_p": 1,
        "n": 2,
        "max_tokens": 10,
        "max_completion_tokens": 10,
        "stop": ["a", "b"],
        "seed": 7,
        "user": "u",
        "metadata": {"k": "v"},
        "reasoning_effort": "high",
        "presence_penalty": -2,
        "frequency_penalty": 2,
        "logprobs": True,
        "top_logprobs": 20,
        "provider_specific_field": {"kept": True},
    },
]
REJECTED = [
    {"messages": [USER]},
    {"model": "", "messages": [USER]},
    {"model": "m", "messages": []},
    {"model": "m", "messages": [{"role": "user"}]},
    {"model": "m", "messages": [{"role": "user", "content": None}]},
    {"model": "m", "messages": [{"role": "tool", "content": "x"}]},
    {"model": "m", "messages": [{"role": "bot", "content": "x"}]},
    {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
    {"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
    {"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]},
    {"model": "m", "messages": [USER], "temperature": 3},
    {"model": "m", "messages": [USER], "n": 0},
    {"model": "m", "messages": [USER], "stop": ["a", "b", "c", "d", "e"]},
    {"model": "m", "messages": [USER], "tool_choice": "sometimes"},
    {"model": "m", "messages": [USER], "tool_choice": "required"},
    {"model": "m", "messages": [USER], "response_format": {"type": "json_schema", "json_schema": {}}},
    {"model": "m", "messages": [USER], "response_format": {"type": "xml"}},
    {"model": "m", "messages": [USER], "top_logprobs": 21},
    {"model": "m", "messages": [USER], "metadata": {"k": 1}},
    {"model": "m", "messages": [USER], "presence_penalty": 2.5},
]


@pytest.mark.parametrize("body", ACCEPTED)
def test_request_schema_accepts_what_the_gateway_accepts(
    document: dict[str, Any], body: dict[str, Any]
) -> None:
    validate_chat(body)
    _check(document, "ChatCompletionRequest", body)


@pytest.mark.parametrize("body", REJECTED)
def test_request_schema_refuses_what_the_gateway_refuses(
    document: dict[str, Any], body: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest):
        validate_chat(body)
    assert not _validator(document, "ChatCompletionRequest").is_valid(body)


def _schema_name(media: dict[str, Any]) -> str:
    name: str = media["schema"]["$ref"].rsplit("/", 1)[-1]
    return name


def test_documented_examples_fit_their_schemas(document: dict[str, Any]) -> None:
    checked: set[str] = set()
    for path, _method, op in _operations(document):
        for media in op.get("requestBody", {}).get("content", {}).values():
            name = _schema_name(media)
            for example in media["examples"].values():
                GATEWAY_VALIDATES[name](copy.deepcopy(example["value"]))
                _check(document, name, example["value"])
                checked.add(name)
        for status, response in op["responses"].items():
            for media in response.get("content", {}).values():
                if "example" in media and "$ref" in media.get("schema", {}):
                    _check(document, _schema_name(media), media["example"])
                    checked.add(f"{path} {status}")
    assert set(GATEWAY_VALIDATES) <= checked
    assert {"/v1/embeddings 200", "/v1/rerank 200", "/v1/chat/completions 200"} <= checked
    modalities = ("images/generations", "moderations", "translations", "classifications", "detections", "ocr")
    assert {f"/v1/{path} 200" for path in modalities} <= checked
    chat = document["paths"]["/v1/chat/completions"]["post"]
    sse = chat["responses"]["200"]["content"]["text/event-stream"]["example"]
    events = [line[len("data: ") :] for line in sse.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    for event in events[:-1]:
        _check(document, "ChatCompletionChunk", json.loads(event))
    for item in document["paths"].values():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in op["responses"].items():
                if "$ref" in response:  # the error responses
                    name = response["$ref"].rsplit("/", 1)[-1]
                    example = document["components"]["responses"][name]["content"]["application/json"][
                        "example"
                    ]
                    _check(document, "Error", example)
                    assert example["error"]["code"] == int(status), (name, status)
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            _check(document, name, example)
            if name in GATEWAY_VALIDATES:
                GATEWAY_VALIDATES[name](copy.deepcopy(example))


def _floats(encoded: str) -> list[float]:
    raw = base64.b64decode(encoded, validate=True)
    assert len(raw) % 4 == 0
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def test_the_base64_embeddings_example_is_the_float_one_encoded(document: dict[str, Any]) -> None:
    as_floats, as_base64 = document["components"]["schemas"]["EmbeddingsResponse"]["examples"]
    for f, b in zip(as_floats["data"], as_base64["data"], strict=True):
        assert _floats(b["embedding"]) == pytest.approx(f["embedding"], rel=1e-6)


def _check_headers(document: dict[str, Any], path: str, headers: Any, *, stream: bool = False) -> None:
    """The 200's documented headers: each sent fits its schema; JSON answers carry all of them (but
    the conditional ones), streams exactly the required ones."""
    components = document["components"]["headers"]
    documented = document["paths"][path]["post"]["responses"]["200"]["headers"]
    for name, spec in documented.items():
        spec = components[spec["$ref"].rsplit("/", 1)[-1]] if "$ref" in spec else spec
        value = headers.get(name)
        if value is None:
            assert name in CONDITIONAL_HEADERS or (stream and not spec.get("required")), (path, name)
            continue
        assert not stream or spec.get("required") or name in CONDITIONAL_HEADERS, (path, name, "on a stream")
        typed = json.loads(value) if spec["schema"].get("type") in ("integer", "number") else value
        problems = [e.message for e in Draft202012Validator(spec["schema"]).iter_errors(typed)]
        assert not problems, (path, name, value, problems)
    for name in CONDITIONAL_HEADERS & set(documented):
        assert name not in headers, (path, name)  # a test key's wallet never lowers a limit


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path}/t.db"
    engine = create_db_engine(url)
    migrate(engine)
    store = AccountStore(engine)
    account = store.create_account("openapi-test")
    key, _record = store.create_key(account, "openapi-test", test=True)
    engine.dispose()
    app = create_app(Settings(data_dir=tmp_path, database_url=url))
    with TestClient(app) as client:
        yield client, key


def test_the_document_is_served_without_auth(
    served: tuple[TestClient, str], document: dict[str, Any]
) -> None:
    client, _key = served
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == document


def test_answers_match_the_documented_schemas(
    served: tuple[TestClient, str], document: dict[str, Any]
) -> None:
    """A test-mode key is answered by the simulated provider: its answers must fit the document."""
    client, key = served
    auth = {"Authorization": f"Bearer {key}", "X-Request-Id": "req-openapi-1"}

    models = client.get("/v1/models", headers=auth, params={"modality": "text"})
    assert models.status_code == 200
    _check(document, "ModelList", models.json())
    assert models.headers["x-request-id"] == "req-openapi-1"
    model_id = "anthropic/claude-opus-4.7"
    detail = client.get(f"/v1/models/{model_id}", headers=auth)
    assert detail.status_code == 200
    _check(document, "ModelDetail", detail.json())
    assert client.get("/v1/models/anthropic%2Fclaude-opus-4.7", headers=auth).json()["id"] == model_id

    balance = client.get("/v1/balance", headers=auth)
    assert balance.status_code == 200
    _check(document, "Balance", balance.json())

    health = client.get("/health")
    _check(document, "Health", health.json())

    body = {"model": model_id, "messages": [{"role": "user", "content": "Hello"}], "reasoning_effort": "low"}
    completion = client.post("/v1/chat/completions", headers=auth, json=body)
    assert completion.status_code == 200, completion.text
    _check(document, "ChatCompletion", completion.json())
    _check_headers(document, "/v1/chat/completions", completion.headers)
    assert completion.headers["x-cache-status"] == "miss"
    assert completion.headers["x-unit-kind"] == "tokens"
    assert completion.headers["x-provider"] == "simulated"

    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    with client.stream("POST", "/v1/chat/completions", headers=auth, json=stream_body) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        _check_headers(document, "/v1/chat/completions", stream.headers, stream=True)
        events = [line[len("data: ") :] for line in stream.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        _check(document, "ChatCompletionStreamEvent", chunk)
        _check(document, "ChatCompletionChunk", chunk)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["cost_cents"] == 0

    for bad, status in (
        ({"model": model_id, "messages": []}, 400),
        ({"model": "nobody/no-such-model", "messages": [{"role": "user", "content": "x"}]}, 404),
    ):
        failed = client.post("/v1/chat/completions", headers=auth, json=bad)
        assert failed.status_code == status
        _check(document, "Error", failed.json())
    unauthenticated = client.get("/v1/balance")
    assert unauthenticated.status_code == 401
    _check(document, "Error", unauthenticated.json())


def _documented_status(document: dict[str, Any], path: str, method: str, status: int) -> None:
    assert str(status) in document["paths"][path][method]["responses"], (path, method, status)


def test_embeddings_and_rerank_answers_match_the_documented_schemas(
    served: tuple[TestClient, str], document: dict[str, Any]
) -> None:
    client, key = served
    auth = {"Authorization": f"Bearer {key}", "X-Request-Id": "req-openapi-2", "x-aig-tag": "openapi"}
    model = "openai/text-embedding-3-small"
    answers: dict[str, Any] = {}
    for encoding in ("float", "base64"):
        request = {"model": model, "input": ["a", "b"], "encoding_format": encoding}
        answer = client.post("/v1/embeddings", headers=auth, json=request)
        assert answer.status_code == 200, answer.text
        _check(document, "EmbeddingsResponse", answer.json())
        _check_headers(document, "/v1/embeddings", answer.headers)
        assert answer.headers["x-request-id"] == "req-openapi-2"
        assert answer.headers["x-model"] == model and answer.headers["x-unit-kind"] == "tokens"
        assert [item["index"] for item in answer.json()["data"]] == [0, 1]
        answers[encoding] = answer
    assert answers["float"].headers["x-call-id"] != answers["base64"].headers["x-call-id"]
    for f, b in zip(answers["float"].json()["data"], answers["base64"].json()["data"], strict=True):
        assert isinstance(f["embedding"], list) and isinstance(b["embedding"], str)
        assert _floats(b["embedding"]) == pytest.approx(f["embedding"], rel=1e-6)

    docs: list[Any] = ["Paris is the capital of France.", {"text": "Berlin is the capital of Germany."}]
    body: dict[str, Any] = {
        "model": "cohere/rerank-v3.5",
        "query": "capital of France",
        "documents": docs,
        "return_documents": True,
    }
    ranked = client.post("/v1/rerank", headers=auth, json=body)
    assert ranked.status_code == 200, ranked.text
    _check(document, "RerankResponse", ranked.json())
    _check_headers(document, "/v1/rerank", ranked.headers)
    assert ranked.headers["x-model"] == "cohere/rerank-v3.5" and ranked.headers["x-unit-kind"] == "queries"
    results = ranked.json()["results"]
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True) and sorted(r["index"] for r in results) == [0, 1]
    texts = [d if isinstance(d, str) else d["text"] for d in docs]
    assert all(r["document"]["text"] == texts[r["index"]] for r in results)
    default = client.post(
        "/v1/rerank", headers=auth, json={"query": "q", "documents": ["a", "b"], "top_n": 1}
    )
    assert default.status_code == 200 and default.headers["x-model"] == "cohere/rerank-v3.5"
    _check(document, "RerankResponse", default.json())
    assert len(default.json()["results"]) == 1 and "document" not in default.json()["results"][0]

    bearer = {"Authorization": f"Bearer {key}"}
    for path, payload, headers, status, param in (
        ("/v1/embeddings", {"model": model, "input": []}, bearer, 400, "input"),
        ("/v1/embeddings", {"model": model, "input": "a", "dimensions": 99999}, bearer, 400, "dimensions"),
        ("/v1/embeddings", {"model": "anthropic/claude-opus-4.7", "input": "a"}, bearer, 400, None),
        ("/v1/embeddings", {"model": "nobody/no-such-model", "input": "a"}, bearer, 404, "model"),
        ("/v1/rerank", {"query": "", "documents": ["a"]}, bearer, 400, "query"),
        ("/v1/rerank", {"model": model, "query": "q", "documents": ["a"]}, bearer, 400, None),
        (
            "/v1/rerank",
            {"query": "q", "documents": ["a"]},
            {**bearer, "X-Request-Id": "r" * 129},
            400,
            "X-Request-Id",
        ),
        ("/v1/rerank", {"query": "q", "documents": ["a"]}, {**bearer, "x-aig-tag": ""}, 400, "x-aig-tag"),
        ("/v1/rerank", {"query": "q", "documents": ["a"]}, {}, 401, None),
    ):
        failed = client.post(path, headers=headers, json=payload)
        assert failed.status_code == status, (path, payload, failed.text)
        _check(document, "Error", failed.json())
        _documented_status(document, path, "post", status)
        if param is not None:
            assert failed.json()["error"]["param"] == param, failed.json()


def test_the_routes_not_built_answer_501_with_the_envelope(
    served: tuple[TestClient, str], document: dict[str, Any]
) -> None:
    client, key = served
    for method, path, _what in UNBUILT:
        url = re.sub(r"\{[^}]*\}", "x1", path)
        for headers in ({}, {"Authorization": f"Bearer {key}", "X-Request-Id": "req-501"}):
            answer = client.request(method, url, headers=headers)
            assert answer.status_code == 501, (method, url, answer.status_code)
            _check(document, "Error", answer.json())
            assert answer.json()["error"]["code"] == 501
            assert answer.json()["error"]["type"] == "invalid_request_error"
            echoed = answer.headers["x-request-id"]
            assert echoed == headers["X-Request-Id"] if headers else echoed.startswith("req_")
        _documented_status(document, path, method.lower(), 501)


def test_every_model_in_the_catalog_fits_the_model_schemas(
    served: tuple[TestClient, str], document: dict[str, Any]
) -> None:
    client, key = served
    auth = {"Authorization": f"Bearer {key}"}
    listing = client.get("/v1/models", headers=auth)
    assert listing.status_code == 200
    _check(document, "ModelList", listing.json())
    for model_id in ("openai/text-embedding-3-small", "cohere/rerank-v3.5"):
        detail = client.get(f"/v1/models/{model_id}", headers=auth)
        _check(document, "ModelDetail", detail.json())
    assert detail.json()["modality"] == "rerank"
    assert client.get("/v1/models/openai/text-embedding-3-small", headers=auth).json()["dimensions"] >= 1
