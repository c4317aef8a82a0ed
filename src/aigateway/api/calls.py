"""The HTTP shell of every model call: authenticate, read the body, call the pipeline, answer.

One plain Starlette endpoint per operation (the hot path skips FastAPI's dependency and
response-model machinery: measured, it cost more than the rest of the gateway's own work on a small
request). The body is JSON (parsed once with orjson) or, for operations that take uploads, a
multipart form; the operation validates it; the answer is JSON, binary media (the operation's
media type) or a stream (events, or streamed media). Headers the gateway stores are checked here,
at the edge, so a bad one is a clear 400 and never a row the ledger cannot write.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from aigateway.api.errors import error_response
from aigateway.api.sse import EventStreamResponse
from aigateway.core.errors import GatewayError, InvalidRequest, PayloadTooLarge
from aigateway.core.ledger import MAX_REQUEST_ID, MAX_TAG
from aigateway.services.operations.base import Operation, UploadedFile
from aigateway.services.pipeline import Completed, Gateway
from aigateway.storage.blobs import set_request_base

Endpoint = Callable[[Request], Awaitable[Response]]


_WANTED = frozenset({b"x-request-id", b"x-aig-tag", b"authorization", b"content-type", b"host"})


_ids = random.Random(secrets.randbits(128))


def scan_headers(scope: Scope) -> dict[bytes, bytes]:
    """The few request headers a call needs, in one pass over the raw list (Starlette's Headers view
    scans the whole list again for every lookup; measured, that showed on the hot path)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:
            found[name] = value
    return found


def new_request_id() -> str:
    """``req_`` + 32 hex digits, unique (like the call id, not a secret: no system call per id)."""
    return f"req_{_ids.getrandbits(128):032x}"


class ClientIds:
    """The client's correlation id and tag, as echoed (``echo``) and as stored (``request_id``).

    Header values arrive as bytes; echoing them decoded as latin-1 (the HTTP default) sends the
    client's exact bytes back, while the ledger stores the UTF-8 text the client meant.
    """

    __slots__ = ("echo", "request_id", "tag")

    def __init__(self, headers: dict[bytes, bytes]) -> None:
        inbound = headers.get(b"x-request-id")
        self.tag = None
        if inbound:
            text = _text(inbound)
            if len(text) > MAX_REQUEST_ID or not text.isprintable():
                # Checked before anything else, so the error itself can echo a safe id.
                self.echo = self.request_id = new_request_id()
                raise InvalidRequest(
                    f"Invalid 'X-Request-Id' header: at most {MAX_REQUEST_ID} printable characters.",
                    param="X-Request-Id",
                )
            self.echo, self.request_id = inbound.decode("latin-1"), text
        else:
            self.echo = self.request_id = new_request_id()
        tag = headers.get(b"x-aig-tag")
        if tag is not None:
            text = _text(tag)
            if not text or len(text) > MAX_TAG or not text.isprintable():
                raise InvalidRequest(
                    f"Invalid 'x-aig-tag' header: 1 to {MAX_TAG} printable characters.", param="x-aig-tag"
                )
            self.tag = text


def _text(raw: bytes) -> str:
    """A header value as the client meant it: UTF-8 when it is, else latin-1."""
    try:
        return raw.decode("utf-8") if not raw.isascii() else raw.decode("ascii")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def request_id_of(request: Request) -> str:
    """The id to echo on a non-call route (a bad inbound id is replaced, never refused there)."""
    try:
        return ClientIds(scan_headers(request.scope)).echo
    except InvalidRequest:
        return new_request_id()


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


async def read_request(request: Request, operation: Operation, limit: int) -> Any:
    """The call's body: JSON, or for operations that take uploads a multipart form as a dict.

    A form's text fields become strings (a field sent several times, or named ``x[]``, a list) and
    its files ``UploadedFile``s; the size limit applies to the whole body either way.
    """
    content_type = request.headers.get("content-type", "") if operation.multipart else ""
    if content_type.startswith("multipart/form-data"):
        raw = await read_body(request, limit)
        return await _form(raw, content_type)
    raw = await read_body(request, limit)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"The request body is not valid JSON ({exc.msg}).") from None


async def _form(raw: bytes, content_type: str) -> dict[str, Any]:
    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", content_type.encode("latin-1"))]}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        form = await Request(scope, receive).form(max_files=16, max_fields=256)
    except Exception as exc:  # python-multipart's errors: a malformed body
        raise InvalidRequest(f"The multipart body cannot be read ({exc}).") from None
    out: dict[str, Any] = {}
    for name, value in form.multi_items():
        item: Any
        if isinstance(value, StarletteUpload):
            item = UploadedFile(value.filename or "upload", value.content_type or "", await value.read())
        else:
            item = value
        key = name[:-2] if name.endswith("[]") else name
        if key in out or name.endswith("[]"):
            previous = out.get(key, [])
            out[key] = [*(previous if isinstance(previous, list) else [previous]), item]
        else:
            out[key] = item
    await form.close()
    return out


def make_endpoint(gateway: Gateway, operation: Operation) -> Endpoint:
    ctx = gateway.ctx
    limit = ctx.settings.max_body_bytes
    public_urls = getattr(operation, "public_urls", False)  # answers with URLs on this gateway

    async def endpoint(request: Request) -> Response:
        headers = scan_headers(request.scope)
        try:
            ids = ClientIds(headers)
        except InvalidRequest as exc:
            return error_response(exc, new_request_id())
        request.state.request_id = ids.echo
        if public_urls:
            set_request_base(request.scope, headers.get(b"host"))
        try:
            authorization = headers.get(b"authorization")
            principal = await ctx.keys.authenticate(authorization.decode("latin-1") if authorization else "")
        except GatewayError as exc:
            return error_response(exc, ids.echo)  # no account, so no ledger entry
        try:
            body = await read_request(request, operation, limit)
        except GatewayError as exc:
            # Every authenticated call leaves exactly one ledger entry, unreadable ones included.
            gateway.refused(principal, operation, exc, request_id=ids.request_id, tag=ids.tag)
            return error_response(exc, ids.echo)
        try:
            result = await gateway.call(principal, operation, body, request_id=ids.request_id, tag=ids.tag)
        except GatewayError as exc:
            return error_response(exc, ids.echo)
        result.headers["X-Request-Id"] = ids.echo
        if isinstance(result, Completed):
            return Response(result.body, headers=result.headers, media_type=result.media_type)
        return EventStreamResponse(result, result.headers, media_type=result.media_type)

    return endpoint
