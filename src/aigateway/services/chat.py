"""The chat pipeline: resolve -> admit -> dispatch -> meter -> price -> settle -> headers.

One instance per process. ``create`` returns either a complete answer or a stream; in both cases
exactly one ledger entry is recorded for the call, however it ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from aigateway.api.schemas import ChatRequest
from aigateway.core.catalog import Deployment, ModelEntry
from aigateway.core.errors import (
    GatewayError,
    InvalidRequest,
    ModelNotFound,
    ProviderError,
    UpstreamTimeout,
)
from aigateway.core.ledger import LedgerEntry
from aigateway.core.money import nano_to_cents_str
from aigateway.core.pricing import Pricing, Usage, max_cost_nano, price_usage
from aigateway.core.redact import scrub
from aigateway.providers import simulated
from aigateway.providers.sse import DONE, encode_event, stream_events
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.anthropic import AnthropicWire
from aigateway.providers.wire.base import StreamTranslator, Target, UpstreamRequest, WireAdapter
from aigateway.providers.wire.gemini import GeminiWire
from aigateway.providers.wire.openai import OpenAIStreamTranslator, OpenAIWire, usage_from
from aigateway.services.auth import Principal
from aigateway.services.context import GatewayContext
from aigateway.services.dispatch import open_upstream, upstream_error

log = logging.getLogger("aigateway.chat")

SIMULATED = "simulated"


@dataclass(slots=True)
class Call:
    """The state of one model call as it moves through the pipeline."""

    request_id: str
    principal: Principal
    tag: str | None
    stream: bool
    started: float = field(default_factory=time.perf_counter)
    model: str = ""
    provider: str = ""
    upstream_model: str = ""
    pricing: Pricing | None = None
    reserved: int = 0
    upstream_started: float = 0.0
    upstream_ms: int = 0
    settled: bool = False
    prompt_estimate: int = 0  # the gateway's own count of the prompt, for a stream cut short
    reserved_output: int = 0  # output tokens the reservation covers


@dataclass(slots=True)
class Completed:
    body: bytes
    headers: dict[str, str]


@dataclass(slots=True)
class Streaming:
    chunks: AsyncIterator[bytes]
    headers: dict[str, str]


@dataclass(slots=True)
class Route:
    deployment: Deployment
    vendor: VendorProfile | None  # None for the simulated provider
    wire: WireAdapter | None
    credential: str | None
    max_output_tokens: int | None = None
    capabilities: frozenset[str] = frozenset()


class ChatService:
    def __init__(self, ctx: GatewayContext) -> None:
        self.ctx = ctx
        self.wires: dict[str, WireAdapter] = {
            "openai": OpenAIWire(),
            "anthropic": AnthropicWire(),
            "gemini": GeminiWire(),
        }

    # -- entry point ----------------------------------------------------------------------------
    async def create(self, call: Call, body: Any, parsed: ChatRequest) -> Completed | Streaming:
        try:
            entry = self.resolve(body["model"])
            call.model = entry.id
            self.check_capabilities(entry, parsed)
            route = self.route(entry, call.principal)
            call.provider = route.deployment.provider if route.vendor else SIMULATED
            call.upstream_model = route.deployment.upstream_model if route.vendor else entry.id
            call.pricing = route.deployment.pricing or entry.pricing
            await self.ctx.ledger.wait_for_room()
            call.prompt_estimate = simulated.prompt_tokens(body)
            if not call.principal.is_test:
                estimate = self.estimate(call, entry, call.pricing, parsed)
                call.reserved = await self.ctx.wallets.reserve(call.principal.account_id, estimate)
            if route.vendor is None:
                return self.simulate(call, body, entry)
            return await self.dispatch(call, body, route)
        except GatewayError as exc:
            self.settle(call, None, status="error", http_status=exc.status, error=exc)
            raise

    # -- resolve and admit ----------------------------------------------------------------------
    def resolve(self, model_id: str) -> ModelEntry:
        entry = self.ctx.catalog.get(model_id)
        if entry is None:
            close = self.ctx.catalog.suggest(model_id)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ModelNotFound(
                f"The model '{model_id}' does not exist.{hint} GET /v1/models lists every model.",
                param="model",
            )
        if entry.modality != "text":
            raise InvalidRequest(
                f"'{entry.id}' is a {entry.modality} model; it cannot serve chat completions.", param="model"
            )
        return entry

    @staticmethod
    def check_capabilities(entry: ModelEntry, req: ChatRequest) -> None:
        """Refuse, with a clear 400, what the model certainly cannot do (see docs/chat.md)."""
        if req.tools and not entry.supports("tools"):
            raise InvalidRequest(f"'{entry.id}' does not support tools.", param="tools")
        wants_schema = req.response_format is not None and req.response_format.type == "json_schema"
        if wants_schema and not (entry.supports("json_schema") or entry.supports("tools")):
            raise InvalidRequest(
                f"'{entry.id}' does not support response_format json_schema.", param="response_format"
            )
        if req.reasoning_effort is not None and not entry.supports("reasoning"):
            raise InvalidRequest(
                f"'{entry.id}' is not a reasoning model; reasoning_effort is not supported.",
                param="reasoning_effort",
            )
        if not entry.supports("vision"):
            for message in req.messages:
                if isinstance(message.content, list) and any(
                    p.get("type") == "image_url" for p in message.content
                ):
                    raise InvalidRequest(f"'{entry.id}' does not accept image input.", param="messages")

    def route(self, entry: ModelEntry, principal: Principal) -> Route:
        if principal.is_test:
            return Route(entry.deployments[0], None, None, None)
        first_missing: VendorProfile | None = None
        unsupported: list[str] = []
        for deployment in entry.deployments:
            vendor = self.ctx.vendors.get(deployment.provider)
            if vendor is None:
                continue
            wire = self.wires.get(vendor.wire)
            if wire is None:
                unsupported.append(f"{vendor.name} ({vendor.wire} wire)")
                continue
            credential = vendor.credential()
            if (credential is None and vendor.key_required) or not vendor.base_url:
                first_missing = first_missing or vendor
                continue
            return Route(deployment, vendor, wire, credential, entry.max_output_tokens, entry.capabilities)
        if first_missing is not None:
            needs = [first_missing.key_hint] if first_missing.credential() is None else []
            if not first_missing.base_url:
                needs.append(first_missing.base_url_hint)
            raise ProviderError(
                f"Provider '{first_missing.name}' for '{entry.id}' is not configured: "
                f"set {' and '.join(needs)} in the gateway's environment."
            )
        raise ProviderError(
            f"No configured provider can serve '{entry.id}'"
            + (f"; the gateway has no adapter yet for {', '.join(unsupported)}." if unsupported else ".")
        )

    def estimate(self, call: Call, entry: ModelEntry, pricing: Pricing, req: ChatRequest) -> int:
        """A cost to reserve before dispatch: the prompt, and the output the call may produce."""
        out = req.max_completion_tokens or req.max_tokens
        if out is None:
            out = min(entry.max_output_tokens or 10**9, self.ctx.settings.default_reserve_output_tokens)
        call.reserved_output = out * (req.n or 1)
        return max_cost_nano(pricing, call.prompt_estimate, call.reserved_output)

    async def cover_raised_limit(self, call: Call, request: UpstreamRequest) -> None:
        """Top up the reservation when the adapter raised the output limit (a thinking budget)."""
        raised = request.context.get("max_output_tokens")
        if call.principal.is_test or call.pricing is None or not isinstance(raised, int):
            return
        if raised > call.reserved_output:
            extra = max_cost_nano(call.pricing, 0, raised - call.reserved_output)
            call.reserved += await self.ctx.wallets.reserve(call.principal.account_id, extra)
            call.reserved_output = raised

    # -- dispatch ------------------------------------------------------------------------------
    async def dispatch(self, call: Call, body: dict[str, Any], route: Route) -> Completed | Streaming:
        vendor, wire = route.vendor, route.wire
        assert vendor is not None and wire is not None
        target = Target(route.deployment.upstream_model, route.max_output_tokens, route.capabilities)
        request = wire.build_request(body, target, vendor, route.credential)
        await self.cover_raised_limit(call, request)
        call.upstream_started = time.perf_counter()
        response = await open_upstream(self.ctx.session, vendor, request)
        if response.status >= 400:
            try:
                raw = await response.read()
            except (TimeoutError, aiohttp.ClientError):
                raw = b""
            finally:
                response.release()
            call.upstream_ms = _ms_since(call.upstream_started)
            raise upstream_error(vendor, wire, response.status, raw, response.headers, route.credential)
        if call.stream:
            call.upstream_ms = _ms_since(call.upstream_started)
            translator = wire.stream_translator(request, _wants_usage(body))
            return Streaming(
                self.relay(call, response, translator, route.credential), self.stream_headers(call)
            )
        try:
            raw = await response.read()
        except TimeoutError as exc:
            raise UpstreamTimeout(f"Provider '{vendor.name}' did not finish its answer in time.") from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(
                f"Provider '{vendor.name}' broke the connection mid-answer ({type(exc).__name__}).",
                retryable=True,
            ) from exc
        finally:
            response.release()
        call.upstream_ms = _ms_since(call.upstream_started)
        try:
            translated = wire.parse_response(raw, request)
        except (ValueError, orjson.JSONDecodeError) as exc:
            raise ProviderError(f"Provider '{vendor.name}' sent an answer the gateway cannot read.") from exc
        usage = translated.usage or Usage(estimated=True)
        cost = self.settle(call, usage, status="ok", http_status=200)
        return Completed(translated.body, self.final_headers(call, usage, cost))

    async def relay(
        self,
        call: Call,
        response: aiohttp.ClientResponse,
        translator: StreamTranslator,
        credential: str | None,
    ) -> AsyncIterator[bytes]:
        """Relay an upstream stream chunk by chunk; settle exactly once however it ends."""
        usage: Usage | None = None
        status, http_status, error = "client_cancelled", 499, None
        try:
            async for data in stream_events(response.content, response.content_type):
                out = translator.feed(data)
                if out.usage is not None:
                    usage = out.usage
                    cost = self.price(call, usage)
                    self._stamp_cost(out.chunks, cost)
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
                        self._stamp_cost(out.chunks, self.price(call, usage))
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
            log.exception("stream relay failed (request %s)", call.request_id)
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
                usage = Usage(
                    input_tokens=call.prompt_estimate,
                    output_tokens=translator.generated_units,
                    estimated=True,
                )
            self.settle(call, usage, status=status, http_status=http_status, error=error)

    # -- test mode -------------------------------------------------------------------------------
    def simulate(self, call: Call, body: dict[str, Any], entry: ModelEntry) -> Completed | Streaming:
        call.upstream_started = time.perf_counter()
        if not call.stream:
            doc = simulated.synthesize_completion(body, model=entry.id)
            call.upstream_ms = _ms_since(call.upstream_started)
            usage = usage_from(doc.get("usage")) or Usage(estimated=True)
            cost = self.settle(call, usage, status="ok", http_status=200)
            return Completed(orjson.dumps(doc), self.final_headers(call, usage, cost))
        forced = dict(body, stream_options={**(body.get("stream_options") or {}), "include_usage": True})
        chunks = simulated.synthesize_chunks(forced, model=entry.id)
        call.upstream_ms = _ms_since(call.upstream_started)
        translator = OpenAIStreamTranslator(_wants_usage(body))
        return Streaming(self._simulated_stream(call, chunks, translator), self.stream_headers(call))

    async def _simulated_stream(
        self, call: Call, chunks: list[dict[str, Any]], translator: OpenAIStreamTranslator
    ) -> AsyncIterator[bytes]:
        usage: Usage | None = None
        status, http_status = "client_cancelled", 499
        try:
            for chunk in chunks:
                out = translator.feed(orjson.dumps(chunk))
                if out.usage is not None:
                    usage = out.usage
                    self._stamp_cost(out.chunks, self.price(call, usage))
                for piece in out.chunks:
                    yield encode_event(piece)
                await asyncio.sleep(0)
            yield DONE
            status, http_status = "ok", 200
        finally:
            if usage is None:
                # The provider never reported usage (cut or abandoned): bill the prompt as the
                # gateway counts it and one token per relayed piece.
                usage = Usage(
                    input_tokens=call.prompt_estimate,
                    output_tokens=translator.generated_units,
                    estimated=True,
                )
            self.settle(call, usage, status=status, http_status=http_status)

    # -- meter, price, settle --------------------------------------------------------------------
    def price(self, call: Call, usage: Usage) -> int:
        if call.principal.is_test or call.pricing is None:
            return 0
        return price_usage(usage, call.pricing)

    def settle(
        self,
        call: Call,
        usage: Usage | None,
        *,
        status: str,
        http_status: int,
        error: GatewayError | None = None,
    ) -> int:
        """Record the call's one ledger entry and book its cost against the wallet (once)."""
        if call.settled:
            return 0
        call.settled = True
        usage = usage or Usage()
        cost = self.price(call, usage) if status != "error" else 0
        if call.reserved or cost:
            self.ctx.wallets.settle(call.principal.account_id, call.reserved, cost)
            call.reserved = 0
        self.ctx.ledger.record(
            LedgerEntry(
                request_id=call.request_id,
                account_id=call.principal.account_id,
                key_id=call.principal.key_id,
                endpoint="chat.completions",
                model=call.model,
                provider=call.provider,
                upstream_model=call.upstream_model,
                mode=call.principal.mode,
                status=status,
                http_status=http_status,
                stream=call.stream,
                tag=call.tag,
                error_type=error.error_type if error else None,
                input_units=usage.input_tokens,
                cached_input_units=usage.cached_input_tokens,
                cache_write_units=usage.cache_write_tokens,
                output_units=usage.output_tokens,
                reasoning_units=usage.reasoning_tokens,
                usage_estimated=usage.estimated,
                cost_nanousd=cost,
                latency_ms=call.upstream_ms or _ms_since(call.started),
                detail=error.message[:1000] if error else None,
            )
        )
        return cost

    @staticmethod
    def _stamp_cost(chunks: list[dict[str, Any] | bytes], cost: int) -> None:
        """Put the stream's cost into its usage chunk as ``usage.cost_cents`` (docs/chat.md)."""
        for chunk in chunks:
            if isinstance(chunk, dict) and isinstance(chunk.get("usage"), dict):
                chunk["usage"]["cost_cents"] = orjson.Fragment(nano_to_cents_str(cost).encode())

    # -- headers ---------------------------------------------------------------------------------
    def stream_headers(self, call: Call) -> dict[str, str]:
        return {
            "X-Request-Id": call.request_id,
            "X-Model": call.model,
            "X-Provider": call.provider,
            "X-Latency-Ms": str(call.upstream_ms),
            "X-Cache-Status": "miss",
        }

    def final_headers(self, call: Call, usage: Usage, cost: int) -> dict[str, str]:
        headers = self.stream_headers(call)
        headers["X-Cost-Cents"] = nano_to_cents_str(cost)
        headers["X-Input-Units"] = str(usage.input_tokens)
        headers["X-Output-Units"] = str(usage.output_tokens)
        return headers


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _ms_since(start: float) -> int:
    return int((time.perf_counter() - start) * 1000)


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
