"""Deterministic embeddings for test mode and the simulator: vectors and each wire's exact answer.

Pure functions, no I/O. A vector for ``(model, text, dims)`` is the sum of hashed vectors of the
text's lower-cased words and character trigrams (each feature adds +-weight at a few positions picked
by a hash of model and feature), plus a little noise seeded from sha256(model + text), normalised to
unit length and rounded to float32. So the same input always gives the same vector, texts sharing
words and spellings point the same way, and different models give unrelated vectors.

Each wire's answer follows its recordings (tests/fixtures/provider-recordings): OpenAI ``/embeddings``,
Voyage ``/v1/embeddings``, Jina ``/v1/embeddings``, Cohere ``/v2/embed``, Gemini
``models/{m}:batchEmbedContents`` (and ``:embedContent``), Cloudflare Workers AI ``ai/run/{model}``
for embedding models. Requests are checked the way the real API checks them (a missing model or input
is that wire's 400), so test mode refuses what live refuses. ``native`` is the model's own vector
size when the caller knows it (an adapter's ``context["dimensions"]``): it is the default size and
the most a request may ask for; unknown, the default is 1024.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from aigateway.providers.simulated import estimate_tokens
from aigateway.simulators.answers import (
    Answer,
    cloudflare_error,
    cloudflare_success,
    cohere_error,
    detail_error,
    gemini_error,
    openai_error,
    positive_int,
    stable_uuid,
)

DEFAULT_DIMENSIONS = 1024
MAX_DIMENSIONS = 16384
SLOTS_PER_FEATURE = 4
WORD_WEIGHT = 1.0
TRIGRAM_WEIGHT = 0.5
NOISE_WEIGHT = 0.35
OPENAI_MAX_INPUTS = 2048
VOYAGE_MAX_INPUTS = 1000
COHERE_MAX_TEXTS = 96
COHERE_INPUT_TYPES = ("search_document", "search_query", "classification", "clustering", "image")
COHERE_DIMENSIONS = (256, 512, 1024, 1536)
COHERE_TYPES = ("float", "int8", "uint8", "base64")
COHERE_UNSIMULATED_TYPES = ("binary", "ubinary")
GEMINI_TASK_TYPES = frozenset(
    {
        "TASK_TYPE_UNSPECIFIED",
        "RETRIEVAL_QUERY",
        "RETRIEVAL_DOCUMENT",
        "SEMANTIC_SIMILARITY",
        "CLASSIFICATION",
        "CLUSTERING",
        "QUESTION_ANSWERING",
        "FACT_VERIFICATION",
        "CODE_RETRIEVAL_QUERY",
    }
)
GEMINI_REQUEST_FIELDS = frozenset(
    {"model", "content", "taskType", "task_type", "title", "outputDimensionality", "output_dimensionality"}
)
_WORD = re.compile(r"\w+")
_OPENAI_INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
)
_NOT_JSON = "We could not parse the JSON body of your request."

EmbeddingItem = str | list[int]


# -- vectors --------------------------------------------------------------------------------------
def token_count(item: str | Sequence[int]) -> int:
    """Tokens billed for one input: about len/4 for text, the length for token ids; at least 1."""
    if isinstance(item, str):
        return max(1, estimate_tokens(item))
    return max(1, len(item))


def _features(text: str) -> Counter[str]:
    lower = " ".join(text.lower().split())
    features = Counter("w:" + word for word in _WORD.findall(lower))
    padded = f" {lower} "
    features.update("c:" + padded[i : i + 3] for i in range(len(padded) - 2))
    return features


@lru_cache(maxsize=1 << 14)
def _slots(model: str, feature: str, dims: int) -> tuple[tuple[int, float], ...]:
    digest = hashlib.blake2b(f"{model}\x00{feature}".encode(), digest_size=4 * SLOTS_PER_FEATURE).digest()
    slots = []
    for j in range(SLOTS_PER_FEATURE):
        value = int.from_bytes(digest[4 * j : 4 * j + 4], "little")
        slots.append(((value >> 1) % dims, 1.0 if value & 1 else -1.0))
    return tuple(slots)


def _noise(model: str, text: str, dims: int, weight: float) -> list[float]:
    """Uniform noise seeded from sha256(model + text), scaled to an expected norm of ``weight``."""
    seed = hashlib.sha256(f"{model}\x00{text}".encode()).digest()
    raw = hashlib.shake_256(seed).digest(4 * dims)
    scale = weight / (2147483648.0 * math.sqrt(dims / 3.0))  # int32 -> [-1, 1), norm ~ sqrt(d/3)
    return [u * scale for u in struct.unpack(f"<{dims}i", raw)]


def float32(values: Sequence[float]) -> list[float]:
    """The values rounded to the nearest float32 (as Python floats)."""
    count = len(values)
    return list(struct.unpack(f"<{count}f", struct.pack(f"<{count}f", *values)))


def embedding_vector(model: str, text: str, dims: int) -> list[float]:
    """A deterministic unit vector of ``dims`` float32 values for ``text`` under ``model``."""
    if dims < 1:
        raise ValueError("dims must be at least 1")
    sparse: dict[int, float] = {}
    for feature, count in _features(text).items():
        weight = (WORD_WEIGHT if feature[0] == "w" else TRIGRAM_WEIGHT) * (1.0 + math.log(count))
        for index, sign in _slots(model, feature, dims):
            sparse[index] = sparse.get(index, 0.0) + sign * weight
    sparse_norm = math.hypot(*sparse.values())
    mixed = _noise(model, text, dims, NOISE_WEIGHT if sparse_norm else 1.0)
    if sparse_norm:
        for index, value in sparse.items():
            mixed[index] += value / sparse_norm
    total = math.hypot(*mixed)
    if not total:
        return [1.0] + [0.0] * (dims - 1)
    inverse = 1.0 / total
    return float32([x * inverse for x in mixed])


def encode_base64(vector: Sequence[float]) -> str:
    """The vector as base64 of little-endian float32 (how OpenAI, Voyage, Jina and Cohere send it)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def decode_base64(data: str) -> list[float]:
    raw = base64.b64decode(data)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def _int8(vector: Sequence[float]) -> list[int]:
    scale = max((abs(v) for v in vector), default=0.0) or 1.0
    return [round(v / scale * 127) for v in vector]


