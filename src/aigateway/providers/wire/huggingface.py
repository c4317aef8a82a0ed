"""The Hugging Face Inference API (the ``huggingface`` vendor, base
``https://router.huggingface.co/hf-inference/models``, bearer HF_TOKEN): ``POST {base}/{org}/{model}``.

* translation: ``{"inputs": text, "parameters": {"src_lang", "tgt_lang"}}`` -> ``[{"translation_text"}]``.
* classification: ``{"inputs": [texts]}`` -> ``[[{"label", "score"}...]...]``; with ``labels``
  (zero-shot, one text a call): ``{"inputs": text, "parameters": {"candidate_labels"}}`` ->
  ``{"labels": [...], "scores": [...]}`` (or a list of ``{"label", "score"}``).
* detection: the image bytes as the body -> ``[{"label", "score", "box": {"xmin", ...}}]``.
* OCR (image-to-text, ``microsoft/trocr-base-printed``): the image bytes -> ``[{"generated_text"}]``.

Images go inline (image_b64 or a data: URL). The API reports no usage: the gateway counts tokens
from the text and meters a query and the image (usage_estimated).
"""

from __future__ import annotations

from typing import Any

import orjson

from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire import chat_tasks_answers as answers
from aigateway.providers.wire.base import Target, TranslatedResponse, UpstreamFailure, UpstreamRequest
from aigateway.providers.wire.chat_tasks import cloudflare_or_json_error, image_mime, inputs_of
from aigateway.providers.wire.cloudflare_ml import detected, inline_image
from aigateway.providers.wire.openai import auth_headers


class _HuggingFaceTask:
    name = "huggingface"
    operation = ""

    def payload(self, body: dict[str, Any], target: Target) -> tuple[bytes, str]:
        raise NotImplementedError

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        data, content_type = self.payload(body, target)
        headers = {**auth_headers(vendor, credential), "Content-Type": content_type}
        return UpstreamRequest(
            url=f"{vendor.base_url.rstrip('/')}/{target.upstream_model}",
            headers=headers,
            body=data,
            context={"body": body, "model": target.upstream_model},
            wire="huggingface",
            operation=self.operation,
        )

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return cloudflare_or_json_error(status, raw)


def _json(doc: Any) -> tuple[bytes, str]:
    return orjson.dumps(doc), "application/json"


class HuggingFaceTranslation(_HuggingFaceTask):
    operation = "text_translations"

    def payload(self, body: dict[str, Any], target: Target) -> tuple[bytes, str]:
        params = {"src_lang": body["source_lang"], "tgt_lang": body["target_lang"]}
        return _json({"inputs": body["text"], "parameters": params})

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        first = doc[0] if isinstance(doc, list) else doc
        text = str(first["translation_text"])
        return TranslatedResponse(*answers.translated_text(request.context, text))


class HuggingFaceClassification(_HuggingFaceTask):
    operation = "classifications"

    def payload(self, body: dict[str, Any], target: Target) -> tuple[bytes, str]:
        texts = inputs_of(body)
        if body.get("labels"):
            if len(texts) != 1:
                from aigateway.core.errors import InvalidRequest

                raise InvalidRequest("Zero-shot classification takes one text a call.", param="input")
            return _json({"inputs": texts[0], "parameters": {"candidate_labels": body["labels"]}})
        return _json({"inputs": texts})

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        body = request.context["body"]
        texts = inputs_of(body)
        per_input: list[list[tuple[str, float]]]
        if isinstance(doc, dict) and "labels" in doc:
            per_input = [[(str(x), float(s)) for x, s in zip(doc["labels"], doc["scores"], strict=True)]]
        elif isinstance(doc, list) and doc and isinstance(doc[0], dict):
            per_input = [[(str(i["label"]), float(i["score"])) for i in doc]]
        else:
            per_input = [[(str(i["label"]), float(i["score"])) for i in row] for row in doc]
        usage = Usage(
            input_tokens=sum(answers.estimate(t) for t in texts),
            characters=sum(len(t) for t in texts),
            queries=1,
            estimated=True,
        )
        return TranslatedResponse(answers.classification(request.context["model"], per_input, usage), usage)


class _HuggingFaceImageTask(_HuggingFaceTask):
    def payload(self, body: dict[str, Any], target: Target) -> tuple[bytes, str]:
        data = inline_image(body, target.upstream_model)
        return data, image_mime(data)


class HuggingFaceDetection(_HuggingFaceImageTask):
    operation = "detections"

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        body = request.context["body"]
        usage = Usage(input_images=1, queries=1, estimated=True)
        size = answers.image_size(inline_image(body, request.context["model"]))
        out = answers.detection(request.context["model"], detected(orjson.loads(raw)), usage, size)
        return TranslatedResponse(out, usage)


class HuggingFaceOcr(_HuggingFaceImageTask):
    operation = "ocr"

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        first = doc[0] if isinstance(doc, list) else doc
        text = str(first["generated_text"])
        usage = Usage(
            input_images=1, output_tokens=answers.estimate(text), queries=1, pages=1, estimated=True
        )
        return TranslatedResponse(answers.ocr(request.context["model"], [(0, text, text)], usage), usage)
