"""Text to speech over ElevenLabs', MiniMax's and Mistral's own APIs.

* ElevenLabs: ``POST {base}/text-to-speech/{voice_id}/stream?output_format=...`` with
  ``{"text", "model_id"}`` (``voice_settings.speed`` when asked), key in ``xi-api-key``; the answer is
  the audio, chunked. ``voice`` is the ElevenLabs voice id. Formats: mp3 (44.1 kHz, 128 kbit/s), opus
  (48 kHz, 64 kbit/s), pcm (24 kHz); others are refused before dispatch.
* MiniMax ``t2a_v2``: ``POST {base}/t2a_v2`` (Bearer), ``{"model", "text", "voice_setting",
  "audio_setting", "stream"}``. Streamed (mp3, flac, pcm) it answers server-sent events whose
  ``data.audio`` is hex; ``wav`` is only offered whole, as one JSON answer with hex audio. Either way
  the client gets the decoded bytes. MiniMax reports failures inside a 200 answer
  (``base_resp.status_code`` not 0), which become the gateway's errors; its ``extra_info`` gives the
  audio's length and the characters it billed.
* Mistral (Voxtral): ``POST {base}/audio/speech`` with ``voice_id``; one JSON answer with the audio in
  base64 ``audio_data``, decoded for the client.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from aigateway.core.errors import GatewayError, InvalidRequest, ProviderError, RateLimited
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Target, UpstreamFailure, UpstreamRequest, error_from_json
from aigateway.providers.wire.openai import auth_headers
from aigateway.providers.wire.speech import (
    OPENAI_VOICES,
    SpeechTranslator,
    _SpeechAdapter,
    checked_speed,
    required_voice,
    speech_context,
    speech_format,
    voice_of,
)

ELEVENLABS_FORMATS = {"mp3": "mp3_44100_128", "opus": "opus_48000_64", "pcm": "pcm_24000"}
ELEVENLABS_SPEED = (0.7, 1.2)


def _unsupported(vendor: str, fmt: str, offered: list[str]) -> InvalidRequest:
    return InvalidRequest(
        f"'response_format' {fmt!r} is not offered by {vendor}; use one of {', '.join(offered)}.",
        param="response_format",
    )


def elevenlabs_headers(vendor: VendorProfile, credential: str | None) -> dict[str, str]:
    """ElevenLabs takes its key in ``xi-api-key`` only, whatever auth style a profile names."""
    headers = auth_headers(vendor, None)
    if credential:
        headers["xi-api-key"] = credential
    return headers


class ElevenLabsSpeech(_SpeechAdapter):
    name = "elevenlabs-speech"
    wire = "elevenlabs"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        fmt = speech_format(body)
        if fmt not in ELEVENLABS_FORMATS:
            raise _unsupported("ElevenLabs", fmt, list(ELEVENLABS_FORMATS))
        voice = required_voice(body, "ElevenLabs", "an ElevenLabs voice id")
        if body.get("instructions"):
            raise InvalidRequest("ElevenLabs voices do not take 'instructions'.", param="instructions")
        payload: dict[str, Any] = {"text": body.get("input", ""), "model_id": target.upstream_model}
        speed = checked_speed(body, ELEVENLABS_SPEED, "ElevenLabs") if body.get("speed") != 1 else None
        if speed is not None:
            payload["voice_settings"] = {"speed": body["speed"]}
        query = urlencode({"output_format": ELEVENLABS_FORMATS[fmt]})
        url = f"{vendor.base_url.rstrip('/')}/text-to-speech/{quote(voice, safe='')}/stream?{query}"
        return self.streamed(url, elevenlabs_headers(vendor, credential), payload, speech_context(body, fmt))

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        detail = doc.get("detail") if isinstance(doc, dict) else None
        if isinstance(detail, dict) and isinstance(detail.get("message"), str):
            code = detail.get("status") or detail.get("code")
            return UpstreamFailure(detail["message"], str(code) if code else None)
        return error_from_json(status, raw, ("code", "status"))


# -- MiniMax ---------------------------------------------------------------------------------------
MINIMAX_STREAMED = ("mp3", "flac", "pcm")
MINIMAX_FORMATS = (*MINIMAX_STREAMED, "wav")
MINIMAX_RATE = 24_000
MINIMAX_SPEED = (0.5, 2.0)
# base_resp.status_code values that are the caller's doing, or a rate limit (MiniMax's error codes).
_MINIMAX_RATE_LIMITED = frozenset({1002, 1039})
_MINIMAX_BAD_REQUEST = frozenset({1008, 1026, 1042, 2013, 2037, 2039, 2042, 2048})
_MINIMAX_BAD_KEY = 1004


def minimax_failure(doc: Any) -> GatewayError | None:
    """The gateway's error for a MiniMax answer whose ``base_resp`` is not a success."""
    base = doc.get("base_resp") if isinstance(doc, dict) else None
    if not isinstance(base, dict):
        return None
    code = base.get("status_code")
    if code in (0, None):
        return None
    message = f"MiniMax: {base.get('status_msg') or 'error'} (status_code {code})"
    if code == _MINIMAX_BAD_KEY:
        return ProviderError(f"MiniMax rejected the gateway's credentials; check MINIMAX_API_KEY. {message}")
    if code in _MINIMAX_RATE_LIMITED:
        return RateLimited(message)
    if code in _MINIMAX_BAD_REQUEST:
        return InvalidRequest(message)
    return ProviderError(message)


