"""Speech-to-text on native wires: Deepgram ``/listen``, ElevenLabs ``/speech-to-text`` and Mistral's
``/audio/transcriptions`` (Voxtral). Each answer becomes a `Transcript`, rendered in the client's
OpenAI format by transcription.render; usage is the gateway's measurement of the audio
(transcription.billed, which logs a provider's duration that differs by more than 10%).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import (
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.openai import auth_headers
from aigateway.providers.wire.transcription import (
    Form,
    Segment,
    Transcript,
    Word,
    billed,
    common_context,
    form_upload,
    render,
    transcript_from_openai,
    upload,
)


def _float(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _transcript_doc(raw: bytes) -> dict[str, Any]:
    """A JSON answer that has a transcript (``text``), or the reason it cannot be read."""
    doc = orjson.loads(raw)
    if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
        raise ValueError("upstream answered 200 without a transcript")
    return doc


@dataclass(frozen=True, slots=True)
class FormFields:
    """How a multipart speech-to-text API names its fields, and where it lives under the base URL."""

    model: str
    language: str
    path: str


def _word_timestamps(body: dict[str, Any], ctx: dict[str, Any]) -> Form:
    """ElevenLabs: word timestamps always (the segments and subtitles are built from them)."""
    return [("timestamps_granularity", "word", None, None)]


def form_request(
    wire: str,
    fields: FormFields,
    body: dict[str, Any],
    target: Target,
    vendor: VendorProfile,
    credential: str | None,
    extra: Callable[[dict[str, Any], dict[str, Any]], Form],
) -> UpstreamRequest:
    """A multipart upload (ElevenLabs, Mistral): model, language, temperature, the wire's own fields
    (``extra``, given the request body and the call's context), then the file."""
    ctx = common_context(body, target, "transcribe")
    ctx["vendor"] = vendor.name
    filename, data, content_type = upload(body)
    form: Form = [(fields.model, target.upstream_model, None, None)]
    if body.get("language"):
        form.append((fields.language, str(body["language"]), None, None))
    if body.get("temperature") is not None:
        form.append(("temperature", str(body["temperature"]), None, None))
    form.extend(extra(body, ctx))
    form.append(("file", data, filename, content_type))
    return form_upload(f"{vendor.base_url.rstrip('/')}{fields.path}", vendor, credential, form, ctx, wire)


def _granularities(body: dict[str, Any], ctx: dict[str, Any]) -> Form:
    """Mistral: the timestamps asked for, and segments whenever the answer format needs them."""
    granularities = list(body.get("timestamp_granularities") or [])
    if ctx["format"] in ("verbose_json", "srt", "vtt") and "segment" not in granularities:
        granularities.append("segment")
    return [("timestamp_granularities", str(g), None, None) for g in granularities]


class DeepgramTranscription:
    """Deepgram pre-recorded ``POST {base}/listen?model=...``: the audio bytes as the body."""

    name = "deepgram"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        ctx = common_context(body, target, "transcribe")
        ctx["vendor"] = vendor.name
        query: dict[str, str] = {"model": target.upstream_model, "smart_format": "true", "punctuate": "true"}
        if body.get("language"):
            query["language"] = str(body["language"])
        if body.get("prompt") and target.upstream_model.startswith("nova-3"):
            query["keyterm"] = str(body["prompt"])[:200]
        _, data, content_type = upload(body)
        headers = auth_headers(vendor, credential)
        headers["Content-Type"] = content_type
        return UpstreamRequest(
            url=f"{vendor.base_url.rstrip('/')}/listen?{urlencode(query)}",
            headers=headers,
            body=data,
            context=ctx,
            wire=self.name,
            operation="transcriptions",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        ctx = request.context
        doc = orjson.loads(raw)
        channel = doc["results"]["channels"][0]
        best = channel["alternatives"][0]
        words = [
            Word(
                str(w.get("punctuated_word") or w.get("word") or ""),
                _float(w.get("start")),
                _float(w.get("end")),
            )
            for w in best.get("words") or []
            if isinstance(w, dict)
        ]
        metadata = doc.get("metadata")
        reported = metadata.get("duration") if isinstance(metadata, dict) else None
        reported_s = _float(reported) if isinstance(reported, int | float) else None
        language = channel.get("detected_language") or ctx.get("language") or "en"
        transcript = Transcript(
            text=str(best.get("transcript") or ""),
            language=str(language),
            duration=reported_s if reported_s is not None else ctx["audio_ms"] / 1000,
            words=words,
        )
        usage = billed(ctx, reported_s)
        return render(transcript, ctx, usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        """Deepgram's ``{"err_code", "err_msg", "request_id"}`` (or the common shapes)."""
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("err_msg"), str):
            code = doc.get("err_code")
            return UpstreamFailure(doc["err_msg"], str(code) if code else None)
        return error_from_json(status, raw, ("code",))


class ElevenLabsTranscription:
    """ElevenLabs ``POST {base}/speech-to-text``: multipart ``model_id`` and ``file``."""

    name = "elevenlabs"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        fields = FormFields("model_id", "language_code", "/speech-to-text")
        return form_request(self.name, fields, body, target, vendor, credential, _word_timestamps)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        ctx = request.context
        doc = _transcript_doc(raw)
        words = [
            Word(str(w.get("text") or "").strip(), _float(w.get("start")), _float(w.get("end")))
            for w in doc.get("words") or []
            if isinstance(w, dict) and w.get("type", "word") == "word"
        ]
        transcript = Transcript(
            text=doc["text"].strip(),
            language=str(doc.get("language_code") or ctx.get("language") or "en"),
            duration=ctx["audio_ms"] / 1000,
            words=words,
        )
        return render(transcript, ctx, billed(ctx, None))

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        """ElevenLabs' ``{"detail": {"status", "message"}}`` (or a plain ``detail`` string)."""
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        detail = doc.get("detail") if isinstance(doc, dict) else None
        if isinstance(detail, dict) and isinstance(detail.get("message"), str):
            code = detail.get("status")
            return UpstreamFailure(detail["message"], str(code) if code else None)
        return error_from_json(status, raw, ("code",))


class MistralTranscription:
    """Mistral Voxtral ``POST {base}/audio/transcriptions``: OpenAI-like, answers JSON only."""

    name = "mistral"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        fields = FormFields("model", "language", "/audio/transcriptions")
        return form_request(self.name, fields, body, target, vendor, credential, _granularities)

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        ctx = request.context
        doc = _transcript_doc(raw)
        transcript = transcript_from_openai(doc, ctx)
        usage_doc = doc.get("usage")
        seconds = usage_doc.get("prompt_audio_seconds") if isinstance(usage_doc, dict) else None
        reported = float(seconds) if isinstance(seconds, int | float) else None
        if not transcript.segments and transcript.text:
            transcript.segments = [Segment(0.0, transcript.duration, transcript.text)]
        return render(transcript, ctx, billed(ctx, reported))

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))
