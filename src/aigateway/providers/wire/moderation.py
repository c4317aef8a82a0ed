"""Moderation adapters: OpenAI ``/moderations`` (passed through), Mistral ``/v1/moderations`` (mapped
to OpenAI's categories) and Llama Guard served as a chat model (its verdict mapped the same way).

Every answer has OpenAI's shape::

    {"id", "model", "results": [{"flagged", "categories": {name: bool},
      "category_scores": {name: float}, "category_applied_input_types"?: {...},
      "provider_categories"?: {...}, "provider_category_scores"?: {...}}]}

Mistral and Llama Guard name their categories differently; the mapping (documented in
docs/modalities.md) sets OpenAI's categories, and the upstream's own verdicts are kept beside them in
``provider_categories`` (and ``provider_category_scores``), so a category with no OpenAI equivalent
(Mistral's ``pii``, Llama Guard's S7 Privacy) is not lost. ``flagged`` is the upstream's verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import (
    Adapter,
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.chat_tasks import ChatTaskAdapter, TaskRouter
from aigateway.providers.wire.openai import auth_headers, usage_from

OPENAI_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# Mistral's category -> the OpenAI categories it sets.
MISTRAL_TO_OPENAI: dict[str, tuple[str, ...]] = {
    "sexual": ("sexual",),
    "hate_and_discrimination": ("hate", "harassment"),
    "violence_and_threats": ("violence", "harassment/threatening"),
    "dangerous_and_criminal_content": ("illicit",),
    "selfharm": ("self-harm",),
    "health": (),
    "financial": (),
    "law": (),
    "pii": (),
}
# Llama Guard 3's hazard codes -> (name, OpenAI categories set).
LLAMA_GUARD: dict[str, tuple[str, tuple[str, ...]]] = {
    "S1": ("violent_crimes", ("violence", "illicit/violent")),
    "S2": ("non_violent_crimes", ("illicit",)),
    "S3": ("sex_related_crimes", ("sexual", "illicit")),
    "S4": ("child_sexual_exploitation", ("sexual/minors",)),
    "S5": ("defamation", ("harassment",)),
    "S6": ("specialized_advice", ()),
    "S7": ("privacy", ()),
    "S8": ("intellectual_property", ()),
    "S9": ("indiscriminate_weapons", ("illicit/violent",)),
    "S10": ("hate", ("hate",)),
    "S11": ("suicide_and_self_harm", ("self-harm",)),
    "S12": ("sexual_content", ("sexual",)),
    "S13": ("elections", ()),
    "S14": ("code_interpreter_abuse", ("illicit",)),
}


GUARD_MAX_OUTPUT = 32  # "unsafe\nS1,S2,..." is a few tokens


def is_llama_guard(target: Target) -> bool:
    return "llama-guard" in target.upstream_model.lower()


def has_images(value: Any) -> bool:
    return isinstance(value, list) and any(
        isinstance(i, dict) and i.get("type") == "image_url" for i in value
    )


def texts_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(i, str) for i in value):
        return list(value)
    if isinstance(value, list):  # content parts: one input
        return [
            " ".join(str(p.get("text", "")) for p in value if isinstance(p, dict) and p.get("type") == "text")
        ]
    return []


def _result(
    flagged: bool,
    hits: set[str],
    openai_scores: dict[str, float],
    native: dict[str, bool],
    native_scores: dict[str, float],
) -> dict[str, Any]:
    return {
        "flagged": flagged,
        "categories": {c: c in hits for c in OPENAI_CATEGORIES},
        "category_scores": {c: openai_scores.get(c, 0.0) for c in OPENAI_CATEGORIES},
        "provider_categories": native,
        "provider_category_scores": native_scores,
    }


def _request(
    adapter: str, url: str, vendor: VendorProfile, credential: str | None, out: dict[str, Any]
) -> UpstreamRequest:
    return UpstreamRequest(
        url=url,
        headers=auth_headers(vendor, credential),
        body=orjson.dumps(out),
        context={"model": out["model"], "texts": texts_of(out.get("input"))},
        wire=adapter,
        operation="moderations",
    )


class OpenAIModeration:
    """OpenAI's ``POST /moderations``: the request as sent (model swapped), the answer byte for byte."""

    name = "openai"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = {**body, "model": target.upstream_model}
        return _request("openai", vendor.base_url.rstrip("/") + "/moderations", vendor, credential, out)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
            raise ValueError("moderation answer without results")
        return TranslatedResponse(body=raw, usage=None, upstream_id=doc.get("id"))

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))


