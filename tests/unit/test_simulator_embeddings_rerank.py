"""The simulator's embeddings and rerank routes (real HTTP against a SimulatorServer on port 0).

Recordings replay byte for byte, synthesized answers are the pure synthesizers' (so the server and
the simulated transport agree), each wire checks its own key and answers errors in its own shape,
and faults and the request log work per model as on the chat routes.
"""

from __future__ import annotations

import http.client
import json
import math
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

from aigateway.simulators import synth_embeddings as se
from aigateway.simulators import synth_rerank as sr
from aigateway.simulators.server import SimulatorServer

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings"
BEARER = {"Authorization": "Bearer sk-test"}
GOOGLE = {"x-goog-api-key": "g-key"}
CF_RERANK = "/client/v4/accounts/acc/ai/run/@cf/baai/bge-reranker-base"
DOCS = ["Bananas are yellow.", "Paris is the capital of France.", "Berlin is the capital of Germany."]
QUERY = "capital of France"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(RECORDINGS) as server:
        yield server


def _model(prefix: str = "emb") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _post(
    sim: SimulatorServer, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(sim.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request("POST", path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _recorded(key: str) -> dict[str, Any]:
    response: dict[str, Any] = json.loads((RECORDINGS / f"{key}.json").read_text())["response"]
    return response


# -- replay ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "key", "headers"),
    [
        ("/v1/embeddings", "openai/embeddings-base64", BEARER),
        ("/v1/embeddings", "openai/embeddings-3-small-base64", BEARER),
        ("/mistral/v1/embeddings", "mistral/embeddings", BEARER),
        ("/voyage/v1/embeddings", "voyage/embeddings-base64", BEARER),
        ("/voyage/v1/embeddings", "voyage/error-400-unknown-model", BEARER),
        ("/v2/embed", "cohere/embed-v2", BEARER),
        ("/v2/embed", "cohere/error-404-embed-model", BEARER),
        ("/v2/rerank", "cohere/rerank-v2", BEARER),
        ("/cohere/v1/rerank", "cohere/rerank-v1", BEARER),
        ("/v1/rerank", "voyage/rerank", BEARER),
    ],
)
def test_recordings_replay_byte_for_byte(
    sim: SimulatorServer, path: str, key: str, headers: dict[str, str]
) -> None:
    recorded = _recorded(key)
    status, got_headers, body = _post(sim, path, {"model": f"rec:{key}"}, headers)
    assert status == recorded["status"] and body == recorded["body"].encode()
    assert got_headers["content-type"] == next(
        v for k, v in recorded["headers"].items() if k.lower() == "content-type"
    )
    assert got_headers["x-request-id"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1beta/models/rec:gemini/batch-embed-contents:batchEmbedContents",
        "/v1beta/models/rec.gemini.batch-embed-contents:batchEmbedContents",
    ],
)
def test_gemini_recording_replays_from_the_url_model(sim: SimulatorServer, path: str) -> None:
    status, headers, body = _post(sim, path, {"requests": []}, GOOGLE)
    assert status == 200 and body == _recorded("gemini/batch-embed-contents")["body"].encode()
    assert headers["content-type"] == "application/json; charset=UTF-8"
    status, _, body = _post(sim, "/client/v4/accounts/a/ai/run/rec:voyage/rerank", {}, BEARER)
    assert status == 200 and body == _recorded("voyage/rerank")["body"].encode()


@pytest.mark.parametrize(
    ("path", "headers", "status", "check"),
    [
        ("/v1/embeddings", BEARER, 404, lambda d: d["error"]["code"] == "model_not_found"),
        ("/voyage/v1/embeddings", BEARER, 400, lambda d: "rec:nope/x" in d["detail"]),
        ("/jina/v1/embeddings", BEARER, 400, lambda d: "detail" in d),
        ("/v2/embed", BEARER, 404, lambda d: set(d) == {"id", "message"}),
        ("/v2/rerank", BEARER, 404, lambda d: "not found" in d["message"]),
        ("/v1/rerank", BEARER, 400, lambda d: "detail" in d),
    ],
)
def test_a_missing_recording_is_the_wires_unknown_model(
    sim: SimulatorServer, path: str, headers: dict[str, str], status: int, check: Any
) -> None:
    got, _, body = _post(sim, path, {"model": "rec:nope/x"}, headers)
    assert got == status and check(json.loads(body))
    got, _, body = _post(sim, "/v1beta/models/rec:nope/x:batchEmbedContents", {}, GOOGLE)
    assert got == 404 and json.loads(body)["error"]["status"] == "NOT_FOUND"
    got, _, body = _post(sim, "/client/v4/accounts/a/ai/run/rec:nope/x", {}, BEARER)
    assert got == 400 and json.loads(body)["success"] is False


# -- auth -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "status", "check"),
    [
        ("/v1/embeddings", 401, lambda d: d["error"]["code"] == "invalid_api_key"),
        ("/voyage/v1/embeddings", 401, lambda d: set(d) == {"detail"}),
        ("/jina/v1/rerank", 401, lambda d: set(d) == {"detail"}),
        ("/v2/embed", 401, lambda d: set(d) == {"id", "message"}),
        ("/v2/rerank", 401, lambda d: set(d) == {"id", "message"}),
        ("/v1/rerank", 401, lambda d: set(d) == {"detail"}),
        (CF_RERANK, 401, lambda d: d["errors"][0]["code"] == 10000 and d["success"] is False),
        (
            "/v1beta/models/gemini-embedding-001:batchEmbedContents",
            403,
            lambda d: d["error"]["status"] == "PERMISSION_DENIED",
        ),
    ],
)
def test_each_wire_checks_its_key(sim: SimulatorServer, path: str, status: int, check: Any) -> None:
    got, _, body = _post(sim, path, {"model": "m"}, {"Authorization": "Bearer "})
    assert got == status and check(json.loads(body))


