"""The one pipeline every call goes through, whatever its operation and wherever it comes from:

    resolve -> check capabilities -> route -> admit (reserve) -> dispatch -> meter -> price -> settle

``Gateway.call`` is the in-process entry point: the HTTP shells (api/calls.py) call it after
authenticating, and so will batch lines, eval rows, replays and job steps, with their own
``origin``. An operation (services/operations/) supplies only its validation, the modalities it
serves, its cost bound and its fallback count; an adapter (providers/registry.py) per (wire,
operation) builds the upstream request and reads the answer; a transport sends it (real HTTP, or the
simulated provider for test keys, through the very same adapters).

Settlement is guaranteed: whatever escapes (a gateway error, a bug, a cancelled task), ``call`` settles
before re-raising, and a stream settles in its own ``finally`` or, if it never starts, when the
response closes it (``Streaming.aclose``). Settling happens once per call (``Call.settled``): one
ledger entry, and the wallet reservation replaced by the true cost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from aigateway.core.catalog import Deployment, ModelEntry
from aigateway.core.errors import (
    GatewayError,
    InvalidRequest,
    ModelNotFound,
    ProviderError,
    UpstreamTimeout,
)
from aigateway.core.ledger import LedgerEntry, new_call_id
from aigateway.core.money import nano_to_cents_str
from aigateway.core.pricing import (
    BilledUnits,
    Pricing,
    Usage,
    basis_multiplier,
    billed_units,
    price_usage,
)
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Adapter, Target, Transport, UpstreamRequest, UpstreamResponse
from aigateway.services.admission import Admission
from aigateway.services.auth import Principal
from aigateway.services.context import GatewayContext
from aigateway.services.dispatch import read_failure, upstream_error
from aigateway.services.limits import Scope
from aigateway.services.operations.base import Operation, model_of
from aigateway.services.ratelimit import RateDecision, rate_headers

log = logging.getLogger("aigateway.pipeline")

SIMULATED = "simulated"
SIMULATED_CREDENTIAL = "sk-simulated-upstream"


@dataclass(slots=True)
class Call:
    """The state of one model call as it moves through the pipeline."""

    principal: Principal
    operation: Operation
    request_id: str
    tag: str | None = None
    origin: str = "http"
    parent_id: str | None = None
    price_basis: str = "standard"
    call_id: str = field(default_factory=new_call_id)
    stream: bool = False
    started: float = field(default_factory=time.perf_counter)
    model: str = ""
    provider: str = ""
    upstream_model: str = ""
    pricing: Pricing | None = None
    reserved: int = 0
    reserved_output: int = 0  # output tokens the reservation covers
    output_lowered: int | None = None  # the output limit the gateway set for a thin wallet
    upstream_started: float = 0.0
    upstream_ms: int = 0
    settled: bool = False
    cost: int = 0
    units: BilledUnits | None = None  # what X-Unit-Kind / X-Input-Units say, worked out at settle
    scopes: tuple[Scope, ...] = ()  # what pays for and limits the call (services/admission.py)
    rate: RateDecision | None = None  # the RPM window it was counted in, when one applies


@dataclass(slots=True)
class Completed:
    body: bytes
    headers: dict[str, str]
    usage: Usage
    call: Call
    media_type: str = "application/json"  # binary answers (audio, images) say theirs


@dataclass(slots=True)
class Streaming:
    """A streamed answer. ``aclose`` settles the call if the stream never ran to its end."""

    chunks: AsyncIterator[bytes]
    headers: dict[str, str]
    call: Call
    _on_close: Callable[[], None] | None = None
    media_type: str = "text/event-stream; charset=utf-8"  # a streamed binary answer says its own

    async def aclose(self) -> None:
        closer = getattr(self.chunks, "aclose", None)
        if closer is not None:
            await closer()
        if self._on_close is not None:
            self._on_close()


@dataclass(slots=True)
class Route:
    deployment: Deployment
    vendor: VendorProfile  # as the operation sees it (its wire and base URL)
    adapter: Adapter
    credential: str | None


@dataclass(slots=True)
class Finishing:
    """What an operation's optional ``finish(translated, finishing)`` step may use after parsing."""

    ctx: GatewayContext
    transport: Transport  # the one the call was dispatched with (simulated for test keys)
    route: Route
    request: UpstreamRequest
    call: Call


