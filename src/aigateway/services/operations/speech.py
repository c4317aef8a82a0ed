"""The speech operation: POST /v1/audio/speech in OpenAI's shape, answered as streamed audio.

Request: ``model``, ``input`` (the text, at most ``MAX_INPUT_CHARS``), ``voice`` (a name, or
``{"id": ...}``), ``response_format`` (mp3, opus, aac, flac, wav, pcm; mp3 by default), ``speed``
(0.25 to 4), ``instructions`` and ``stream_format`` (only ``audio``: the raw bytes; the SSE form of
OpenAI's newer models is not offered). The answer is always streamed as it arrives, in the format's
media type, through the media relay (services/media_relay.py).

Cost bound: the input's characters (per-character models), an upper bound of its tokens (a token is
at least a byte) and of the audio's seconds (``BOUND_MS_PER_CHAR`` a character at the slowest speed).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aigateway.core.catalog import ModelEntry
from aigateway.core.pricing import Usage
from aigateway.services.operations.chat_schema import validate_model
from aigateway.services.operations.counting import estimate_text_tokens, text_bytes

MAX_INPUT_CHARS = 10_000
MAX_INSTRUCTIONS_CHARS = 4_096
# Speech is slower than 5 characters a second only when asked to be (speed below 1).
BOUND_MS_PER_CHAR = 200


class VoiceId(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(min_length=1, max_length=256)


class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(min_length=1, max_length=256)
    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)
    voice: str | VoiceId | None = None
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] | None = None
    speed: float | None = Field(default=None, ge=0.25, le=4.0)
    instructions: str | None = Field(default=None, max_length=MAX_INSTRUCTIONS_CHARS)
    stream_format: Literal["audio"] | None = None


class SpeechOperation:
    name = "speech"
    endpoint = "audio.speech"
    modalities = frozenset({"audio-tts"})
    streams = True
    multipart = False

    def validate(self, body: Any) -> SpeechRequest:
        return validate_model(SpeechRequest, body)

    def check(self, entry: ModelEntry, parsed: SpeechRequest) -> None:
        return None

    def wants_stream(self, parsed: SpeechRequest) -> bool:
        return True  # audio is relayed as it arrives, whatever the client reads it as

    def bound(self, entry: ModelEntry, body: dict[str, Any], parsed: SpeechRequest) -> Usage:
        text = parsed.input
        tokens = text_bytes([text, parsed.instructions or ""])
        ms = len(text) * BOUND_MS_PER_CHAR / min(1.0, parsed.speed or 1.0)
        return Usage(input_tokens=max(1, tokens), characters=len(text), output_ms=int(ms) + 1000)

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        return False

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        text = str(body.get("input", ""))
        instructions = str(body.get("instructions") or "")
        return Usage(
            input_tokens=estimate_text_tokens([text, instructions]),
            characters=len(text),
            estimated=True,
        )


__all__ = ["SpeechOperation", "SpeechRequest"]