def test_gemini_takes_the_key_in_the_query(sim: SimulatorServer) -> None:
    body = {"requests": [{"model": "models/g", "content": {"parts": [{"text": "hi"}]}}]}
    status, _, _ = _post(sim, "/v1beta/models/g:batchEmbedContents?key=abc", body)
    assert status == 200


# -- synthesized answers --------------------------------------------------------------------------
EMBED = {"model": "m-embed", "input": ["The capital of France is Paris.", "Bananas"], "dimensions": 16}
CASES: list[tuple[str, dict[str, str], dict[str, Any], Any]] = [
    ("/v1/embeddings", BEARER, EMBED, se.openai_embeddings),
    ("/openai/v1/embeddings", BEARER, {**EMBED, "encoding_format": "base64"}, se.openai_embeddings),
    (
        "/voyage/v1/embeddings",
        BEARER,
        {"model": "v", "input": ["a"], "output_dimension": 8},
        se.voyage_embeddings,
    ),
    ("/jina/v1/embeddings", BEARER, EMBED, se.jina_embeddings),
    (
        "/v2/embed",
        BEARER,
        {"model": "embed-v4.0", "texts": ["a"], "input_type": "search_query"},
        se.cohere_embed,
    ),
    ("/v2/rerank", BEARER, {"model": "r", "query": QUERY, "documents": DOCS, "top_n": 2}, sr.cohere_rerank),
    ("/cohere/v2/rerank", BEARER, {"model": "r", "query": QUERY, "documents": DOCS}, sr.cohere_rerank),
    ("/v1/rerank", BEARER, {"model": "r", "query": QUERY, "documents": DOCS, "top_k": 1}, sr.voyage_rerank),
    ("/voyage/v1/rerank", BEARER, {"model": "r", "query": QUERY, "documents": DOCS}, sr.voyage_rerank),
    ("/jina/v1/rerank", BEARER, {"model": "r", "query": QUERY, "documents": DOCS}, sr.jina_rerank),
    (CF_RERANK, BEARER, {"query": QUERY, "contexts": [{"text": d} for d in DOCS]}, sr.cloudflare_rerank),
]