def _size(requested: Any, native: int | None, field: str) -> int | str:
    """The vector size to produce, or the reason ``requested`` is refused."""
    if requested is None:
        return native or DEFAULT_DIMENSIONS
    if not positive_int(requested):
        return f"'{field}' must be a positive integer, got {requested!r}."
    limit = native or MAX_DIMENSIONS
    if requested > limit:
        return f"'{field}' {requested} is above the {limit} dimensions this model produces."
    return int(requested)


def _text_of(item: EmbeddingItem) -> str:
    return item if isinstance(item, str) else " ".join(map(str, item))


def _vectors(model: str, items: Sequence[EmbeddingItem], dims: int) -> list[list[float]]:
    return [embedding_vector(model, _text_of(item), dims) for item in items]


def _model_of(body: dict[str, Any]) -> str | None:
    model = body.get("model")
    return model if isinstance(model, str) and model else None


# -- OpenAI ---------------------------------------------------------------------------------------
def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def openai_inputs(value: Any, limit: int = OPENAI_MAX_INPUTS) -> list[EmbeddingItem] | None:
    """The inputs of an OpenAI embeddings request (texts or token-id lists), None when invalid."""
    if isinstance(value, str):
        return [value] if value else None
    if not isinstance(value, list) or not value or len(value) > limit:
        return None
    if all(isinstance(v, str) and v for v in value):
        return list(value)
    if all(_is_token(v) for v in value):
        return [list(value)]
    if all(isinstance(v, list) and v and all(_is_token(t) for t in v) for v in value):
        return [list(v) for v in value]
    return None


