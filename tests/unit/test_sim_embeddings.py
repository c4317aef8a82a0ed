"""The deterministic embeddings synthesizer (simulators/synth_embeddings.py): vectors and wire shapes.

Shapes are compared with the recorded answers in tests/fixtures/provider-recordings (same keys at
every level, same value types), so a synthesized answer parses wherever a real one does.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest

from aigateway.simulators import synth_embeddings as se

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings"


def _recorded(key: str) -> Any:
    return json.loads(json.loads((RECORDINGS / f"{key}.json").read_text())["response"]["body"])


def _shape(value: Any) -> Any:
    """The structure of a JSON value: keys of objects, the first element of arrays, leaf types."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# -- vectors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dims", [1, 2, 7, 64, 384, 1024, 3072])
def test_vectors_are_unit_length_float32_and_deterministic(dims: int) -> None:
    vector = se.embedding_vector("text-embedding-3-small", "The quick brown fox", dims)
    assert len(vector) == dims
    assert abs(_norm(vector) - 1.0) < 1e-6
    assert struct.unpack(f"<{dims}f", struct.pack(f"<{dims}f", *vector)) == tuple(vector)
    assert se.embedding_vector("text-embedding-3-small", "The quick brown fox", dims) == vector


def test_vectors_depend_on_model_and_text_and_similar_texts_are_close() -> None:
    base = se.embedding_vector("m", "The cat sat on the mat", 512)
    assert se.embedding_vector("m", "The cat sat on the mat.", 512) != base
    assert se.embedding_vector("other", "The cat sat on the mat", 512) != base
    near = se.embedding_vector("m", "the cat sat on a mat", 512)
    far = se.embedding_vector("m", "Quarterly revenue grew by eight percent", 512)
    assert _cos(base, near) > 0.5 > _cos(base, far)
    assert _cos(base, near) > _cos(base, far) + 0.3
    for text in ("", " ", "!!!"):
        assert abs(_norm(se.embedding_vector("m", text, 16)) - 1.0) < 1e-6
    with pytest.raises(ValueError):
        se.embedding_vector("m", "x", 0)


def test_token_counts_and_base64_round_trip() -> None:
    assert se.token_count("") == 1
    assert se.token_count("abcd" * 10) == 10
    assert se.token_count([1, 2, 3]) == 3
    vector = se.embedding_vector("m", "hello", 8)
    encoded = se.encode_base64(vector)
    raw = base64.b64decode(encoded)
    assert len(raw) == 32 and list(struct.unpack("<8f", raw)) == vector  # little-endian float32
    assert se.decode_base64(encoded) == vector


