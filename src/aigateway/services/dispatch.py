"""Sending a request upstream and mapping what can go wrong to the gateway's error types."""

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
from aigateway.providers.wire.base import UpstreamRequest, WireAdapter


async def open_upstream(
    session: aiohttp.ClientSession, vendor: VendorProfile, request: UpstreamRequest
) -> aiohttp.ClientResponse:
    """POST to the upstream and return the response once its headers arrive."""
    timeout = None
    if vendor.timeout_s:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=vendor.timeout_s)
    try:
        if timeout is None:
            return await session.post(request.url, data=request.body, headers=request.headers)
        return await session.post(request.url, data=request.body, headers=request.headers, timeout=timeout)
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise UpstreamTimeout(f"Provider '{vendor.name}' did not answer in time.") from exc
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or "connection failed"
        raise ProviderError(
            f"Could not connect to provider '{vendor.name}' ({reason}).",
            retryable=True,
        ) from exc
    except aiohttp.ClientError as exc:
        raise ProviderError(
            f"Provider '{vendor.name}' closed the connection before answering ({type(exc).__name__}).",
            retryable=True,
        ) from exc


def upstream_error(
    vendor: VendorProfile,
    wire: WireAdapter,
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
    if status == 429:
        extra: dict[str, str] = {}
        retry_after = headers.get("retry-after") or headers.get("Retry-After")
        body_hint = getattr(wire, "retry_after", None)  # wires that say it in the body (Gemini)
        if not retry_after and callable(body_hint):
            retry_after = body_hint(raw)
        if retry_after:
            extra["Retry-After"] = retry_after
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
        return InvalidRequest(prefix + text)
    return ProviderError(prefix + text, retryable=True)
