"""OpenAI chat wire of the simulator: `POST .../chat/completions` and `GET .../models`.

Any path prefix is accepted (`/v1/chat/completions`, `/openai/v1/chat/completions`, `/chat/completions`)
so several "vendors" can point at one simulator. A model named `rec:<key>` replays that recording;
anything else is answered by the deterministic simulated provider.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from aiohttp import web

from aigateway.providers.simulated import synthesize_chunks, synthesize_completion
from aigateway.simulators.responder import (
    JSON_TYPE,
    SSE_TYPE,
    Reply,
    deliver,
    guarded,
    json_reply,
    request_id,
)
from aigateway.simulators.state import STATE_KEY, RequestRecord, SimulatorState

WIRE = "openai"
CHAT_PATH = r"/{prefix:(?:.*/)?}chat/completions"
MODELS_PATH = r"/{prefix:(?:.*/)?}models"
RECORDING_PREFIX = "rec:"
_DONE = b"data: [DONE]\n\n"
_SKIPPED_REPLAY_HEADERS = frozenset(
    {
        "content-length",
        "content-encoding",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "date",
        "server",
    }
)
_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request (simulated).", "invalid_request_error", None),
    401: ("Incorrect API key provided (simulated).", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to access this resource (simulated).", "invalid_request_error", "forbidden"),
    404: ("Not found (simulated).", "invalid_request_error", "not_found"),
    408: ("Request timed out (simulated).", "timeout", "timeout"),
    409: ("Conflict (simulated).", "invalid_request_error", "conflict"),
    413: ("Request too large (simulated).", "invalid_request_error", "request_too_large"),
    422: ("Unprocessable request (simulated).", "invalid_request_error", None),
    429: ("Rate limit reached for requests (simulated).", "requests", "rate_limit_exceeded"),
    500: (
        "The server had an error while processing your request (simulated).",
        "server_error",
        "server_error",
    ),
    502: ("Bad gateway (simulated).", "server_error", "bad_gateway"),
    503: (
        "The engine is currently overloaded, please try again later (simulated).",
        "service_unavailable",
        "overloaded",
    ),
    504: ("Gateway timeout (simulated).", "server_error", "timeout"),
}


def error_payload(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def default_error_body(status: int) -> bytes:
    """OpenAI-shaped error body for an injected status fault."""
    message, type_, code = _DEFAULT_ERRORS.get(
        status,
        (f"Simulated error {status}.", "invalid_request_error" if status < 500 else "server_error", None),
    )
    return orjson.dumps(error_payload(message, type_, code))


def register(app: web.Application) -> None:
    app.router.add_post(CHAT_PATH, chat_completions)
    app.router.add_get(MODELS_PATH, list_models)


def _authorized(request: web.BaseRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _parse_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def _replay(state: SimulatorState, model: str, base: dict[str, str]) -> Reply:
    key = model[len(RECORDING_PREFIX) :]
    recording = state.recordings.get(key)
    if recording is None:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return json_reply(404, error_payload(message, "invalid_request_error", "model_not_found"), base)
    headers = {k: v for k, v in recording.headers.items() if k.lower() not in _SKIPPED_REPLAY_HEADERS}
    if any(k.lower() == "x-request-id" for k in headers):
        base = {}
    headers = {**base, **headers, "Content-Type": recording.content_type}
    return Reply(recording.status, headers, recording.body, recording.chunks if recording.is_sse else None)


def _synthesize(state: SimulatorState, body: dict[str, Any], model: str, base: dict[str, str]) -> Reply:
    stream = body.get("stream") is True
    key: bytes | None
    try:
        key = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
    except (orjson.JSONEncodeError, TypeError):
        key = None
    cached = state.cache.get(key) if key is not None else None
    payload: bytes | tuple[bytes, ...]
    if cached is not None:
        payload = cached
    elif stream:
        chunks = synthesize_chunks(body, model=model)
        payload = (*(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks), _DONE)
    else:
        payload = orjson.dumps(synthesize_completion(body, model=model))
    if cached is None and key is not None:
        state.cache.put(key, payload)
    if isinstance(payload, tuple):
        headers = {**base, "Content-Type": SSE_TYPE, "Cache-Control": "no-cache"}
        return Reply(200, headers, chunks=payload)
    return Reply(200, {**base, "Content-Type": JSON_TYPE}, payload)


async def _reject(
    request: web.Request, state: SimulatorState, record: RequestRecord, reply: Reply
) -> web.StreamResponse:
    return await deliver(request, record, reply, None, closing=state.closing, error_body=default_error_body)


async def _answer(
    request: web.Request, state: SimulatorState, record: RequestRecord, body: Any
) -> web.StreamResponse:
    base = {"x-request-id": request_id()}
    model = record.model
    if not _authorized(request):
        message = "You didn't provide an API key (simulated): use the Authorization: Bearer header."
        payload = error_payload(message, "invalid_request_error", "invalid_api_key")
        return await _reject(request, state, record, json_reply(401, payload, base))
    if not isinstance(body, dict):
        message = "We could not parse the JSON body of your request (simulated)."
        payload = error_payload(message, "invalid_request_error", None)
        return await _reject(request, state, record, json_reply(400, payload, base))
    if model is None:
        payload = error_payload("You must provide a model parameter.", "invalid_request_error", None, "model")
        return await _reject(request, state, record, json_reply(400, payload, base))
    fault = state.faults.pop(model)
    if model.startswith(RECORDING_PREFIX):
        reply = _replay(state, model, base)
    else:
        reply = _synthesize(state, body, model, base)
    return await deliver(request, record, reply, fault, closing=state.closing, error_body=default_error_body)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    raw = await request.read()
    body = _parse_body(raw)
    model = body.get("model") if isinstance(body, dict) else None
    model = model if isinstance(model, str) and model else None
    record = state.log.add(request, wire=WIRE, body=body, raw=raw, model=model)
    record.stream = isinstance(body, dict) and body.get("stream") is True
    return await guarded(record, _answer(request, state, record, body))


async def list_models(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    data = [
        {"id": f"{RECORDING_PREFIX}{key}", "object": "model", "created": 0, "owned_by": rec.provider}
        for key, rec in sorted(state.recordings.items())
    ]
    return web.Response(body=orjson.dumps({"object": "list", "data": data}), content_type=JSON_TYPE)