def openai_embeddings(body: Any, native: int | None = None) -> Answer:
    """OpenAI's ``POST /embeddings`` answer (``encoding_format`` float or base64, ``dimensions``)."""
    if not isinstance(body, dict):
        return openai_error(400, _NOT_JSON)
    model = _model_of(body)
    if model is None:
        return openai_error(400, "you must provide a model parameter")
    if body.get("input") is None:
        return openai_error(400, "'input' is a required property")
    items = openai_inputs(body["input"])
    if items is None:
        return openai_error(400, _OPENAI_INVALID_INPUT)
    fmt = body.get("encoding_format")
    if fmt not in (None, "float", "base64"):
        return openai_error(400, f"'{fmt}' is not one of ['float', 'base64'] - 'encoding_format'")
    if body.get("dimensions") is not None and model.startswith("text-embedding-ada"):
        return openai_error(400, "This model does not support specifying dimensions.")
    dims = _size(body.get("dimensions"), native, "dimensions")
    if isinstance(dims, str):
        return openai_error(400, dims, param="dimensions")
    data = [
        {"object": "embedding", "index": i, "embedding": encode_base64(v) if fmt == "base64" else v}
        for i, v in enumerate(_vectors(model, items, dims))
    ]
    tokens = sum(token_count(item) for item in items)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return Answer(200, {"object": "list", "data": data, "model": model, "usage": usage})


# -- Voyage and Jina ------------------------------------------------------------------------------
def _texts(value: Any, limit: int) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and 0 < len(value) <= limit and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def voyage_embeddings(body: Any, native: int | None = None) -> Answer:
    """Voyage's ``POST /v1/embeddings`` answer (``output_dimension``, ``encoding_format`` base64)."""
    if not isinstance(body, dict):
        return detail_error(400, "The request body is not valid JSON.")
    model = _model_of(body)
    if model is None:
        return detail_error(400, "Request body is missing the required field 'model'.")
    texts = _texts(body.get("input"), VOYAGE_MAX_INPUTS)
    if texts is None:
        return detail_error(400, f"'input' must be a string or a list of 1 to {VOYAGE_MAX_INPUTS} strings.")
    if body.get("input_type") not in (None, "query", "document"):
        return detail_error(400, "'input_type' must be null, 'query' or 'document'.")
    if body.get("output_dtype") not in (None, "float"):
        return detail_error(
            400, f"output_dtype {body['output_dtype']!r} is not simulated: test mode answers float vectors."
        )
    fmt = body.get("encoding_format")
    if fmt not in (None, "base64"):
        return detail_error(400, "'encoding_format' must be null or 'base64'.")
    dims = _size(body.get("output_dimension"), native, "output_dimension")
    if isinstance(dims, str):
        return detail_error(400, dims)
    data = [
        {"object": "embedding", "embedding": encode_base64(v) if fmt == "base64" else v, "index": i}
        for i, v in enumerate(_vectors(model, texts, dims))
    ]
    tokens = sum(token_count(t) for t in texts)
    return Answer(200, {"object": "list", "data": data, "model": model, "usage": {"total_tokens": tokens}})


