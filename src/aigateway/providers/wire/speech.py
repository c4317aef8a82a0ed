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
import struct
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


def wav_layout(head: bytes) -> tuple[int, int] | None:
    """(byte rate, offset of the samples) of a WAV header, once enough of it has arrived."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if chunk == b"fmt " and pos + 20 <= len(head):
            byte_rate = struct.unpack_from("<I", head, pos + 16)[0]
        if chunk == b"data":
            return (byte_rate, pos + 8) if byte_rate else None
        pos += 8 + size + (size & 1)
    return None


# MPEG audio frame headers: bitrates (kbit/s) of Layer III by version, sample rates by version.
_MP3_BITRATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 (and 2.5)
}
_MP3_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}


class Mp3Counter:
    """Counts the samples of the whole MPEG Layer III frames seen so far, as the bytes stream by
    (an ID3v2 tag at the start is skipped; bytes between frames resynchronise)."""

    def __init__(self) -> None:
        self.pending = b""
        self.samples_ms = 0.0
        self.started = False
        self.skip = 0  # bytes of an ID3v2 tag still to come
        self.frames = 0

    def feed(self, data: bytes) -> None:
        if self.skip:
            taken = min(self.skip, len(data))
            self.skip -= taken
            data = data[taken:]
        buf = self.pending + data
        pos = 0
        if not self.started:
            if len(buf) < 10:
                self.pending = buf
                return
            self.started = True
            if buf[:3] == b"ID3":
                size = (buf[6] << 21) | (buf[7] << 14) | (buf[8] << 7) | buf[9]
                pos = 10 + size
                if pos > len(buf):
                    self.skip, self.pending = pos - len(buf), b""
                    return
        while pos + 4 <= len(buf):
            b1, b2 = buf[pos + 1], buf[pos + 2]
            version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
            bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
            if buf[pos] != 0xFF or b1 & 0xE0 != 0xE0 or version == 1 or layer != 1:
                pos += 1
                continue
            if bitrate_index in (0, 15) or rate_index == 3:
                pos += 1
                continue
            rate = _MP3_RATES[version][rate_index]
            bitrate = _MP3_BITRATES[3 if version == 3 else 2][bitrate_index] * 1000
            per_frame = 1152 if version == 3 else 576
            length = per_frame // 8 * bitrate // rate + ((b2 >> 1) & 1)
            if pos + length > len(buf):
                break
            head = buf[pos + 4 : pos + 40]
            if not self.frames and (b"Xing" in head or b"Info" in head):
                pos += length  # the encoder's summary frame (LAME's Info), not audio
                continue
            self.frames += 1
            self.samples_ms += per_frame * 1000 / rate
            pos += length
        self.pending = buf[pos:]

    @property
    def ms(self) -> int:
        return int(self.samples_ms)


_ADTS_RATES = (96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000)


class AdtsCounter:
    """Counts the samples of the whole AAC ADTS frames seen so far (1024 per raw data block)."""

    def __init__(self) -> None:
        self.pending = b""
        self.samples_ms = 0.0

    def feed(self, data: bytes) -> None:
        buf, pos = self.pending + data, 0
        while pos + 7 <= len(buf):
            if (
                buf[pos] != 0xFF
                or buf[pos + 1] & 0xF6 != 0xF0
                or (buf[pos + 2] >> 2) & 15 >= len(_ADTS_RATES)
            ):
                pos += 1
                continue
            length = ((buf[pos + 3] & 3) << 11) | (buf[pos + 4] << 3) | (buf[pos + 5] >> 5)
            if length < 7:
                pos += 1
                continue
            if pos + length > len(buf):
                break
            blocks = (buf[pos + 6] & 3) + 1
            self.samples_ms += blocks * 1024 * 1000 / _ADTS_RATES[(buf[pos + 2] >> 2) & 15]
            pos += length
        self.pending = buf[pos:]

    @property
    def ms(self) -> int:
        return int(self.samples_ms)


class OggOpusCounter:
    """The length of an Ogg Opus stream so far: the last whole page's granule position, less the
    pre-skip of its OpusHead, at Opus's 48 kHz."""

    def __init__(self) -> None:
        self.pending = b""
        self.pre_skip = 0
        self.granule = 0

    def feed(self, data: bytes) -> None:
        buf, pos = self.pending + data, 0
        while pos + 27 <= len(buf):
            if buf[pos : pos + 4] != b"OggS":
                pos += 1
                continue
            segments = buf[pos + 26]
            if pos + 27 + segments > len(buf):
                break
            body = pos + 27 + segments
            end = body + sum(buf[pos + 27 : body])
            if end > len(buf):
                break
            if buf[body : body + 8] == b"OpusHead" and end - body >= 12:
                self.pre_skip = struct.unpack_from("<H", buf, body + 10)[0]
            granule = struct.unpack_from("<q", buf, pos + 6)[0]
            if granule > 0:
                self.granule = granule
            pos = end
        self.pending = buf[pos:]

    @property
    def ms(self) -> int:
        return max(0, self.granule - self.pre_skip) * 1000 // 48_000


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
    code_keys: tuple[str, ...] = ("code", "type")

    def media_translator(self, request: UpstreamRequest) -> SpeechTranslator:
        return SpeechTranslator(request)

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

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        fmt = speech_format(body)
        payload = {**body, "model": target.upstream_model}
        voice = orpheus_voice(target.upstream_model, voice_of(body))
        if voice is not None:
            payload["voice"] = voice
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/audio/speech",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(payload),
            stream=True,
            context=speech_context(body, fmt),
            wire="openai",
            operation="speech",
        )


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
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/speak?" + urlencode(query),
            headers=auth_headers(vendor, credential),
            body=orjson.dumps({"text": body.get("input", "")}),
            stream=True,
            context=speech_context(body, fmt),
            wire="deepgram",
            operation="speech",
        )

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
