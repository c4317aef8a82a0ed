"""The rerank operation: POST /v1/rerank.

Request: ``query``, ``documents`` (strings, or ``{"text": ...}`` objects as Jina and Cohere users
send), ``model`` (when absent: the operator's ``default_rerank_model``), ``top_n`` and
``return_documents``. Answer, whichever upstream served it::

    {"object": "list", "model": ..., "results": [{"index", "relevance_score", "document"?: {"text"}}],
     "usage": {"total_tokens"?, "search_units"?}}

with results ordered by relevance, highest first.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aigateway.core.catalog import ModelEntry
from aigateway.core.pricing import Usage
from aigateway.services.operations.chat_schema import validate_model
from aigateway.services.operations.counting import estimate_text_tokens, text_bytes

MAX_DOCUMENTS = 1000
# Cohere bills a search unit per query of up to 100 documents, documents over 500 tokens counting
# as several: the bound assumes a document chunk per 500 bytes (a token is at least a byte).
DOCS_PER_SEARCH_UNIT = 100
CHUNK_BYTES = 500


class Document(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    text: str


class RerankRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = Field(default=None, min_length=1, max_length=256)
    query: str = Field(min_length=1)
    documents: list[str | Document] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    top_n: int | None = Field(default=None, ge=1)
    return_documents: bool | None = None

    @field_validator("documents")
    @classmethod
    def _texts(cls, value: list[str | Document]) -> list[str | Document]:
        if any(not (d if isinstance(d, str) else d.text) for d in value):
            raise ValueError("documents must not be empty")
        return value

    def texts(self) -> list[str]:
        return [d if isinstance(d, str) else d.text for d in self.documents]


def document_texts(body: dict[str, Any]) -> list[str]:
    """The documents of a (validated) rerank body as plain strings."""
    out: list[str] = []
    for doc in body.get("documents") or []:
        out.append(doc if isinstance(doc, str) else str(doc.get("text", "")))
    return out


class RerankOperation:
    name = "rerank"
    endpoint = "rerank"
    modalities = frozenset({"rerank"})
    streams = False
    multipart = False

    def __init__(self, default_model: str) -> None:
        self.default_model = default_model

    def validate(self, body: Any) -> RerankRequest:
        req = validate_model(RerankRequest, body)
        if req.model is None:
            body["model"] = req.model = self.default_model
        return req

    def wants_stream(self, parsed: RerankRequest) -> bool:
        return False

    def check(self, entry: ModelEntry, req: RerankRequest) -> None:
        return None

    def bound(self, entry: ModelEntry, body: dict[str, Any], req: RerankRequest) -> Usage:
        texts = req.texts()
        query = text_bytes([req.query])
        tokens = text_bytes(texts) + query * len(texts)
        chunks = sum(max(1, math.ceil(len(t.encode("utf-8", "replace")) / CHUNK_BYTES)) for t in texts)
        return Usage(input_tokens=max(1, tokens), queries=max(1, math.ceil(chunks / DOCS_PER_SEARCH_UNIT)))

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        return False

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        texts = document_texts(body)
        query = str(body.get("query") or "")
        tokens = estimate_text_tokens(texts) + estimate_text_tokens([query]) * len(texts)
        queries = max(1, math.ceil(len(texts) / DOCS_PER_SEARCH_UNIT))
        return Usage(input_tokens=tokens, queries=queries, estimated=True)
