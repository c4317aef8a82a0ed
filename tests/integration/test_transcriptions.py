"""POST /v1/audio/transcriptions and /v1/audio/translations through the real gateway, openai SDK as client.

The gateway here has the STT vendors (Deepgram, ElevenLabs, Groq, Mistral) pointed at the simulator
and may fetch private URLs (the simulator serves ``audio_url`` files on 127.0.0.1); the shared
gateway, which may not, refuses them. Test keys reach every STT wire through the simulated transport
(the real adapters); live keys replay the recordings through the upstream simulator. Billing is the
gateway's own measurement of the audio, read from the uploaded file.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from aigateway.simulators.server import SimulatorServer
from tests.integration.conftest import RECORDINGS, Gateway, start_gateway, stop_gateway
from tests.integration.models_stt import PER_SECOND, stt_env
from tests.unit.test_audio_duration import flac, m4a, mp3, ogg_opus, wav, webm

MAX_AUDIO = 400_000
WIRES = ["sim/stt-openai", "sim/stt-groq", "sim/stt-deepgram", "sim/stt-elevenlabs", "sim/stt-mistral"]


@pytest.fixture(scope="module")
def stt(
    gateway: Gateway, simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A second gateway on the same database, with the STT vendors at the simulator."""
    workdir = tmp_path_factory.mktemp("stt-gateway")
    env = {
        **stt_env(simulator.url),
        "AIGATEWAY_ALLOW_PRIVATE_FETCH": "true",
        "AIGATEWAY_MAX_AUDIO_BYTES": str(MAX_AUDIO),
    }
    gw = start_gateway(workdir, gateway.db_url, simulator, extra_env=env, test_key=gateway.test_key)
    try:
        yield gw
    finally:
        stop_gateway(gw)
        shutil.rmtree(workdir / "data", ignore_errors=True)


def _rid() -> str:
    return "req-stt-" + uuid.uuid4().hex[:12]


def _recorded(name: str) -> dict[str, Any]:
    doc = json.loads((RECORDINGS / f"{name}.json").read_text())
    body: dict[str, Any] = json.loads(doc["response"]["body"])
    return body


@pytest.mark.parametrize("model", WIRES)
def test_test_key_every_wire(stt: Gateway, model: str) -> None:
    client = stt.client(stt.test_key)
    rid = _rid()
    raw = client.audio.transcriptions.with_raw_response.create(
        model=model, file=("speech.wav", wav(4.0), "audio/wav"), extra_headers={"X-Request-Id": rid}
    )
    result = raw.parse()
    words = result.text.split()
    assert 8 <= len(words) <= 12  # about 2.5 words a second of audio
    assert raw.headers["x-provider"] == "simulated" and raw.headers["x-cost-cents"] == "0"
    assert raw.headers["x-unit-kind"] == "seconds" and raw.headers["x-input-units"] == "4"
    again = client.audio.transcriptions.create(model=model, file=("speech.wav", wav(4.0), "audio/wav"))
    assert again.text == result.text  # deterministic
    longer = client.audio.transcriptions.create(
        model=model, file=("long.wav", wav(20.0, rate=4000), "audio/wav")
    )
    assert len(longer.text.split()) >= 4 * len(words)
    row = stt.ledger_row(rid)
    assert row["operation"] == "transcriptions" and row["endpoint"] == "audio.transcriptions"
    assert row["unit_kind"] == "seconds" and row["input_units"] == 4000
    assert row["mode"] == "test" and row["cost_nanousd"] == 0 and row["status"] == "ok"
    meters = row["meters"] if isinstance(row["meters"], dict) else json.loads(row["meters"])
    # billed on the gateway's measurement; the provider's own duration beside it (ElevenLabs has none)
    assert meters == {"input_ms": 4000} | ({} if model == "sim/stt-elevenlabs" else {"provider_ms": 4000})


