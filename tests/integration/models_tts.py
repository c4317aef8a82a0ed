"""Text-to-speech models of the integration gateway, and the environment that points their vendors at
the simulator (tests/integration/test_speech.py starts a gateway with it).

Prices: tts-1 $15 and Groq's Orpheus $22 per million characters (the catalog's), gpt-4o-mini-tts per
token and second (the catalog's), Deepgram Aura-2 $30 per million characters (deepgram.com/pricing:
$0.030 per 1,000), ElevenLabs Multilingual v2 $180 and MiniMax Speech 2.6 HD $100 per million
characters, Mistral's Voxtral $16 per million characters (the catalog's). ``rec/...`` replays a recording.
"""

from __future__ import annotations

from typing import Any

UPSTREAM_KEY = "sk-upstream-secret-key-0123456789abcdef"
PER_SECOND = {"input_per_mtok": "0.6", "output_per_mtok": "10", "output_per_second": "0.00025"}


def _tts(model_id: str, provider: str, upstream: str, pricing: dict[str, str]) -> dict[str, Any]:
    return {
        "id": model_id,
        "modality": "audio-tts",
        "pricing": pricing,
        "deployments": [{"provider": provider, "upstream_model": upstream}],
    }


TTS_MODELS: list[dict[str, Any]] = [
    _tts("sim/tts-1", "openai", "tts-1", {"per_mchar": "15"}),
    _tts("sim/tts-mini", "openai", "gpt-4o-mini-tts", PER_SECOND),
    _tts("sim/tts-groq", "groq", "canopylabs/orpheus-v1-english", {"per_mchar": "22"}),
    _tts("sim/tts-deepgram", "deepgram", "aura-2-en", {"per_mchar": "30"}),
    _tts("sim/tts-elevenlabs", "elevenlabs", "eleven_multilingual_v2", {"per_mchar": "180"}),
    _tts("sim/tts-minimax", "minimax", "speech-2.6-hd", {"per_mchar": "100"}),
    _tts("sim/tts-mistral", "mistral", "voxtral-mini-tts-2603", {"per_mchar": "16"}),
    _tts("sim/tts-slow", "openai", "fault-tts-slow", PER_SECOND),
    _tts("sim/tts-cut", "openai", "fault-tts-cut", PER_SECOND),
    _tts("rec/tts-deepgram-wav", "deepgram", "rec:deepgram/speak-tts-wav", {"per_mchar": "30"}),
]


def tts_env(sim_url: str) -> dict[str, str]:
    """Base URLs and keys of the TTS vendors, at the simulator (OpenAI's is set for every gateway)."""
    env: dict[str, str] = {}
    for name, path in (
        ("groq", "/groq/openai/v1"),
        ("deepgram", "/deepgram/v1"),
        ("elevenlabs", "/elevenlabs/v1"),
        ("minimax", "/minimax/v1"),
        ("mistral", "/mistral/v1"),
    ):
        env[f"AIGATEWAY_{name.upper()}_BASE_URL"] = sim_url + path
        env[f"{name.upper()}_API_KEY"] = UPSTREAM_KEY
    return env
