"""Rerank adapters: Cohere ``/v2/rerank``, Voyage and Jina ``/v1/rerank``, Cloudflare Workers AI.

Every answer becomes one shape (documented in the project's OpenAPI as RerankResponse)::

    {"object": "list", "model": <upstream model>,
     "results": [{"index", "relevance_score", "document"?: {"text"}}],   # highest score first
     "usage": {"total_tokens"?, "search_units"?}}

``top_n`` limits the results and ``return_documents`` adds each document's text; where an upstream
cannot return documents (Cohere v2, Cloudflare) the gateway adds them from the request.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import (
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.openai import auth_headers

_FIELDS = ("model", "query", "documents", "top_n", "return_documents")


def _documents(body: dict[str, Any]) -> list[str]:
    return [d if isinstance(d, str) else str(d.get("text", "")) for d in body.get("documents") or []]


def rerank_list(
    scored: list[tuple[int, float]], request: UpstreamRequest, usage: Usage | None, model: str
) -> bytes:
    """The gateway's rerank answer from (index, score) pairs, ordered and cut as the client asked."""
    ctx = request.context
    docs: list[str] = ctx["documents"]
    ordered = sorted(scored, key=lambda pair: (-pair[1], pair[0]))
    top_n = ctx.get("top_n")
    if isinstance(top_n, int):
        ordered = ordered[:top_n]
    results: list[dict[str, Any]] = []
    for index, score in ordered:
        item: dict[str, Any] = {"index": index, "relevance_score": score}
        if ctx.get("return_documents") and 0 <= index < len(docs):
            item["document"] = {"text": docs[index]}
        results.append(item)
    usage_doc: dict[str, int] = {}
    if usage is not None and usage.input_tokens:
        usage_doc["total_tokens"] = usage.input_tokens
    if usage is not None and usage.queries:
        usage_doc["search_units"] = usage.queries
    return orjson.dumps({"object": "list", "model": model, "results": results, "usage": usage_doc})


def _context(body: dict[str, Any], target: Target) -> dict[str, Any]:
    return {
        "documents": _documents(body),
        "top_n": body.get("top_n"),
        "return_documents": body.get("return_documents") is True,
        "model": target.upstream_model,
    }


def _pairs(items: Any, index_key: str, score_key: str) -> list[tuple[int, float]]:
    if not isinstance(items, list):
        raise ValueError("upstream answered 200 without rerank results")
    return [(int(item[index_key]), float(item[score_key])) for item in items]


def _tokens(raw: Any) -> Usage | None:
    if isinstance(raw, dict) and isinstance(raw.get("total_tokens"), int):
        return Usage(input_tokens=raw["total_tokens"])
    return None


class _Base:
    name = ""
    path = "/rerank"

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))

    def _request(
        self,
        vendor: VendorProfile,
        credential: str | None,
        out: dict[str, Any],
        ctx: dict[str, Any],
        url: str,
    ) -> UpstreamRequest:
        return UpstreamRequest(
            url=url,
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            context=ctx,
            wire=self.name,
            operation="rerank",
        )


class CohereRerank(_Base):
    """Cohere v2: ``top_n``; billed in search units; no documents in the answer."""

    name = "cohere"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = {k: v for k, v in body.items() if k not in _FIELDS}
        out.update(model=target.upstream_model, query=body["query"], documents=_documents(body))
        if body.get("top_n") is not None:
            out["top_n"] = body["top_n"]
        url = vendor.base_url.rstrip("/") + "/v2/rerank"
        return self._request(vendor, credential, out, _context(body, target), url)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        pairs = _pairs(doc.get("results") if isinstance(doc, dict) else None, "index", "relevance_score")
        billed = (doc.get("meta") or {}).get("billed_units") or {}
        units = billed.get("search_units")
        usage = Usage(queries=int(units)) if isinstance(units, int | float) and units else None
        body = rerank_list(pairs, request, usage, request.context["model"])
        return TranslatedResponse(body=body, usage=usage, upstream_id=doc.get("id"))


class _TokenRerank(_Base):
    """Voyage and Jina: the gateway's request with their own ``top`` field; billed in tokens."""

    top_key = "top_n"
    results_key = "results"
    fixed: ClassVar[dict[str, Any]] = {}  # fields every request of the class carries

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = {k: v for k, v in body.items() if k not in _FIELDS}
        out.update(model=target.upstream_model, query=body["query"], documents=_documents(body))
        if body.get("top_n") is not None:
            out[self.top_key] = body["top_n"]
        out.update(self.fixed)
        url = vendor.base_url.rstrip("/") + "/rerank"
        return self._request(vendor, credential, out, _context(body, target), url)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        items = doc.get(self.results_key) if isinstance(doc, dict) else None
        pairs = _pairs(items, "index", "relevance_score")
        usage = _tokens(doc.get("usage"))
        body = rerank_list(pairs, request, usage, str(doc.get("model") or request.context["model"]))
        return TranslatedResponse(body=body, usage=usage)


class VoyageRerank(_TokenRerank):
    """Voyage: ``top_k``; answers ``data`` and ``usage.total_tokens``."""

    name = "voyage"
    top_key = "top_k"
    results_key = "data"


class JinaRerank(_TokenRerank):
    """Jina: ``top_n``; answers ``results`` and ``usage.total_tokens``."""

    name = "jina"
    fixed: ClassVar[dict[str, Any]] = {"return_documents": False}  # the gateway adds the texts itself


class CloudflareRerank(_Base):
    """Cloudflare Workers AI ``POST {base}/run/{model}``: ``contexts`` in, ``result.response`` out.

    Workers AI reports no token count for rerank: the gateway counts the input (usage_estimated).
    """

    name = "cloudflare"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        docs = _documents(body)
        out: dict[str, Any] = {"query": body["query"], "contexts": [{"text": d} for d in docs]}
        if body.get("top_n") is not None:
            out["top_k"] = body["top_n"]
        ctx = _context(body, target)
        query_tokens = max(1, (len(body["query"]) + 3) // 4)
        ctx["estimated_tokens"] = sum(max(1, (len(d) + 3) // 4) + query_tokens for d in docs)
        url = f"{vendor.base_url.rstrip('/')}/run/{target.upstream_model}"
        return self._request(vendor, credential, out, ctx, url)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        result = doc.get("result") if isinstance(doc, dict) else None
        items = result.get("response") if isinstance(result, dict) else None
        pairs = _pairs(items, "id", "score")
        usage = Usage(input_tokens=int(request.context.get("estimated_tokens") or 0), estimated=True)
        body = rerank_list(pairs, request, usage, request.context["model"])
        return TranslatedResponse(body=body, usage=usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        """Cloudflare's ``{"errors": [{"code", "message"}], "success": false}`` envelope."""
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            code = first.get("code")
            return UpstreamFailure(
                str(first.get("message") or f"upstream answered HTTP {status}"), str(code) if code else None
            )
        return error_from_json(status, raw, ("code",))