@pytest.mark.parametrize(("path", "headers", "body", "synthesize"), CASES)
def test_synthesized_answers_are_the_synthesizers(
    sim: SimulatorServer, path: str, headers: dict[str, str], body: dict[str, Any], synthesize: Any
) -> None:
    status, got_headers, raw = _post(sim, path, body, headers)
    assert status == 200 and got_headers["content-type"] == "application/json"
    assert json.loads(raw) == synthesize(body).payload
    assert _post(sim, path, body, headers)[2] == raw  # the same bytes again (cached)


def test_legacy_cohere_rerank_gemini_and_cloudflare_embeddings(sim: SimulatorServer) -> None:
    body = {"query": QUERY, "documents": DOCS, "return_documents": True}
    _, _, raw = _post(sim, "/cohere/v1/rerank", body, BEARER)
    assert json.loads(raw) == sr.cohere_rerank(body, version=1).payload
    gemini = {"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "x"}]}}]}
    _, _, raw = _post(sim, "/v1beta/models/gemini-embedding-001:batchEmbedContents", gemini, GOOGLE)
    assert json.loads(raw) == se.gemini_batch_embed(gemini, "gemini-embedding-001").payload
    single = {"content": {"parts": [{"text": "x"}]}}
    _, _, raw = _post(sim, "/v1beta/models/gemini-embedding-001:embedContent", single, GOOGLE)
    assert json.loads(raw) == se.gemini_embed_content(single, "gemini-embedding-001").payload
    assert (
        json.loads(raw)["embedding"]
        == se.gemini_batch_embed(gemini, "gemini-embedding-001").payload["embeddings"][0]
    )
    path = "/client/v4/accounts/acc/ai/run/@cf/baai/bge-base-en-v1.5"
    _, _, raw = _post(sim, path, {"text": "hello"}, BEARER)
    assert json.loads(raw) == se.cloudflare_embeddings({"text": "hello"}, "@cf/baai/bge-base-en-v1.5").payload


def test_the_openai_sdk_reads_the_embeddings(sim: SimulatorServer) -> None:
    with openai.OpenAI(base_url=f"{sim.url}/v1", api_key="sk-test", max_retries=0, timeout=10) as client:
        default = client.embeddings.create(model="text-embedding-3-small", input=["Hello, world!", "Bye"])
        vector = default.data[0].embedding  # the SDK asked base64 and decoded it
        assert len(vector) == 1024 and abs(math.sqrt(sum(x * x for x in vector)) - 1.0) < 1e-6
        assert vector == se.embedding_vector("text-embedding-3-small", "Hello, world!", 1024)
        short = client.embeddings.create(model="text-embedding-3-small", input="Hi", dimensions=64)
        assert len(short.data[0].embedding) == 64 and short.usage.prompt_tokens == 1
        with pytest.raises(openai.BadRequestError) as info:
            client.embeddings.create(model="text-embedding-3-small", input="")
        assert "'$.input' is invalid" in info.value.message


def test_refusals_are_in_the_wires_shape_and_consume_no_fault(sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "status", "status": 503}])
    status, _, raw = _post(sim, "/v1/embeddings", {"model": model}, BEARER)
    assert status == 400 and json.loads(raw)["error"]["message"] == "'input' is a required property"
    status, _, raw = _post(sim, "/v2/rerank", {"model": model, "query": "q"}, BEARER)
    assert status == 400 and "documents" in json.loads(raw)["message"]
    status, _, _ = _post(sim, "/v1/embeddings", b"{nope", BEARER)
    assert status == 400
    status, _, raw = _post(sim, "/v1/embeddings", {"model": model, "input": "x"}, BEARER)
    assert status == 503 and json.loads(raw)["error"]["code"] == "overloaded"  # the fault was still queued


