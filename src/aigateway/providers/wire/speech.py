"""Text to speech over the OpenAI wire (OpenAI, Groq and other compatible APIs) and Deepgram's.

Every speech adapter answers with a stream of audio bytes: ``media_translator(request)`` gives the
object the gateway's media relay (services/media_relay.py) feeds each upstream piece through. A
`SpeechTranslator` passes the audio on and meters it: characters of the input (what per-character
models bill), an estimate of the input's tokens (token-priced models; no TTS upstream reports them),
and the seconds of audio relayed, measured from the bytes for ``wav``, ``pcm`` (the WAV header's
rate, or the wire's fixed PCM rate), ``mp3`` and ``aac`` (their frames) and ``opus`` (its Ogg
granule positions); for ``flac`` the provider's own figure, else an estimate from the text. Facts a
call needs between build and relay (the text, the format, the PCM rate) travel in
``UpstreamRequest.context``.

* OpenAI wire: ``POST {base}/audio/speech`` with the client's JSON (model replaced by the upstream's);
  the answer is the audio itself, chunked.
* Deepgram: ``POST {base}/speak?model=aura-2-<voice>-<lang>&encoding=...`` with ``{"text"}`` and
  ``Authorization: Token``. A model id of a family (``aura-2-en``) takes the voice from ``voice``
  (``thalia`` -> ``aura-2-thalia-en``); a full voice model is used as it is.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

import orjson

from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import (
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.openai import auth_headers
from aigateway.providers.wire.speech_meters import AdtsCounter, Mp3Counter, OggOpusCounter, wav_layout

MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
DEFAULT_FORMAT = "mp3"
PCM_RATE = 24_000  # OpenAI's pcm: 24 kHz, 16-bit signed little-endian, mono
CHARS_PER_SECOND = 15  # speech rate assumed when the audio's length can be neither measured nor read
# OpenAI's voice names (the SDK makes clients send one): no other vendor's voice is named so, so
# elsewhere they leave the model's own voice in place.
OPENAI_VOICES = frozenset(
    [
        "alloy",
        "ash",
        "ballad",
        "coral",
        "echo",
        "fable",
        "nova",
        "onyx",
        "sage",
        "shimmer",
        "verse",
        "marin",
        "cedar",
    ]
)


def speech_format(body: dict[str, Any]) -> str:
    fmt = body.get("response_format")
    return fmt if isinstance(fmt, str) and fmt else DEFAULT_FORMAT


def voice_of(body: dict[str, Any]) -> str | None:
    """The voice a client asked for: a name, or ``{"id": ...}`` (a custom voice)."""
    voice = body.get("voice")
    if isinstance(voice, dict):
        voice = voice.get("id")
    return voice if isinstance(voice, str) and voice else None


def required_voice(body: dict[str, Any], vendor: str, what: str) -> str:
    """The client's voice, for an API that has no default one (``what``: the kind of id it takes)."""
    voice = voice_of(body)
    if voice is None:
        raise InvalidRequest(f"{vendor} needs 'voice': {what}.", param="voice")
    return voice


def checked_speed(body: dict[str, Any], limits: tuple[float, float], vendor: str) -> float | None:
    """The client's ``speed`` (None when not given), refused outside what the vendor takes."""
    speed = body.get("speed")
    if speed is None:
        return None
    low, high = limits
    if not low <= speed <= high:
        raise InvalidRequest(f"{vendor} takes a 'speed' from {low} to {high}.", param="speed")
    return float(speed)


def speech_context(body: dict[str, Any], fmt: str, pcm_rate: int = PCM_RATE) -> dict[str, Any]:
    speed = body.get("speed")
    return {
        "text": str(body.get("input", "")),
        "instructions": str(body.get("instructions") or ""),
        "format": fmt,
        "pcm_rate": pcm_rate,
        "speed": float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0,
        "media_type": MEDIA_TYPES.get(fmt, "application/octet-stream"),
    }