# -- OpenAI ---------------------------------------------------------------------------------------
def test_openai_shape_matches_the_recording_and_base64_decodes_to_the_floats() -> None:
    body = {"model": "text-embedding-3-small", "input": ["Hello, world!"], "encoding_format": "base64"}
    answer = se.openai_embeddings(body, native=1536)
    assert answer.status == 200
    assert _shape(answer.payload) == _shape(_recorded("openai/embeddings-base64"))
    floats = se.openai_embeddings({**body, "encoding_format": "float"}, native=1536).payload
    vector = floats["data"][0]["embedding"]
    assert len(vector) == 1536 and se.decode_base64(answer.payload["data"][0]["embedding"]) == vector
    assert floats["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    assert floats["model"] == "text-embedding-3-small" and floats["object"] == "list"


def test_openai_dimensions_inputs_and_defaults() -> None:
    answer = se.openai_embeddings({"model": "m", "input": "x", "dimensions": 256}, native=1536)
    assert len(answer.payload["data"][0]["embedding"]) == 256
    assert len(se.openai_embeddings({"model": "m", "input": "x"}).payload["data"][0]["embedding"]) == 1024
    tokens = se.openai_embeddings({"model": "m", "input": [[1, 2, 3], [4, 5]]}).payload
    assert [d["index"] for d in tokens["data"]] == [0, 1] and tokens["usage"]["prompt_tokens"] == 5
    single = se.openai_embeddings({"model": "m", "input": [7, 8, 9, 10]}).payload
    assert len(single["data"]) == 1 and single["usage"]["total_tokens"] == 4
    many = se.openai_embeddings({"model": "m", "input": ["a", "b", "c"], "dimensions": 4}).payload
    assert [d["index"] for d in many["data"]] == [0, 1, 2]
    assert many["data"][0]["embedding"] == se.embedding_vector("m", "a", 4)


@pytest.mark.parametrize(
    ("body", "native", "needle"),
    [
        ({"input": "x"}, None, "you must provide a model parameter"),
        ({"model": "m"}, None, "'input' is a required property"),
        ({"model": "m", "input": ""}, None, "'$.input' is invalid"),
        ({"model": "m", "input": []}, None, "'$.input' is invalid"),
        ({"model": "m", "input": ["a", 1]}, None, "'$.input' is invalid"),
        ({"model": "m", "input": [[1], []]}, None, "'$.input' is invalid"),
        ({"model": "m", "input": ["x"] * 2049}, None, "'$.input' is invalid"),
        ({"model": "m", "input": "x", "encoding_format": "int8"}, None, "encoding_format"),
        ({"model": "text-embedding-ada-002", "input": "x", "dimensions": 8}, None, "does not support"),
        ({"model": "m", "input": "x", "dimensions": 0}, None, "positive integer"),
        ({"model": "m", "input": "x", "dimensions": 2000}, 1536, "above the 1536"),
    ],
)
def test_openai_refuses_what_the_api_refuses(body: dict[str, Any], native: int | None, needle: str) -> None:
    answer = se.openai_embeddings(body, native=native)
    assert answer.status == 400
    error = answer.payload["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    assert needle in error["message"]
    assert se.openai_embeddings(None).status == 400


# -- Voyage and Jina ------------------------------------------------------------------------------
def test_voyage_shape_output_dimension_and_base64() -> None:
    body = {
        "model": "voyage-3-lite",
        "input": ["a", "b"],
        "input_type": "document",
        "encoding_format": "base64",
    }
    answer = se.voyage_embeddings({**body, "output_dimension": None, "output_dtype": None}, native=512)
    assert answer.status == 200 and _shape(answer.payload) == _shape(_recorded("voyage/embeddings-base64"))
    assert list(answer.payload["data"][0]) == ["object", "embedding", "index"]
    assert answer.payload["usage"] == {"total_tokens": 2}
    assert len(se.decode_base64(answer.payload["data"][1]["embedding"])) == 512
    floats = se.voyage_embeddings({**body, "encoding_format": None, "output_dimension": 256}).payload
    assert len(floats["data"][0]["embedding"]) == 256
    assert se.voyage_embeddings({"model": "m", "input": "one"}).payload["data"][0]["index"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"input": ["a"]},
        {"model": "m"},
        {"model": "m", "input": []},
        {"model": "m", "input": [1, 2]},
        {"model": "m", "input": ["a"], "input_type": "passage"},
        {"model": "m", "input": ["a"], "output_dtype": "int8"},
        {"model": "m", "input": ["a"], "encoding_format": "float"},
        {"model": "m", "input": ["a"], "output_dimension": -1},
    ],
)
def test_voyage_refusals_are_detail_bodies(body: dict[str, Any]) -> None:
    answer = se.voyage_embeddings(body)
    assert answer.status == 400 and set(answer.payload) == {"detail"}


def test_jina_shape_inputs_and_encoding() -> None:
    answer = se.jina_embeddings(
        {"model": "jina-embeddings-v3", "input": ["a b", {"text": "c"}], "dimensions": 32}
    )
    payload = answer.payload
    assert answer.status == 200 and list(payload) == ["model", "object", "usage", "data"]
    assert payload["usage"] == {"total_tokens": 2, "prompt_tokens": 2}
    assert [len(d["embedding"]) for d in payload["data"]] == [32, 32]
    assert payload["data"][1]["embedding"] == se.embedding_vector("jina-embeddings-v3", "c", 32)
    b64 = se.jina_embeddings({"model": "j", "input": "a", "embedding_type": "base64"}, native=8).payload
    assert len(se.decode_base64(b64["data"][0]["embedding"])) == 8
    assert se.jina_embeddings({"model": "j", "input": "a", "encoding_format": "base64"}).ok
    for bad in (
        {"input": ["a"]},
        {"model": "j", "input": [3]},
        {"model": "j", "input": "a", "embedding_type": "binary"},
    ):
        refused = se.jina_embeddings(bad)
        assert refused.status == 400 and "detail" in refused.payload


# -- Cohere ---------------------------------------------------------------------------------------
def test_cohere_shape_matches_the_recording() -> None:
    texts = ["Carson City is the capital city of Nevada.", "Washington, D.C. is the capital."]
    body = {"texts": texts, "model": "embed-english-light-v3.0", "input_type": "search_document"}
    answer = se.cohere_embed(body, native=384)
    recorded = _recorded("cohere/embed-v2")
    assert answer.status == 200 and _shape(answer.payload) == _shape(recorded)
    assert list(answer.payload) == list(recorded)
    assert answer.payload["texts"] == texts and len(answer.payload["embeddings"]["float"][0]) == 384
    assert answer.payload["meta"]["billed_units"] == {"input_tokens": sum(se.token_count(t) for t in texts)}
    assert se.cohere_embed(body, native=384).payload["id"] == answer.payload["id"]  # reproducible


