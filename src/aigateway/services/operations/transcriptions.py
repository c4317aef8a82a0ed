"""Speech to text: POST /v1/audio/transcriptions and POST /v1/audio/translations (into English).

The request is OpenAI's multipart form (``file``, ``model``, ``language``, ``prompt``,
``response_format`` json / text / srt / vtt / verbose_json, ``temperature``,
``timestamp_granularities[]``) or the contract's JSON form with ``audio_url`` instead of ``file``,
which the gateway fetches itself (providers/fetch.py: http(s) only, public addresses unless the
operator allows private ones, capped in size and time).

Before admission (``prepare``) the gateway reads the audio's duration from the file
(core/audio_duration.py): that is the bound the wallet reserves and what a per-second model bills.
An upload above ``max_audio_bytes`` is a 413, a file the gateway cannot measure a 400 on ``file``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aigateway.core.audio_duration import AudioFormatError, measure
from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import InvalidRequest, PayloadTooLarge
from aigateway.core.pricing import Usage
from aigateway.providers.wire.transcription import AUDIO_MS
from aigateway.services.operations.base import UploadedFile
from aigateway.services.operations.chat_schema import validate_model

ResponseFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]
# Bounds of what a token-priced transcription model can consume per second of audio (OpenAI's
# gpt-4o transcribe models count audio at well under 50 tokens a second; speech is < 8 words a second).
AUDIO_TOKENS_PER_SECOND = 50
TEXT_TOKENS_PER_SECOND = 20


class TranscriptionFields(BaseModel):
    """The text fields of the request (a form's values arrive as strings, hence lax types)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=256)
    audio_url: str | None = Field(default=None, min_length=1, max_length=4096)
    language: str | None = Field(default=None, min_length=1, max_length=32)
    prompt: str | None = Field(default=None, max_length=8192)
    response_format: ResponseFormat = "json"
    temperature: float | None = Field(default=None, ge=0, le=1)
    timestamp_granularities: list[Literal["word", "segment"]] | None = None

    @field_validator("timestamp_granularities", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(slots=True)
class TranscriptionRequest:
    fields: TranscriptionFields
    file: UploadedFile | None
    duration_ms: int = 0
    container: str = ""


class TranscriptionsOperation:
    modalities = frozenset({"audio-stt"})
    streams = False
    multipart = True

    def __init__(self, task: Literal["transcribe", "translate"], max_audio_bytes: int) -> None:
        self.task = task
        self.name = "transcriptions" if task == "transcribe" else "translations"
        self.endpoint = f"audio.{self.name}"
        self.max_audio_bytes = max_audio_bytes

    def validate(self, body: Any) -> TranscriptionRequest:
        if not isinstance(body, dict):
            raise InvalidRequest("The request body must be a multipart form or a JSON object.")
        file = body.get("file")
        if isinstance(file, list):
            raise InvalidRequest("Send one 'file' per request.", param="file")
        if file is not None and not isinstance(file, UploadedFile):
            raise InvalidRequest(
                "Invalid 'file': it must be an uploaded file (multipart/form-data).", param="file"
            )
        fields = validate_model(TranscriptionFields, {k: v for k, v in body.items() if k != "file"})
        if body.get("stream") in (True, "true", "True", "1"):
            raise InvalidRequest(
                "Streamed transcriptions are not supported: leave 'stream' unset.", param="stream"
            )
        if file is None and fields.audio_url is None:
            raise InvalidRequest("Missing 'file': upload the audio, or give its 'audio_url'.", param="file")
        if file is not None and fields.audio_url is not None:
            raise InvalidRequest("Give either 'file' or 'audio_url', not both.", param="audio_url")
        if fields.timestamp_granularities and fields.response_format != "verbose_json":
            raise InvalidRequest(
                "'timestamp_granularities' needs response_format 'verbose_json'.",
                param="timestamp_granularities",
            )
        if file is not None:
            self._check_size(len(file.data), "file")
        # The body as the adapters read it: typed values, one measurement key set by prepare().
        body.pop(AUDIO_MS, None)
        body["response_format"] = fields.response_format
        if fields.temperature is not None:
            body["temperature"] = fields.temperature
        if fields.timestamp_granularities is not None:
            body["timestamp_granularities"] = list(fields.timestamp_granularities)
        return TranscriptionRequest(fields, file)

    def _check_size(self, size: int, param: str) -> None:
        if size > self.max_audio_bytes:
            raise PayloadTooLarge(
                f"The audio is larger than the {self.max_audio_bytes}-byte limit "
                "(AIGATEWAY_MAX_AUDIO_BYTES).",
                param=param,
            )
        if size == 0:
            raise InvalidRequest("The audio file is empty.", param=param)

    async def prepare(self, body: dict[str, Any], req: TranscriptionRequest, context: Any) -> None:
        """Fetch ``audio_url`` (if given) and measure the audio: both before admission."""
        if req.file is None:
            req.file = await self._fetch(str(req.fields.audio_url), context)
            body["file"] = req.file
            body.pop("audio_url", None)
        param = "file" if req.fields.audio_url is None else "audio_url"
        try:
            info = measure(req.file.data)
        except AudioFormatError as exc:
            raise InvalidRequest(f"Invalid '{param}': {exc}.", param=param) from None
        if info.duration_ms <= 0:
            raise InvalidRequest(f"Invalid '{param}': the audio has no duration.", param=param)
        req.duration_ms, req.container = info.duration_ms, info.container
        body[AUDIO_MS] = info.duration_ms

    async def _fetch(self, url: str, context: Any) -> UploadedFile:
        """The audio at ``url``, through the gateway's guarded fetcher (providers/fetch.py)."""
        shared = getattr(context, "fetcher", None)
        if shared is None:
            raise InvalidRequest(
                "This gateway does not fetch 'audio_url': upload the file.", param="audio_url"
            )
        from aigateway.providers.fetch import Fetcher, FetchRefused

        fetcher = Fetcher(shared.session, shared.allow_private, self.max_audio_bytes)
        try:
            fetched = await fetcher.get(url)
        except FetchRefused as exc:
            raise InvalidRequest(f"Invalid 'audio_url': {exc}.", param="audio_url") from None
        self._check_size(len(fetched.data), "audio_url")
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "audio"
        return UploadedFile(name[:200], fetched.content_type, fetched.data)

    def wants_stream(self, parsed: TranscriptionRequest) -> bool:
        return False

    def check(self, entry: ModelEntry, req: TranscriptionRequest) -> None:
        return None

    def bound(self, entry: ModelEntry, body: dict[str, Any], req: TranscriptionRequest) -> Usage:
        seconds = math.ceil(req.duration_ms / 1000)
        prompt = len((req.fields.prompt or "").encode("utf-8"))
        output = TEXT_TOKENS_PER_SECOND * seconds + 64
        if entry.max_output_tokens:
            output = min(output, entry.max_output_tokens)
        return Usage(
            input_ms=req.duration_ms,
            input_tokens=AUDIO_TOKENS_PER_SECOND * seconds + prompt,
            output_tokens=output,
        )

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        return False

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        return Usage(input_ms=int(body.get(AUDIO_MS) or 0))