def _jina_text(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("text", "image"):
            if isinstance(item.get(key), str):
                return str(item[key])
    return None


def jina_embeddings(body: Any, native: int | None = None) -> Answer:
    """Jina's ``POST /v1/embeddings`` answer (``dimensions``, ``embedding_type`` float or base64)."""
    if not isinstance(body, dict):
        return detail_error(400, "The request body is not valid JSON.")
    model = _model_of(body)
    if model is None:
        return detail_error(400, "Field 'model' is required.")
    raw = body.get("input")
    items = [raw] if isinstance(raw, str | dict) else raw
    texts = [_jina_text(i) for i in items] if isinstance(items, list) and items else None
    if texts is None or any(t is None for t in texts):
        return detail_error(400, '\'input\' must be a list of strings or of {"text"} / {"image"} objects.')
    fmt = body.get("embedding_type", body.get("encoding_format"))
    if fmt not in (None, "float", "base64"):
        return detail_error(
            400, f"embedding_type {fmt!r} is not simulated: test mode answers float or base64."
        )
    dims = _size(body.get("dimensions"), native, "dimensions")
    if isinstance(dims, str):
        return detail_error(400, dims)
    found = [t for t in texts if t is not None]
    data = [
        {"object": "embedding", "index": i, "embedding": encode_base64(v) if fmt == "base64" else v}
        for i, v in enumerate(_vectors(model, found, dims))
    ]
    tokens = sum(token_count(t) for t in found)
    usage = {"total_tokens": tokens, "prompt_tokens": tokens}
    return Answer(200, {"model": model, "object": "list", "usage": usage, "data": data})


# -- Cohere ---------------------------------------------------------------------------------------
def _cohere_texts(body: dict[str, Any]) -> list[str] | str:
    """The texts to embed, or the reason the request is refused."""
    if body.get("images"):
        return "invalid request: image embeddings are not simulated; test mode embeds texts."
    texts = body.get("texts")
    if texts is None and isinstance(body.get("inputs"), list):
        texts = []
        for entry in body["inputs"]:
            content = entry.get("content") if isinstance(entry, dict) else None
            parts = content if isinstance(content, list) else []
            if not parts or any(not isinstance(p, dict) or p.get("type") != "text" for p in parts):
                return "invalid request: only text content is simulated in inputs."
            texts.append(" ".join(str(p.get("text") or "") for p in parts))
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return "invalid request: texts must be a non-empty list of strings."
    if len(texts) > COHERE_MAX_TEXTS:
        return f"invalid request: texts can contain at most {COHERE_MAX_TEXTS} items, got {len(texts)}."
    return list(texts)


def _cohere_types(value: Any) -> list[str] | str:
    types = ["float"] if value is None else value
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        return "invalid request: embedding_types must be a list of strings."
    for kind in types:
        if kind in COHERE_UNSIMULATED_TYPES:
            simulated = ", ".join(COHERE_TYPES)
            return f"invalid request: embedding type '{kind}' is not simulated; ask for {simulated}."
        if kind not in COHERE_TYPES:
            known = ", ".join((*COHERE_TYPES, *COHERE_UNSIMULATED_TYPES))
            return f"invalid request: embedding type '{kind}' is not one of {known}."
    return list(dict.fromkeys(types))


def _cohere_encode(kind: str, vectors: list[list[float]]) -> list[Any]:
    if kind == "base64":
        return [encode_base64(v) for v in vectors]
    if kind == "int8":
        return [_int8(v) for v in vectors]
    if kind == "uint8":
        return [[x + 128 for x in _int8(v)] for v in vectors]
    return vectors


def cohere_embed(body: Any, native: int | None = None) -> Answer:
    """Cohere's ``POST /v2/embed`` answer (``embeddings_by_type``; ``output_dimension``)."""
    if not isinstance(body, dict):
        return cohere_error(400, "invalid request: the body is not valid JSON.")
    model = _model_of(body)
    if model is None:
        return cohere_error(400, "invalid request: model must be specified.")
    texts = _cohere_texts(body)
    if isinstance(texts, str):
        return cohere_error(400, texts, model)
    input_type = body.get("input_type")
    if input_type is None and not re.search(r"v2(\.\d+)?$", model):
        return cohere_error(400, "invalid request: input_type is required for embed v3 and newer models.")
    if input_type is not None and input_type not in COHERE_INPUT_TYPES:
        return cohere_error(
            400, f"invalid request: input_type must be one of {', '.join(COHERE_INPUT_TYPES)}."
        )
    types = _cohere_types(body.get("embedding_types"))
    if isinstance(types, str):
        return cohere_error(400, types, model)
    requested = body.get("output_dimension")
    if requested is not None and requested not in COHERE_DIMENSIONS:
        allowed = ", ".join(map(str, COHERE_DIMENSIONS))
        return cohere_error(400, f"invalid request: output_dimension must be one of {allowed}.")
    dims = _size(requested, native, "output_dimension")
    if isinstance(dims, str):
        return cohere_error(400, "invalid request: " + dims)
    vectors = _vectors(model, texts, dims)
    tokens = sum(token_count(t) for t in texts)
    payload = {
        "id": stable_uuid("cohere-embed", model, *texts),
        "texts": texts,
        "embeddings": {kind: _cohere_encode(kind, vectors) for kind in types},
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": tokens}},
        "response_type": "embeddings_by_type",
    }
    return Answer(200, payload)


# -- Gemini ---------------------------------------------------------------------------------------
def _get(doc: dict[str, Any], camel: str, snake: str) -> Any:
    value = doc.get(camel)
    return value if value is not None else doc.get(snake)


def _gemini_one(request: Any, model: str, native: int | None, where: str) -> tuple[str, int] | str:
    """The text and size of one EmbedContentRequest, or the INVALID_ARGUMENT message."""
    if not isinstance(request, dict):
        return f"* {where}: must be an object."
    for key in request:
        if key not in GEMINI_REQUEST_FIELDS:
            return f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field."
    named = request.get("model")
    if named is not None and str(named).removeprefix("models/") != model:
        return f"* {where}.model: the model ({named}) must match the model in the URL (models/{model})."
    content = request.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list) or not parts:
        return f"* {where}.content.parts: contents.parts must not be empty."
    texts = [p.get("text") for p in parts if isinstance(p, dict)]
    if len(texts) != len(parts) or not all(isinstance(t, str) for t in texts):
        return f"* {where}.content.parts: only text parts are simulated."
    task = _get(request, "taskType", "task_type")
    if task is not None and task not in GEMINI_TASK_TYPES:
        return f"Invalid value at '{where}.task_type' (type.googleapis.com/google.ai.TaskType), \"{task}\""
    dims = _size(
        _get(request, "outputDimensionality", "output_dimensionality"), native, "outputDimensionality"
    )
    if isinstance(dims, str):
        return f"* {where}.output_dimensionality: {dims}"
    return " ".join(str(t) for t in texts), dims


