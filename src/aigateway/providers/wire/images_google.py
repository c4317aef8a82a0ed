"""Image generation on Google's Generative Language API: Imagen and the Gemini image models.

* Imagen (an upstream model named ``imagen-...``): ``POST {base}/models/{m}:predict`` with
  ``{"instances": [{"prompt"}], "parameters": {"sampleCount", "aspectRatio", "outputOptions"?}}``;
  the answer's ``predictions[].bytesBase64Encoded`` are the images (a prediction filtered by safety
  carries ``raiFilteredReason`` instead). Billed per image.
* Gemini image models: ``POST {base}/models/{m}:generateContent`` with ``generationConfig.
  responseModalities: ["TEXT", "IMAGE"]`` and ``imageConfig.aspectRatio``; images come back as
  ``inlineData`` (or ``inline_data``) parts. Billed per image plus the text tokens: the image's own
  output tokens (``candidatesTokensDetails`` modality IMAGE) are what the per-image price covers.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigateway.core.errors import InvalidRequest, ProviderError
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Target, TranslatedResponse, UpstreamFailure, UpstreamRequest
from aigateway.providers.wire.gemini import model_path
from aigateway.providers.wire.gemini_stream import error_of
from aigateway.providers.wire.images import (
    OPERATION,
    images_body,
    nearest_aspect,
    one_image_only,
    wanted_format,
)
from aigateway.providers.wire.openai import auth_headers

IMAGEN_ASPECTS = ("1:1", "3:4", "4:3", "9:16", "16:9")
GEMINI_ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class GeminiImages:
    name = "gemini"
    wire = "gemini"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        model = target.upstream_model
        base = vendor.base_url.rstrip("/") + "/" + model_path(model)
        context: dict[str, Any] = {"response_format": wanted_format(body, target)}
        if "imagen" in model.lower():
            n = body.get("n") or 1
            if n > 4:
                raise InvalidRequest("Invalid 'n': Imagen makes at most 4 images a request.", param="n")
            parameters: dict[str, Any] = {"sampleCount": n}
            aspect = nearest_aspect(body.get("size"), IMAGEN_ASPECTS)
            if aspect:
                parameters["aspectRatio"] = aspect
            mime = _MIME.get(str(body.get("output_format")))
            if mime:
                parameters["outputOptions"] = {"mimeType": mime}
            out: dict[str, Any] = {"instances": [{"prompt": body["prompt"]}], "parameters": parameters}
            url, context["kind"] = base + ":predict", "imagen"
        else:
            one_image_only(body, vendor.name)
            config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
            aspect = nearest_aspect(body.get("size"), GEMINI_ASPECTS)
            if aspect:
                config["imageConfig"] = {"aspectRatio": aspect}
            out = {
                "contents": [{"role": "user", "parts": [{"text": body["prompt"]}]}],
                "generationConfig": config,
            }
            url, context["kind"] = base + ":generateContent", "gemini"
        return UpstreamRequest(
            url=url,
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            context=context,
            wire=self.wire,
            operation=OPERATION,
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("upstream answered 200 without an object")
        if request.context.get("kind") == "imagen":
            return self._imagen(doc)
        return self._gemini(doc)

    @staticmethod
    def _imagen(doc: dict[str, Any]) -> TranslatedResponse:
        predictions = doc.get("predictions")
        listed = [p for p in predictions if isinstance(p, dict)] if isinstance(predictions, list) else []
        items = [
            {"b64_json": p["bytesBase64Encoded"]}
            for p in listed
            if isinstance(p.get("bytesBase64Encoded"), str)
        ]
        if not items:
            reasons = [str(p["raiFilteredReason"]) for p in listed if p.get("raiFilteredReason")]
            why = f": {reasons[0]}" if reasons else ""
            raise ProviderError(f"Imagen returned no image{why}.")
        return TranslatedResponse(body=images_body(items), usage=Usage(output_images=len(items)))

    @staticmethod
    def _gemini(doc: dict[str, Any]) -> TranslatedResponse:
        candidates = doc.get("candidates")
        first = candidates[0] if isinstance(candidates, list) and candidates else {}
        content = first.get("content") if isinstance(first, dict) else None
        parts = content.get("parts") if isinstance(content, dict) else None
        items: list[dict[str, Any]] = []
        for part in parts if isinstance(parts, list) else []:
            inline = part.get("inlineData") or part.get("inline_data") if isinstance(part, dict) else None
            if isinstance(inline, dict) and isinstance(inline.get("data"), str):
                items.append({"b64_json": inline["data"]})
        if not items:
            reason = first.get("finishReason") if isinstance(first, dict) else None
            blocked = (doc.get("promptFeedback") or {}).get("blockReason")
            raise ProviderError(f"Gemini returned no image (finish reason {blocked or reason or 'unknown'}).")
        found = doc.get("usageMetadata")
        meta: dict[str, Any] = found if isinstance(found, dict) else {}
        image_tokens: int = sum(
            _count(d.get("tokenCount"))
            for d in meta.get("candidatesTokensDetails") or []
            if isinstance(d, dict) and d.get("modality") == "IMAGE"
        )
        thoughts = _count(meta.get("thoughtsTokenCount"))
        text_out = max(0, _count(meta.get("candidatesTokenCount")) - image_tokens) + thoughts
        usage = Usage(
            input_tokens=_count(meta.get("promptTokenCount")),
            cached_input_tokens=_count(meta.get("cachedContentTokenCount")),
            output_tokens=text_out,
            reasoning_tokens=thoughts,
            output_images=len(items),
        )
        return TranslatedResponse(body=images_body(items), usage=usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        message, code = error_of(status, raw)
        return UpstreamFailure(message, code)
