"""Deterministic reranking for test mode and the simulator: scores and each wire's exact answer.

Pure functions, no I/O. A document's relevance to a query is a BM25-style score of their lower-cased
word tokens (query words found in the document, term frequency saturated, long documents damped,
common English words weighted down), as a share of the query's weight, squashed by a logistic
into (0, 1): a document sharing more of the query scores higher.
A few parts per ten thousand of hash-seeded jitter keep equal overlaps apart, and equal scores are
ordered by index, so a ranking is always the same.

Answers follow the recordings: Cohere ``/v2/rerank`` (and the legacy ``/v1/rerank``), Voyage
``/v1/rerank``, Jina ``/v1/rerank``, Cloudflare Workers AI ``ai/run/{model}`` for reranker models.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aigateway.providers.simulated import estimate_tokens
from aigateway.simulators.answers import (
    Answer,
    cloudflare_error,
    cloudflare_success,
    cohere_error,
    detail_error,
    positive_int,
    stable_uuid,
)

K1 = 1.2
B = 0.5
AVERAGE_DOCUMENT_WORDS = 30
STEEPNESS = 8.0
OFFSET = 3.0
STOPWORD_WEIGHT = 0.15
JITTER = 1e-3
DOCS_PER_SEARCH_UNIT = 100
TOKENS_PER_CHUNK = 500
MAX_DOCUMENTS = 1000
# fmt: off
STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does",
        "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my",
        "no", "not", "of", "on", "or", "our", "so", "than", "that", "the", "their", "them", "then", "there",
        "these", "they", "this", "to", "us", "was", "we", "were", "what", "when", "where", "which", "who",
        "whom", "why", "will", "with", "would", "you", "your",
    }
)
# fmt: on
_WORD = re.compile(r"\w+")


# -- scores ---------------------------------------------------------------------------------------
def words(text: str) -> list[str]:
    """The lower-cased word tokens of ``text``."""
    return _WORD.findall(text.lower())


def _weight(word: str) -> float:
    return STOPWORD_WEIGHT if word in STOPWORDS else 1.0


def _jitter(query: str, document: str) -> float:
    digest = hashlib.blake2b(f"{query}\x00{document}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little") / 4294967296.0


def relevance_score(query: str, document: str) -> float:
    """How well ``document`` answers ``query``, in (0, 1); more shared query words, higher."""
    asked = list(dict.fromkeys(words(query)))
    found = Counter(words(document))
    ratio = 0.0
    if asked:
        length = sum(found.values())
        damp = K1 * (1.0 - B + B * length / AVERAGE_DOCUMENT_WORDS)
        matched = sum(_weight(w) * found[w] / (found[w] + damp) for w in asked if found[w])
        ratio = matched / sum(_weight(w) for w in asked)
    x = STEEPNESS * ratio - OFFSET + JITTER * _jitter(query, document)
    return round(1.0 / (1.0 + math.exp(-x)), 8)


def rank(query: str, documents: Sequence[str]) -> list[tuple[int, float]]:
    """``(index, score)`` for every document, best first (equal scores by index)."""
    scored = [(i, relevance_score(query, doc)) for i, doc in enumerate(documents)]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


def _tokens(text: str) -> int:
    return max(1, estimate_tokens(text))


def _top(value: Any, field: str) -> int | str | None:
    """The cut-off a request asks for (None: all), or the reason it is refused."""
    if value is None:
        return None
    if not positive_int(value):
        return f"'{field}' must be a positive integer, got {value!r}."
    return int(value)


def _model_of(body: dict[str, Any]) -> str | None:
    model = body.get("model")
    return model if isinstance(model, str) and model else None


def _document_text(doc: Any, fields: Sequence[str] | None = None) -> str | None:
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        return None
    if fields:
        return " ".join(str(doc.get(f, "")) for f in fields)
    return doc["text"] if isinstance(doc.get("text"), str) else None


def _documents(value: Any, *, objects: bool, fields: Sequence[str] | None = None) -> list[str] | None:
    if not isinstance(value, list) or not value or len(value) > MAX_DOCUMENTS:
        return None
    if not objects and not all(isinstance(d, str) for d in value):
        return None
    texts = [_document_text(d, fields) for d in value]
    return [t for t in texts if t is not None] if all(t is not None for t in texts) else None


# -- Cohere ---------------------------------------------------------------------------------------
def search_units(query: str, documents: Sequence[str]) -> int:
    """Cohere's billing: a unit per query of up to 100 documents, long documents counting per 500 tokens."""
    query_tokens = _tokens(query)
    chunks = sum(max(1, math.ceil((query_tokens + _tokens(d)) / TOKENS_PER_CHUNK)) for d in documents)
    return max(1, math.ceil(chunks / DOCS_PER_SEARCH_UNIT))


