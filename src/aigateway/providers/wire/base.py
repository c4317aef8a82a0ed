"""The interface every wire format implements: pure translation, no I/O.

A wire adapter turns the client's OpenAI chat request into the upstream's request, the upstream's
answer back into an OpenAI ChatCompletion, and each upstream stream event into zero or more OpenAI
chunks. The dispatcher (services/dispatch.py) does the HTTP; the adapter never sees a socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from aigateway.core.errors import GatewayError
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile


@dataclass(slots=True)
class UpstreamRequest:
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class TranslatedResponse:
    body: bytes  # the OpenAI ChatCompletion JSON the client receives
    usage: Usage | None
    upstream_id: str | None = None


@dataclass(slots=True)
class StreamOutput:
    """What one upstream event becomes: chunks for the client, and usage if the event carried it."""

    chunks: list[dict[str, Any] | bytes] = field(default_factory=list)
    usage: Usage | None = None
    done: bool = False
    error: GatewayError | None = None


class StreamTranslator(Protocol):
    generated_units: int  # rough count of generated pieces, for billing a stream cut short

    def feed(self, data: bytes) -> StreamOutput: ...


class WireAdapter(Protocol):
    name: str

    def build_request(
        self, body: dict[str, Any], upstream_model: str, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest: ...

    def parse_response(self, raw: bytes) -> TranslatedResponse: ...

    def stream_translator(self, include_usage: bool) -> StreamTranslator: ...

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> tuple[str, str | None]:
        """(message, upstream error code) from an upstream error body."""
        ...
