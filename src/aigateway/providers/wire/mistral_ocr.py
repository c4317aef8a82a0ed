"""Mistral OCR: ``POST {base}/ocr`` (base ``https://api.mistral.ai/v1``).

Request: ``{"model", "document": {"type": "image_url", "image_url": URL} | {"type": "document_url",
"document_url": URL}, "pages"?: [0-based], "include_image_base64": false}``; an ``image_b64`` goes
as a ``data:`` URL. Answer: ``{"pages": [{"index", "markdown", "dimensions"}], "model",
"usage_info": {"pages_processed", "doc_size_bytes"}}``; billed per page processed.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire import chat_tasks_answers as answers
from aigateway.providers.wire.base import (
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.chat_tasks import image_data_url
from aigateway.providers.wire.openai import auth_headers


class MistralOcr:
    name = "mistral"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        if isinstance(body.get("document_url"), str):
            document = {"type": "document_url", "document_url": body["document_url"]}
        else:
            document = {"type": "image_url", "image_url": image_data_url(body)}
        out: dict[str, Any] = {
            "model": target.upstream_model,
            "document": document,
            "include_image_base64": False,
        }
        if isinstance(body.get("pages"), list):
            out["pages"] = body["pages"]
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/ocr",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            context={"body": body, "model": target.upstream_model},
            wire="mistral",
            operation="ocr",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        pages = sorted(doc["pages"], key=lambda p: int(p.get("index", 0)))
        info = doc.get("usage_info") or {}
        processed = info.get("pages_processed")
        count = int(processed) if isinstance(processed, int) and processed > 0 else len(pages)
        usage = Usage(pages=count, estimated=not isinstance(processed, int))
        texts = [
            (int(p.get("index", i)), str(p.get("markdown") or ""), str(p.get("markdown") or ""))
            for i, p in enumerate(pages)
        ]
        model = str(doc.get("model") or request.context["model"])
        return TranslatedResponse(answers.ocr(model, texts, usage), usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))