class SpeechTranslator:
    """Relays audio bytes unchanged and meters them (see the module docstring)."""

    wrapped = False  # raw audio: a JSON answer is not audio

    def __init__(self, request: UpstreamRequest) -> None:
        ctx = request.context
        self.text: str = ctx.get("text", "")
        self.instructions: str = ctx.get("instructions", "")
        self.format: str = ctx.get("format", DEFAULT_FORMAT)
        self.pcm_rate: int = ctx.get("pcm_rate", PCM_RATE)
        self.speed: float = ctx.get("speed", 1.0)
        self.media_type: str = ctx.get("media_type", MEDIA_TYPES[DEFAULT_FORMAT])
        self.relayed = 0  # bytes of audio passed on
        self.head = b""  # the first bytes, for a WAV header
        self.counter: Mp3Counter | AdtsCounter | OggOpusCounter | None = None
        if self.format == "mp3":
            self.counter = Mp3Counter()
        elif self.format == "aac":
            self.counter = AdtsCounter()
        elif self.format == "opus":
            self.counter = OggOpusCounter()
        self.reported_ms: int | None = None  # the provider's own figure, where it gives one
        self.reported_chars: int | None = None

    def feed(self, data: bytes) -> bytes:
        return self.audio(data)

    def finish(self) -> bytes:
        """The upstream ended: anything still held back (none for a raw audio stream)."""
        return b""

    def audio(self, data: bytes) -> bytes:
        if data:
            if len(self.head) < 512:
                self.head += data[: 512 - len(self.head)]
            self.relayed += len(data)
            if self.counter is not None:
                self.counter.feed(data)
        return data

    def measured_ms(self) -> int | None:
        """Milliseconds of the audio relayed so far, from its bytes (all but flac)."""
        if self.counter is not None:
            return self.counter.ms if self.relayed else None
        if self.format == "pcm":
            return self.relayed * 1000 // (self.pcm_rate * 2)
        if self.format == "wav":
            layout = wav_layout(self.head)
            if layout is not None:
                byte_rate, offset = layout
                return max(0, self.relayed - offset) * 1000 // byte_rate
        return None

    def estimated_ms(self) -> int:
        return round(len(self.text) * 1000 / CHARS_PER_SECOND / (self.speed or 1.0))

    def usage(self, priced: Collection[str]) -> Usage:
        """What the call consumed, in the meters its prices use (``priced``: the price keys)."""
        estimated = False
        characters = self.reported_chars if self.reported_chars is not None else len(self.text)
        input_tokens = output_tokens = output_ms = 0
        if "input_per_mtok" in priced:
            input_tokens = max(1, (len(self.text) + len(self.instructions) + 3) // 4)
            estimated = True
        if "output_per_second" in priced or "output_per_mtok" in priced:
            ms = self.measured_ms()
            if ms is None:
                ms = self.reported_ms
            if ms is None:
                ms = self.estimated_ms() if self.relayed else 0
                estimated = estimated or bool(self.relayed)
            if "output_per_second" in priced:
                output_ms = ms
            else:  # audio tokens: OpenAI's audio models spend about 20 a second (gpt-4o audio)
                output_tokens = ms * 20 // 1000
                estimated = True
        return Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            output_ms=output_ms,
            characters=characters,
            estimated=estimated,
        )


class _SpeechAdapter:
    """What every speech adapter shares: the translator, a buffered read, the error body."""

    name = "speech"
    wire = ""  # the wire the request goes out on (the vendor's)
    code_keys: tuple[str, ...] = ("code", "type")

    def media_translator(self, request: UpstreamRequest) -> SpeechTranslator:
        return SpeechTranslator(request)

    def streamed(
        self, url: str, headers: dict[str, str], payload: dict[str, Any], context: dict[str, Any]
    ) -> UpstreamRequest:
        """The upstream request: a JSON ``payload``, its answer read as a stream of audio."""
        return UpstreamRequest(
            url=url,
            headers=headers,
            body=orjson.dumps(payload),
            stream=True,
            context=context,
            wire=self.wire,
            operation="speech",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        translator = self.media_translator(request)
        audio = translator.feed(raw) + translator.finish()
        return TranslatedResponse(audio, None, media_type=translator.media_type)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, self.code_keys)


