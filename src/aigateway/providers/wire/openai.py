"""The OpenAI chat wire format (OpenAI itself and every OpenAI-compatible vendor).

The client's request is forwarded as-is but for the upstream model id and, for streams,
``stream_options.include_usage`` (always asked upstream, so a stream is billed from the provider's
own count). Non-stream answers are returned byte for byte; stream chunks are relayed as they
arrive, re-encoded only where the gateway must touch them (the usage chunk).
"""

from __future__ import annotations

from typing import Any

import orjson

from aigateway.core.errors import ProviderError
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import StreamOutput, Target, TranslatedResponse, UpstreamRequest

# Fields only the gateway understands; never sent upstream.
GATEWAY_FIELDS = ("webhook_url",)


def auth_headers(vendor: VendorProfile, credential: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", **vendor.headers}
    if credential:
        if vendor.auth == "bearer":
            headers["Authorization"] = f"Bearer {credential}"
        elif vendor.auth == "api-key":
            headers["api-key"] = credential
        elif vendor.auth == "x-api-key":
            headers["x-api-key"] = credential
        elif vendor.auth == "x-goog-api-key":
            headers["x-goog-api-key"] = credential
        elif vendor.auth == "token":
            headers["Authorization"] = f"Token {credential}"
    return headers


def usage_from(raw: Any) -> Usage | None:
    """OpenAI usage object to Usage (tolerates the vendors' variations)."""
    if not isinstance(raw, dict):
        return None
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))
    pdet = raw.get("prompt_tokens_details") or {}
    cdet = raw.get("completion_tokens_details") or {}
    cached = _int(pdet.get("cached_tokens")) if isinstance(pdet, dict) else 0
    if not cached:
        cached = _int(raw.get("prompt_cache_hit_tokens"))  # DeepSeek
    reasoning = _int(cdet.get("reasoning_tokens")) if isinstance(cdet, dict) else 0
    if not reasoning:
        reasoning = _int(raw.get("reasoning_tokens"))
    return Usage(
        input_tokens=prompt,
        cached_input_tokens=cached,
        output_tokens=completion,
        reasoning_tokens=reasoning,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class OpenAIStreamTranslator:
    """Relays OpenAI-wire chunks; takes out the usage the client did not ask for."""

    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage
        self.generated_units = 0

    def feed(self, data: bytes) -> StreamOutput:
        if data == b"[DONE]":
            return StreamOutput(done=True)
        # Fast path: most chunks carry no usage and are relayed untouched.
        if b'"usage"' not in data and b'"x_groq"' not in data and b'"error"' not in data:
            self.generated_units += 1
            return StreamOutput(chunks=[data])
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            return StreamOutput(chunks=[data])
        if not isinstance(chunk, dict):
            return StreamOutput(chunks=[data])
        if "error" in chunk and "choices" not in chunk:
            err = chunk["error"]
            message = err.get("message") if isinstance(err, dict) else err
            failure = ProviderError(f"The provider reported an error mid-stream: {message}")
            return StreamOutput(chunks=[chunk], done=True, error=failure)
        usage = usage_from(chunk.get("usage"))
        groq = chunk.get("x_groq")
        if usage is None and isinstance(groq, dict):
            usage = usage_from(groq.get("usage"))
        choices = chunk.get("choices")
        if choices:
            self.generated_units += 1
        if usage is None:
            return StreamOutput(chunks=[data])
        if self.include_usage:
            return StreamOutput(chunks=[chunk], usage=usage)
        chunk.pop("usage", None)
        if not choices:
            return StreamOutput(usage=usage)
        return StreamOutput(chunks=[chunk], usage=usage)


class OpenAIWire:
    name = "openai"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = {k: v for k, v in body.items() if k not in GATEWAY_FIELDS}
        out["model"] = target.upstream_model
        stream = out.get("stream") is True
        if stream:
            options = dict(out.get("stream_options") or {})
            options["include_usage"] = True
            out["stream_options"] = options
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/chat/completions",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            stream=stream,
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or "choices" not in doc:
            raise ValueError("upstream answered 200 without a chat completion")
        usage = usage_from(doc.get("usage"))
        if usage is None and isinstance(doc.get("x_groq"), dict):
            usage = usage_from(doc["x_groq"].get("usage"))
        return TranslatedResponse(body=raw, usage=usage, upstream_id=doc.get("id"))

    def stream_translator(self, request: UpstreamRequest, include_usage: bool) -> OpenAIStreamTranslator:
        return OpenAIStreamTranslator(include_usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> tuple[str, str | None]:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            text = raw.decode("utf-8", "replace").strip()
            return (text[:500] or f"upstream answered HTTP {status}"), None
        err = doc.get("error") if isinstance(doc, dict) else None
        if isinstance(err, dict):
            code = err.get("code") or err.get("type")
            return str(err.get("message") or f"upstream answered HTTP {status}"), (
                str(code) if code else None
            )
        if isinstance(err, str):
            return err, None
        if isinstance(doc, dict) and isinstance(doc.get("message"), str):
            return doc["message"], None
        return f"upstream answered HTTP {status}", None