def gemini_batch_embed(body: Any, model: str, native: int | None = None) -> Answer:
    """Gemini's ``models/{model}:batchEmbedContents`` answer (no usage, like the real API)."""
    model = model.removeprefix("models/")
    if not isinstance(body, dict):
        return gemini_error(400, "Invalid JSON payload received. Expected an object.")
    for key in body:
        if key != "requests":
            return gemini_error(
                400, f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'
            )
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        return gemini_error(400, "* BatchEmbedContentsRequest.requests: requests is not specified")
    embeddings = []
    for i, request in enumerate(requests):
        found = _gemini_one(request, model, native, f"requests[{i}]")
        if isinstance(found, str):
            return gemini_error(400, found)
        embeddings.append({"values": embedding_vector(model, found[0], found[1])})
    return Answer(200, {"embeddings": embeddings})


def gemini_embed_content(body: Any, model: str, native: int | None = None) -> Answer:
    """Gemini's ``models/{model}:embedContent`` answer (one text)."""
    model = model.removeprefix("models/")
    if not isinstance(body, dict):
        return gemini_error(400, "Invalid JSON payload received. Expected an object.")
    found = _gemini_one(body, model, native, "EmbedContentRequest")
    if isinstance(found, str):
        return gemini_error(400, found)
    return Answer(200, {"embedding": {"values": embedding_vector(model, found[0], found[1])}})


# -- Cloudflare Workers AI --------------------------------------------------------------------------
def cloudflare_embeddings(body: Any, model: str, native: int | None = None) -> Answer:
    """Workers AI ``ai/run/{model}`` for an embedding model: ``{"text": str | [str]}``."""
    if not isinstance(body, dict):
        return cloudflare_error(400, "AiError: the input is not valid JSON")
    texts = _texts(body.get("text"), 100)
    if texts is None:
        return cloudflare_error(400, "AiError: Error: required properties at '/' are 'text'")
    pooling = body.get("pooling", "mean")
    if pooling not in ("mean", "cls"):
        return cloudflare_error(400, "AiError: Error: 'pooling' must be 'mean' or 'cls'")
    dims = native or DEFAULT_DIMENSIONS
    vectors = _vectors(model, texts, dims)
    return cloudflare_success({"shape": [len(vectors), dims], "data": vectors, "pooling": pooling})
