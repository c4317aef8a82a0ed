"""The interface every wire format implements: pure translation, no I/O.

A wire adapter turns the client's OpenAI chat request into the upstream's request, the upstream's
answer back into an OpenAI ChatCompletion, and each upstream stream event into zero or more OpenAI
chunks. The dispatcher (services/chat.py, services/dispatch.py) does the HTTP; the adapter never
sees a socket. Adapter-private facts about one call (a tool forced to get JSON, the ids given to
parallel calls) travel in ``UpstreamRequest.context`` from ``build_request`` to the answer's parsing.
An adapter that sets the output limit itself (Anthropic raises it to fit a thinking budget) says so
in ``context["max_output_tokens"]``, so the wallet reservation can cover it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from aigateway.core.errors import GatewayError
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile


@dataclass(frozen=True, slots=True)
class Target:
    """The model a call goes to, as the adapter needs to know it."""

    upstream_model: str
    max_output_tokens: int | None = None
    capabilities: frozenset[str] = frozenset()


@dataclass(slots=True)
class UpstreamRequest:
    url: str
    headers: dict[str, str]
    body: bytes
    stream: bool = False
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class TranslatedResponse:
    body: bytes  # the OpenAI ChatCompletion JSON the client receives
    usage: Usage | None
    upstream_id: str | None = None


@dataclass(slots=True)
class StreamOutput:
    """What one upstream event becomes: chunks for the client, and usage if the event carried it.

    ``error`` set means the provider reported a failure mid-stream: the chunks (an OpenAI-style
    ``{"error": ...}`` event) are relayed and the stream ends without ``[DONE]``.
    """

    chunks: list[dict[str, Any] | bytes] = field(default_factory=list)
    usage: Usage | None = None
    done: bool = False
    error: GatewayError | None = None


def error_from_json(status: int, raw: bytes, code_keys: tuple[str, ...]) -> tuple[str, str | None]:
    """(message, code) of the common ``{"error": {"message", <code key>...}}`` error body.

    Also takes ``{"error": "text"}``, ``{"message": "text"}`` and non-JSON bodies (first 500 chars).
    """
    fallback = f"upstream answered HTTP {status}"
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return (raw.decode("utf-8", "replace").strip()[:500] or fallback), None
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        code = next((err[k] for k in code_keys if err.get(k)), None)
        return str(err.get("message") or fallback), (str(code) if code else None)
    if isinstance(err, str):
        return err, None
    if isinstance(doc, dict) and isinstance(doc.get("message"), str):
        return doc["message"], None
    return fallback, None


def openai_usage(usage: Usage) -> dict[str, Any]:
    """The OpenAI ``usage`` object for what a native provider reported (cached and reasoning included)."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


class StreamTranslator(Protocol):
    """Turns upstream stream events into client chunks.

    A translator may also define ``finish() -> StreamOutput``, called when the upstream closes the
    stream without an end marker: it can complete the stream there (emit the usage chunk) rather than
    leave it to be treated as cut.
    """

    generated_units: int  # rough count of generated pieces, for billing a stream cut short

    def feed(self, data: bytes) -> StreamOutput: ...


class WireAdapter(Protocol):
    name: str

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest: ...

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse: ...

    def stream_translator(self, request: UpstreamRequest, include_usage: bool) -> StreamTranslator: ...

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> tuple[str, str | None]:
        """(message, upstream error code) from an upstream error body."""
        ...
