"""Audio routes of the simulator (server.py registers each group).

Text to speech (``register_speech``): ``.../audio/speech`` (OpenAI, Groq), ``.../speak`` (Deepgram),
``.../text-to-speech/{voice_id}[/stream]`` (ElevenLabs) and ``.../t2a_v2`` (MiniMax); see below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from aigateway.simulators.json_endpoint import bearer, fault_message, recording_key, replay
from aigateway.simulators.responder import JSON_TYPE, Reply, deliver, guarded, request_id
from aigateway.simulators.state import STATE_KEY, SimulatorState
from aigateway.simulators.synth_audio import chunked, simulated_speech

# -- text to speech (register_speech) --------------------------------------------------------------
# One route a wire, any path prefix: ``.../audio/speech`` (OpenAI, Groq: Bearer, model in the body),
# ``.../speak?model=...&encoding=...`` (Deepgram: Token, model in the URL), ``.../text-to-speech/
# {voice_id}[/stream]?output_format=...`` (ElevenLabs: xi-api-key, the body's model_id) and
# ``.../t2a_v2`` (MiniMax: Bearer, hex audio in events or one JSON answer). Answers come from
# synth_audio (valid audio as long as the text takes to say) in several chunks; a ``rec:<key>``
# model replays that recording byte for byte, also in chunks (``rec:deepgram/speak-tts-wav``).
SPEECH_PATH = r"/{prefix:(?:.*/)?}audio/speech"
SPEAK_PATH = r"/{prefix:(?:.*/)?}speak"
TTS_PATH = r"/{prefix:(?:.*/)?}text-to-speech/{voice}"
TTS_STREAM_PATH = r"/{prefix:(?:.*/)?}text-to-speech/{voice}/stream"
T2A_PATH = r"/{prefix:(?:.*/)?}t2a_v2"


def register_speech(app: web.Application) -> None:
    app.router.add_post(SPEECH_PATH, openai_speech)
    app.router.add_post(SPEAK_PATH, deepgram_speak)
    app.router.add_post(TTS_STREAM_PATH, elevenlabs_speech)
    app.router.add_post(TTS_PATH, elevenlabs_speech)
    app.router.add_post(T2A_PATH, minimax_t2a)


def _token(request: web.BaseRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "token" and bool(token.strip())


def _xi_key(request: web.BaseRequest) -> bool:
    return bool(request.headers.get("xi-api-key", "").strip())


def _openai_tts_error(status: int, message: str) -> bytes:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return orjson.dumps({"error": error})


def _deepgram_tts_error(status: int, message: str) -> bytes:
    return orjson.dumps({"err_code": "INVALID_AUTH" if status == 401 else "Error", "err_msg": message})


def _elevenlabs_tts_error(status: int, message: str) -> bytes:
    kind = "invalid_api_key" if status == 401 else "error"
    return orjson.dumps({"detail": {"status": kind, "message": message}})


def _minimax_tts_error(status: int, message: str) -> bytes:
    code = 1004 if status == 401 else 1000
    return orjson.dumps({"base_resp": {"status_code": code, "status_msg": message}})


_TTS_WIRES: dict[str, tuple[Callable[[web.BaseRequest], bool], Callable[[int, str], bytes]]] = {
    "openai": (bearer, _openai_tts_error),
    "deepgram": (_token, _deepgram_tts_error),
    "elevenlabs": (_xi_key, _elevenlabs_tts_error),
    "minimax": (bearer, _minimax_tts_error),
}


def _json_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def _named(body: Any, key: str = "model") -> str | None:
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None


def _speech_reply(
    request: web.Request, state: SimulatorState, wire: str, model: str | None, body: Any
) -> tuple[Reply, Any]:
    """The reply to one speech request, and the fault it consumes (if any)."""
    authorized, error_body = _TTS_WIRES[wire]
    base = {"x-request-id": request_id()}
    if not authorized(request):
        return Reply(401, {**base, "Content-Type": JSON_TYPE}, error_body(401, fault_message(401))), None
    key = recording_key(model)
    if key is not None:
        fault = state.faults.pop(model)
        recording = state.recordings.get(key)
        if recording is None:
            message = f"The model `{model}` does not exist (no such recording)."
            return Reply(404, {**base, "Content-Type": JSON_TYPE}, error_body(404, message)), fault
        reply = replay(recording, base)
        if recording.status < 400 and not recording.is_sse:
            reply.chunks = chunked(recording.body)
        return reply, fault
    spoken = simulated_speech(wire, str(request.url), body)
    payload = b"".join(spoken.pieces)
    fault = state.faults.pop(model) if spoken.ok else None
    chunks = spoken.pieces if spoken.ok and len(spoken.pieces) > 1 else None
    return Reply(spoken.status, {**base, "Content-Type": spoken.content_type}, payload, chunks), fault


async def _serve_speech(request: web.Request, wire: str, model_key: str | None) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    raw = await request.read()
    body = _json_body(raw)
    model = request.query.get("model") or None if model_key is None else _named(body, model_key)
    record = state.log.add(request, wire=wire, body=body, raw=raw, model=model)
    error_body = _TTS_WIRES[wire][1]

    async def answer() -> web.StreamResponse:
        reply, fault = _speech_reply(request, state, wire, model, body)
        return await deliver(
            request,
            record,
            reply,
            fault,
            closing=state.closing,
            error_body=lambda status: error_body(status, fault_message(status)),
        )

    return await guarded(record, answer())


async def openai_speech(request: web.Request) -> web.StreamResponse:
    return await _serve_speech(request, "openai", "model")


async def deepgram_speak(request: web.Request) -> web.StreamResponse:
    return await _serve_speech(request, "deepgram", None)


async def elevenlabs_speech(request: web.Request) -> web.StreamResponse:
    return await _serve_speech(request, "elevenlabs", "model_id")


async def minimax_t2a(request: web.Request) -> web.StreamResponse:
    return await _serve_speech(request, "minimax", "model")
