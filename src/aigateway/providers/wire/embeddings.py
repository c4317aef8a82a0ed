"""Embeddings adapters: every upstream's answer becomes OpenAI's embeddings list exactly.

OpenAI's shape is ``{"object": "list", "data": [{"object": "embedding", "index", "embedding"}],
"model", "usage": {"prompt_tokens", "total_tokens"}}``, where ``embedding`` is a list of floats, or
for ``encoding_format: "base64"`` the little-endian float32 bytes of the vector in base64 (the
openai SDK asks for base64 by default and decodes it). Upstreams that answer floats when the client
asked base64 are encoded here; vendors that implement OpenAI's API in full (``VendorProfile.
openai_embeddings``) get the request as sent and their answer byte for byte.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

import orjson

from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import (
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.gemini import model_path
from aigateway.providers.wire.gemini_stream import error_of
from aigateway.providers.wire.openai import auth_headers

# Fields the gateway understands; the rest of the client's body goes upstream untouched.
_OPENAI_FIELDS = ("model", "input", "encoding_format", "dimensions", "user")


def encode_base64(vector: list[float]) -> str:
    """A vector as OpenAI's base64: little-endian float32."""
    packed = struct.pack(f"<{len(vector)}f", *vector)
    return base64.b64encode(packed).decode("ascii")


def decode_base64(text: str) -> list[float]:
    raw = base64.b64decode(text)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def embeddings_list(vectors: list[Any], model: str, usage: Usage | None, encoding: str | None) -> bytes:
    """OpenAI's embeddings answer for ``vectors`` (lists of floats, or base64 strings)."""
    data = []
    for index, vector in enumerate(vectors):
        data.append({"object": "embedding", "index": index, "embedding": _as(vector, encoding)})
    tokens = usage.input_tokens if usage else 0
    doc = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return orjson.dumps(doc)


def _as(vector: Any, encoding: str | None) -> Any:
    if encoding == "base64":
        if isinstance(vector, str):
            return vector
        return encode_base64([float(x) for x in vector])
    if isinstance(vector, str):
        return decode_base64(vector)
    if not isinstance(vector, list):
        raise ValueError("an embedding is neither a list of numbers nor base64")
    return vector


def _texts(body: dict[str, Any], wire: str) -> list[str]:
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidRequest(
        f"This model's provider ({wire}) takes text input only, not token ids.", param="input"
    )


def _extra(body: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in known}


class OpenAIEmbeddings:
    """OpenAI and the OpenAI-compatible vendors (Mistral, Together, Fireworks, DeepInfra, Jina, ...)."""

    name = "openai"
    wire = "openai"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = dict(body)
        out["model"] = target.upstream_model
        wanted = body.get("encoding_format")
        if not vendor.openai_embeddings:
            # Not every compatible vendor takes base64 or token ids: ask for floats, encode here.
            _texts(body, vendor.name)
            out.pop("encoding_format", None)
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/embeddings",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            context={
                "encoding": wanted,
                "passthrough": vendor.openai_embeddings,
                "dimensions": target.dimensions,
            },
            wire=self.wire,
            operation="embeddings",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ValueError("upstream answered 200 without an embeddings list")
        usage = _openai_usage(doc.get("usage"))
        encoding = request.context.get("encoding")
        vectors = [item["embedding"] for item in sorted(doc["data"], key=lambda d: d.get("index", 0))]
        as_sent = all(isinstance(v, str) == (encoding == "base64") for v in vectors)
        if request.context.get("passthrough") and as_sent:
            return TranslatedResponse(body=raw, usage=usage, upstream_id=doc.get("id"))
        model = str(doc.get("model") or "")
        return TranslatedResponse(body=embeddings_list(vectors, model, usage, encoding), usage=usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))


class JinaEmbeddings(OpenAIEmbeddings):
    """Jina's /v1/embeddings speaks OpenAI's shape (its ``task`` etc. pass through)."""

    name = "jina"
    wire = "jina"


def _openai_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    tokens = raw.get("prompt_tokens") or raw.get("total_tokens")
    return Usage(input_tokens=tokens) if isinstance(tokens, int) and not isinstance(tokens, bool) else None


