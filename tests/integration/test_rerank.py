"""POST /v1/rerank through the real gateway: every rerank wire with a test key, and the recordings."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.conftest import RECORDINGS, Gateway

DOCS = [
    "Berlin is the capital of Germany.",
    "The capital of France is Paris, a beautiful city.",
    "Bananas are yellow.",
]
QUERY = "What is the capital of France?"


def _post(gateway: Gateway, key: str, body: dict[str, Any], rid: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    if rid:
        headers["X-Request-Id"] = rid
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        return http.post("/rerank", json=body, headers=headers)


@pytest.mark.parametrize(
    "model", ["sim/rerank-cohere", "sim/rerank-voyage", "sim/rerank-jina", "sim/rerank-cloudflare"]
)
def test_test_key_every_wire(gateway: Gateway, model: str) -> None:
    rid = "req-rr-" + uuid.uuid4().hex[:12]
    answer = _post(
        gateway,
        gateway.test_key,
        {"model": model, "query": QUERY, "documents": DOCS, "return_documents": True},
        rid,
    )
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["object"] == "list"
    results = doc["results"]
    assert results[0]["index"] == 1  # most words in common with the query
    assert results[-1]["index"] == 2
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert [r["document"]["text"] for r in results] == [DOCS[r["index"]] for r in results]
    assert answer.headers["x-cost-cents"] == "0" and answer.headers["x-provider"] == "simulated"
    row = gateway.ledger_row(rid)
    assert row["operation"] == "rerank" and row["mode"] == "test" and row["cost_nanousd"] == 0

    top = _post(
        gateway, gateway.test_key, {"model": model, "query": QUERY, "documents": DOCS, "top_n": 1}
    ).json()
    assert [r["index"] for r in top["results"]] == [1] and "document" not in top["results"][0]


def test_default_model_and_object_documents(gateway: Gateway) -> None:
    body = {"query": QUERY, "documents": [{"text": d} for d in DOCS]}
    answer = _post(gateway, gateway.test_key, body)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-model"] == "cohere/rerank-v3.5"


@pytest.mark.parametrize(
    ("model", "recording"),
    [
        ("rec/rr-cohere-v2", "cohere/rerank-v2"),
        ("rec/rr-cohere-v1", "cohere/rerank-v1"),
        ("rec/rr-voyage", "voyage/rerank"),
    ],
)
def test_recordings_replay(gateway: Gateway, model: str, recording: str) -> None:
    doc = json.loads((RECORDINGS / f"{recording}.json").read_text())
    sent = doc["request"]["body"]
    recorded = json.loads(doc["response"]["body"])
    rid = "req-rr-" + uuid.uuid4().hex[:12]
    top_n = sent.get("top_n") or sent.get("top_k")
    body = {"model": model, "query": sent["query"], "documents": sent["documents"], "top_n": top_n}
    answer = _post(gateway, gateway.admin_key, body, rid)
    assert answer.status_code == 200, answer.text
    got = [(r["index"], r["relevance_score"]) for r in answer.json()["results"]]
    items = recorded.get("results") or recorded["data"]
    assert got == [(r["index"], r["relevance_score"]) for r in items]
    row = gateway.ledger_row(rid)
    if recording.startswith("cohere"):
        # One search unit at $0.002: 0.2 cents, billed in queries.
        assert answer.headers["x-cost-cents"] == "0.2" and answer.headers["x-input-units"] == "1"
        assert row["unit_kind"] == "queries" and row["input_units"] == 1
    else:
        tokens = recorded["usage"]["total_tokens"]
        assert Decimal(answer.headers["x-cost-cents"]) == Decimal(tokens) * Decimal("0.05") / 10**4
        assert row["unit_kind"] == "tokens" and row["input_units"] == tokens
    assert row["cost_nanousd"] > 0


def test_refusals(gateway: Gateway) -> None:
    bad = [
        {"model": "sim/rerank-cohere", "query": "", "documents": DOCS},
        {"model": "sim/rerank-cohere", "query": QUERY, "documents": []},
        {"model": "sim/rerank-cohere", "query": QUERY, "documents": DOCS, "top_n": 0},
        {"model": "sim/gpt", "query": QUERY, "documents": DOCS},
    ]
    for body in bad:
        answer = _post(gateway, gateway.test_key, body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"]["type"] == "invalid_request_error"
