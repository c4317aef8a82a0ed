"""Speech-to-text adapters, OpenAI's shape: ``/audio/transcriptions`` and ``/audio/translations``.

The gateway's answer is OpenAI's whatever the upstream: ``json`` ``{"text"}`` (with ``usage`` when
the provider reported it), ``verbose_json`` ``{"task", "language", "duration", "text", "segments",
"words"?}``, or ``text`` / ``srt`` / ``vtt`` as ``text/plain``. Native upstreams (Deepgram,
ElevenLabs, Mistral) are mapped to a `Transcript` and rendered here.

Billing: the gateway measured the audio's duration from the file before admission
(``body[AUDIO_MS]``, core/audio_duration.py); that is what a per-second model bills
(``Usage.input_ms``). A provider that reports tokens (gpt-4o-transcribe) bills those tokens instead.
A provider's own duration is compared with the gateway's and a difference above 10% is logged; it is
kept, unbilled, in the ledger row's meters as ``provider_ms`` beside the measured ``input_ms``.

OpenAI and Groq (this module's `OpenAITranscription`): the client's form is forwarded with the
upstream model; ``text`` is asked as ``json`` and ``srt``/``vtt`` as ``verbose_json`` (Groq answers
neither format itself), then rendered, so the gateway always sees the usage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

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

# The key under which the operation leaves its measurement of the audio in the body (never forwarded).
AUDIO_MS = "__gateway_audio_ms"
TEXT_TYPE = "text/plain; charset=utf-8"
TEXT_FORMATS = frozenset({"text", "srt", "vtt"})
DRIFT = 0.10
log = logging.getLogger("aigateway.transcription")

Form = list[tuple[str, bytes | str, str | None, str | None]]


@dataclass(slots=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(slots=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(slots=True)
class Transcript:
    """A transcript as any upstream gives it, before it is rendered in the client's format."""

    text: str
    language: str = "english"
    duration: float = 0.0
    words: list[Word] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)


def form_headers(vendor: VendorProfile, credential: str | None) -> dict[str, str]:
    """Auth headers for a multipart request (the transport sets the form's own Content-Type)."""
    headers = auth_headers(vendor, credential)
    headers.pop("Content-Type", None)
    return headers


def form_upload(
    url: str,
    vendor: VendorProfile,
    credential: str | None,
    form: Form,
    context: dict[str, Any],
    wire: str,
    operation: str = "transcriptions",
) -> UpstreamRequest:
    """A multipart upload of the audio (``form`` ends with the file) to ``url``."""
    return UpstreamRequest(
        url=url,
        headers=form_headers(vendor, credential),
        body=None,
        form=form,
        context=context,
        wire=wire,
        operation=operation,
    )


def upload(body: dict[str, Any]) -> tuple[str, bytes, str]:
    """(filename, bytes, content type) of the audio the operation prepared."""
    file = body["file"]
    return file.filename, file.data, file.content_type or "application/octet-stream"


def common_context(body: dict[str, Any], target: Target, task: str) -> dict[str, Any]:
    granularities = body.get("timestamp_granularities") or []
    return {
        "audio_ms": int(body.get(AUDIO_MS) or 0),
        "format": str(body.get("response_format") or "json"),
        "words": "word" in granularities,
        "language": body.get("language"),
        "task": task,
        "model": target.upstream_model,
    }


def billed(context: dict[str, Any], reported_s: float | None, tokens: Usage | None = None) -> Usage:
    """The call's usage: the provider's tokens if it reported tokens, else the measured duration."""
    measured = int(context.get("audio_ms") or 0)
    if reported_s is not None and measured and abs(reported_s * 1000 - measured) > DRIFT * measured:
        log.warning(
            "audio duration: the gateway measured %d ms, %s (%s) reported %d ms",
            measured,
            context.get("vendor", "the provider"),
            context.get("model"),
            int(reported_s * 1000),
        )
    provider_ms = max(0, round(reported_s * 1000)) if reported_s is not None else 0
    if tokens is not None and (tokens.input_tokens or tokens.output_tokens):
        tokens.provider_ms = provider_ms
        return tokens
    return Usage(input_ms=measured, provider_ms=provider_ms)


# -- rendering ---------------------------------------------------------------------------------
def segments_from_words(words: list[Word], max_words: int = 24, gap_s: float = 1.0) -> list[Segment]:
    """Sentence-sized segments: a new one after final punctuation, a pause, or ``max_words``."""
    out: list[Segment] = []
    current: list[Word] = []
    for word in words:
        if current and (word.start - current[-1].end > gap_s or len(current) >= max_words):
            out.append(_segment(current))
            current = []
        current.append(word)
        if word.word.endswith((".", "?", "!")):
            out.append(_segment(current))
            current = []
    if current:
        out.append(_segment(current))
    return out


def _segment(words: list[Word]) -> Segment:
    return Segment(words[0].start, words[-1].end, " ".join(w.word for w in words))


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{ms:03d}"


def srt(segments: list[Segment]) -> str:
    blocks = [
        f"{i}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text.strip()}\n"
        for i, s in enumerate(segments, 1)
    ]
    return "\n".join(blocks)


def vtt(segments: list[Segment]) -> str:
    blocks = [f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text.strip()}\n" for s in segments]
    return "WEBVTT\n\n" + "\n".join(blocks)


