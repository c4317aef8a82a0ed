"""The documented embeddings and rerank request schemas accept and refuse what the gateway does.

(The chat vectors live in test_openapi.py.) Each body goes through the operation's own validation
(services/operations/) and the schema of the committed document (src/aigateway/data/openapi.json).
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from aigateway.core.errors import InvalidRequest
from aigateway.services.operations.embeddings import EmbeddingsOperation
from aigateway.services.operations.rerank import RerankOperation
from tests.unit.test_openapi import _check, _validator


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    text = resources.files("aigateway.data").joinpath("openapi.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


EMBED = EmbeddingsOperation()
RERANK = RerankOperation("cohere/rerank-v3.5")
M = "openai/text-embedding-3-small"

EMBEDDINGS_ACCEPTED: list[dict[str, Any]] = [
    {"model": M, "input": "a"},
    {"model": M, "input": ["a", "b"]},
    {"model": M, "input": [1, 2, 3]},
    {"model": M, "input": [[1], [2, 3]]},
    {"model": M, "input": [0]},
    {"model": M, "input": ["x"] * 2048},
    {"model": M, "input": "a", "encoding_format": "float"},
    {"model": M, "input": "a", "encoding_format": "base64"},
    {"model": M, "input": "a", "encoding_format": None, "dimensions": None, "user": None},
    {"model": M, "input": "a", "dimensions": 1},
    {"model": M, "input": "a", "dimensions": 65536},
    {"model": M, "input": "a", "user": "u" * 256},
    {"model": M, "input": "a", "input_type": "query", "truncate": "END"},  # passed through
]
EMBEDDINGS_REJECTED: list[dict[str, Any]] = [
    {"input": "a"},
    {"model": M},
    {"model": "", "input": "a"},
    {"model": None, "input": "a"},
    {"model": 1, "input": "a"},
    {"model": "m" * 257, "input": "a"},
    {"model": M, "input": ""},
    {"model": M, "input": []},
    {"model": M, "input": [""]},
    {"model": M, "input": ["a", ""]},
    {"model": M, "input": [[]]},
    {"model": M, "input": [-1]},
    {"model": M, "input": [[1, -1]]},
    {"model": M, "input": ["a", 1]},
    {"model": M, "input": [1, [2]]},
    {"model": M, "input": [True]},
    {"model": M, "input": 3},
    {"model": M, "input": {"text": "a"}},
    {"model": M, "input": None},
    {"model": M, "input": ["x"] * 2049},
    {"model": M, "input": "a", "encoding_format": "int8"},
    {"model": M, "input": "a", "dimensions": 0},
    {"model": M, "input": "a", "dimensions": 65537},
    {"model": M, "input": "a", "dimensions": "256"},
    {"model": M, "input": "a", "dimensions": True},
    {"model": M, "input": "a", "user": "u" * 257},
    {"model": M, "input": "a", "user": 7},
]

RERANK_ACCEPTED: list[dict[str, Any]] = [
    {"query": "q", "documents": ["a"]},
    {"model": "cohere/rerank-v3.5", "query": "q", "documents": ["a", {"text": "b"}]},
    {"model": None, "query": "q", "documents": ["a"]},
    {"query": "q", "documents": [{"text": "a", "title": "kept"}]},
    {"query": "q", "documents": ["d"] * 1000},
    {"query": "q", "documents": ["a"], "top_n": 1, "return_documents": True},
    {"query": "q", "documents": ["a"], "top_n": 5, "return_documents": False},
    {"query": "q", "documents": ["a"], "top_n": None, "return_documents": None},
    {"query": "q", "documents": ["a"], "max_chunks_per_doc": 4},  # passed through
]
RERANK_REJECTED: list[dict[str, Any]] = [
    {"documents": ["a"]},
    {"query": "q"},
    {"query": "", "documents": ["a"]},
    {"query": 1, "documents": ["a"]},
    {"query": "q", "documents": []},
    {"query": "q", "documents": "a"},
    {"query": "q", "documents": [""]},
    {"query": "q", "documents": [{"text": ""}]},
    {"query": "q", "documents": [{"title": "t"}]},
    {"query": "q", "documents": [{"text": 1}]},
    {"query": "q", "documents": [1]},
    {"query": "q", "documents": ["d"] * 1001},
    {"model": "", "query": "q", "documents": ["a"]},
    {"model": 3, "query": "q", "documents": ["a"]},
    {"query": "q", "documents": ["a"], "top_n": 0},
    {"query": "q", "documents": ["a"], "top_n": "1"},
    {"query": "q", "documents": ["a"], "top_n": True},
    {"query": "q", "documents": ["a"], "return_documents": "yes"},
    {"query": "q", "documents": ["a"], "return_documents": 1},
]

CASES = [
    *[("EmbeddingsRequest", EMBED, body) for body in EMBEDDINGS_ACCEPTED],
    *[("RerankRequest", RERANK, body) for body in RERANK_ACCEPTED],
]
REFUSED = [
    *[("EmbeddingsRequest", EMBED, body) for body in EMBEDDINGS_REJECTED],
    *[("RerankRequest", RERANK, body) for body in RERANK_REJECTED],
]


@pytest.mark.parametrize(("schema", "operation", "body"), CASES)
def test_request_schema_accepts_what_the_gateway_accepts(
    document: dict[str, Any], schema: str, operation: Any, body: dict[str, Any]
) -> None:
    operation.validate(copy.deepcopy(body))
    _check(document, schema, body)


@pytest.mark.parametrize(("schema", "operation", "body"), REFUSED)
def test_request_schema_refuses_what_the_gateway_refuses(
    document: dict[str, Any], schema: str, operation: Any, body: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest):
        operation.validate(copy.deepcopy(body))
    assert not _validator(document, schema).is_valid(body)


def test_rerank_without_a_model_gets_the_default() -> None:
    body: dict[str, Any] = {"query": "q", "documents": ["a"]}
    RERANK.validate(body)
    assert body["model"] == "cohere/rerank-v3.5"
