"""Request-scoped helpers for the FastAPI routes (authentication, request ids)."""

from __future__ import annotations

from fastapi import Request, Response

from aigateway.api.calls import request_id_of
from aigateway.services.auth import Principal
from aigateway.services.context import GatewayContext


def context(request: Request) -> GatewayContext:
    ctx: GatewayContext = request.app.state.ctx
    return ctx


async def principal(request: Request, response: Response) -> Principal:
    rid = request_id_of(request)
    request.state.request_id = rid
    response.headers["X-Request-Id"] = rid
    return await context(request).keys.authenticate(request.headers.get("authorization"))
