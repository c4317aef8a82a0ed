"""Wire-agnostic response delivery: writes a prepared reply while applying an injected fault.

Every wire module (OpenAI today; Anthropic, Gemini later) builds a `Reply` and hands it to
`deliver()`, wrapped in `guarded()` so the request log learns whether the client stayed to the end.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from aigateway.simulators.faults import CUT, HANG, RESET, STATUS, Fault
from aigateway.simulators.state import ABORTED, CLIENT_DISCONNECTED, COMPLETED, RequestRecord

JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"

ErrorBodyFactory = Callable[[int], bytes]


@dataclass(slots=True)
class Reply:
    """A complete answer: a plain body, or (when `chunks` is set) a stream written chunk by chunk."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    chunks: Sequence[bytes] | None = None


def request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {**(headers or {}), "Content-Type": JSON_TYPE}, orjson.dumps(payload))


async def guarded(record: RequestRecord, work: Coroutine[Any, Any, web.StreamResponse]) -> web.StreamResponse:
    """Run a handler body and record its outcome (completed / client_disconnected / aborted)."""
    try:
        response = await work
    except asyncio.CancelledError:  # aiohttp cancels the handler when the peer goes away
        record.finish(CLIENT_DISCONNECTED)
        raise
    except ConnectionError:  # a write hit a closed connection
        record.finish(CLIENT_DISCONNECTED, override_completed=True)
        return web.Response(status=499)  # never reaches the client; aiohttp drops it quietly
    record.finish(COMPLETED)
    return response


def _abort(
    request: web.BaseRequest,
    record: RequestRecord,
    response: web.StreamResponse | None = None,
    *,
    graceful: bool = False,
) -> web.StreamResponse:
    """Drop the connection: `graceful` flushes what was written (cut), otherwise reset at once."""
    record.finish(ABORTED)  # before the client can notice, so the log is never behind the client
    transport = request.transport
    if transport is not None:
        if graceful:
            transport.close()
        else:
            transport.abort()
    return response if response is not None else web.Response(status=499)


def _fault_reply(fault: Fault, base_headers: dict[str, str], error_body: ErrorBodyFactory) -> Reply:
    headers = {k: v for k, v in base_headers.items() if k.lower() == "x-request-id"}
    headers["Content-Type"] = JSON_TYPE
    if fault.retry_after is not None:
        headers["retry-after"] = fault.retry_after
    if fault.body is None:
        body = error_body(fault.status)
    elif isinstance(fault.body, str):
        body = fault.body.encode("utf-8")
    else:
        body = orjson.dumps(fault.body)
    return Reply(fault.status, headers, body)


async def _send_body(
    request: web.BaseRequest, record: RequestRecord, reply: Reply, cut: bool
) -> web.StreamResponse:
    if cut:
        response = web.StreamResponse(status=reply.status, headers=reply.headers)
        response.content_length = len(reply.body)
        await response.prepare(request)
        await response.write(reply.body[: len(reply.body) // 2])
        return _abort(request, record, response, graceful=True)
    response = web.Response(status=reply.status, headers=reply.headers, body=reply.body)
    # The log is updated before the bytes leave, so a client that got the answer always sees it logged.
    record.chunks_sent = 1
    record.finish(COMPLETED)
    await response.prepare(request)
    await response.write_eof()
    return response


async def _send_chunks(
    request: web.BaseRequest, record: RequestRecord, reply: Reply, delay: float, cut: int | None
) -> web.StreamResponse:
    response = web.StreamResponse(status=reply.status, headers=reply.headers)
    await response.prepare(request)
    chunks = reply.chunks or ()
    for index, chunk in enumerate(chunks):
        if cut is not None and index >= cut:
            break
        if delay and index:
            await asyncio.sleep(delay)
        record.chunks_sent += 1  # counted before the write so the log is never behind the client
        if cut is None and index == len(chunks) - 1:
            record.finish(COMPLETED)
        await response.write(chunk)
    if cut is not None:
        return _abort(request, record, response, graceful=True)
    record.finish(COMPLETED)
    await response.write_eof()
    return response


async def deliver(
    request: web.BaseRequest,
    record: RequestRecord,
    reply: Reply,
    fault: Fault | None,
    *,
    closing: asyncio.Event,
    error_body: ErrorBodyFactory,
) -> web.StreamResponse:
    """Write `reply`, misbehaving as `fault` says (see `Fault` for the kinds)."""
    cut: int | None = None
    delay = 0.0
    if fault is not None:
        record.fault = fault.to_json()
        if fault.delay_before > 0:
            await asyncio.sleep(fault.delay_before)
        if fault.kind == HANG:
            await closing.wait()  # until the client gives up (handler cancelled) or the server stops
            return _abort(request, record)
        if fault.kind == RESET:
            return _abort(request, record)
        if fault.kind == STATUS:
            reply = _fault_reply(fault, reply.headers, error_body)
        if fault.kind == CUT:
            cut = fault.after_chunks
        delay = fault.chunk_delay
    record.status = reply.status
    if reply.chunks is not None:
        return await _send_chunks(request, record, reply, delay, cut)
    return await _send_body(request, record, reply, cut is not None)