def render(t: Transcript, context: dict[str, Any], usage: Usage | None) -> TranslatedResponse:
    """The client's format of a transcript (``usage`` goes into the ``json`` form when known)."""
    fmt = context["format"]
    segments = t.segments or (segments_from_words(t.words) if t.words else [])
    if not segments and t.text:
        segments = [Segment(0.0, t.duration, t.text)]
    if fmt == "text":
        return TranslatedResponse(body=(t.text + "\n").encode(), usage=usage, media_type=TEXT_TYPE)
    if fmt == "srt":
        return TranslatedResponse(body=srt(segments).encode(), usage=usage, media_type=TEXT_TYPE)
    if fmt == "vtt":
        return TranslatedResponse(body=vtt(segments).encode(), usage=usage, media_type=TEXT_TYPE)
    if fmt == "verbose_json":
        doc: dict[str, Any] = {
            "task": context["task"],
            "language": t.language,
            "duration": t.duration,
            "text": t.text,
            "segments": [_segment_doc(i, s) for i, s in enumerate(segments)],
        }
        if context.get("words"):
            doc["words"] = [{"word": w.word, "start": w.start, "end": w.end} for w in t.words]
        return TranslatedResponse(body=orjson.dumps(doc), usage=usage)
    out: dict[str, Any] = {"text": t.text}
    if usage is not None and usage.input_ms and not usage.input_tokens:
        out["usage"] = {"type": "duration", "seconds": -(-usage.input_ms // 1000)}
    return TranslatedResponse(body=orjson.dumps(out), usage=usage)


def _segment_doc(index: int, s: Segment) -> dict[str, Any]:
    return {
        "id": index,
        "seek": 0,
        "start": s.start,
        "end": s.end,
        "text": s.text if s.text.startswith(" ") else " " + s.text,
        "tokens": [],
        "temperature": 0.0,
        "avg_logprob": 0.0,
        "compression_ratio": 1.0,
        "no_speech_prob": 0.0,
    }


def transcript_from_openai(doc: dict[str, Any], context: dict[str, Any]) -> Transcript:
    segments = [
        Segment(float(s.get("start") or 0), float(s.get("end") or 0), str(s.get("text") or ""))
        for s in doc.get("segments") or []
        if isinstance(s, dict)
    ]
    words = [
        Word(str(w.get("word") or ""), float(w.get("start") or 0), float(w.get("end") or 0))
        for w in doc.get("words") or []
        if isinstance(w, dict)
    ]
    duration = doc.get("duration")
    return Transcript(
        text=str(doc.get("text") or ""),
        language=str(doc.get("language") or context.get("language") or "english"),
        duration=float(duration) if isinstance(duration, int | float) else context["audio_ms"] / 1000,
        words=words,
        segments=segments,
    )


def openai_tokens(raw: Any) -> tuple[Usage | None, float | None]:
    """OpenAI's transcription ``usage``: ``{"type": "tokens", ...}`` or ``{"type": "duration"}``."""
    if not isinstance(raw, dict):
        return None, None
    if raw.get("type") == "duration" and isinstance(raw.get("seconds"), int | float):
        return None, float(raw["seconds"])
    inp, out = raw.get("input_tokens"), raw.get("output_tokens")
    if isinstance(inp, int) or isinstance(out, int):
        return Usage(input_tokens=int(inp or 0), output_tokens=int(out or 0)), None
    return None, None


class OpenAITranscription:
    """OpenAI and Groq (and any OpenAI-compatible upstream): multipart ``/audio/{task}s``."""

    name = "openai"
    _forwarded = ("language", "prompt", "temperature")

    def __init__(self, task: str = "transcribe") -> None:
        self.task = task
        self.operation = "transcriptions" if task == "transcribe" else "translations"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        ctx = common_context(body, target, self.task)
        ctx["vendor"] = vendor.name
        fmt = ctx["format"]
        upstream_format = "json" if fmt in ("json", "text") else "verbose_json"
        ctx["upstream_format"] = upstream_format
        filename, data, content_type = upload(body)
        form: Form = [("model", target.upstream_model, None, None)]
        for key in self._forwarded:
            if body.get(key) is not None and not (self.task == "translate" and key == "language"):
                form.append((key, str(body[key]), None, None))
        form.append(("response_format", upstream_format, None, None))
        if upstream_format == "verbose_json" and self.task == "transcribe":
            for granularity in body.get("timestamp_granularities") or []:
                form.append(("timestamp_granularities[]", str(granularity), None, None))
        form.append(("file", data, filename, content_type))
        url = f"{vendor.base_url.rstrip('/')}/audio/{self.operation}"
        return form_upload(url, vendor, credential, form, ctx, self.name, self.operation)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        ctx = request.context
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
            raise ValueError("upstream answered 200 without a transcript")
        tokens, reported = openai_tokens(doc.get("usage"))
        duration = doc.get("duration")
        if reported is None and isinstance(duration, int | float):
            reported = float(duration)
        usage = billed(ctx, reported, tokens)
        if ctx["format"] == ctx["upstream_format"]:
            return TranslatedResponse(body=raw, usage=usage)  # the provider's own answer, as sent
        return render(transcript_from_openai(doc, ctx), ctx, usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))