# -- faults and the log ---------------------------------------------------------------------------
FAULT_CASES: list[tuple[str, dict[str, str], Any, Any]] = [
    (
        "/v1/embeddings",
        BEARER,
        lambda m: {"model": m, "input": "x"},
        lambda d: d["error"]["code"] == "rate_limit_exceeded",
    ),
    (
        "/voyage/v1/embeddings",
        BEARER,
        lambda m: {"model": m, "input": "x"},
        lambda d: "Rate limit" in d["detail"],
    ),
    (
        "/jina/v1/rerank",
        BEARER,
        lambda m: {"model": m, "query": "q", "documents": ["d"]},
        lambda d: set(d) == {"detail"},
    ),
    (
        "/v2/embed",
        BEARER,
        lambda m: {"model": m, "texts": ["x"], "input_type": "search_query"},
        lambda d: set(d) == {"id", "message"},
    ),
    (
        "/v2/rerank",
        BEARER,
        lambda m: {"model": m, "query": "q", "documents": ["d"]},
        lambda d: "message" in d,
    ),
    (
        "/v1beta/models/{m}:batchEmbedContents",
        GOOGLE,
        lambda m: {"requests": [{"content": {"parts": [{"text": "x"}]}}]},
        lambda d: d["error"]["status"] == "RESOURCE_EXHAUSTED",
    ),
    (
        "/client/v4/accounts/a/ai/run/{m}",
        BEARER,
        lambda m: {"query": "q", "contexts": [{"text": "d"}]},
        lambda d: d["success"] is False,
    ),
]


@pytest.mark.parametrize(("path", "headers", "body", "check"), FAULT_CASES)
def test_status_faults_answer_in_the_wires_shape(
    sim: SimulatorServer, path: str, headers: dict[str, str], body: Any, check: Any
) -> None:
    model = _model("fault")
    sim.add_faults(model, [{"kind": "status", "status": 429, "retry_after": "2"}])
    status, got_headers, raw = _post(sim, path.format(m=model), body(model), headers)
    assert status == 429 and got_headers["retry-after"] == "2" and check(json.loads(raw))
    status, _, _ = _post(sim, path.format(m=model), body(model), headers)
    assert status == 200  # one fault per request
    (first, second) = sim.requests(model)
    assert first["fault"]["kind"] == "status" and first["status"] == 429 and second["outcome"] == "completed"


def test_faults_apply_to_replays_and_reset_latency_work(sim: SimulatorServer) -> None:
    key = "rec:cohere/rerank-v2"
    sim.add_faults(key, [{"kind": "status", "status": 500}, {"kind": "reset"}])
    status, _, raw = _post(sim, "/v2/rerank", {"model": key}, BEARER)
    assert status == 500 and "message" in json.loads(raw)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        _post(sim, "/v2/rerank", {"model": key}, BEARER)
    model = _model()
    sim.add_faults(model, [{"kind": "latency", "ms": 200}])
    started = time.monotonic()
    assert _post(sim, "/v1/embeddings", {"model": model, "input": "x"}, BEARER)[0] == 200
    assert time.monotonic() - started >= 0.18


def test_the_request_log_names_wire_and_model(sim: SimulatorServer) -> None:
    model = _model()
    _post(sim, "/jina/v1/embeddings", {"model": model, "input": ["x"]}, BEARER)
    _post(sim, f"/v1beta/models/{model}:batchEmbedContents", {"requests": []}, GOOGLE)
    _post(sim, f"/client/v4/accounts/a/ai/run/{model}", {"query": "q", "contexts": [{"text": "d"}]}, BEARER)
    entries = sim.requests(model)
    assert [(e["wire"], e["status"], e["outcome"]) for e in entries] == [
        ("jina", 200, "completed"),
        ("gemini", 400, "completed"),
        ("cloudflare", 200, "completed"),
    ]
    assert entries[0]["path"] == "/jina/v1/embeddings" and entries[0]["body"]["input"] == ["x"]
    assert entries[1]["headers"]["x-goog-api-key"] == "g-key"
