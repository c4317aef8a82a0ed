"""The interface every wire format implements: pure translation, no I/O.

An adapter serves one operation (chat, embeddings, rerank, ...) over one wire format. It turns the
client's OpenAI-shaped request into the upstream's request (method, URL, headers, body), the
upstream's answer back into the OpenAI-shaped result plus metered usage, and, for streams, each
upstream event into zero or more client chunks. A transport (providers/transport.py for real HTTP,
simulators/transport.py for test keys) sends the request; the adapter never sees a socket.
Adapter-private facts about one call (a tool forced to get JSON, the ids given to parallel calls)
travel in ``UpstreamRequest.context`` from ``build_request`` to the answer's parsing.
An adapter that sets the output limit itself (Anthropic raises it to fit a thinking budget) says so
in ``context["max_output_tokens"]``, so the wallet reservation can cover it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
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
    dimensions: int | None = None  # an embedding model's native vector size


@dataclass(slots=True)
class UpstreamRequest:
    """One HTTP request to an upstream, as an adapter built it.

    ``body`` is the raw bytes sent (JSON for most wires), ``form`` a multipart form of
    ``(name, value, filename, content_type)`` fields instead, or neither for a bodiless request.
    ``wire`` and ``operation`` say what the request is (the simulated transport answers by them).
    """

    url: str
    headers: dict[str, str]
    body: bytes | None
    stream: bool = False
    context: dict[str, Any] = field(default_factory=dict)
    method: str = "POST"
    form: list[tuple[str, bytes | str, str | None, str | None]] | None = None
    wire: str = "openai"
    operation: str = "chat"


class StreamBody(Protocol):
    """The body of a streamed answer (aiohttp's StreamReader has this shape)."""

    def iter_any(self) -> AsyncIterator[bytes]: ...


class UpstreamResponse(Protocol):
    """What a transport returns once the answer's headers are in (aiohttp's ClientResponse fits)."""

    status: int

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content_type(self) -> str: ...

    @property
    def content(self) -> StreamBody: ...

    async def read(self) -> bytes: ...

    def release(self) -> Any: ...

    def close(self) -> None: ...


class Transport(Protocol):
    """Sends an upstream request: real HTTP, or the simulated provider for test keys."""

    name: str

    async def send(self, vendor: VendorProfile, request: UpstreamRequest) -> UpstreamResponse: ...


@dataclass(slots=True)
class TranslatedResponse:
    body: bytes  # what the client receives: the operation's OpenAI-shaped JSON, or binary media
    usage: Usage | None
    upstream_id: str | None = None
    media_type: str = "application/json"


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


@dataclass(frozen=True, slots=True)
class UpstreamFailure:
    """What an upstream's error body said: its message, its own error code, the parameter at fault."""

    message: str
    code: str | None = None
    param: str | None = None

    def __iter__(self) -> Iterator[str | None]:
        """Unpacks as ``(message, code)``."""
        return iter((self.message, self.code))


def error_from_json(status: int, raw: bytes, code_keys: tuple[str, ...]) -> UpstreamFailure:
    """The common ``{"error": {"message", "param", <code key>...}}`` error body.

    Also takes ``{"error": "text"}``, ``{"message": "text"}``, ``{"detail": "text"}`` (Voyage,
    FastAPI servers) and non-JSON bodies (first 500 chars).
    """
    fallback = f"upstream answered HTTP {status}"
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return UpstreamFailure(raw.decode("utf-8", "replace").strip()[:500] or fallback)
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        code = next((err[k] for k in code_keys if err.get(k)), None)
        param = err.get("param")
        return UpstreamFailure(
            str(err.get("message") or fallback),
            str(code) if code else None,
            param if isinstance(param, str) and param else None,
        )
    if isinstance(err, str):
        return UpstreamFailure(err)
    if isinstance(doc, dict):
        for key in ("message", "detail"):
            if isinstance(doc.get(key), str):
                return UpstreamFailure(doc[key])
    return UpstreamFailure(fallback)


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


class Adapter(Protocol):
    """One operation over one wire: build the upstream request, read its answer and its errors."""

    name: str

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest: ...

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse: ...

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        """The message, upstream error code and parameter of an upstream error body."""
        ...


class WireAdapter(Adapter, Protocol):
    """A chat adapter: an Adapter that can also translate streams."""

    def stream_translator(self, request: UpstreamRequest, include_usage: bool) -> StreamTranslator: ...