class VoyageEmbeddings:
    """Voyage ``/v1/embeddings``: ``dimensions`` is its ``output_dimension``; base64 is float32 LE."""

    name = "voyage"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = _extra(body, _OPENAI_FIELDS)
        out["model"] = target.upstream_model
        out["input"] = _texts(body, vendor.name)
        if body.get("dimensions") is not None:
            out["output_dimension"] = body["dimensions"]
        wanted = body.get("encoding_format")
        out["encoding_format"] = "base64" if wanted == "base64" else None
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/embeddings",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            context={"encoding": wanted, "dimensions": target.dimensions},
            wire="voyage",
            operation="embeddings",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ValueError("upstream answered 200 without an embeddings list")
        vectors = [item["embedding"] for item in sorted(doc["data"], key=lambda d: d.get("index", 0))]
        usage = _openai_usage(doc.get("usage"))
        body = embeddings_list(vectors, str(doc.get("model") or ""), usage, request.context.get("encoding"))
        return TranslatedResponse(body=body, usage=usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))


class CohereEmbeddings:
    """Cohere ``/v2/embed``: ``texts``, an ``input_type`` (required by v3+ models), float vectors."""

    name = "cohere"
    DEFAULT_INPUT_TYPE = "search_document"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = _extra(body, _OPENAI_FIELDS)
        out["model"] = target.upstream_model
        out["texts"] = _texts(body, vendor.name)
        out.setdefault("input_type", self.DEFAULT_INPUT_TYPE)
        out["embedding_types"] = ["float"]
        if body.get("dimensions") is not None:
            out["output_dimension"] = body["dimensions"]
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/v2/embed",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            context={
                "encoding": body.get("encoding_format"),
                "model": target.upstream_model,
                "dimensions": target.dimensions,
            },
            wire="cohere",
            operation="embeddings",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        embeddings = doc.get("embeddings") if isinstance(doc, dict) else None
        vectors = embeddings.get("float") if isinstance(embeddings, dict) else embeddings
        if not isinstance(vectors, list):
            raise ValueError("upstream answered 200 without float embeddings")
        billed = (doc.get("meta") or {}).get("billed_units") or {}
        tokens = billed.get("input_tokens")
        usage = Usage(input_tokens=int(tokens)) if isinstance(tokens, int | float) else None
        model = str(request.context.get("model") or "")
        body = embeddings_list(vectors, model, usage, request.context.get("encoding"))
        return TranslatedResponse(body=body, usage=usage, upstream_id=doc.get("id"))

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))


class GeminiEmbeddings:
    """Gemini ``models/{m}:batchEmbedContents``: one request per input; no usage in the answer."""

    name = "gemini"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        model = model_path(target.upstream_model)
        requests = []
        for text in _texts(body, vendor.name):
            item: dict[str, Any] = {"model": model, "content": {"parts": [{"text": text}]}}
            if body.get("dimensions") is not None:
                item["outputDimensionality"] = body["dimensions"]
            task = body.get("task_type") or body.get("taskType")
            if isinstance(task, str):
                item["taskType"] = task
            requests.append(item)
        texts = _texts(body, vendor.name)
        return UpstreamRequest(
            url=f"{vendor.base_url.rstrip('/')}/{model}:batchEmbedContents",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps({"requests": requests}),
            context={
                "encoding": body.get("encoding_format"),
                "model": target.upstream_model,
                "dimensions": target.dimensions,
                "estimated_tokens": sum(max(1, (len(t) + 3) // 4) for t in texts),
            },
            wire="gemini",
            operation="embeddings",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        items = doc.get("embeddings") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise ValueError("upstream answered 200 without embeddings")
        vectors = [item["values"] for item in items]
        model = str(request.context.get("model") or "")
        # Gemini reports no token count: the gateway counts the input itself (usage_estimated).
        usage = Usage(input_tokens=int(request.context.get("estimated_tokens") or 0), estimated=True)
        body = embeddings_list(vectors, model, usage, request.context.get("encoding"))
        return TranslatedResponse(body=body, usage=usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        message, code = error_of(status, raw)
        return UpstreamFailure(message, code)
