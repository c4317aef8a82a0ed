"""The simulator's text-to-speech routes (real HTTP against a SimulatorServer on port 0)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from aigateway.providers.vendors import BUILTIN_VENDORS
from aigateway.providers.wire.base import Target
from aigateway.providers.wire.speech import DeepgramSpeech
from aigateway.simulators import synth_audio
from aigateway.simulators.server import SimulatorServer

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings"
TEXT = "Simulated speech, please."
BEARER = {"Authorization": "Bearer sk-x"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(RECORDINGS) as server:
        yield server


ROUTES = [
    (
        "/v1/audio/speech",
        {"model": "tts-1", "input": TEXT, "voice": "alloy", "response_format": "wav"},
        BEARER,
    ),
    (
        "/deepgram/v1/speak?model=aura-2-thalia-en&encoding=linear16",
        {"text": TEXT},
        {"Authorization": "Token k"},
    ),
    (
        "/elevenlabs/v1/text-to-speech/v0/stream?output_format=pcm_24000",
        {"text": TEXT, "model_id": "m"},
        {"xi-api-key": "k"},
    ),
    (
        "/minimax/v1/t2a_v2",
        {"model": "m", "text": TEXT, "audio_setting": {"format": "wav", "sample_rate": 24000}},
        BEARER,
    ),
    ("/mistral/v1/audio/speech", {"model": "m", "input": TEXT, "response_format": "wav"}, BEARER),
]


@pytest.mark.parametrize(("path", "body", "auth"), ROUTES)
def test_each_route_checks_its_key_and_answers_audio(
    sim: SimulatorServer, path: str, body: dict, auth: dict
) -> None:
    with httpx.Client(base_url=sim.url, timeout=10) as http:
        refused = http.post(path, json=body)
        answer = http.post(path, json=body, headers=auth)
    if "t2a_v2" in path:  # MiniMax says a bad key inside its own error body
        assert refused.json()["base_resp"]["status_code"] == 1004
    else:
        assert refused.status_code == 401
    assert answer.status_code == 200
    audio = answer.content
    if "t2a_v2" in path:
        audio = bytes.fromhex(answer.json()["data"]["audio"])
    elif "mistral" in path:
        audio = base64.b64decode(answer.json()["audio_data"])
    expected = synth_audio.speech(TEXT, "pcm" if "pcm_" in path else "wav")
    assert audio == expected


def test_minimax_stream_is_hex_events(sim: SimulatorServer) -> None:
    body = {"model": "m", "text": TEXT, "stream": True, "audio_setting": {"format": "mp3"}}
    with httpx.Client(base_url=sim.url, timeout=10) as http:
        answer = http.post("/minimax/v1/t2a_v2", json=body, headers=BEARER)
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = [orjson.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: ")]
    audio = b"".join(bytes.fromhex(e["data"]["audio"]) for e in events if e["data"]["status"] == 1)
    assert audio == synth_audio.speech(TEXT, "mp3") and events[-1]["data"]["status"] == 2


def test_the_deepgram_recording_is_replayed_byte_for_byte_in_chunks(sim: SimulatorServer) -> None:
    doc = json.loads((RECORDINGS / "deepgram" / "speak-tts-wav.json").read_text())
    with (
        httpx.Client(base_url=sim.url, timeout=10) as http,
        http.stream(
            "POST",
            "/v1/speak?model=rec:deepgram/speak-tts-wav&encoding=linear16",
            json={"text": "Hello, world."},
            headers={"Authorization": "Token k"},
        ) as answer,
    ):
        assert answer.headers["content-type"] == "audio/wav"
        assert "content-length" not in answer.headers
        body = answer.read()
    assert body == base64.b64decode(doc["response"]["body"])


def test_the_recorded_deepgram_request_is_what_the_adapter_builds() -> None:
    doc = json.loads((RECORDINGS / "deepgram" / "speak-tts-wav.json").read_text())
    recorded = urlsplit(doc["request"]["url"])
    vendor = next(v for v in BUILTIN_VENDORS if v.name == "deepgram")
    body = {
        "model": "m",
        "input": doc["request"]["body"]["text"],
        "voice": "thalia",
        "response_format": "wav",
    }
    built = DeepgramSpeech().build_request(body, Target("aura-2-en"), vendor, "k")
    ours = urlsplit(built.url)
    assert (ours.scheme, ours.netloc, ours.path) == (recorded.scheme, recorded.netloc, recorded.path)
    asked = {k: v[-1] for k, v in parse_qs(ours.query).items()}
    assert {k: v[-1] for k, v in parse_qs(recorded.query).items()}.items() <= asked.items()
    assert asked["container"] == "wav"  # Deepgram's default for linear16, said outright
    assert orjson.loads(built.body or b"") == doc["request"]["body"]
