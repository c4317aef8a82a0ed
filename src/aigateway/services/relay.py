"""Relaying an upstream stream to the client, chunk by chunk; the call settles however it ends.

The adapter's stream translator turns each upstream event into client chunks. The stream's cost
goes into its usage chunk as ``usage.cost_cents``. A client that hangs up cancels this generator:
its ``finally`` closes the upstream connection (so the provider stops generating) and settles with
the usage known so far, or the gateway's own count of the prompt and of what was relayed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson

from aigateway.core.errors import GatewayError, ProviderError
from aigateway.core.money import nano_to_cents_str
from aigateway.core.pricing import Usage
from aigateway.core.redact import scrub
from aigateway.providers.sse import DONE, encode_event, stream_events
from aigateway.providers.wire.base import UpstreamRequest, UpstreamResponse, WireAdapter

if TYPE_CHECKING:
    from aigateway.services.pipeline import Call, Gateway, Route

log = logging.getLogger("aigateway.relay")


async def relay(
    gateway: Gateway,
    call: Call,
    body: dict[str, Any],
    response: UpstreamResponse,
    route: Route,
    request: UpstreamRequest,
) -> AsyncIterator[bytes]:
    adapter = route.adapter
    assert hasattr(adapter, "stream_translator")
    translator = adapter.stream_translator(request, wants_usage(body))
    credential = route.credential
    usage: Usage | None = None
    status, http_status, error = "client_cancelled", 499, None
    try:
        async for data in stream_events(response.content, response.content_type):
            out = translator.feed(data)
            if out.usage is not None:
                usage = out.usage
                stamp_cost(out.chunks, gateway.price(call, usage))
            if out.error is not None:
                # The provider's own error event: relayed (scrubbed), then the stream ends.
                error = out.error
                error.message = scrub(error.message, [credential] if credential else [])
                status, http_status = "stream_error", error.status
                for chunk in out.chunks:
                    yield encode_event(_scrub_error_chunk(chunk, credential))
                return
            for chunk in out.chunks:
                yield encode_event(chunk)
            if out.done:
                break
        else:
            # The upstream closed without an end marker: the translator may complete the stream
            # now; without usage by then, the stream was cut.
            finish = getattr(translator, "finish", None)
            if callable(finish):
                out = finish()
                if out.usage is not None:
                    usage = out.usage
                    stamp_cost(out.chunks, gateway.price(call, usage))
                for chunk in out.chunks:
                    yield encode_event(chunk)
            if usage is None:
                raise ProviderError("The provider ended the stream before it was complete.")
        yield DONE
        status, http_status = "ok", 200
    except GatewayError as exc:
        status, http_status, error = "stream_error", exc.status, exc
        yield encode_event(exc.body())
    except (aiohttp.ClientError, TimeoutError) as exc:
        err = ProviderError(f"The provider's stream broke off ({type(exc).__name__}).", retryable=True)
        status, http_status, error = "stream_error", err.status, err
        yield encode_event(err.body())
    except Exception as exc:  # a bug or an unreadable stream: end cleanly, never a traceback
        log.exception("stream relay failed (call %s)", call.call_id)
        err = ProviderError(f"The gateway could not relay the provider's stream ({type(exc).__name__}).")
        status, http_status, error = "stream_error", err.status, err
        yield encode_event(err.body())
    finally:
        # Closing the response (not releasing it) drops the connection, which cancels the
        # upstream generation when the client went away mid-stream.
        if status == "ok":
            response.release()
        else:
            response.close()
        if usage is None:
            # The provider never reported usage (cut or abandoned): bill the prompt as the
            # gateway counts it and one token per relayed piece.
            usage = call.operation.counted(body, translator.generated_units)
        gateway.settle(call, usage, status=status, http_status=http_status, error=error)


def wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def stamp_cost(chunks: list[dict[str, Any] | bytes], cost: int) -> None:
    """Put the stream's cost into its usage chunk as ``usage.cost_cents`` (docs/chat.md)."""
    for chunk in chunks:
        if isinstance(chunk, dict) and isinstance(chunk.get("usage"), dict):
            chunk["usage"]["cost_cents"] = orjson.Fragment(nano_to_cents_str(cost).encode())


def _scrub_error_chunk(chunk: dict[str, Any] | bytes, credential: str | None) -> dict[str, Any] | bytes:
    secrets = [credential] if credential else []
    if isinstance(chunk, bytes):
        return scrub(chunk.decode("utf-8", "replace"), secrets).encode()
    err = chunk.get("error")
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        err["message"] = scrub(err["message"], secrets)
    elif isinstance(err, str):
        chunk["error"] = scrub(err, secrets)
    return chunk


__all__ = ["WireAdapter", "relay", "stamp_cost", "wants_usage"]
