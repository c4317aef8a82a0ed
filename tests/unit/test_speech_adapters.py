"""Speech adapters (OpenAI, Deepgram, ElevenLabs, MiniMax), their metering, and the media relay."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from aigateway.core.errors import GatewayError, InvalidRequest, ProviderError, RateLimited
from aigateway.core.pricing import Pricing, Usage
from aigateway.providers.vendors import BUILTIN_VENDORS
from aigateway.providers.wire.base import Target, UpstreamRequest
from aigateway.providers.wire.speech import (
    DeepgramSpeech,
    Mp3Counter,
    OpenAISpeech,
    SpeechTranslator,
    deepgram_model,
)
from aigateway.providers.wire.speech_native import ElevenLabsSpeech, MiniMaxSpeech, MistralSpeech
from aigateway.services.media_relay import StreamBroken, open_media
from aigateway.services.operations.speech import SpeechOperation
from aigateway.simulators import synth_audio
from aigateway.simulators.transport import SimulatedResponse

VENDORS = {v.name: v for v in BUILTIN_VENDORS}
TEXT = "Speak these words, please."
KEY = "sk-test-credential"


def _body(**kw: Any) -> dict[str, Any]:
    return {"model": "m", "input": TEXT, "voice": "alloy", **kw}


def _query(request: UpstreamRequest) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}


def test_openai_wire_forwards_the_body_with_the_upstream_model() -> None:
    req = OpenAISpeech().build_request(_body(response_format="wav"), Target("tts-1"), VENDORS["openai"], KEY)
    assert req.url == "https://api.openai.com/v1/audio/speech" and req.stream
    assert orjson.loads(req.body or b"") == {**_body(response_format="wav"), "model": "tts-1"}
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert (req.wire, req.operation, req.context["media_type"]) == ("openai", "speech", "audio/wav")


def test_deepgram_builds_the_voice_model_and_encoding() -> None:
    assert deepgram_model("aura-2-en", "thalia") == "aura-2-thalia-en"
    assert deepgram_model("aura-2-en", None) == "aura-2-thalia-en"
    assert deepgram_model("aura-2-en", "aura-2-zeus-en") == "aura-2-zeus-en"
    assert deepgram_model("aura-2-thalia-en", "alloy") == "aura-2-thalia-en"  # an OpenAI voice name
    assert deepgram_model("aura-2-thalia-en", "Orion") == "aura-2-orion-en"
    assert deepgram_model("rec:deepgram/speak-tts-wav", "thalia") == "rec:deepgram/speak-tts-wav"
    req = DeepgramSpeech().build_request(
        _body(response_format="pcm", voice="orion"), Target("aura-2-en"), VENDORS["deepgram"], KEY
    )
    assert req.url.startswith("https://api.deepgram.com/v1/speak?")
    assert _query(req) == {
        "model": "aura-2-orion-en",
        "encoding": "linear16",
        "container": "none",
        "sample_rate": "24000",
    }
    assert orjson.loads(req.body or b"") == {"text": TEXT} and req.headers["Authorization"] == f"Token {KEY}"
    with pytest.raises(InvalidRequest) as exc:
        DeepgramSpeech().build_request(_body(speed=1.5), Target("aura-2-en"), VENDORS["deepgram"], KEY)
    assert exc.value.param == "speed"


def test_elevenlabs_url_key_format_and_refusals() -> None:
    adapter = ElevenLabsSpeech()
    req = adapter.build_request(
        _body(voice="v0ice", speed=1.1), Target("eleven_v3"), VENDORS["elevenlabs"], KEY
    )
    assert req.url == "https://api.elevenlabs.io/v1/text-to-speech/v0ice/stream?output_format=mp3_44100_128"
    assert req.headers["xi-api-key"] == KEY and "Authorization" not in req.headers
    assert orjson.loads(req.body or b"") == {
        "text": TEXT,
        "model_id": "eleven_v3",
        "voice_settings": {"speed": 1.1},
    }
    for bad, param in (
        (_body(response_format="aac"), "response_format"),
        (_body(voice=None), "voice"),
        (_body(speed=2.0), "speed"),
    ):
        with pytest.raises(InvalidRequest) as exc:
            adapter.build_request(bad, Target("eleven_v3"), VENDORS["elevenlabs"], KEY)
        assert exc.value.param == param
    failure = adapter.parse_error(
        401, b'{"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}', {}
    )
    assert tuple(failure) == ("Invalid API key", "invalid_api_key")


def test_minimax_streams_what_it_can_and_asks_wav_whole() -> None:
    vendor = VENDORS["minimax"].for_operation("speech")
    assert vendor.wire == "minimax"
    req = MiniMaxSpeech().build_request(
        _body(voice="English_Graceful_Lady", speed=1.5), Target("speech-2.6-hd"), vendor, KEY
    )
    payload = orjson.loads(req.body or b"")
    assert req.url == "https://api.minimax.io/v1/t2a_v2" and payload["stream"] is True
    assert payload["voice_setting"] == {"voice_id": "English_Graceful_Lady", "speed": 1.5}
    assert payload["audio_setting"]["format"] == "mp3" and payload["stream_options"] == {
        "exclude_aggregated_audio": True
    }
    whole = MiniMaxSpeech().build_request(_body(response_format="wav"), Target("speech-2.6-hd"), vendor, KEY)
    assert orjson.loads(whole.body or b"")["stream"] is False
    with pytest.raises(InvalidRequest):
        MiniMaxSpeech().build_request(_body(response_format="opus"), Target("speech-2.6-hd"), vendor, KEY)


def _minimax(fmt: str, streamed: bool, exclude: bool = True) -> tuple[UpstreamRequest, bytes]:
    vendor = VENDORS["minimax"].for_operation("speech")
    req = MiniMaxSpeech().build_request(_body(response_format=fmt), Target("speech-2.6-hd"), vendor, KEY)
    body = orjson.loads(req.body or b"")
    if not exclude:
        body.pop("stream_options", None)
    answer = synth_audio.minimax_t2a(body)
    assert (answer.content_type == "text/event-stream") is streamed
    return req, b"".join(answer.pieces)


@pytest.mark.parametrize("exclude", [True, False])
def test_minimax_translator_decodes_hex_events_split_anywhere(exclude: bool) -> None:
    req, raw = _minimax("pcm", streamed=True, exclude=exclude)
    translator = MiniMaxSpeech().media_translator(req)
    out = b"".join(translator.feed(raw[i : i + 97]) for i in range(0, len(raw), 97)) + translator.finish()
    assert out == synth_audio.speech(TEXT, "pcm")  # the aggregated repeat is never sent twice
    assert translator.reported_chars == len(TEXT) and translator.reported_ms == synth_audio.duration_ms(TEXT)


def test_minimax_whole_answer_is_decoded_at_the_end() -> None:
    req, raw = _minimax("wav", streamed=False)
    translator = MiniMaxSpeech().media_translator(req)
    assert translator.feed(raw[:100]) == b"" and translator.feed(raw[100:]) == b""
    assert translator.finish() == synth_audio.speech(TEXT, "wav")


@pytest.mark.parametrize(
    ("code", "kind"), [(1002, RateLimited), (2013, InvalidRequest), (1000, ProviderError)]
)
def test_minimax_errors_inside_a_200_become_gateway_errors(code: int, kind: type[GatewayError]) -> None:
    req, _ = _minimax("mp3", streamed=True)
    translator = MiniMaxSpeech().media_translator(req)
    event = b"data: " + orjson.dumps({"base_resp": {"status_code": code, "status_msg": "nope"}}) + b"\n\n"
    with pytest.raises(kind) as exc:
        translator.feed(event)
    assert "nope" in exc.value.message


def _translator(fmt: str) -> SpeechTranslator:
    req = OpenAISpeech().build_request(
        _body(response_format=fmt, instructions="Calm."), Target("x"), VENDORS["openai"], KEY
    )
    return SpeechTranslator(req)


def test_translator_measures_wav_and_pcm_and_bills_by_the_prices() -> None:
    wav = _translator("wav")
    audio = synth_audio.speech(TEXT, "wav")
    assert b"".join(wav.feed(audio[i : i + 10]) for i in range(0, len(audio), 10)) == audio
    assert wav.measured_ms() == synth_audio.duration_ms(TEXT)
    per_second = wav.usage({"input_per_mtok", "output_per_mtok", "output_per_second"})
    assert per_second.output_ms == synth_audio.duration_ms(TEXT) and per_second.output_tokens == 0
    assert per_second.input_tokens >= 1 and per_second.estimated  # no TTS upstream reports tokens
    per_char = wav.usage({"per_mchar"})
    assert per_char == Usage(characters=len(TEXT))
    pcm = _translator("pcm")
    pcm.feed(b"\x00" * 48_000)
    assert pcm.measured_ms() == 1000
    flac = _translator("flac")
    assert flac.usage({"output_per_second"}) == Usage(characters=len(TEXT))  # nothing relayed, nothing billed
    flac.feed(synth_audio.speech(TEXT, "flac"))
    estimated = flac.usage({"output_per_second"})
    assert estimated.estimated and estimated.output_ms == round(len(TEXT) * 1000 / 15)


@pytest.mark.parametrize("fmt", ["aac", "opus"])
def test_aac_and_opus_seconds_are_counted_as_they_stream(fmt: str) -> None:
    audio = synth_audio.speech(TEXT, fmt)
    whole = _translator(fmt)
    for i in range(0, len(audio), 37):
        whole.feed(audio[i : i + 37])
    ms = synth_audio.duration_ms(TEXT)
    if fmt == "aac":
        expected = synth_audio.aac_frames(ms) * 1024 * 1000 // 24_000
    else:
        expected = synth_audio.opus_frames(ms) * 20
    assert abs((whole.measured_ms() or 0) - expected) <= 1
    assert not whole.usage({"output_per_second"}).estimated
    part = _translator(fmt)
    part.feed(audio[: len(audio) * 3 // 4])  # Ogg counts whole pages (a second of audio each here)
    assert 0 < (part.measured_ms() or 0) < expected


def test_mp3_seconds_are_counted_from_its_frames_as_they_stream() -> None:
    mp3 = _translator("mp3")
    audio = b"ID3\x04\x00\x00\x00\x00\x01\x00" + b"\x00" * 128 + synth_audio.speech(TEXT, "mp3")
    for i in range(0, len(audio), 50):  # the tag and the frames split anywhere
        mp3.feed(audio[i : i + 50])
    frames = len(synth_audio.speech(TEXT, "mp3")) // synth_audio.MP3_FRAME_BYTES
    assert mp3.measured_ms() == frames * 24  # 1152 samples at 48 kHz
    usage = mp3.usage({"output_per_second"})
    assert usage.output_ms == frames * 24 and not usage.estimated
    half = _translator("mp3")
    half.feed(audio[: len(audio) // 2])
    assert 0 < (half.measured_ms() or 0) < frames * 24


def test_operation_validates_and_bounds() -> None:
    op = SpeechOperation()
    for bad in (
        {"model": "m", "input": ""},
        {"model": "m", "input": "x", "response_format": "ogg"},
        {"model": "m", "input": "x", "speed": 5},
    ):
        with pytest.raises(InvalidRequest):
            op.validate(bad)
    parsed = op.validate(_body(speed=0.5))
    bound = op.bound(None, _body(speed=0.5), parsed)  # type: ignore[arg-type]
    assert bound.characters == len(TEXT) and bound.output_ms >= len(TEXT) * 400
    assert op.wants_stream(parsed) and not op.lower_output({}, 10, "openai")


# -- the media relay -----------------------------------------------------------------------------------
class _Gateway:
    def __init__(self) -> None:
        self.settled: list[tuple[Usage | None, str, int]] = []

    def stream_headers(self, call: Any) -> dict[str, str]:
        return {}

    def settle(
        self, call: Any, usage: Usage | None, *, status: str, http_status: int, error: Any = None
    ) -> int:
        call.settled = True
        self.settled.append((usage, status, http_status))
        return 0


class _Call:
    settled = False
    call_id = "call_test"
    pricing = Pricing({"output_per_second": __import__("decimal").Decimal("0.001")})


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_media_relay_passes_bytes_and_settles_ok() -> None:
    audio = synth_audio.speech(TEXT, "pcm")
    response = SimulatedResponse(200, synth_audio.chunked(audio), "audio/pcm")
    gateway, call = _Gateway(), _Call()

    async def go() -> bytes:
        stream = await open_media(gateway, call, response, _translator("pcm"), "openai")  # type: ignore[arg-type]
        assert stream.media_type == "audio/pcm"
        out = b"".join([piece async for piece in stream.chunks])
        await stream.aclose()
        return out

    assert _run(go()) == audio
    usage, status, http_status = gateway.settled[0]
    assert (status, http_status) == ("ok", 200) and usage is not None
    assert usage.output_ms == synth_audio.duration_ms(TEXT) and len(gateway.settled) == 1


def test_media_relay_error_before_audio_raises_and_closes() -> None:
    req, _ = _minimax("mp3", streamed=True)
    event = b"data: " + orjson.dumps({"base_resp": {"status_code": 1002, "status_msg": "rate"}}) + b"\n\n"
    response = SimulatedResponse(200, (event,), "text/event-stream")
    with pytest.raises(RateLimited):
        _run(open_media(_Gateway(), _Call(), response, MiniMaxSpeech().media_translator(req), "minimax"))  # type: ignore[arg-type]
    assert response.closed


def test_media_relay_mid_stream_failure_bills_what_was_relayed_and_breaks_the_stream() -> None:
    req, raw = _minimax("pcm", streamed=True)
    events = raw.split(b"\n\n")
    first, second = events[0] + b"\n\n", events[1] + b"\n\ndata: {not json\n\n"
    response = SimulatedResponse(200, (first[:200], first[200:], second), "text/event-stream")
    gateway = _Gateway()

    async def go() -> bytes:
        translator = MiniMaxSpeech().media_translator(req)
        stream = await open_media(gateway, _Call(), response, translator, "minimax")  # type: ignore[arg-type]
        got = b""
        with pytest.raises(StreamBroken):
            async for piece in stream.chunks:
                got += piece
        return got

    got = _run(go())
    usage, status, _ = gateway.settled[0]
    assert (
        got
        and status == "stream_error"
        and usage is not None
        and usage.output_ms == len(got) * 1000 // 48_000
    )
    assert response.closed


def test_media_relay_client_gone_before_first_write_is_settled_on_close() -> None:
    response = SimulatedResponse(200, synth_audio.chunked(synth_audio.speech(TEXT, "pcm")), "audio/pcm")
    gateway = _Gateway()

    async def go() -> None:
        stream = await open_media(gateway, _Call(), response, _translator("pcm"), "openai")  # type: ignore[arg-type]
        await stream.aclose()

    _run(go())
    assert gateway.settled[0][1] == "client_cancelled" and response.closed


def test_media_relay_refuses_a_json_answer_where_audio_was_due() -> None:
    response = SimulatedResponse(200, (b'{"audio_data": "AAAA"}',), "application/json")
    with pytest.raises(ProviderError) as exc:
        _run(open_media(_Gateway(), _Call(), response, _translator("mp3"), "mistral"))  # type: ignore[arg-type]
    assert "where audio was expected" in exc.value.message and response.closed


def test_mistral_sends_voice_id_and_decodes_base64_audio() -> None:
    vendor = VENDORS["mistral"].for_operation("speech")
    assert vendor.wire == "mistral"
    adapter = MistralSpeech()
    req = adapter.build_request(_body(response_format="flac"), Target("voxtral-mini-tts-2603"), vendor, KEY)
    assert req.url == "https://api.mistral.ai/v1/audio/speech"
    payload = orjson.loads(req.body or b"")
    assert payload == {
        "model": "voxtral-mini-tts-2603",
        "input": TEXT,
        "voice_id": "en_paul_neutral",
        "response_format": "flac",
    }
    answer = b"".join(synth_audio.mistral_speech(payload).pieces)
    translator = adapter.media_translator(req)
    assert translator.feed(answer[:10]) == b"" and translator.feed(answer[10:]) == b""
    assert translator.finish() == synth_audio.speech(TEXT, "flac")
    with pytest.raises(InvalidRequest):
        adapter.build_request(_body(response_format="aac"), Target("v"), vendor, KEY)


def test_groq_orpheus_gets_its_own_voices() -> None:
    def sent(upstream: str, voice: str | None) -> Any:
        body = _body(voice=voice) if voice else {"model": "m", "input": TEXT}
        req = OpenAISpeech().build_request(body, Target(upstream), VENDORS["groq"], KEY)
        assert req.url == "https://api.groq.com/openai/v1/audio/speech"
        return orjson.loads(req.body or b"").get("voice")

    assert sent("canopylabs/orpheus-v1-english", "alloy") == "autumn"
    assert sent("canopylabs/orpheus-v1-english", "Troy") == "troy"
    assert sent("canopylabs/orpheus-v1-english", None) == "autumn"
    assert sent("canopylabs/orpheus-arabic-saudi", "nova") == "fahad"
    assert sent("canopylabs/orpheus-v1-english", "custom-voice") == "custom-voice"
    assert sent("tts-1", "alloy") == "alloy"  # other models: as the client sent it


def test_an_encoders_info_frame_is_not_counted_as_audio() -> None:
    frame = synth_audio.MP3_SILENT_FRAME
    info = frame[:21] + b"Info" + frame[25:]  # where LAME writes it in a mono MPEG-1 frame
    counter = Mp3Counter()
    counter.feed(info + frame * 10)
    assert counter.ms == 240