def cohere_rerank(body: Any, version: int = 2) -> Answer:
    """Cohere's ``POST /v2/rerank`` answer (``version=1``: the legacy ``/v1/rerank``)."""
    if not isinstance(body, dict):
        return cohere_error(400, "invalid request: the body is not valid JSON.")
    model = _model_of(body)
    if model is None and version >= 2:
        return cohere_error(400, "invalid request: model must be specified.")
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        return cohere_error(400, "invalid request: query must not be empty.")
    fields = body.get("rank_fields") if version == 1 else None
    fields = [str(f) for f in fields] if isinstance(fields, list) and fields else None
    documents = _documents(body.get("documents"), objects=version == 1, fields=fields)
    if documents is None:
        kind = "strings" if version >= 2 else "strings or objects with a text field"
        return cohere_error(
            400, f"invalid request: documents must be a list of 1 to {MAX_DOCUMENTS} {kind}.", query
        )
    top = _top(body.get("top_n"), "top_n")
    if isinstance(top, str):
        return cohere_error(400, "invalid request: " + top, query)
    if body.get("max_tokens_per_doc") is not None and not positive_int(body["max_tokens_per_doc"]):
        return cohere_error(400, "invalid request: max_tokens_per_doc must be a positive integer.", query)
    with_documents = version == 1 and body.get("return_documents") is True
    results: list[dict[str, Any]] = []
    for index, score in rank(query, documents)[:top]:
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if with_documents:
            result = {"document": {"text": documents[index]}, **result}
        results.append(result)
    payload = {
        "id": stable_uuid("cohere-rerank", str(model), query, *documents),
        "results": results,
        "meta": {
            "api_version": {"version": str(version)},
            "billed_units": {"search_units": search_units(query, documents)},
        },
    }
    return Answer(200, payload)


# -- Voyage ---------------------------------------------------------------------------------------
def voyage_rerank(body: Any) -> Answer:
    """Voyage's ``POST /v1/rerank`` answer (``top_k``, ``return_documents``)."""
    if not isinstance(body, dict):
        return detail_error(400, "The request body is not valid JSON.")
    model = _model_of(body)
    if model is None:
        return detail_error(400, "Request body is missing the required field 'model'.")
    query = body.get("query")
    if not isinstance(query, str) or not query:
        return detail_error(400, "'query' must be a non-empty string.")
    documents = _documents(body.get("documents"), objects=False)
    if documents is None:
        return detail_error(400, f"'documents' must be a list of 1 to {MAX_DOCUMENTS} strings.")
    top = _top(body.get("top_k"), "top_k")
    if isinstance(top, str):
        return detail_error(400, top)
    with_documents = body.get("return_documents") is True
    data: list[dict[str, Any]] = []
    for index, score in rank(query, documents)[:top]:
        item: dict[str, Any] = {"relevance_score": score, "index": index}
        if with_documents:
            item["document"] = documents[index]
        data.append(item)
    tokens = _tokens(query) + sum(_tokens(d) for d in documents)
    return Answer(200, {"object": "list", "data": data, "model": model, "usage": {"total_tokens": tokens}})


# -- Jina -----------------------------------------------------------------------------------------
def jina_rerank(body: Any) -> Answer:
    """Jina's ``POST /v1/rerank`` answer (``top_n``; documents returned unless told not to)."""
    if not isinstance(body, dict):
        return detail_error(400, "The request body is not valid JSON.")
    model = _model_of(body)
    if model is None:
        return detail_error(400, "Field 'model' is required.")
    query = _document_text(body.get("query"))
    if not query:
        return detail_error(400, "'query' must be a non-empty string or a {\"text\"} object.")
    raw = body.get("documents")
    images = isinstance(raw, list) and all(
        isinstance(d, dict) and isinstance(d.get("image"), str) for d in raw
    )
    documents = _documents(raw, objects=True, fields=["image"] if images and raw else None)
    if documents is None:
        return detail_error(400, "'documents' must be a list of strings or of {\"text\"} objects.")
    top = _top(body.get("top_n"), "top_n")
    if isinstance(top, str):
        return detail_error(400, top)
    with_documents = body.get("return_documents") is not False
    results: list[dict[str, Any]] = []
    for index, score in rank(query, documents)[:top]:
        result: dict[str, Any] = {"index": index, "relevance_score": score}
        if with_documents:
            result["document"] = {"image" if images else "text": documents[index]}
        results.append(result)
    tokens = sum(_tokens(query) + _tokens(d) for d in documents)
    return Answer(200, {"model": model, "usage": {"total_tokens": tokens}, "results": results})


# -- Cloudflare Workers AI --------------------------------------------------------------------------
def cloudflare_rerank(body: Any) -> Answer:
    """Workers AI ``ai/run/{model}`` for a reranker: ``{"query", "contexts": [{"text"}], "top_k"}``."""
    if not isinstance(body, dict):
        return cloudflare_error(400, "AiError: the input is not valid JSON")
    query = body.get("query")
    if not isinstance(query, str) or not query:
        return cloudflare_error(400, "AiError: Error: required properties at '/' are 'query'")
    contexts = body.get("contexts")
    texts = _documents(contexts, objects=True) if isinstance(contexts, list) else None
    if texts is None or not all(isinstance(c, dict) for c in contexts or []):
        return cloudflare_error(400, "AiError: Error: 'contexts' must be a list of {\"text\"} objects")
    top = _top(body.get("top_k"), "top_k")
    if isinstance(top, str):
        return cloudflare_error(400, "AiError: Error: " + top)
    response = [{"id": index, "score": score} for index, score in rank(query, texts)[:top]]
    return cloudflare_success({"response": response})