# Canopy Labs' Orpheus on Groq speaks in its own voices; an OpenAI voice name (the SDK makes clients
# send one) becomes the model's default voice (autumn; fahad for the Saudi Arabic model).
ORPHEUS_VOICES = {
    "canopylabs/orpheus-v1-english": (
        "autumn",
        frozenset({"autumn", "diana", "hannah", "austin", "daniel", "troy"}),
    ),
    "canopylabs/orpheus-arabic-saudi": (
        "fahad",
        frozenset({"abdullah", "fahad", "sultan", "lulwa", "noura", "aisha"}),
    ),
}


def orpheus_voice(upstream: str, voice: str | None) -> str | None:
    """The voice to send an Orpheus model, or None to send the client's as it is."""
    known = ORPHEUS_VOICES.get(upstream)
    if known is None:
        return None
    default, voices = known
    if voice is not None and voice.lower() in voices:
        return voice.lower()
    if voice is None or voice.lower() in OPENAI_VOICES:
        return default
    return None  # a voice the gateway does not know: the provider says whether it exists


class OpenAISpeech(_SpeechAdapter):
    """OpenAI's /audio/speech, and every API that copies it (Groq)."""

    name = "openai-speech"
    wire = "openai"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        fmt = speech_format(body)
        payload = {**body, "model": target.upstream_model}
        voice = orpheus_voice(target.upstream_model, voice_of(body))
        if voice is not None:
            payload["voice"] = voice
        url = vendor.base_url.rstrip("/") + "/audio/speech"
        return self.streamed(url, auth_headers(vendor, credential), payload, speech_context(body, fmt))


# -- Deepgram --------------------------------------------------------------------------------------
# response_format -> Deepgram's encoding (and container) parameters.
DEEPGRAM_ENCODINGS: dict[str, dict[str, str]] = {
    "mp3": {"encoding": "mp3"},
    "opus": {"encoding": "opus", "container": "ogg"},
    "aac": {"encoding": "aac"},
    "flac": {"encoding": "flac"},
    "wav": {"encoding": "linear16", "container": "wav", "sample_rate": str(PCM_RATE)},
    "pcm": {"encoding": "linear16", "container": "none", "sample_rate": str(PCM_RATE)},
}
DEEPGRAM_DEFAULT_VOICE = "thalia"
_DEEPGRAM_MODEL = re.compile(r"^(?P<family>aura(?:-2)?)-(?:(?P<voice>[a-z]+)-)?(?P<lang>[a-z]{2})$")


def deepgram_model(upstream: str, voice: str | None) -> str:
    """The ``model`` query of a Deepgram call: ``aura-2-en`` (or ``aura-2-thalia-en``) + ``orion`` ->
    ``aura-2-orion-en``; a voice that is a whole model (``aura-2-zeus-en``) is used as it is."""
    if voice and voice.startswith("aura"):
        return voice
    parts = _DEEPGRAM_MODEL.match(upstream)
    if parts is None:
        return upstream
    if voice and voice.lower() not in OPENAI_VOICES:
        chosen = voice.lower()
    else:
        chosen = parts["voice"] or DEEPGRAM_DEFAULT_VOICE
    return f"{parts['family']}-{chosen}-{parts['lang']}"


class DeepgramSpeech(_SpeechAdapter):
    name = "deepgram-speech"
    wire = "deepgram"
    code_keys = ("err_code", "code")

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        fmt = speech_format(body)
        speed = body.get("speed")
        if speed is not None and speed != 1:
            raise InvalidRequest("Deepgram's Aura voices do not take 'speed'; leave it at 1.", param="speed")
        if body.get("instructions"):
            raise InvalidRequest("Deepgram's Aura voices do not take 'instructions'.", param="instructions")
        query = {"model": deepgram_model(target.upstream_model, voice_of(body)), **DEEPGRAM_ENCODINGS[fmt]}
        url = vendor.base_url.rstrip("/") + "/speak?" + urlencode(query)
        payload = {"text": body.get("input", "")}
        return self.streamed(url, auth_headers(vendor, credential), payload, speech_context(body, fmt))

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict):
            message = doc.get("err_msg") or doc.get("reason") or doc.get("message")
            if isinstance(message, str) and message:
                code = doc.get("err_code") or doc.get("category")
                return UpstreamFailure(message, str(code) if code else None)
        return error_from_json(status, raw, self.code_keys)
