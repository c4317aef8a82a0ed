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
from aigateway.providers.wire.base import (
    StreamOutput,
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)

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
        elif vendor.auth == "xi-api-key":
            headers["xi-api-key"] = credential
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


def normalize_reasoning(message: dict[str, Any]) -> bool:
    """Give a message or delta the one reasoning shape: text in ``reasoning_content``.

    Vendors differ: DeepSeek, Moonshot and xAI already send ``reasoning_content``; OpenRouter,
    Groq (parsed) and Cerebras send ``reasoning`` (kept as sent, copied across); Mistral's Magistral
    sends ``content`` as a list of ``thinking`` and ``text`` parts (flattened: thinking text to
    ``reasoning_content``, text to a string ``content``). Returns whether anything changed.
    """
    changed = False
    reasoning = message.get("reasoning")
    if isinstance(reasoning, str) and reasoning and not message.get("reasoning_content"):
        message["reasoning_content"] = reasoning
        changed = True
    content = message.get("content")
    if isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") == "thinking" for p in content
    ):
        thoughts: list[str] = []
        texts: list[str] = []
        for part in content:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "thinking":
                inner = part.get("thinking")
                if isinstance(inner, str):
                    thoughts.append(inner)
                elif isinstance(inner, list):
                    thoughts.extend(str(t.get("text", "")) for t in inner if isinstance(t, dict))
            elif part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
        message["content"] = "".join(texts)
        if thoughts:
            message["reasoning_content"] = (message.get("reasoning_content") or "") + "".join(thoughts)
        changed = True
    return changed


def _normalize_choices(doc: dict[str, Any], key: str) -> bool:
    changed = False
    for choice in doc.get("choices") or []:
        if isinstance(choice, dict) and isinstance(choice.get(key), dict):
            changed = normalize_reasoning(choice[key]) or changed
    return changed


class OpenAIStreamTranslator:
    """Relays OpenAI-wire chunks; takes out the usage the client did not ask for."""

    def __init__(self, include_usage: bool) -> None:
        self.include_usage = include_usage
        self.generated_units = 0

    def feed(self, data: bytes) -> StreamOutput:
        if data == b"[DONE]":
            return StreamOutput(done=True)
        # Fast path: most chunks carry nothing the gateway must touch and are relayed as they are.
        if (
            b'"usage"' not in data
            and b'"x_groq"' not in data
            and b'"error"' not in data
            and b'"reasoning"' not in data
            and b'"thinking"' not in data
        ):
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
        rewritten = _normalize_choices(chunk, "delta")
        if usage is None:
            return StreamOutput(chunks=[chunk] if rewritten else [data])
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
            wire="openai",
            operation="chat",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or "choices" not in doc:
            raise ValueError("upstream answered 200 without a chat completion")
        usage = usage_from(doc.get("usage"))
        if usage is None and isinstance(doc.get("x_groq"), dict):
            usage = usage_from(doc["x_groq"].get("usage"))
        # Byte for byte unless the reasoning needs its one shape.
        body = orjson.dumps(doc) if _normalize_choices(doc, "message") else raw
        return TranslatedResponse(body=body, usage=usage, upstream_id=doc.get("id"))

    def stream_translator(self, request: UpstreamRequest, include_usage: bool) -> OpenAIStreamTranslator:
        return OpenAIStreamTranslator(include_usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))
