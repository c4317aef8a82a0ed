"""Cloudflare Workers AI task models: ``POST {base}/run/{model}``, answers in ``{"result": ...}``.

* translation (``@cf/meta/m2m100-1.2b``): ``{"text", "source_lang", "target_lang"}`` ->
  ``{"translated_text"}``.
* classification (``@cf/huggingface/distilbert-sst-2-int8``): ``{"text"}`` -> ``[{"label", "score"}]``;
  one text a call, no zero-shot labels.
* detection (``@cf/facebook/detr-resnet-50``): ``{"image": [bytes as integers]}`` ->
  ``[{"label", "score", "box": {"xmin", "ymin", "xmax", "ymax"}}]``; the image inline (image_b64 or
  a data: URL), as Workers AI takes no image URL.

Workers AI reports no usage for these models: the gateway counts tokens from the text (about four
characters a token) and meters a query, the characters and the image (usage_estimated).
"""

from __future__ import annotations

from typing import Any

import orjson

from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire import chat_tasks_answers as answers
from aigateway.providers.wire.base import Target, TranslatedResponse, UpstreamFailure, UpstreamRequest
from aigateway.providers.wire.chat_tasks import cloudflare_or_json_error, decode_b64, inputs_of
from aigateway.providers.wire.openai import auth_headers


def inline_image(body: dict[str, Any], upstream: str) -> bytes:
    """The image bytes of a body whose upstream takes no URL (a 400 for an http URL or a PDF)."""
    if body.get("document_url") is not None:
        raise InvalidRequest(f"'{upstream}' reads images, not PDF documents.", param="document_url")
    if isinstance(body.get("image_b64"), str):
        return decode_b64(body["image_b64"])
    url = str(body.get("image_url") or "")
    if url.startswith("data:"):
        return decode_b64(url, "image_url")
    raise InvalidRequest(
        f"'{upstream}' takes the image inline: send 'image_b64' (or a data: URL) instead of an http URL.",
        param="image_url",
    )


def result_of(raw: bytes) -> Any:
    doc = orjson.loads(raw)
    if isinstance(doc, dict) and "result" in doc:
        return doc["result"]
    return doc


class _CloudflareTask:
    name = "cloudflare"
    operation = ""

    def payload(self, body: dict[str, Any], target: Target) -> dict[str, Any]:
        raise NotImplementedError

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = self.payload(body, target)
        return UpstreamRequest(
            url=f"{vendor.base_url.rstrip('/')}/run/{target.upstream_model}",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            context={"body": body, "model": target.upstream_model},
            wire="cloudflare",
            operation=self.operation,
        )

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return cloudflare_or_json_error(status, raw)


class CloudflareTranslation(_CloudflareTask):
    operation = "text_translations"

    def payload(self, body: dict[str, Any], target: Target) -> dict[str, Any]:
        return {"text": body["text"], "source_lang": body["source_lang"], "target_lang": body["target_lang"]}

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        result = result_of(raw)
        text = str(result["translated_text"])
        return TranslatedResponse(*answers.translated_text(request.context, text))


class CloudflareClassification(_CloudflareTask):
    operation = "classifications"

    def payload(self, body: dict[str, Any], target: Target) -> dict[str, Any]:
        texts = inputs_of(body)
        if len(texts) != 1:
            raise InvalidRequest(f"'{target.upstream_model}' classifies one text a call.", param="input")
        if body.get("labels"):
            raise InvalidRequest(
                f"'{target.upstream_model}' has fixed labels (NEGATIVE, POSITIVE); zero-shot 'labels' need "
                "a zero-shot or chat model.",
                param="labels",
            )
        return {"text": texts[0]}

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        items = result_of(raw)
        pairs = [(str(i["label"]), float(i["score"])) for i in items]
        body = request.context["body"]
        text = inputs_of(body)[0]
        usage = Usage(input_tokens=answers.estimate(text), characters=len(text), queries=1, estimated=True)
        return TranslatedResponse(answers.classification(request.context["model"], [pairs], usage), usage)


def detected(items: Any) -> list[dict[str, Any]]:
    """HF-style detections (``box: {xmin, ymin, xmax, ymax}``) in the gateway's shape."""
    out = []
    for item in items:
        b = item["box"]
        out.append(
            {
                "label": str(item["label"]),
                "score": float(item["score"]),
                "box": answers.box(float(b["xmin"]), float(b["ymin"]), float(b["xmax"]), float(b["ymax"])),
            }
        )
    return out


class CloudflareDetection(_CloudflareTask):
    operation = "detections"

    def payload(self, body: dict[str, Any], target: Target) -> dict[str, Any]:
        return {"image": list(inline_image(body, target.upstream_model))}

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        body = request.context["body"]
        usage = Usage(input_images=1, queries=1, estimated=True)
        size = answers.image_size(inline_image(body, request.context["model"]))
        out = answers.detection(request.context["model"], detected(result_of(raw)), usage, size)
        return TranslatedResponse(out, usage)
