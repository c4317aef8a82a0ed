"""A JSON-in, JSON-out simulator endpoint (embeddings, rerank) and each such wire's conventions.

`serve()` does for one request what the chat wires do: read and log it, check the key the way the
wire does, replay a recording when the model is ``rec:<key>`` (or Gemini's ``rec.<provider>.<file>``),
otherwise answer with the wire's synthesizer (a pure function giving an `Answer`), and deliver the
reply through the responder so faults (``state.faults.pop(model)``) apply. A request the synthesizer
refuses (a 400 in the wire's shape) is answered at once and consumes no fault. Synthesized 200
answers are cached by route and body bytes.

A `JsonWire` holds what differs between wires: the name in the request log, how the key is checked,
and the bodies of a missing key, a missing recording and an injected status fault.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from aigateway.simulators import openai_wire
from aigateway.simulators.answers import (
    CLOUDFLARE_AUTH_ERROR,
    Answer,
    cloudflare_error,
    cohere_error,
    detail_error,
    openai_error,
)
from aigateway.simulators.recordings import Recording
from aigateway.simulators.responder import JSON_TYPE, ErrorBodyFactory, Reply, deliver, guarded, request_id
from aigateway.simulators.state import STATE_KEY, RequestRecord, SimulatorState

RECORDING_PREFIX = "rec:"
DOTTED_RECORDING_PREFIX = "rec."  # Gemini's form: the model sits in the URL, where ':' starts the method
_SKIPPED_REPLAY_HEADERS = frozenset(
    {"content-length", "content-encoding", "content-type", "transfer-encoding", "connection", "keep-alive"}
    | {"date", "server"}
)
_FAULT_MESSAGES = {
    401: "Unauthorized (simulated).",
    403: "Forbidden (simulated).",
    404: "Not found (simulated).",
    429: "Rate limit exceeded (simulated).",
    500: "Internal server error (simulated).",
    502: "Bad gateway (simulated).",
    503: "Service unavailable (simulated).",
    504: "Gateway timeout (simulated).",
}

Synthesizer = Callable[[Any], Answer]


def bearer(request: web.BaseRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def fault_message(status: int) -> str:
    return _FAULT_MESSAGES.get(status, f"Simulated error {status}.")


@dataclass(frozen=True, slots=True)
class JsonWire:
    """How one JSON wire authenticates and what its error bodies look like."""

    name: str
    error_body: ErrorBodyFactory  # an injected status fault
    unauthorized: Answer
    not_found: Callable[[str], Answer]  # a model (recording) that does not exist
    authorized: Callable[[web.BaseRequest], bool] = bearer


OPENAI = JsonWire(
    "openai",
    openai_wire.default_error_body,
    openai_error(
        401,
        "You didn't provide an API key (simulated): use the Authorization: Bearer header.",
        code="invalid_api_key",
    ),
    lambda model: openai_error(
        404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
    ),
)
VOYAGE = JsonWire(
    "voyage",
    lambda status: orjson.dumps(detail_error(status, fault_message(status)).payload),
    detail_error(401, "Provided API key is invalid (simulated)."),
    lambda model: detail_error(400, f"Model {model} is not supported."),
)
JINA = JsonWire(
    "jina",
    lambda status: orjson.dumps(detail_error(status, fault_message(status)).payload),
    detail_error(401, "Authentication failed: invalid or missing API key (simulated)."),
    lambda model: detail_error(400, f"Model {model} is not supported."),
)
COHERE = JsonWire(
    "cohere",
    lambda status: orjson.dumps(cohere_error(status, fault_message(status)).payload),
    cohere_error(401, "no api key supplied"),
    lambda model: cohere_error(
        404,
        f"model '{model}' not found, make sure the correct model ID was used and that you have access "
        "to the model.",
    ),
)
CLOUDFLARE = JsonWire(
    "cloudflare",
    lambda status: orjson.dumps(cloudflare_error(status, fault_message(status), code=status).payload),
    cloudflare_error(401, "Authentication error", code=CLOUDFLARE_AUTH_ERROR),
    lambda model: cloudflare_error(400, f"AiError: No such model {model} or task", code=5007),
)


def recording_key(model: str | None) -> str | None:
    """The recording a model names (``rec:openai/x`` or ``rec.openai.x``), or None."""
    if model is None:
        return None
    if model.startswith(RECORDING_PREFIX):
        return model[len(RECORDING_PREFIX) :]
    if model.startswith(DOTTED_RECORDING_PREFIX):
        return model[len(DOTTED_RECORDING_PREFIX) :].replace(".", "/", 1)
    return None


def answer_reply(answer: Answer, base: dict[str, str]) -> Reply:
    return Reply(answer.status, {**base, "Content-Type": JSON_TYPE}, orjson.dumps(answer.payload))


def replay(recording: Recording, base: dict[str, str]) -> Reply:
    """A recording's status, headers (hop-by-hop ones left out) and exact body."""
    headers = {k: v for k, v in recording.headers.items() if k.lower() not in _SKIPPED_REPLAY_HEADERS}
    if any(k.lower() == "x-request-id" for k in headers):
        base = {}
    headers = {**base, **headers, "Content-Type": recording.content_type}
    return Reply(recording.status, headers, recording.body, recording.chunks if recording.is_sse else None)


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def _synthesized(
    request: web.Request, state: SimulatorState, raw: bytes, body: Any, synthesize: Synthesizer
) -> tuple[int, bytes]:
    key = hashlib.sha256(request.path.encode() + b"\x00" + raw).digest()
    cached = state.cache.get(key)
    if cached is not None:
        return 200, cached
    answer = synthesize(body)
    payload = orjson.dumps(answer.payload)
    if answer.ok:
        state.cache.put(key, payload)
    return answer.status, payload


async def _answer(
    request: web.Request,
    state: SimulatorState,
    record: RequestRecord,
    wire: JsonWire,
    work: tuple[bytes, Any, Synthesizer],
) -> web.StreamResponse:
    raw, body, synthesize = work
    base = {"x-request-id": request_id()}
    fault = None
    if not wire.authorized(request):
        reply = answer_reply(wire.unauthorized, base)
    elif (key := recording_key(record.model)) is not None:
        fault = state.faults.pop(record.model)
        recording = state.recordings.get(key)
        reply = (
            replay(recording, base) if recording else answer_reply(wire.not_found(str(record.model)), base)
        )
    else:
        status, payload = _synthesized(request, state, raw, body, synthesize)
        if status < 400:
            fault = state.faults.pop(record.model)
        reply = Reply(status, {**base, "Content-Type": JSON_TYPE}, payload)
    return await deliver(request, record, reply, fault, closing=state.closing, error_body=wire.error_body)


async def serve(
    request: web.Request, wire: JsonWire, synthesize: Synthesizer, model: str | None = None
) -> web.StreamResponse:
    """Answer one JSON request; ``model`` is the URL's model where the wire puts it there."""
    state = request.app[STATE_KEY]
    raw = await request.read()
    body = _parse(raw)
    if model is None and isinstance(body, dict):
        named = body.get("model")
        model = named if isinstance(named, str) and named else None
    record = state.log.add(request, wire=wire.name, body=body, raw=raw, model=model)
    return await guarded(record, _answer(request, state, record, wire, (raw, body, synthesize)))
