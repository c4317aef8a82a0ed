"""Relaying a binary upstream stream (speech audio) to the client, byte for byte as it arrives.

The chat relay (relay.py) reads server-sent events; this one reads raw bytes, and lets the adapter's
media translator (``adapter.media_translator(request)``: ``feed``, ``finish``, ``usage``,
``media_type``) decode them where the upstream wraps them (MiniMax's hex) and meter them.

`open_media` reads until the first audio bytes before the answer starts, so an upstream that fails
at once (MiniMax reports errors inside a 200 answer) is still an HTTP error with its status. After
that the call settles however the stream ends:

* the upstream finishes: ``ok``, billed on the translator's meters (characters of the input, the
  seconds of audio relayed, measured where the format allows);
* the upstream breaks off or reports an error mid-stream: ``stream_error``, billed for what was
  relayed; the client's connection is then dropped, so it cannot mistake the audio for complete;
* the client hangs up: ``client_cancelled``; the upstream connection is closed (the provider stops)
  and the call is billed for what was produced so far.

Cost headers: a model priced only per character costs the input's characters, known before the
first byte, so its answer carries ``X-Cost-Cents``, ``X-Unit-Kind: characters``, ``X-Input-Units``
and ``X-Output-Units: 0``, exactly what the ledger row will say. Models priced in tokens or seconds of
audio (known only at the end), and a provider that reports its own character count at the end
(MiniMax), carry ``X-Unit-Kind`` alone; their cost is in the ledger (GET /v1/usage, X-Call-Id).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection
from typing import TYPE_CHECKING, Protocol

import aiohttp

from aigateway.core.errors import GatewayError, ProviderError, UpstreamTimeout
from aigateway.core.money import nano_to_cents_str
from aigateway.core.pricing import Usage, billed_units
from aigateway.providers.wire.base import UpstreamResponse

if TYPE_CHECKING:
    from aigateway.services.pipeline import Call, Gateway, Streaming

log = logging.getLogger("aigateway.media_relay")


class MediaTranslator(Protocol):
    media_type: str
    wrapped: bool  # the upstream wraps the audio (JSON, events): it is never raw media

    def feed(self, data: bytes) -> bytes: ...

    def finish(self) -> bytes: ...

    def usage(self, priced: Collection[str]) -> Usage: ...


# Price keys whose cost a speech call knows before its first byte (they meter only its input text).
_KNOWN_UPFRONT = frozenset({"per_mchar"})


class StreamBroken(Exception):
    """Raised to the HTTP layer after a stream failed mid-way: it drops the connection."""


async def open_media(
    gateway: Gateway, call: Call, response: UpstreamResponse, translator: MediaTranslator, vendor: str
) -> Streaming:
    """Start relaying: the first audio bytes are in hand (or the upstream's error raised)."""
    from aigateway.services.pipeline import Streaming

    if not translator.wrapped and response.content_type in ("application/json", "text/event-stream"):
        response.close()  # a 200 that is not audio: never relayed as if it were
        raise ProviderError(f"Provider '{vendor}' answered {response.content_type} where audio was expected.")
    pieces = response.content.iter_any().__aiter__()
    first, ended = b"", False
    try:
        while not first:
            try:
                data = await pieces.__anext__()
            except StopAsyncIteration:
                first, ended = translator.finish(), True
                break
            first = translator.feed(data)
    except GatewayError:
        response.close()
        raise
    except TimeoutError as exc:
        response.close()
        raise UpstreamTimeout(f"Provider '{vendor}' did not start its audio in time.") from exc
    except aiohttp.ClientError as exc:
        response.close()
        raise ProviderError(
            f"Provider '{vendor}' broke the connection before any audio ({type(exc).__name__}).",
            retryable=True,
        ) from exc
    except Exception as exc:  # an unreadable answer (bad hex, bad JSON): a clean 502
        response.close()
        raise ProviderError(
            f"Provider '{vendor}' sent audio the gateway cannot read ({type(exc).__name__})."
        ) from exc
    chunks = _relay(gateway, call, response, translator, pieces, first, ended)

    def abandoned() -> None:  # the client left before the first byte was written
        if not call.settled:
            response.close()
            usage = translator.usage(_priced(call))
            gateway.settle(call, usage, status="client_cancelled", http_status=499)

    headers = {**gateway.stream_headers(call), **cost_headers(gateway, call, translator)}
    return Streaming(chunks, headers, call, abandoned, media_type=translator.media_type)


def cost_headers(gateway: Gateway, call: Call, translator: MediaTranslator) -> dict[str, str]:
    """The cost headers a streamed speech answer can carry before its first byte (module docstring)."""
    priced = set(_priced(call))
    if not priced:
        return {}
    if priced <= _KNOWN_UPFRONT and not getattr(translator, "counts_at_end", False):
        usage = translator.usage(priced)
        units = billed_units(usage, call.pricing) if call.pricing is not None else None
        if units is not None and units.kind == "characters":
            return {
                "X-Cost-Cents": nano_to_cents_str(gateway.price(call, usage)),
                "X-Unit-Kind": units.kind,
                "X-Input-Units": units.input,
                "X-Output-Units": units.output,
            }
    if "output_per_second" in priced or "input_per_second" in priced:
        return {"X-Unit-Kind": "seconds"}
    if priced & {"input_per_mtok", "output_per_mtok"}:
        return {"X-Unit-Kind": "tokens"}
    return {"X-Unit-Kind": "characters"}


async def _relay(
    gateway: Gateway,
    call: Call,
    response: UpstreamResponse,
    translator: MediaTranslator,
    pieces: AsyncIterator[bytes],
    first: bytes,
    ended: bool,
) -> AsyncIterator[bytes]:
    status, http_status = "client_cancelled", 499
    error: GatewayError | None = None
    try:
        if first:
            yield first
        if not ended:
            async for data in pieces:
                out = translator.feed(data)
                if out:
                    yield out
            tail = translator.finish()
            if tail:
                yield tail
        status, http_status = "ok", 200
    except GatewayError as exc:
        error = exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = ProviderError(
            f"The provider's audio stream broke off ({type(exc).__name__}).", retryable=True
        )
    except Exception as exc:  # a bug or unreadable audio: settled, then the connection is dropped
        log.exception("media relay failed (call %s)", call.call_id)
        error = ProviderError(f"The gateway could not relay the provider's audio ({type(exc).__name__}).")
    finally:
        if status == "ok":
            response.release()
        else:
            response.close()  # the provider stops generating
        if error is not None:
            status, http_status = "stream_error", error.status
        gateway.settle(
            call, translator.usage(_priced(call)), status=status, http_status=http_status, error=error
        )
    if error is not None:
        raise StreamBroken(error.message)


def _priced(call: Call) -> Collection[str]:
    return call.pricing.prices.keys() if call.pricing is not None else ()
