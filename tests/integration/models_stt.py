"""Speech-to-text models of the integration gateway, and the upstreams they reach.

``stt_env`` points the native STT vendors (Deepgram, ElevenLabs, Groq, Mistral) at the simulator
under their own path prefixes, so the simulator answers in each vendor's format; OpenAI reuses the
chat URL. Models ``rec/stt-...`` replay a real recording (tests/fixtures/provider-recordings).
"""

from __future__ import annotations

from typing import Any

UPSTREAM_KEY = "sk-upstream-secret-key-0123456789abcdef"
PER_SECOND = "0.0001"  # USD a second of audio: whisper-1's $0.006 a minute
TOKEN_PRICES = {"input_per_mtok": "2.5", "output_per_mtok": "10"}


def stt_env(sim_url: str) -> dict[str, str]:
    """Environment of a gateway whose STT vendors are the simulator."""
    env: dict[str, str] = {}
    for name, path in (
        ("deepgram", "/deepgram/v1"),
        ("elevenlabs", "/elevenlabs/v1"),
        ("groq", "/groq/openai/v1"),
        ("mistral", "/mistral/v1"),
    ):
        env[f"AIGATEWAY_{name.upper()}_BASE_URL"] = sim_url + path
        env[f"{name.upper()}_API_KEY"] = UPSTREAM_KEY
    return env


def _stt(
    model_id: str, provider: str, upstream: str, pricing: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "id": model_id,
        "modality": "audio-stt",
        "pricing": pricing or {"input_per_second": PER_SECOND},
        "deployments": [{"provider": provider, "upstream_model": upstream}],
    }


STT_MODELS: list[dict[str, Any]] = [
    _stt("sim/stt-openai", "openai", "whisper-1"),
    _stt(
        "sim/stt-openai-tokens",
        "openai",
        "gpt-4o-transcribe",
        {**TOKEN_PRICES, "input_per_second": PER_SECOND},
    ),
    _stt("sim/stt-groq", "groq", "whisper-large-v3-turbo"),
    _stt("sim/stt-deepgram", "deepgram", "nova-3"),
    _stt("sim/stt-elevenlabs", "elevenlabs", "scribe_v1"),
    _stt("sim/stt-mistral", "mistral", "voxtral-mini-2507"),
    _stt("sim/stt-fault", "openai", "fault-stt-429"),
    _stt("rec/stt-openai-verbose", "openai", "rec:openai/audio-transcriptions-verbose-json"),
    _stt("rec/stt-openai-translate", "openai", "rec:openai/audio-translations"),
    _stt("rec/stt-deepgram", "deepgram", "rec:deepgram/listen-prerecorded-url"),
]
