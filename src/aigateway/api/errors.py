"""The error envelope at the HTTP boundary: every failure leaves as ``{"error": {...}}``."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from aigateway.core.errors import (
    AuthenticationError,
    GatewayError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ProviderError,
)

log = logging.getLogger("aigateway.api")


def error_response(exc: GatewayError, request_id: str | None = None) -> Response:
    headers = dict(exc.headers)
    if request_id:
        headers["X-Request-Id"] = request_id
    return Response(
        orjson.dumps(exc.body()), status_code=exc.status, headers=headers, media_type="application/json"
    )


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None) or request.headers.get("x-request-id")


def install_error_handlers(app: FastAPI) -> None:
    async def on_gateway_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return error_response(exc, _request_id(request))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        loc = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        message = f"Invalid '{loc}': {first.get('msg', 'invalid value')}." if loc else "Invalid request."
        return error_response(InvalidRequest(message, param=loc or None), _request_id(request))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        mapped: GatewayError
        if exc.status_code == 404:
            mapped = NotFound(f"No route {request.method} {request.url.path}.")
        elif exc.status_code == 405:
            mapped = MethodNotAllowed(f"Method {request.method} is not allowed on {request.url.path}.")
        elif exc.status_code == 401:
            mapped = AuthenticationError(str(exc.detail))
        elif exc.status_code == 413:
            mapped = PayloadTooLarge(str(exc.detail))
        else:
            mapped = InvalidRequest(str(exc.detail))
            mapped.status = exc.status_code
        return error_response(mapped, _request_id(request))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # A bug, not bad input: logged with its traceback here, never sent to the client.
        rid = _request_id(request)
        log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, rid)
        failure = ProviderError(f"The gateway failed to complete this request (request id {rid}).")
        return error_response(failure, rid)

    app.add_exception_handler(GatewayError, on_gateway_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
