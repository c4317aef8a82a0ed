"""The committed OpenAPI document (src/aigateway/data/openapi.json) against the app that serves it."""

from __future__ import annotations

import inspect
import json
import re
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

from aigateway.services.operations.chat_schema import validate_chat
from aigateway.app import create_app
from aigateway.core import errors
from aigateway.core.errors import InvalidRequest
from aigateway.settings import Settings
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
DOC_URI = "urn:aigateway:openapi"


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
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


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


def test_documented_examples_fit_their_schemas(document: dict[str, Any]) -> None:
    chat = document["paths"]["/v1/chat/completions"]["post"]
    for example in chat["requestBody"]["content"]["application/json"]["examples"].values():
        validate_chat(example["value"])
        _check(document, "ChatCompletionRequest", example["value"])
    _check(document, "ChatCompletion", chat["responses"]["200"]["content"]["application/json"]["example"])
    sse = chat["responses"]["200"]["content"]["text/event-stream"]["example"]
    events = [line[len("data: ") :] for line in sse.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    for event in events[:-1]:
        _check(document, "ChatCompletionChunk", json.loads(event))
    for item in document["paths"].values():
        for op in item.values():
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
    for header in document["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["headers"]:
        assert header.lower() in completion.headers, header
    assert completion.headers["x-cache-status"] == "miss"
    assert completion.headers["x-provider"] == "simulated"

    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    with client.stream("POST", "/v1/chat/completions", headers=auth, json=stream_body) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "x-cost-cents" not in stream.headers
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