@pytest.mark.parametrize(
    "model", ["sim/stt-openai", "sim/stt-deepgram", "sim/stt-elevenlabs", "sim/stt-mistral"]
)
def test_every_response_format(stt: Gateway, model: str) -> None:
    client = stt.client(stt.test_key)
    audio = ("speech.wav", wav(6.0), "audio/wav")
    plain = client.audio.transcriptions.create(model=model, file=audio)
    text = client.audio.transcriptions.create(model=model, file=audio, response_format="text")
    assert isinstance(text, str) and text.strip() == plain.text
    srt = client.audio.transcriptions.create(model=model, file=audio, response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> ") and "-->" in srt
    vtt = client.audio.transcriptions.create(model=model, file=audio, response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    verbose = client.audio.transcriptions.create(
        model=model, file=audio, response_format="verbose_json", timestamp_granularities=["word", "segment"]
    )
    assert verbose.text == plain.text and verbose.segments
    assert math.isclose(verbose.duration, 6.0, abs_tol=0.01)
    assert verbose.words and all(w.start <= w.end <= 6.0 for w in verbose.words)
    assert " ".join(w.word for w in verbose.words) == plain.text
    with stt.http() as http:
        answer = http.post(
            "/v1/audio/transcriptions",
            headers={"Authorization": f"Bearer {stt.test_key}"},
            data={"model": model, "response_format": "srt"},
            files={"file": audio},
        )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("name", "data", "ms"),
    [
        ("a.mp3", mp3(3.0), round(round(3.0 * 44100 / 1152) * 1152 / 44.1)),
        ("a.flac", flac(2.5), 2500),
        ("a.ogg", ogg_opus(1.5), 1500),
        ("a.m4a", m4a(5.0), 5000),
        ("a.webm", webm(2.0), 2000),
    ],
)
def test_every_container_is_measured(stt: Gateway, name: str, data: bytes, ms: int) -> None:
    rid = _rid()
    raw = stt.client(stt.test_key).audio.transcriptions.with_raw_response.create(
        model="sim/stt-openai", file=(name, data), extra_headers={"X-Request-Id": rid}
    )
    assert raw.parse().text
    assert stt.ledger_row(rid)["input_units"] == ms


@pytest.mark.parametrize(
    ("model", "provider", "upstream"),
    [
        ("sim/stt-openai", "openai", "whisper-1"),
        ("sim/stt-groq", "groq", "whisper-large-v3-turbo"),
        ("sim/stt-deepgram", "deepgram", "nova-3"),
        ("sim/stt-elevenlabs", "elevenlabs", "scribe_v1"),
        ("sim/stt-mistral", "mistral", "voxtral-mini-2507"),
    ],
)
def test_live_key_every_upstream_over_http(stt: Gateway, model: str, provider: str, upstream: str) -> None:
    _, key = stt.new_account(f"stt-live-{provider}", usd="5")
    rid = _rid()
    raw = stt.client(key).audio.transcriptions.with_raw_response.create(
        model=model,
        file=("speech.wav", wav(3.0), "audio/wav"),
        response_format="verbose_json",
        extra_headers={"X-Request-Id": rid},
    )
    result = raw.parse()
    assert 6 <= len(result.text.split()) <= 8 and result.segments
    assert raw.headers["x-provider"] == provider and raw.headers["x-input-units"] == "3"
    row = stt.ledger_row(rid)
    assert row["mode"] == "live" and row["input_units"] == 3000
    assert row["cost_nanousd"] == round(3000 * float(PER_SECOND) * 1e6)
    sent = stt.simulator.requests(upstream)[-1]
    assert sent["path"].startswith(f"/{provider}/") or provider == "openai"


def test_live_replay_verbose_json_bills_the_measured_seconds(stt: Gateway) -> None:
    account, key = stt.new_account("stt-live", usd="5")
    rid = _rid()
    audio = mp3(2.78)
    raw = stt.client(key).audio.transcriptions.with_raw_response.create(
        model="rec/stt-openai-verbose",
        file=("english_audio.mp3", audio),
        response_format="verbose_json",
        language="en",
        prompt="what's that over there?",
        temperature=0.3,
        extra_headers={"X-Request-Id": rid},
    )
    result = raw.parse()
    recorded = _recorded("openai/audio-transcriptions-verbose-json")
    assert result.text == recorded["text"] and result.duration == recorded["duration"]
    assert [s.text for s in result.segments or []] == [s["text"] for s in recorded["segments"]]
    measured = round(round(2.78 * 44100 / 1152) * 1152 / 44.1)
    row = stt.ledger_row(rid)
    assert row["input_units"] == measured and row["unit_kind"] == "seconds"
    assert row["cost_nanousd"] == round(measured * float(PER_SECOND) * 1e6)
    assert raw.headers["x-provider"] == "openai" and row["account_id"] == account
    sent = stt.simulator.requests("rec:openai/audio-transcriptions-verbose-json")[-1]
    assert sent["body"]["response_format"] == "verbose_json" and sent["body"]["language"] == "en"
    assert sent["body"]["file_bytes"] == len(audio)


def test_live_replay_translation(stt: Gateway) -> None:
    _, key = stt.new_account("stt-translate", usd="5")
    result = stt.client(key).audio.translations.create(
        model="rec/stt-openai-translate", file=("french_audio.mp3", mp3(3.62)), response_format="verbose_json"
    )
    recorded = _recorded("openai/audio-translations")
    assert result.text == recorded["text"]
    sent = stt.simulator.requests("rec:openai/audio-translations")[-1]
    assert sent["path"].endswith("/audio/translations")


def test_test_key_translation_and_unsupported_wire(stt: Gateway) -> None:
    client = stt.client(stt.test_key)
    result = client.audio.translations.create(model="sim/stt-openai", file=("fr.wav", wav(3.0), "audio/wav"))
    assert result.text
    with pytest.raises(openai.APIStatusError) as err:
        client.audio.translations.create(model="sim/stt-deepgram", file=("fr.wav", wav(3.0), "audio/wav"))
    assert "adapter" in err.value.message


def test_deepgram_recording_from_audio_url(stt: Gateway) -> None:
    _, key = stt.new_account("stt-deepgram", usd="5")
    recorded = _recorded("deepgram/listen-prerecorded-url")
    best = recorded["results"]["channels"][0]["alternatives"][0]
    rid = _rid()
    with stt.http() as http:
        answer = http.post(
            "/v1/audio/transcriptions",
            headers={"Authorization": f"Bearer {key}", "X-Request-Id": rid},
            json={
                "model": "rec/stt-deepgram",
                "audio_url": f"{stt.simulator.url}/sim-audio/17.566313.wav",
                "response_format": "verbose_json",
                "timestamp_granularities": ["word"],
            },
        )
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["text"] == best["transcript"] and doc["duration"] == recorded["metadata"]["duration"]
    assert [w["word"] for w in doc["words"]] == [w["punctuated_word"] for w in best["words"]]
    assert [w["start"] for w in doc["words"]] == [w["start"] for w in best["words"]]
    assert stt.ledger_row(rid)["input_units"] == 17566
    with stt.http() as http:
        too_big = http.post(
            "/v1/audio/transcriptions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "rec/stt-deepgram", "audio_url": f"{stt.simulator.url}/sim-audio/30.wav"},
        )
    assert too_big.status_code == 400 and too_big.json()["error"]["param"] == "audio_url"
    assert "larger than" in too_big.json()["error"]["message"]
    sent = stt.simulator.requests("rec:deepgram/listen-prerecorded-url")[-1]
    assert sent["headers"]["Authorization"].startswith("Token ")


def test_provider_duration_drift_is_logged(stt: Gateway) -> None:
    _, key = stt.new_account("stt-drift", usd="5")
    rid = _rid()
    stt.client(key).audio.transcriptions.create(
        model="rec/stt-openai-verbose",
        file=("long.wav", wav(5.0), "audio/wav"),
        response_format="verbose_json",
        extra_headers={"X-Request-Id": rid},
    )
    row = stt.ledger_row(rid)
    assert row["input_units"] == 5000  # the gateway's measurement, not the provider's 2.78 s
    meters = row["meters"] if isinstance(row["meters"], dict) else json.loads(row["meters"])
    assert meters == {"input_ms": 5000, "provider_ms": 2780}  # the recording's "duration": 2.78
    assert row["cost_nanousd"] == round(5000 * float(PER_SECOND) * 1e6)
    log = stt.workdir / "gateway.log"
    deadline = time.monotonic() + 30
    while "the gateway measured 5000 ms" not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "no drift line in the gateway log"
        time.sleep(0.1)


def test_token_priced_model_bills_reported_tokens(stt: Gateway) -> None:
    _, key = stt.new_account("stt-tokens", usd="5")
    rid = _rid()
    raw = stt.client(key).audio.transcriptions.with_raw_response.create(
        model="sim/stt-openai-tokens",
        file=("a.wav", wav(10.0), "audio/wav"),
        extra_headers={"X-Request-Id": rid},
    )
    # Live keys to the openai vendor reach the simulator's synthesizer: gpt-4o-transcribe reports tokens.
    assert raw.parse().text
    row = stt.ledger_row(rid)
    assert row["unit_kind"] == "tokens" and row["input_units"] == 100
    assert row["cost_nanousd"] == 100 * 2500 + row["output_units"] * 10000


def test_refusals(stt: Gateway, gateway: Gateway) -> None:
    client = stt.client(stt.test_key)
    with pytest.raises(openai.BadRequestError) as err:
        client.audio.transcriptions.create(model="sim/stt-openai", file=("a.wav", b"not audio at all, sorry"))
    assert err.value.body["param"] == "file" and err.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.APIStatusError) as big:
        client.audio.transcriptions.create(model="sim/stt-openai", file=("a.wav", wav(13.0), "audio/wav"))
    assert big.value.status_code == 413
    with pytest.raises(openai.BadRequestError) as wrong:
        client.audio.transcriptions.create(model="sim/gpt", file=("a.wav", wav(1.0), "audio/wav"))
    assert wrong.value.body["param"] == "model"
    headers = {"Authorization": f"Bearer {gateway.test_key}"}
    url = f"{stt.simulator.url}/sim-audio/2.wav"
    with gateway.http() as http:
        private = http.post(
            "/v1/audio/transcriptions", headers=headers, json={"model": "sim/stt-openai", "audio_url": url}
        )
        scheme = http.post(
            "/v1/audio/transcriptions",
            headers=headers,
            json={"model": "sim/stt-openai", "audio_url": "file:///etc/passwd"},
        )
        missing = http.post("/v1/audio/transcriptions", headers=headers, json={"model": "sim/stt-openai"})
    assert private.status_code == 400 and private.json()["error"]["param"] == "audio_url"
    assert scheme.status_code == 400 and scheme.json()["error"]["param"] == "audio_url"
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "file"


