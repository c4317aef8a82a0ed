"""POST /v1/chat/completions: a plain Starlette endpoint.

The hot path skips FastAPI's dependency and response-model machinery (measured: it costs more
than the rest of the gateway's own work on a small request); the body is parsed once with orjson
and checked with the pydantic schema in api/schemas.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from aigateway.api.errors import error_response
from aigateway.api.schemas import validate_chat
from aigateway.api.sse import EventStreamResponse
from aigateway.core.errors import GatewayError, InvalidRequest, PayloadTooLarge
from aigateway.services.chat import Call, ChatService, Completed


def request_id_of(request: Request) -> str:
    inbound = request.headers.get("x-request-id")
    if inbound and len(inbound) <= 128 and inbound.isprintable():
        return inbound
    return "req_" + uuid.uuid4().hex


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is larger than the {limit}-byte limit.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body is larger than the {limit}-byte limit.")
        chunks.append(chunk)
    return b"".join(chunks)


ChatEndpoint = Callable[[Request], Awaitable[Response]]


def make_chat_endpoint(service: ChatService) -> ChatEndpoint:
    ctx = service.ctx
    limit = ctx.settings.max_body_bytes

    async def chat_completions(request: Request) -> Response:
        request_id = request_id_of(request)
        request.state.request_id = request_id
        try:
            principal = await ctx.keys.authenticate(request.headers.get("authorization"))
        except GatewayError as exc:
            return error_response(exc, request_id)  # no account, so no ledger entry
        call = Call(request_id, principal, request.headers.get("x-aig-tag"), False)
        try:
            raw = await read_body(request, limit)
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InvalidRequest(f"The request body is not valid JSON ({exc.msg}).") from None
            if isinstance(body, dict) and isinstance(body.get("model"), str):
                call.model = body["model"][:200]
            parsed = validate_chat(body)
            if parsed.model_extra and "webhook_url" in parsed.model_extra:
                raise InvalidRequest(
                    "webhook_url (async delivery) is not available on this gateway yet.", param="webhook_url"
                )
            call.stream = bool(parsed.stream)
            result = await service.create(call, body, parsed)
        except GatewayError as exc:
            # Every authenticated call leaves exactly one ledger entry, rejected ones included.
            service.settle(call, None, status="error", http_status=exc.status, error=exc)
            return error_response(exc, request_id)
        if isinstance(result, Completed):
            return Response(result.body, headers=result.headers, media_type="application/json")
        return EventStreamResponse(result.chunks, result.headers)

    return chat_completions
