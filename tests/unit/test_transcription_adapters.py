"""Speech-to-text: the operation's validation and measurement, every adapter's request and answer
(recordings included), rendering, and the simulated transport through the real adapters."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from aigateway.core.errors import InvalidRequest, PayloadTooLarge
from aigateway.core.pricing import Usage
from aigateway.providers.registry import build_adapters
from aigateway.providers.vendors import BUILTIN_VENDORS, VendorProfile
from aigateway.providers.wire.base import Target, UpstreamRequest
from aigateway.providers.wire.transcription import AUDIO_MS, Segment, billed, srt, vtt
from aigateway.services.operations.base import UploadedFile
from aigateway.services.operations.transcriptions import TranscriptionsOperation
from aigateway.simulators.transport import SimulatedTransport
from tests.unit.test_audio_duration import mp3, wav

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings"
VENDORS = {v.name: v for v in BUILTIN_VENDORS}
ADAPTERS = build_adapters()
OP = TranscriptionsOperation("transcribe", max_audio_bytes=1_000_000)


def _recorded(name: str) -> bytes:
    body: str = json.loads((RECORDINGS / f"{name}.json").read_text())["response"]["body"]
    return body.encode()


def _prepared(audio: bytes, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "m", "file": UploadedFile("a.wav", "audio/wav", audio), **fields}
    parsed = OP.validate(body)
    asyncio.run(OP.prepare(body, parsed, object()))
    return body


def _build(
    vendor: str, wire: str, body: dict[str, Any], operation: str = "transcriptions"
) -> UpstreamRequest:
    profile = VENDORS[vendor].for_operation(operation)
    assert profile.wire == wire
    return ADAPTERS[(wire, operation)].build_request(body, Target("up-model"), profile, "key-1")


# -- the operation -------------------------------------------------------------------------------
def test_prepare_measures_the_audio_and_the_bound_reserves_it() -> None:
    body = _prepared(wav(3.5), response_format="verbose_json", temperature="0.2")
    assert body[AUDIO_MS] == 3500 and body["temperature"] == 0.2
    parsed = OP.validate(dict(body))
    parsed.duration_ms = 3500
    bound = OP.bound(_entry(), body, parsed)
    assert bound.input_ms == 3500 and bound.input_tokens == 4 * 50 and bound.output_tokens == 4 * 20 + 64
    assert OP.counted(body, 0) == Usage(input_ms=3500)


def _entry() -> Any:
    from aigateway.core.catalog import load_catalog

    return load_catalog(None).get("openai/whisper-1")


@pytest.mark.parametrize(
    ("body", "param", "status"),
    [
        ({"model": "m"}, "file", 400),
        ({"model": "m", "file": "not a file"}, "file", 400),
        (
            {"model": "m", "audio_url": "https://x/a.wav", "file": UploadedFile("a", "", b"x")},
            "audio_url",
            400,
        ),
        (
            {"model": "m", "file": UploadedFile("a", "", b"x"), "response_format": "mp3"},
            "response_format",
            400,
        ),
        (
            {"model": "m", "file": UploadedFile("a", "", b"x"), "timestamp_granularities": "word"},
            "timestamp_granularities",
            400,
        ),
        ({"model": "m", "file": UploadedFile("a", "", b"x"), "temperature": "2"}, "temperature", 400),
        ({"model": "m", "file": UploadedFile("a", "", b"")}, "file", 400),
        ({"model": "m", "file": UploadedFile("a", "", b"x"), "stream": "true"}, "stream", 400),
        ({"model": "m", "file": UploadedFile("a", "", b"x" * 1_000_001)}, "file", 413),
    ],
)
def test_validation_refuses(body: dict[str, Any], param: str, status: int) -> None:
    with pytest.raises(InvalidRequest) as err:
        OP.validate(body)
    assert err.value.param == param and err.value.status == status
    if status == 413:
        assert isinstance(err.value, PayloadTooLarge)


def test_an_unreadable_file_is_a_400_on_file() -> None:
    body: dict[str, Any] = {
        "model": "m",
        "file": UploadedFile("a.mp3", "audio/mpeg", b"definitely not audio"),
    }
    parsed = OP.validate(body)
    with pytest.raises(InvalidRequest, match="not audio the gateway can read") as err:
        asyncio.run(OP.prepare(body, parsed, object()))
    assert err.value.param == "file"


def test_audio_url_without_a_fetcher_is_refused_clearly() -> None:
    body: dict[str, Any] = {"model": "m", "audio_url": "https://example.com/a.wav"}
    parsed = OP.validate(body)
    with pytest.raises(InvalidRequest) as err:
        asyncio.run(OP.prepare(body, parsed, object()))
    assert err.value.param == "audio_url"


# -- adapters ------------------------------------------------------------------------------------
def test_openai_form_asks_json_for_text_and_verbose_for_subtitles() -> None:
    body = _prepared(wav(2.0), response_format="srt", language="en", prompt="names")
    request = _build("openai", "openai", body)
    fields = {name: value for name, value, _, _ in request.form or []}
    assert request.url == "https://api.openai.com/v1/audio/transcriptions" and request.body is None
    assert fields["model"] == "up-model" and fields["response_format"] == "verbose_json"
    assert fields["language"] == "en" and fields["prompt"] == "names" and AUDIO_MS not in fields
    assert "Content-Type" not in request.headers and request.headers["Authorization"] == "Bearer key-1"
    assert request.form is not None and request.form[-1][2] == "a.wav"
    text = _build("groq", "openai", _prepared(wav(2.0), response_format="text"))
    assert dict((n, v) for n, v, _, _ in text.form or [])["response_format"] == "json"
    assert text.url == "https://api.groq.com/openai/v1/audio/transcriptions"


def test_openai_verbose_recording_passes_through_and_bills_the_measurement() -> None:
    raw = _recorded("openai/audio-transcriptions-verbose-json")
    body = _prepared(mp3(2.78), response_format="verbose_json")
    request = _build("openai", "openai", body)
    result = ADAPTERS[("openai", "transcriptions")].parse_response(raw, request)
    assert result.body == raw  # byte for byte
    assert result.usage == Usage(input_ms=body[AUDIO_MS], provider_ms=2780)  # its "duration": 2.78
    as_srt = _build("openai", "openai", {**body, "response_format": "srt"})
    rendered = ADAPTERS[("openai", "transcriptions")].parse_response(raw, as_srt)
    assert rendered.body.decode() == "1\n00:00:00,000 --> 00:00:02,000\nLook at all those chickens!\n"
    assert rendered.media_type.startswith("text/plain")


def test_openai_translation_drops_language_and_targets_translations() -> None:
    body = _prepared(wav(1.0), language="fr", response_format="text")
    request = _build("openai", "openai", body, "translations")
    assert request.url.endswith("/audio/translations") and request.operation == "translations"
    assert "language" not in {name for name, *_ in request.form or []}
    raw = _recorded("openai/audio-translations")
    result = ADAPTERS[("openai", "translations")].parse_response(raw, request)
    assert result.body == b"when I've had enough of running after.\n" and result.usage == Usage(
        input_ms=1000, provider_ms=3620
    )


def test_token_usage_is_billed_as_tokens() -> None:
    body = _prepared(wav(5.0))
    request = _build("openai", "openai", body)
    raw = b'{"text":"hi","usage":{"type":"tokens","input_tokens":50,"output_tokens":3,"total_tokens":53}}'
    result = ADAPTERS[("openai", "transcriptions")].parse_response(raw, request)
    assert result.usage == Usage(input_tokens=50, output_tokens=3) and result.body == raw


def test_deepgram_recording_maps_to_every_format() -> None:
    raw = _recorded("deepgram/listen-prerecorded-url")
    recorded = orjson.loads(raw)
    best = recorded["results"]["channels"][0]["alternatives"][0]
    body = _prepared(
        wav(17.5, rate=1000), response_format="verbose_json", timestamp_granularities=["word"], language="en"
    )
    request = _build("deepgram", "deepgram", body)
    assert (
        request.url
        == "https://api.deepgram.com/v1/listen?model=up-model&smart_format=true&punctuate=true&language=en"
    )
    assert (
        request.headers["Authorization"] == "Token key-1" and request.headers["Content-Type"] == "audio/wav"
    )
    assert request.body == body["file"].data and request.form is None
    adapter = ADAPTERS[("deepgram", "transcriptions")]
    doc = orjson.loads(adapter.parse_response(raw, request).body)
    assert doc["text"] == best["transcript"] and doc["duration"] == recorded["metadata"]["duration"]
    assert [w["word"] for w in doc["words"]] == [w["punctuated_word"] for w in best["words"]]
    assert doc["segments"][0]["text"].strip() == "Yep."
    assert " ".join(s["text"].strip() for s in doc["segments"]) == best["transcript"]
    plain = orjson.loads(
        adapter.parse_response(raw, _build("deepgram", "deepgram", {**body, "response_format": "json"})).body
    )
    assert plain == {"text": best["transcript"], "usage": {"type": "duration", "seconds": 18}}
    subtitles = adapter.parse_response(
        raw, _build("deepgram", "deepgram", {**body, "response_format": "vtt"})
    )
    assert subtitles.body.decode().startswith("WEBVTT\n\n00:00:05.520 --> 00:00:06.240\nYep.\n")


def test_elevenlabs_and_mistral_requests() -> None:
    body = _prepared(wav(1.0), language="en", temperature="0.1")
    eleven = _build("elevenlabs", "elevenlabs", body)
    assert eleven.url == "https://api.elevenlabs.io/v1/speech-to-text"
    assert eleven.headers["xi-api-key"] == "key-1" and "Authorization" not in eleven.headers
    fields = {n: v for n, v, _, _ in eleven.form or []}
    assert fields["model_id"] == "up-model" and fields["language_code"] == "en"
    mistral = _build("mistral", "mistral", {**body, "response_format": "vtt"})
    assert mistral.url == "https://api.mistral.ai/v1/audio/transcriptions"
    assert ("timestamp_granularities", "segment", None, None) in (mistral.form or [])
    assert "response_format" not in {n for n, *_ in mistral.form or []}


def test_native_errors_are_read() -> None:
    deepgram = ADAPTERS[("deepgram", "transcriptions")].parse_error(
        400, b'{"err_code":"Bad Request","err_msg":"no audio"}', {}
    )
    assert deepgram.message == "no audio" and deepgram.code == "Bad Request"
    eleven = ADAPTERS[("elevenlabs", "transcriptions")].parse_error(
        401, b'{"detail":{"status":"invalid_api_key","message":"bad key"}}', {}
    )
    assert eleven.message == "bad key" and eleven.code == "invalid_api_key"


def test_drift_over_ten_percent_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "aigateway.transcription"):
        assert billed({"audio_ms": 10_000, "model": "m"}, 10.5) == Usage(input_ms=10_000, provider_ms=10_500)
        assert not caplog.records
        assert billed({"audio_ms": 10_000, "model": "m"}, 12.0) == Usage(input_ms=10_000, provider_ms=12_000)
    assert "measured 10000 ms" in caplog.text and "reported 12000 ms" in caplog.text


def test_subtitle_clocks() -> None:
    segments = [Segment(0.0, 1.5, "One."), Segment(3661.25, 3662.0, " Two.")]
    assert (
        srt(segments) == "1\n00:00:00,000 --> 00:00:01,500\nOne.\n\n2\n01:01:01,250 --> 01:01:02,000\nTwo.\n"
    )
    assert vtt(segments).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nOne.\n\n01:01:01.250")


# -- the simulated transport through the real adapters -------------------------------------------
@pytest.mark.parametrize(
    ("vendor", "wire", "operation"),
    [
        ("openai", "openai", "transcriptions"),
        ("openai", "openai", "translations"),
        ("groq", "openai", "transcriptions"),
        ("deepgram", "deepgram", "transcriptions"),
        ("elevenlabs", "elevenlabs", "transcriptions"),
        ("mistral", "mistral", "transcriptions"),
    ],
)
def test_simulated_transcripts_follow_the_duration(vendor: str, wire: str, operation: str) -> None:
    transport = SimulatedTransport()
    adapter = ADAPTERS[(wire, operation)]
    profile: VendorProfile = VENDORS[vendor].for_operation(operation)

    def run(seconds: float, fmt: str = "json") -> tuple[bytes, Usage | None]:
        body = _prepared(wav(seconds, rate=2000), response_format=fmt)
        request = adapter.build_request(body, Target("whisper-1"), profile, "sk-simulated")
        response = asyncio.run(transport.send(profile, request))
        raw = asyncio.run(response.read())
        assert response.status == 200, raw
        result = adapter.parse_response(raw, request)
        return result.body, result.usage

    short, usage = run(4.0)
    assert 8 <= len(orjson.loads(short)["text"].split()) <= 12
    # billed on the gateway's measurement; the simulated provider's own duration is kept beside it
    # (ElevenLabs reports none)
    assert usage == Usage(input_ms=4000, provider_ms=0 if vendor == "elevenlabs" else 4000)
    assert run(4.0)[0] == short
    long_text = orjson.loads(run(40.0)[0])["text"]
    assert 95 <= len(long_text.split()) <= 105
    verbose = orjson.loads(run(4.0, "verbose_json")[0])
    assert verbose["segments"] and verbose["text"] == orjson.loads(short)["text"]


def test_simulated_upstream_refuses_unreadable_audio() -> None:
    profile = VENDORS["deepgram"]
    request = UpstreamRequest(
        "https://api.deepgram.com/v1/listen?model=nova-3",
        {},
        b"garbage",
        wire="deepgram",
        operation="transcriptions",
    )
    response = asyncio.run(SimulatedTransport().send(profile, request))
    assert response.status == 400