class Gateway:
    def __init__(
        self,
        ctx: GatewayContext,
        adapters: Mapping[tuple[str, str], Adapter],
        transport: Transport,
        simulated: Transport,
    ) -> None:
        self.ctx = ctx
        self.adapters = adapters
        self.transport = transport
        self.simulated = simulated
        self.admission: Admission = ctx.admission

    # -- the entry point -------------------------------------------------------------------------
    async def call(
        self,
        principal: Principal,
        operation: Operation,
        body: Any,
        *,
        request_id: str,
        tag: str | None = None,
        origin: str = "http",
        parent_id: str | None = None,
        price_basis: str = "standard",
    ) -> Completed | Streaming:
        """Run one call through the pipeline; exactly one ledger entry, however it ends."""
        sub = principal.sub_account
        if tag is None and sub is not None:
            tag = sub.default_tag  # a sub-account's calls without x-aig-tag carry its default tag
        call = Call(principal, operation, request_id, tag, origin, parent_id, price_basis)
        call.model = model_of(body) or ""
        try:
            return await self._run(call, body)
        except GatewayError as exc:
            # An error after the provider did (and charged for) the work carries that work's usage
            # (images generated but not delivered): it is billed. Any other error bills nothing.
            spent = getattr(exc, "usage", None)
            usage = spent if isinstance(spent, Usage) else None
            self.settle(call, usage, status="error", http_status=exc.status, error=exc)
            raise
        except asyncio.CancelledError:
            self.settle(call, None, status="client_cancelled", http_status=499)
            raise
        except Exception as exc:  # a bug or an unreadable answer: settled, then a clean 502
            log.exception("call %s (%s) failed", call.call_id, operation.name)
            failure = ProviderError(
                f"The gateway failed to complete this request ({type(exc).__name__}; call {call.call_id})."
            )
            self.settle(call, None, status="error", http_status=failure.status, error=failure)
            raise failure from exc

    def refused(
        self,
        principal: Principal,
        operation: Operation,
        error: GatewayError,
        *,
        request_id: str,
        tag: str | None = None,
        origin: str = "http",
        parent_id: str | None = None,
    ) -> None:
        """The ledger entry of a call refused before the pipeline could read it (a body too large)."""
        call = Call(principal, operation, request_id, tag, origin, parent_id)
        self.settle(call, None, status="error", http_status=error.status, error=error)

    async def _run(self, call: Call, body: Any) -> Completed | Streaming:
        op = call.operation
        principal = call.principal
        if principal.sub_account is not None or principal.key_rate_limit_rpm:
            call.rate = await self.admission.count_request(principal)  # 429 past the RPM limit
        parsed = op.validate(body)
        entry = self.resolve(str(body["model"]), op)
        call.model = entry.id
        op.check(entry, parsed)
        prepare = getattr(op, "prepare", None)
        if prepare is not None:  # input read before admission (audio fetched and measured)
            await prepare(body, parsed, self.ctx)
        call.stream = op.wants_stream(parsed)
        route = self.route(entry, call.principal, op.name)
        call.provider = SIMULATED if call.principal.is_test else route.deployment.provider
        call.upstream_model = route.deployment.upstream_model
        call.pricing = route.deployment.pricing or entry.pricing
        await self.ctx.ledger.wait_for_room()
        if not principal.is_test:
            call.scopes = await self.admission.scopes(principal, call.tag)
            await self.admission.admit(call, entry, body, parsed, route)
        target = Target(
            route.deployment.upstream_model, entry.max_output_tokens, entry.capabilities, entry.dimensions
        )
        try:
            request = route.adapter.build_request(body, target, route.vendor, route.credential)
        except orjson.JSONEncodeError as exc:
            raise InvalidRequest(f"The request cannot be encoded for the provider ({exc}).") from None
        raised = request.context.get("max_output_tokens")
        if not principal.is_test and isinstance(raised, int) and raised > call.reserved_output:
            await self.admission.top_up(call, raised)  # the adapter raised the limit (thinking budget)
        transport = self.simulated if call.principal.is_test else self.transport
        call.upstream_started = time.perf_counter()
        response = await transport.send(route.vendor, request)
        if response.status >= 400:
            raw = await read_failure(response)
            call.upstream_ms = _ms_since(call.upstream_started)
            raise upstream_error(
                route.vendor, route.adapter, response.status, raw, response.headers, route.credential
            )
        if call.stream:
            call.upstream_ms = _ms_since(call.upstream_started)
            media = getattr(route.adapter, "media_translator", None)
            if media is not None:  # a binary stream (speech audio): raw bytes, not SSE events
                from aigateway.services.media_relay import open_media

                return await open_media(self, call, response, media(request), route.vendor.name)
            from aigateway.services.relay import relay  # one module a concern; no cycle at import

            chunks = relay(self, call, body, response, route, request)
            return Streaming(
                chunks, self.stream_headers(call), call, lambda: self._abandoned(call, body, response)
            )
        raw = await self._read(response, route.vendor)
        call.upstream_ms = _ms_since(call.upstream_started)
        try:
            translated = route.adapter.parse_response(raw, request)
        except GatewayError:
            raise
        except Exception as exc:  # {"choices": 5}, a list where a dict was due, bad JSON, ...
            raise ProviderError(
                f"Provider '{route.vendor.name}' sent an answer the gateway cannot read "
                f"({type(exc).__name__})."
            ) from exc
        finish = getattr(op, "finish", None)
        if finish is not None:  # I/O after the answer (images: poll, download, store)
            translated = await finish(translated, Finishing(self.ctx, transport, route, request, call))
        usage = translated.usage or op.counted(body, 0)
        cost = self.settle(call, usage, status="ok", http_status=200)
        headers = self.final_headers(call, usage, cost)
        return Completed(translated.body, headers, usage, call, translated.media_type)

    @staticmethod
    async def _read(response: UpstreamResponse, vendor: VendorProfile) -> bytes:
        try:
            return await response.read()
        except TimeoutError as exc:
            raise UpstreamTimeout(f"Provider '{vendor.name}' did not finish its answer in time.") from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(
                f"Provider '{vendor.name}' broke the connection mid-answer ({type(exc).__name__}).",
                retryable=True,
            ) from exc
        finally:
            response.release()

    def _abandoned(self, call: Call, body: Any, response: UpstreamResponse) -> None:
        """A stream closed before it started (the client left first): drop the upstream connection
        (the provider stops generating) and settle with what is known."""
        if not call.settled:
            response.close()
            usage = call.operation.counted(body, 0) if isinstance(body, dict) else Usage(estimated=True)
            self.settle(call, usage, status="client_cancelled", http_status=499)

    # -- resolve and route -----------------------------------------------------------------------
    def resolve(self, model_id: str, op: Operation) -> ModelEntry:
        entry = self.ctx.catalog.get(model_id)
        if entry is None:
            close = self.ctx.catalog.suggest(model_id)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ModelNotFound(
                f"The model '{model_id}' does not exist.{hint} GET /v1/models lists every model.",
                param="model",
            )
        if entry.modality not in op.modalities:
            raise InvalidRequest(
                f"'{entry.id}' is a{'n' if entry.modality[0] in 'aeiou' else ''} {entry.modality} model; "
                f"it cannot serve {op.endpoint}.",
                param="model",
            )
        return entry

    def route(self, entry: ModelEntry, principal: Principal, operation: str) -> Route:
        """The first deployment the gateway can serve: an adapter for its wire, and credentials.

        Test keys take the first deployment with an adapter, whatever its credentials: the simulated
        transport answers it in that provider's own wire format.
        """
        first_missing: VendorProfile | None = None
        unsupported: list[str] = []
        for deployment in entry.deployments:
            base = self.ctx.vendors.get(deployment.provider)
            if base is None:
                continue
            vendor = base.for_operation(operation)
            adapter = self.adapters.get((vendor.wire, operation))
            if adapter is None:
                unsupported.append(f"{vendor.name} ({vendor.wire} wire)")
                continue
            if principal.is_test:
                return Route(deployment, vendor, adapter, SIMULATED_CREDENTIAL)
            credential = vendor.credential()
            if (credential is None and vendor.key_required) or not vendor.base_url:
                first_missing = first_missing or base
                continue
            return Route(deployment, vendor, adapter, credential)
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

    # -- price and settle ------------------------------------------------------------------------
    def price(self, call: Call, usage: Usage) -> int:
        if call.principal.is_test or call.pricing is None:
            return 0
        multiplier = basis_multiplier(call.price_basis, self.ctx.settings.cache_hit_price_fraction)
        return price_usage(usage, call.pricing, multiplier)

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
            return call.cost
        call.settled = True
        usage = usage or Usage()
        cost = self.price(call, usage)  # an error's usage is empty unless the provider charged for it
        call.cost = cost
        if call.reserved or cost:
            self.admission.release(call, cost)
            call.reserved = 0
        units = call.units = billed_units(usage, call.pricing or _NO_PRICES)
        self.ctx.ledger.record(
            LedgerEntry(
                request_id=call.request_id,
                call_id=call.call_id,
                account_id=call.principal.account_id,
                sub_account_id=call.principal.sub_account_id,
                key_id=call.principal.key_id,
                endpoint=call.operation.endpoint,
                operation=call.operation.name,
                origin=call.origin,
                parent_id=call.parent_id,
                price_basis=call.price_basis,
                unit_kind=units.kind,
                model=call.model,
                provider=call.provider,
                upstream_model=call.upstream_model,
                mode=call.principal.mode,
                status=status,
                http_status=http_status,
                stream=call.stream,
                tag=call.tag,
                error_type=error.error_type if error else None,
                input_units=_ledger_units(usage, units.kind, "input"),
                cached_input_units=usage.cached_input_tokens,
                cache_write_units=usage.cache_write_tokens,
                output_units=_ledger_units(usage, units.kind, "output"),
                reasoning_units=usage.reasoning_tokens,
                usage_estimated=usage.estimated,
                cost_nanousd=cost,
                latency_ms=call.upstream_ms or _ms_since(call.started),
                detail=error.message[:1000] if error else None,
                meters=usage.meters() or None,
            )
        )
        return cost

    # -- headers ---------------------------------------------------------------------------------
    def stream_headers(self, call: Call) -> dict[str, str]:
        headers = {
            "X-Request-Id": call.request_id,
            "X-Call-Id": call.call_id,
            "X-Model": call.model,
            "X-Provider": call.provider,
            "X-Latency-Ms": str(call.upstream_ms),
            "X-Cache-Status": "miss",
        }
        if call.output_lowered is not None:
            headers["X-Output-Limit"] = str(call.output_lowered)
        if call.rate is not None:
            headers.update(rate_headers(call.rate))
        return headers

    def final_headers(self, call: Call, usage: Usage, cost: int) -> dict[str, str]:
        headers = self.stream_headers(call)
        units = call.units or billed_units(usage, call.pricing or _NO_PRICES)
        headers["X-Cost-Cents"] = nano_to_cents_str(cost)
        headers["X-Unit-Kind"] = units.kind
        headers["X-Input-Units"] = units.input
        headers["X-Output-Units"] = units.output
        return headers


_NO_PRICES = Pricing()


def _ledger_units(usage: Usage, kind: str, side: str) -> int:
    """The ledger's input/output units in the billed unit (seconds are stored as milliseconds)."""
    inbound = side == "input"
    if kind == "queries":
        return usage.queries if inbound else 0
    if kind == "pages":
        return usage.pages if inbound else 0
    if kind == "images":
        return usage.input_images if inbound else usage.output_images
    if kind == "seconds":
        return (usage.input_ms or usage.compute_ms) if inbound else usage.output_ms
    if kind == "characters":
        return usage.characters if inbound else 0
    return usage.input_tokens if inbound else usage.output_tokens


def _ms_since(start: float) -> int:
    return int((time.perf_counter() - start) * 1000)


def ms_since(start: float) -> int:
    return _ms_since(start)