class MiniMaxTranslator(SpeechTranslator):
    """Decodes MiniMax's hex audio from its event stream or its whole JSON answer."""

    wrapped = True
    counts_at_end = True  # its last event reports the characters it bills (usage_characters)

    def __init__(self, request: UpstreamRequest) -> None:
        super().__init__(request)
        self.streamed = bool(request.context.get("minimax_stream"))
        self.pending = b""
        self.failure: Exception | None = None  # raised once the audio decoded before it is passed on

    def feed(self, data: bytes) -> bytes:
        self._raise_pending()
        self.pending += data
        if not self.streamed:
            return b""
        out = bytearray()
        while True:
            cut = self._boundary()
            if cut is None:
                return bytes(out)
            event, self.pending = self.pending[: cut[0]], self.pending[cut[1] :]
            try:
                out += self._event(event)
            except Exception as exc:
                if not out:
                    raise
                self.failure = exc
                return bytes(out)

    def _raise_pending(self) -> None:
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure

    def _boundary(self) -> tuple[int, int] | None:
        for separator in (b"\r\n\r\n", b"\n\n"):
            at = self.pending.find(separator)
            if at >= 0:
                return at, at + len(separator)
        return None

    def _event(self, event: bytes) -> bytes:
        lines = [line[5:].strip() for line in event.splitlines() if line.startswith(b"data:")]
        if not lines:
            return b""
        return self._chunk(orjson.loads(b"".join(lines)))

    def _chunk(self, doc: Any) -> bytes:
        failure = minimax_failure(doc)
        if failure is not None:
            raise failure
        if not isinstance(doc, dict):
            raise ProviderError("MiniMax sent an answer without audio.")
        extra = doc.get("extra_info")
        if isinstance(extra, dict):
            if isinstance(extra.get("audio_length"), int):
                self.reported_ms = extra["audio_length"]
            if isinstance(extra.get("usage_characters"), int):
                self.reported_chars = extra["usage_characters"]
        data = doc.get("data")
        audio = data.get("audio") if isinstance(data, dict) else None
        final = isinstance(data, dict) and data.get("status") == 2
        if not isinstance(audio, str) or not audio or (self.streamed and final and self.relayed):
            return b""  # the last event repeats the whole audio unless excluded: sent once only
        return self.audio(bytes.fromhex(audio))

    def finish(self) -> bytes:
        self._raise_pending()
        rest, self.pending = self.pending.strip(), b""
        if not rest:
            return b""
        if self.streamed:
            return self._event(rest)
        return self._chunk(orjson.loads(rest))