def test_cohere_embedding_types_and_output_dimension() -> None:
    body = {"model": "embed-v4.0", "texts": ["hi"], "input_type": "search_query", "output_dimension": 256}
    payload = se.cohere_embed({**body, "embedding_types": ["float", "int8", "uint8", "base64"]}).payload
    floats = payload["embeddings"]["float"][0]
    assert len(floats) == 256 and se.decode_base64(payload["embeddings"]["base64"][0]) == floats
    int8, uint8 = payload["embeddings"]["int8"][0], payload["embeddings"]["uint8"][0]
    assert all(-128 <= v <= 127 for v in int8) and [v + 128 for v in int8] == uint8
    assert all((a > 0) == (b > 0) for a, b in zip(floats, int8, strict=True) if b)
    inputs = {
        "model": "embed-v4.0",
        "input_type": "search_query",
        "inputs": [{"content": [{"type": "text", "text": "hi"}]}],
    }
    assert se.cohere_embed(inputs).payload["texts"] == ["hi"]
    assert se.cohere_embed({"model": "embed-english-v2.0", "texts": ["x"]}).ok  # v2 models need no input_type


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"texts": ["a"], "input_type": "search_query"}, "model must be specified"),
        ({"model": "embed-v4.0", "input_type": "search_query"}, "texts"),
        ({"model": "embed-v4.0", "texts": [], "input_type": "search_query"}, "texts"),
        ({"model": "embed-v4.0", "texts": ["a"] * 97, "input_type": "search_query"}, "at most 96"),
        ({"model": "embed-v4.0", "texts": ["a"]}, "input_type is required"),
        ({"model": "embed-v4.0", "texts": ["a"], "input_type": "query"}, "input_type must be one of"),
        (
            {"model": "embed-v4.0", "texts": ["a"], "input_type": "search_query", "output_dimension": 100},
            "256",
        ),
        (
            {
                "model": "embed-v4.0",
                "texts": ["a"],
                "input_type": "search_query",
                "embedding_types": ["binary"],
            },
            "not simulated",
        ),
        (
            {
                "model": "embed-v4.0",
                "texts": ["a"],
                "input_type": "search_query",
                "embedding_types": ["bits"],
            },
            "not one of",
        ),
        ({"model": "embed-v4.0", "images": ["data:image/png;base64,AAAA"], "input_type": "image"}, "image"),
    ],
)
def test_cohere_refusals(body: dict[str, Any], needle: str) -> None:
    answer = se.cohere_embed(body)
    assert (
        answer.status == 400
        and set(answer.payload) == {"id", "message"}
        and needle in answer.payload["message"]
    )


# -- Gemini and Cloudflare ------------------------------------------------------------------------
def test_gemini_batch_shape_and_per_request_dimensions() -> None:
    body = {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "Some text"}]},
                "outputDimensionality": 768,
            },
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "More"}]},
                "taskType": "RETRIEVAL_QUERY",
            },
        ]
    }
    answer = se.gemini_batch_embed(body, "gemini-embedding-001", native=3072)
    assert answer.status == 200 and _shape(answer.payload) == _shape(_recorded("gemini/batch-embed-contents"))
    sizes = [len(e["values"]) for e in answer.payload["embeddings"]]
    assert sizes == [768, 3072] and "usage" not in answer.payload
    assert answer.payload["embeddings"][0]["values"] == se.embedding_vector(
        "gemini-embedding-001", "Some text", 768
    )
    one = se.gemini_embed_content(
        {"content": {"parts": [{"text": "Some text"}]}, "outputDimensionality": 768},
        "models/gemini-embedding-001",
    )
    assert one.payload == {"embedding": answer.payload["embeddings"][0]}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, "requests is not specified"),
        ({"requests": []}, "requests is not specified"),
        ({"requests": [], "model": "x"}, 'Unknown name "model"'),
        ({"requests": [{"model": "models/other", "content": {"parts": [{"text": "a"}]}}]}, "must match"),
        ({"requests": [{"content": {"parts": []}}]}, "must not be empty"),
        ({"requests": [{"content": {"parts": [{"inlineData": {}}]}}]}, "only text parts"),
        (
            {"requests": [{"content": {"parts": [{"text": "a"}]}, "dimensions": 3}]},
            'Unknown name "dimensions"',
        ),
        ({"requests": [{"content": {"parts": [{"text": "a"}]}, "taskType": "SEARCH"}]}, "task_type"),
        (
            {"requests": [{"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 4000}]},
            "above the 3072",
        ),
    ],
)
def test_gemini_refusals(body: dict[str, Any], needle: str) -> None:
    answer = se.gemini_batch_embed(body, "gemini-embedding-001", native=3072)
    error = answer.payload["error"]
    assert answer.status == 400 and error["status"] == "INVALID_ARGUMENT" and error["code"] == 400
    assert needle in error["message"]


def test_cloudflare_embeddings_shape() -> None:
    answer = se.cloudflare_embeddings({"text": ["a", "b"]}, "@cf/baai/bge-base-en-v1.5", native=768)
    result = answer.payload["result"]
    assert (
        answer.payload["success"] is True
        and answer.payload["errors"] == []
        and answer.payload["messages"] == []
    )
    assert result["shape"] == [2, 768] and len(result["data"][1]) == 768 and result["pooling"] == "mean"
    refused = se.cloudflare_embeddings({"input": "a"}, "@cf/x")
    assert (
        refused.status == 400 and refused.payload["success"] is False and refused.payload["errors"][0]["code"]
    )