def test_upstream_fault_and_budget(stt: Gateway) -> None:
    _, key = stt.new_account("stt-fault", usd="5")
    stt.simulator.add_faults("fault-stt-429", [{"kind": "status", "status": 429}])
    with pytest.raises(openai.RateLimitError):
        stt.client(key).audio.transcriptions.create(
            model="sim/stt-fault", file=("a.wav", wav(2.0), "audio/wav")
        )
    _, poor = stt.new_account("stt-poor", usd="0.001")  # $0.0001 a second: 10 s of audio at most
    ok = stt.client(poor).audio.transcriptions.create(
        model="sim/stt-openai", file=("a.wav", wav(2.0), "audio/wav")
    )
    assert ok.text
    with pytest.raises(openai.APIStatusError) as err:
        stt.client(poor).audio.transcriptions.create(
            model="sim/stt-openai", file=("a.wav", wav(120.0, rate=1000), "audio/wav")
        )
    assert err.value.status_code == 402


def test_shared_gateway_serves_uploads(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        answer = http.post(
            "/v1/audio/transcriptions",
            headers={"Authorization": f"Bearer {gateway.test_key}"},
            data={"model": "sim/stt-openai", "response_format": "text"},
            files={"file": ("a.wav", wav(2.0), "audio/wav")},
        )
    assert answer.status_code == 200 and len(answer.text.split()) == 5


def test_catalog_stt_models_answer_test_keys(gateway: Gateway) -> None:
    client = gateway.client(gateway.test_key)
    models = [m.id for m in client.models.list() if (m.model_extra or {}).get("modality") == "audio-stt"]
    assert {
        "openai/whisper-1",
        "deepgram/nova-3",
        "elevenlabs/scribe-v1",
        "mistral/voxtral-mini-transcribe",
    } <= set(models)
    served = 0
    for model in models:
        try:
            result = client.audio.transcriptions.create(model=model, file=("a.wav", wav(2.0), "audio/wav"))
        except openai.APIStatusError as exc:  # a model whose wire has no speech-to-text adapter yet
            assert "no adapter" in exc.message, (model, exc.message)
            continue
        assert len(result.text.split()) == 5, model
        served += 1
    assert served >= len(models) - 2
