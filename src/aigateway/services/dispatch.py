"""Mapping what an upstream answered with an error to the gateway's error types."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from aigateway.core.errors import (
    GatewayError,
    InvalidRequest,
    PayloadTooLarge,
    ProviderError,
    RateLimited,
    UpstreamTimeout,
)
from aigateway.core.redact import scrub
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Adapter, UpstreamResponse


async def read_failure(response: UpstreamResponse) -> bytes:
    """The body of an upstream error answer (empty if it cannot be read), connection released."""
    try:
        return await response.read()
    except (TimeoutError, aiohttp.ClientError):
        return b""
    finally:
        response.release()


def upstream_error(
    vendor: VendorProfile,
    wire: Adapter,
    status: int,
    raw: bytes,
    headers: Mapping[str, str],
    credential: str | None,
) -> GatewayError:
    """Map an upstream error answer to the gateway's error, passing the message on, scrubbed."""
    failure = wire.parse_error(status, raw, dict(headers))
    secrets = [credential] if credential else []
    text = scrub(failure.message, secrets)
    prefix = f"Provider '{vendor.name}' answered {status}: "
    extra: dict[str, str] = {}
    retry_after = headers.get("retry-after") or headers.get("Retry-After")
    body_hint = getattr(wire, "retry_after", None)  # wires that say it in the body (Gemini)
    if not retry_after and callable(body_hint) and status in (429, 503):
        retry_after = body_hint(raw)
    if retry_after and status in (429, 503):
        extra["Retry-After"] = retry_after
    if status == 429:
        return RateLimited(prefix + text, headers=extra, retryable=True)
    if status in (408, 504, 524):
        return UpstreamTimeout(prefix + text, retryable=True)
    if status in (401, 403):
        return ProviderError(
            f"Provider '{vendor.name}' rejected the gateway's credentials ({status}); "
            f"check {vendor.key_hint}. Upstream said: {text}"
        )
    if status == 413:
        return PayloadTooLarge(prefix + text)
    if 400 <= status < 500:
        return InvalidRequest(prefix + text, param=failure.param)
    return ProviderError(prefix + text, headers=extra, retryable=True)