class MistralModeration:
    """Mistral's ``POST /v1/moderations`` (text only), its categories mapped to OpenAI's."""

    name = "mistral"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        if has_images(body.get("input")):
            raise InvalidRequest(
                f"'{target.upstream_model}' moderates text only; remove the image parts.", param="input"
            )
        raw = body.get("input")
        texts = texts_of(raw)
        out = {"model": target.upstream_model, "input": raw if isinstance(raw, str) else texts}
        return _request("mistral", vendor.base_url.rstrip("/") + "/moderations", vendor, credential, out)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        results = []
        for item in doc["results"]:
            native = {str(k): bool(v) for k, v in (item.get("categories") or {}).items()}
            native_scores = {str(k): float(v) for k, v in (item.get("category_scores") or {}).items()}
            scores: dict[str, float] = {}
            for name, score in native_scores.items():
                for openai_name in MISTRAL_TO_OPENAI.get(name, ()):
                    scores[openai_name] = max(scores.get(openai_name, 0.0), score)
            hits = {o for name, hit in native.items() if hit for o in MISTRAL_TO_OPENAI.get(name, ())}
            results.append(_result(any(native.values()), hits, scores, native, native_scores))
        usage = usage_from(doc.get("usage"))
        out = {
            "id": doc.get("id") or "",
            "model": doc.get("model") or request.context["model"],
            "results": results,
        }
        return TranslatedResponse(
            body=orjson.dumps(out), usage=usage if usage and usage.input_tokens else None
        )

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))


def parse_llama_guard(content: str) -> tuple[bool, list[str]]:
    """``safe`` -> (False, []); ``unsafe\\nS1,S10`` -> (True, ["S1", "S10"])."""
    lines = [line.strip() for line in content.strip().splitlines() if line.strip()]
    if not lines or lines[0].lower() not in ("safe", "unsafe"):
        raise ValueError(f"Llama Guard answered neither safe nor unsafe: {content[:80]!r}")
    if lines[0].lower() == "safe":
        return False, []
    codes = [c.strip().upper() for line in lines[1:] for c in line.split(",") if c.strip()]
    return True, codes


class LlamaGuardModeration(ChatTaskAdapter):
    """Llama Guard through the chat adapter of its deployment; one input a call."""

    max_output = GUARD_MAX_OUTPUT

    def __init__(self, chat_adapters: Mapping[str, Adapter]) -> None:
        super().__init__("moderations", chat_adapters)

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        value = body.get("input")
        if isinstance(value, list) and len(value) > 1 and all(isinstance(i, str) for i in value):
            raise InvalidRequest(
                f"'{target.upstream_model}' (Llama Guard) moderates one input a call; send one string.",
                param="input",
            )
        if has_images(value) and "vision" not in target.capabilities:
            raise InvalidRequest(f"'{target.upstream_model}' moderates text only.", param="input")
        return super().build_request(body, target, vendor, credential)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        done = self.completion(raw, request)
        unsafe, codes = parse_llama_guard(done.content)
        scores = {c: 1.0 for code in codes for c in LLAMA_GUARD.get(code, ("", ()))[1]}
        native = {name: code in codes for code, (name, _) in LLAMA_GUARD.items()}
        native_scores = {name: 1.0 if hit else 0.0 for name, hit in native.items()}
        result = _result(unsafe, set(scores), scores, native, native_scores)
        result["provider_codes"] = codes
        digest = hashlib.sha256(raw).hexdigest()[:24]
        out = {
            "id": f"modr-{digest}",
            "model": done.model or request.context["chat_task"]["model"],
            "results": [result],
        }
        return TranslatedResponse(body=orjson.dumps(out), usage=done.usage)


def moderation_router(chat_adapters: Mapping[str, Adapter], *, openai: bool) -> TaskRouter:
    """Llama Guard by chat; on the OpenAI wire, Mistral's API for the mistral vendor, else OpenAI's."""
    by_vendor: dict[str, Adapter] = {"mistral": MistralModeration()} if openai else {}
    return TaskRouter(
        LlamaGuardModeration(chat_adapters),
        native=OpenAIModeration() if openai else None,
        by_vendor=by_vendor,
        use_chat=is_llama_guard,
    )


def estimated_usage(texts: list[str]) -> Usage:
    return Usage(input_tokens=sum(max(1, (len(t) + 3) // 4) for t in texts if t), estimated=True)
