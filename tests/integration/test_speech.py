"""POST /v1/audio/speech through the real gateway, with the openai SDK as the client.

A gateway of its own (a fresh database of each kind) has the TTS vendors pointed at the upstream
simulator. Test keys reach every TTS wire through the simulated transport; live keys go through the
simulator over HTTP, which also replays the Deepgram recording byte for byte. Audio is checked for
what it is (each container's structure, and its length where the bytes say it).
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import httpx
import openai
import pytest

from aigateway.simulators import synth_audio
from tests.integration import conftest
from tests.integration.conftest import RECORDINGS, Gateway, start_gateway, stop_gateway
from tests.integration.models_tts import tts_env

TEXT = "The quick brown fox jumps over the lazy dog, twice over."
MEDIA = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def tts(
    request: pytest.FixtureRequest,
    simulator: conftest.SimulatorServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("tts-gateway")
    pg_name = None
    if request.param == "sqlite":
        db_url = f"sqlite:///{workdir / 'tts.db'}"
    else:
        pg_name, db_url = conftest._postgres_database()
    gw = start_gateway(workdir, db_url, simulator, extra_env=tts_env(simulator.url))
    gw.cli("balance", "add", "--usd", "100")
    try:
        yield gw
    finally:
        stop_gateway(gw)
        shutil.rmtree(workdir / "data", ignore_errors=True)
        if pg_name is not None:
            conftest._drop_postgres(pg_name)


def _rid() -> str:
    return "req-tts-" + uuid.uuid4().hex[:12]


def _wav_ms(data: bytes) -> int:
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    byte_rate = struct.unpack_from("<I", data, 28)[0]
    assert data[36:40] == b"data"
    return (len(data) - 44) * 1000 // byte_rate


def _check_container(fmt: str, data: bytes) -> None:
    """The structure every decoder relies on, for each container the gateway answers."""
    if fmt == "wav":
        assert _wav_ms(data) > 0
    elif fmt == "pcm":
        assert len(data) % 2 == 0 and data
    elif fmt == "flac":
        assert data[:4] == b"fLaC" and data[42:44] == b"\xff\xf8"
    elif fmt == "mp3":
        frame = synth_audio.MP3_FRAME_BYTES
        assert len(data) % frame == 0
        assert all(data[i : i + 2] == b"\xff\xfb" for i in range(0, len(data), frame))
    elif fmt == "opus":
        assert data[:4] == b"OggS" and data[28:36] == b"OpusHead"
    elif fmt == "aac":
        size = 11
        assert len(data) % size == 0 and all(
            data[i : i + 2] == b"\xff\xf1" for i in range(0, len(data), size)
        )


# -- test keys: every wire, in process -----------------------------------------------------------
@pytest.mark.parametrize("fmt", list(MEDIA))
def test_openai_sdk_gets_valid_audio_in_every_format(tts: Gateway, fmt: str) -> None:
    client = tts.client(tts.test_key)
    with client.audio.speech.with_streaming_response.create(
        model="sim/tts-1",
        voice="alloy",
        input=TEXT,
        response_format=fmt,  # type: ignore[arg-type]
    ) as response:
        assert response.headers["content-type"] == MEDIA[fmt]
        assert "content-length" not in response.headers  # streamed, not buffered
        data = response.read()
    assert data == synth_audio.speech(TEXT, fmt)
    _check_container(fmt, data)


@pytest.mark.parametrize(
    ("model", "fmt", "voice"),
    [
        ("sim/tts-groq", "wav", "troy"),
        ("sim/tts-deepgram", "mp3", "thalia"),
        ("sim/tts-deepgram", "wav", "thalia"),
        ("sim/tts-elevenlabs", "mp3", "21m00Tcm4TlvDq8ikWAM"),
        ("sim/tts-elevenlabs", "pcm", "21m00Tcm4TlvDq8ikWAM"),
        ("sim/tts-minimax", "mp3", "English_Graceful_Lady"),
        ("sim/tts-minimax", "wav", "English_Graceful_Lady"),
        ("sim/tts-mistral", "opus", "alloy"),
    ],
)
def test_every_tts_wire_answers_in_test_mode(tts: Gateway, model: str, fmt: str, voice: str) -> None:
    audio = tts.client(tts.test_key).audio.speech.create(
        model=model,
        voice=voice,
        input=TEXT,
        response_format=fmt,  # type: ignore[arg-type]
    )
    _check_container(fmt, audio.content)
    if fmt == "wav":
        assert abs(_wav_ms(audio.content) - synth_audio.duration_ms(TEXT)) <= 1


def test_a_format_the_vendor_lacks_is_a_clear_400(tts: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        tts.client(tts.test_key).audio.speech.create(
            model="sim/tts-elevenlabs", voice="21m00Tcm4TlvDq8ikWAM", input=TEXT, response_format="aac"
        )
    assert "response_format" in exc.value.message


def test_validation_names_the_parameter(tts: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        tts.client(tts.test_key).audio.speech.create(model="sim/tts-1", voice="alloy", input=TEXT, speed=9)
    assert "speed" in exc.value.message
    with pytest.raises(openai.BadRequestError):
        tts.client(tts.test_key).audio.speech.create(
            model="sim/tts-1",
            voice="alloy",
            input=TEXT,
            stream_format="sse",
        )


# -- live keys: through the simulator, billed --------------------------------------------------
def test_per_character_model_bills_the_input_characters(tts: Gateway) -> None:
    rid = _rid()
    with tts.client().audio.speech.with_streaming_response.create(
        model="sim/tts-1",
        voice="alloy",
        input=TEXT,
        response_format="mp3",
        extra_headers={"X-Request-Id": rid},
    ) as response:
        data = response.read()
    _check_container("mp3", data)
    row = tts.ledger_row(rid)
    assert row["status"] == "ok" and row["operation"] == "speech" and row["stream"] is True
    assert row["unit_kind"] == "characters" and row["input_units"] == len(TEXT)
    assert row["cost_nanousd"] == len(TEXT) * 15_000  # $15 per million characters
    assert row["usage_estimated"] is False


@pytest.mark.parametrize(
    ("model", "voice", "per_mchar"),
    [
        ("sim/tts-1", "alloy", 15),
        ("sim/tts-deepgram", "thalia", 30),
        ("sim/tts-elevenlabs", "21m00Tcm4TlvDq8ikWAM", 180),
    ],
)
def test_a_per_character_answer_carries_its_cost_before_the_audio(
    tts: Gateway, model: str, voice: str, per_mchar: int
) -> None:
    """Per-character cost is known before the first byte: the streamed answer's headers say it, and
    the ledger row agrees to the nano-dollar."""
    rid = _rid()
    raw = tts.client().audio.speech.with_raw_response.create(
        model=model, voice=voice, input=TEXT, response_format="pcm", extra_headers={"X-Request-Id": rid}
    )
    assert raw.headers["x-unit-kind"] == "characters"
    assert raw.headers["x-input-units"] == str(len(TEXT)) and raw.headers["x-output-units"] == "0"
    cost_nano = len(TEXT) * per_mchar * 1000  # $N per million characters
    assert Decimal(raw.headers["x-cost-cents"]) == Decimal(cost_nano) / 10_000_000
    _check_container("pcm", raw.content)
    row = tts.ledger_row(rid)
    assert row["cost_nanousd"] == cost_nano and row["unit_kind"] == "characters"
    free = tts.client(tts.test_key).audio.speech.with_raw_response.create(
        model=model, voice=voice, input=TEXT, response_format="pcm"
    )
    assert free.headers["x-cost-cents"] == "0" and free.headers["x-unit-kind"] == "characters"


@pytest.mark.parametrize(
    ("model", "voice", "kind"),
    [("sim/tts-mini", "coral", "seconds"), ("sim/tts-minimax", "English_Graceful_Lady", "characters")],
)
def test_a_cost_known_only_at_the_end_is_left_to_the_ledger(
    tts: Gateway, model: str, voice: str, kind: str
) -> None:
    """Seconds of audio (and MiniMax's own character count, reported in its last event) are known only
    when the stream ends: the headers say the unit, the ledger row has the cost."""
    rid = _rid()
    raw = tts.client().audio.speech.with_raw_response.create(
        model=model, voice=voice, input=TEXT, response_format="wav", extra_headers={"X-Request-Id": rid}
    )
    assert raw.headers["x-unit-kind"] == kind and "x-cost-cents" not in raw.headers
    assert "x-input-units" not in raw.headers and raw.content
    row = tts.ledger_row(rid)
    assert row["unit_kind"] == kind and row["cost_nanousd"] > 0


def test_per_second_model_bills_the_seconds_measured_from_the_wav(tts: Gateway) -> None:
    rid = _rid()
    audio = tts.client().audio.speech.create(
        model="sim/tts-mini",
        voice="coral",
        input=TEXT,
        response_format="wav",
        instructions="Cheerful.",
        extra_headers={"X-Request-Id": rid},
    )
    ms = _wav_ms(audio.content)
    row = tts.ledger_row(rid)
    assert row["unit_kind"] == "seconds" and row["output_units"] == ms
    assert row["cost_nanousd"] > ms * 250  # $0.00025 a second, plus the input tokens


@pytest.mark.parametrize(
    ("model", "fmt", "voice"),
    [
        ("sim/tts-groq", "wav", "troy"),
        ("sim/tts-deepgram", "pcm", "thalia"),
        ("sim/tts-elevenlabs", "opus", "21m00Tcm4TlvDq8ikWAM"),
        ("sim/tts-minimax", "flac", "English_Graceful_Lady"),
        ("sim/tts-minimax", "wav", "English_Graceful_Lady"),
        ("sim/tts-mistral", "wav", "en_paul_neutral"),
    ],
)
def test_every_tts_wire_through_the_simulator(tts: Gateway, model: str, fmt: str, voice: str) -> None:
    rid = _rid()
    audio = tts.client().audio.speech.create(
        model=model,
        voice=voice,
        input=TEXT,
        response_format=fmt,  # type: ignore[arg-type]
        extra_headers={"X-Request-Id": rid},
    )
    _check_container(fmt, audio.content)
    row = tts.ledger_row(rid)
    assert row["status"] == "ok" and row["unit_kind"] == "characters" and row["input_units"] == len(TEXT)
    assert row["cost_nanousd"] > 0


def test_deepgram_recording_is_relayed_byte_for_byte(tts: Gateway) -> None:
    doc = json.loads((RECORDINGS / "deepgram" / "speak-tts-wav.json").read_text())
    recorded = base64.b64decode(doc["response"]["body"])
    rid = _rid()
    with tts.client().audio.speech.with_streaming_response.create(
        model="rec/tts-deepgram-wav",
        voice="thalia",
        input=doc["request"]["body"]["text"],
        response_format="wav",
        extra_headers={"X-Request-Id": rid},
    ) as response:
        assert response.headers["content-type"] == "audio/wav"
        pieces = list(response.iter_bytes())
    assert b"".join(pieces) == recorded
    row = tts.ledger_row(rid)
    assert row["status"] == "ok" and row["input_units"] == 13 and row["cost_nanousd"] == 13 * 30_000


def test_upstream_error_keeps_its_status(tts: Gateway) -> None:
    tts.simulator.add_faults("speech-2.6-hd", [{"kind": "status", "status": 429}])
    with pytest.raises(openai.RateLimitError):
        tts.client().audio.speech.create(
            model="sim/tts-minimax", voice="English_Graceful_Lady", input=TEXT, response_format="mp3"
        )


def test_client_disconnect_cancels_upstream_and_bills_the_seconds_relayed(tts: Gateway) -> None:
    tts.simulator.add_faults("fault-tts-slow", [{"kind": "slow_chunks", "ms": 400}], sticky=True)
    rid = _rid()
    long_text = TEXT * 8
    with (
        httpx.Client(base_url=tts.url, timeout=30) as http,
        http.stream(
            "POST",
            "/v1/audio/speech",
            headers={"Authorization": f"Bearer {tts.admin_key}", "X-Request-Id": rid},
            json={"model": "sim/tts-slow", "voice": "alloy", "input": long_text, "response_format": "pcm"},
        ) as response,
    ):
        assert response.status_code == 200
        got = b""
        for piece in response.iter_raw():
            got += piece
            break  # hang up after the first piece
    row = tts.ledger_row(rid)
    full_ms = synth_audio.duration_ms(long_text)
    assert row["status"] == "client_cancelled" and row["unit_kind"] == "seconds"
    assert 0 < row["output_units"] < full_ms
    assert row["cost_nanousd"] > 0
    deadline = time.monotonic() + 60
    while True:
        log = tts.simulator.requests("fault-tts-slow")
        if log and log[-1].get("client_disconnected"):
            break
        assert time.monotonic() < deadline, f"upstream request was not cancelled: {log[-1] if log else None}"
        time.sleep(0.05)


def test_upstream_cut_mid_stream_drops_the_client_and_bills_what_was_relayed(tts: Gateway) -> None:
    tts.simulator.add_faults("fault-tts-cut", [{"kind": "cut", "after_chunks": 2}], sticky=True)
    rid = _rid()
    got = b""
    with (
        httpx.Client(base_url=tts.url, timeout=30) as http,
        http.stream(
            "POST",
            "/v1/audio/speech",
            headers={"Authorization": f"Bearer {tts.admin_key}", "X-Request-Id": rid},
            json={"model": "sim/tts-cut", "voice": "alloy", "input": TEXT * 4, "response_format": "mp3"},
        ) as response,
    ):
        assert response.status_code == 200
        with pytest.raises(httpx.HTTPError):  # the audio is not passed off as complete
            for piece in response.iter_raw():
                got += piece
    assert got
    row = tts.ledger_row(rid)
    assert row["status"] == "stream_error" and row["unit_kind"] == "seconds"
    frames = len(got) // synth_audio.MP3_FRAME_BYTES
    assert row["output_units"] == frames * 24 and row["usage_estimated"] is True  # input tokens estimated


@pytest.mark.parametrize(
    ("model", "voice"),
    [
        ("openai/tts-1", "alloy"),
        ("openai/gpt-4o-mini-tts", "coral"),
        ("canopylabs/orpheus-v1-english", "troy"),
        ("deepgram/aura-2-en", "orion"),
        ("elevenlabs/eleven-v3", "JBFqnCBsd6RMkjVDRZzb"),
        ("minimax/speech-2.6-turbo", "English_Graceful_Lady"),
        ("mistral/voxtral-mini-tts", "en_paul_neutral"),
    ],
)
def test_the_catalogs_tts_models_speak_in_test_mode(tts: Gateway, model: str, voice: str) -> None:
    with tts.client(tts.test_key).audio.speech.with_streaming_response.create(
        model=model, voice=voice, input=TEXT, response_format="pcm"
    ) as response:
        assert response.headers["x-provider"] == "simulated" and response.headers["x-model"] == model
        data = response.read()
    assert abs(len(data) // 48 - synth_audio.duration_ms(TEXT)) <= 1  # 24 kHz, 16-bit mono


def test_a_tts_model_no_adapter_serves_says_so(tts: Gateway) -> None:
    with pytest.raises(openai.APIStatusError) as exc:
        tts.client(tts.test_key).audio.speech.create(
            model="google/gemini-3.8-flash-tts", voice="Kore", input=TEXT
        )
    assert exc.value.status_code == 502 and "no adapter" in exc.value.message
