"""Audio routes of the simulator (server.py registers each group).

Speech to text (``register``):

* ``POST .../audio/transcriptions`` and ``.../audio/translations``: OpenAI's multipart API (Groq's
  too); Mistral's Voxtral under a prefix containing "mistral". Keys are ``Authorization: Bearer``.
* ``POST .../listen?model=...``: Deepgram pre-recorded (the audio as the body, or ``{"url"}``, which
  the simulator does not fetch: only a recording answers it). Keys are ``Authorization: Token``.
* ``POST .../speech-to-text``: ElevenLabs (multipart ``model_id``, ``file``), key in ``xi-api-key``.
* ``GET .../sim-audio/{seconds}.wav``: a silent 8 kHz mono WAV of that length, for ``audio_url``.

Answers come from synth_transcripts (a deterministic transcript as long as the audio); a model
``rec:<key>`` replays that recording byte for byte (e.g. ``rec:openai/audio-transcriptions-verbose-
json``, ``rec:deepgram/listen-prerecorded-url``); faults and the request log apply per model.

Text to speech (``register_speech``): ``.../audio/speech`` (OpenAI, Groq), ``.../speak`` (Deepgram),
``.../text-to-speech/{voice_id}[/stream]`` (ElevenLabs) and ``.../t2a_v2`` (MiniMax); see below.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from aigateway.simulators import synth_transcripts
from aigateway.simulators.answers import Answer, detail_error
from aigateway.simulators.json_endpoint import (
    OPENAI,
    JsonWire,
    answer_reply,
    bearer,
    fault_message,
    recording_key,
    replay,
)
from aigateway.simulators.responder import JSON_TYPE, Reply, deliver, guarded, request_id
from aigateway.simulators.state import STATE_KEY, RequestRecord, SimulatorState
from aigateway.simulators.synth_audio import chunked, simulated_speech

TRANSCRIBE_PATH = r"/{prefix:(?:.*/)?}audio/transcriptions"
TRANSLATE_PATH = r"/{prefix:(?:.*/)?}audio/translations"
LISTEN_PATH = r"/{prefix:(?:.*/)?}listen"
ELEVENLABS_PATH = r"/{prefix:(?:.*/)?}speech-to-text"
SAMPLE_PATH = r"/{prefix:(?:.*/)?}sim-audio/{seconds:[0-9]+(?:\.[0-9]+)?}.wav"
MAX_SAMPLE_SECONDS = 600.0


def _deepgram_error(status: int, message: str) -> Answer:
    return Answer(status, {"err_code": "INVALID_AUTH" if status == 401 else "Error", "err_msg": message})


DEEPGRAM = JsonWire(
    "deepgram",
    lambda status: orjson.dumps(_deepgram_error(status, fault_message(status)).payload),
    _deepgram_error(401, "Invalid credentials."),
    lambda model: _deepgram_error(400, f"No such model/version/language combination found: {model}"),
    authorized=lambda request: (
        request.headers.get("Authorization", "").startswith("Token ")
        and len(request.headers["Authorization"]) > 6
    ),
)
ELEVENLABS = JsonWire(
    "elevenlabs",
    lambda status: orjson.dumps({"detail": {"status": "error", "message": fault_message(status)}}),
    Answer(401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}),
    lambda model: detail_error(400, f"Model {model} is not supported."),
    authorized=lambda request: bool(request.headers.get("xi-api-key", "").strip()),
)
MISTRAL = JsonWire("mistral", OPENAI.error_body, OPENAI.unauthorized, OPENAI.not_found)


def register(app: web.Application) -> None:
    app.router.add_post(TRANSCRIBE_PATH, transcriptions)
    app.router.add_post(TRANSLATE_PATH, translations)
    app.router.add_post(LISTEN_PATH, listen)
    app.router.add_post(ELEVENLABS_PATH, elevenlabs)
    app.router.add_get(SAMPLE_PATH, sample_wav)


def silent_wav(seconds: float, rate: int = 8000) -> bytes:
    data = bytes(round(seconds * rate) * 2)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = (
        b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


async def sample_wav(request: web.Request) -> web.Response:
    seconds = min(float(request.match_info["seconds"]), MAX_SAMPLE_SECONDS)
    return web.Response(body=silent_wav(seconds), content_type="audio/wav")


async def _form(request: web.Request) -> tuple[dict[str, str], bytes | None]:
    fields: dict[str, str] = {}
    audio: bytes | None = None
    if not request.content_type.startswith("multipart/"):
        return fields, None
    post = await request.post()
    for name, value in post.items():
        if hasattr(value, "file"):
            audio = value.file.read()
            continue
        key = name[:-2] if name.endswith("[]") else name
        text = str(value)
        fields[key] = f"{fields[key]},{text}" if key in fields else text
    return fields, audio


def _reply(reply: synth_transcripts.Reply, base: dict[str, str]) -> Reply:
    if isinstance(reply.body, str):
        return Reply(reply.status, {**base, "Content-Type": reply.content_type}, reply.body.encode())
    return Reply(reply.status, {**base, "Content-Type": JSON_TYPE}, orjson.dumps(reply.body))


async def _answer(
    request: web.Request,
    state: SimulatorState,
    record: RequestRecord,
    wire: JsonWire,
    synthesize: Any,
) -> web.StreamResponse:
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
        reply = _reply(synthesize(), base)
        if reply.status < 400:
            fault = state.faults.pop(record.model)
    return await deliver(request, record, reply, fault, closing=state.closing, error_body=wire.error_body)


async def _serve_form(
    request: web.Request, wire: JsonWire, model_key: str, synthesize: Any
) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    fields, audio = await _form(request)
    model = fields.get(model_key) or None
    logged = {**fields, "file_bytes": len(audio) if audio is not None else None}
    record = state.log.add(request, wire=wire.name, body=logged, raw=b"", model=model)
    return await guarded(record, _answer(request, state, record, wire, lambda: synthesize(fields, audio)))


async def transcriptions(request: web.Request) -> web.StreamResponse:
    if "mistral" in request.match_info.get("prefix", "").lower():
        return await _serve_form(request, MISTRAL, "model", synth_transcripts.mistral_transcription)
    return await _serve_form(
        request, OPENAI, "model", lambda f, a: synth_transcripts.openai_transcription(f, a, "transcribe")
    )


async def translations(request: web.Request) -> web.StreamResponse:
    return await _serve_form(
        request, OPENAI, "model", lambda f, a: synth_transcripts.openai_transcription(f, a, "translate")
    )


async def elevenlabs(request: web.Request) -> web.StreamResponse:
    return await _serve_form(request, ELEVENLABS, "model_id", synth_transcripts.elevenlabs_stt)


async def listen(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    raw = await request.read()
    model = request.query.get("model") or None
    url_body: Any = None
    if request.content_type == JSON_TYPE:
        try:
            url_body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            url_body = None
    logged = url_body if isinstance(url_body, dict) else {"audio_bytes": len(raw)}
    record = state.log.add(request, wire=DEEPGRAM.name, body=logged, raw=b"", model=model)
    audio = None if isinstance(url_body, dict) else raw
    language = request.query.get("language")

    def synthesize() -> synth_transcripts.Reply:
        return synth_transcripts.deepgram_listen(model or "", audio, language)

    return await guarded(record, _answer(request, state, record, DEEPGRAM, synthesize))


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
    "mistral": (bearer, _openai_tts_error),
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
    """OpenAI's shape, or Mistral's under a prefix naming it (``/mistral/v1/audio/speech``)."""
    wire = "mistral" if "mistral" in request.match_info.get("prefix", "").lower() else "openai"
    return await _serve_speech(request, wire, "model")


async def deepgram_speak(request: web.Request) -> web.StreamResponse:
    return await _serve_speech(request, "deepgram", None)


async def elevenlabs_speech(request: web.Request) -> web.StreamResponse:
    return await _serve_speech(request, "elevenlabs", "model_id")


async def minimax_t2a(request: web.Request) -> web.StreamResponse:
    return await _serve_speech(request, "minimax", "model")
