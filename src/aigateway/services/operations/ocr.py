"""The OCR operation: POST /v1/ocr (docs/modalities.md).

Request: ``image_url`` or ``image_b64``, or (Mistral OCR) ``document_url`` for a PDF (an https or
``data:application/pdf;base64,`` URL) with optional ``pages`` (0-based page numbers); ``model`` (when
absent: the operator's ``default_ocr_model``). Answer::

    {"object": "ocr", "model", "text", "pages": [{"index", "text", "markdown"}], "usage": {...}}

``text`` is every page's text, pages separated by a blank line.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import InvalidRequest
from aigateway.services.operations.detections import ImageRequest, ImageTaskOperation, check_image
from aigateway.services.operations.translations import TaskUsage

MAX_PAGES = 1000


class OcrRequest(ImageRequest):
    document_url: str | None = Field(default=None, min_length=1)
    pages: list[int] | None = Field(default=None, min_length=1, max_length=MAX_PAGES)


class OcrPage(BaseModel):
    index: int
    text: str
    markdown: str


class OcrResponse(BaseModel):
    object: str = "ocr"
    model: str
    text: str
    pages: list[OcrPage]
    usage: TaskUsage


class OcrOperation(ImageTaskOperation):
    name = "ocr"
    endpoint = "ocr"
    modalities = frozenset({"ocr", "text"})
    schema = OcrRequest
    priced_by = ("per_page", "input_per_image", "per_query", "output_per_mtok", "per_compute_second")

    def cross_check(self, req: Any) -> None:
        check_image(req, document=True)
        if req.pages is not None and (req.document_url is None or any(p < 0 for p in req.pages)):
            raise InvalidRequest("'pages' (0-based page numbers) go with a 'document_url'.", param="pages")

    def check(self, entry: ModelEntry, parsed: Any) -> None:
        super().check(entry, parsed)
        if parsed.document_url is not None and entry.modality == "text":
            raise InvalidRequest(
                f"'{entry.id}' reads images, not PDF documents; use an OCR model (Mistral OCR).",
                param="document_url",
            )

    def images(self, body: dict[str, Any]) -> int:
        return 1 if body.get("image_url") or body.get("image_b64") else 0

    def pages_bound(self, body: dict[str, Any]) -> int:
        pages = body.get("pages")
        if isinstance(pages, list):
            return len(pages)
        return MAX_PAGES if body.get("document_url") else 1