class MiniMaxSpeech(_SpeechAdapter):
    name = "minimax-speech"
    wire = "minimax"

    def media_translator(self, request: UpstreamRequest) -> SpeechTranslator:
        return MiniMaxTranslator(request)

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        fmt = speech_format(body)
        if fmt not in MINIMAX_FORMATS:
            raise _unsupported("MiniMax", fmt, list(MINIMAX_FORMATS))
        voice_setting: dict[str, Any] = {"voice_id": required_voice(body, "MiniMax", "a MiniMax voice_id")}
        if checked_speed(body, MINIMAX_SPEED, "MiniMax") is not None:
            voice_setting["speed"] = body["speed"]
        streamed = fmt in MINIMAX_STREAMED
        payload: dict[str, Any] = {
            "model": target.upstream_model,
            "text": body.get("input", ""),
            "stream": streamed,
            "voice_setting": voice_setting,
            "audio_setting": {"format": fmt, "sample_rate": MINIMAX_RATE, "channel": 1},
        }
        if streamed:
            payload["stream_options"] = {"exclude_aggregated_audio": True}
        context = speech_context(body, fmt, MINIMAX_RATE)
        context["minimax_stream"] = streamed
        return self.streamed(
            vendor.base_url.rstrip("/") + "/t2a_v2", auth_headers(vendor, credential), payload, context
        )

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        failure = minimax_failure(doc)
        if failure is not None:
            return UpstreamFailure(failure.message)
        return error_from_json(status, raw, ("code",))


# -- Mistral ---------------------------------------------------------------------------------------
MISTRAL_FORMATS = ("mp3", "opus", "flac", "wav", "pcm")
MISTRAL_DEFAULT_VOICE = "en_paul_neutral"


class Base64AudioTranslator(SpeechTranslator):
    """An answer that is one JSON object whose ``audio_data`` is the audio in base64 (Mistral)."""

    wrapped = True

    def __init__(self, request: UpstreamRequest) -> None:
        super().__init__(request)
        self.pending = b""

    def feed(self, data: bytes) -> bytes:
        self.pending += data
        return b""

    def finish(self) -> bytes:
        doc = orjson.loads(self.pending)
        audio = doc.get("audio_data") if isinstance(doc, dict) else None
        if not isinstance(audio, str) or not audio:
            raise ProviderError("The provider's answer holds no audio_data.")
        return self.audio(base64.b64decode(audio, validate=True))


class MistralSpeech(_SpeechAdapter):
    """Mistral's Voxtral TTS: ``POST {base}/audio/speech`` with ``voice_id``; the answer is JSON whose
    ``audio_data`` is base64 (decoded for the client). An OpenAI voice name leaves Mistral's default."""

    name = "mistral-speech"
    wire = "mistral"

    def media_translator(self, request: UpstreamRequest) -> SpeechTranslator:
        return Base64AudioTranslator(request)

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        fmt = speech_format(body)
        if fmt not in MISTRAL_FORMATS:
            raise _unsupported("Mistral", fmt, list(MISTRAL_FORMATS))
        if body.get("speed") not in (None, 1, 1.0) or body.get("instructions"):
            raise InvalidRequest("Voxtral takes neither 'speed' nor 'instructions'.", param="speed")
        voice = voice_of(body)
        if voice is None or voice.lower() in OPENAI_VOICES:
            voice = MISTRAL_DEFAULT_VOICE
        payload = {"model": target.upstream_model, "input": body.get("input", ""), "voice_id": voice}
        payload["response_format"] = fmt
        url = vendor.base_url.rstrip("/") + "/audio/speech"
        return self.streamed(url, auth_headers(vendor, credential), payload, speech_context(body, fmt))
