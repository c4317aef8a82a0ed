"""Shared helpers for the Gemini wire tests (unit and integration) and the native-model config.

The oracle: every request body the adapter builds is checked against the google-genai SDK's own types
(strict: ``extra="forbid"``) and must survive a round trip through them unchanged, so a misspelt field
fails. ``NON_STREAM`` and ``STREAMS`` name the recorded Gemini answers in
tests/fixtures/provider-recordings/gemini.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
from google.genai import types as gtypes

from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Target, UpstreamRequest
from aigateway.providers.wire.gemini import GeminiWire

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings"
WIRE = GeminiWire()
GOOGLE = VendorProfile(
    name="google",
    base_url="https://generativelanguage.googleapis.com/v1beta",
    key_envs=("GEMINI_API_KEY",),
    wire="gemini",
    auth="x-goog-api-key",
)
FLASH = Target("gemini-2.5-flash", 65536, frozenset({"tools", "vision", "reasoning"}))
USER = [{"role": "user", "content": "Hello!"}]
SIG = "EpwICpkIAXLI2nxlU6gsWZaZ+/HRYkX1orzuM8vSUFwaAt1JRxEC2hJzPAcAu3PWaKz7X+PIyTTqF+ZIQPF+fQzk"
CTX = {"model": "gemini-2.5-flash", "n": 1, "seed": "seed"}


# -- the oracle ---------------------------------------------------------------------------------
def _canon(value: Any, key: str = "") -> Any:
    """Values the SDK may re-encode: base64 (url-safe vs standard) and enum case."""
    if isinstance(value, dict):
        return {k: _canon(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_canon(v, key) for v in value]
    if key in ("thoughtSignature", "data") and isinstance(value, str):
        text = value.replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def roundtrip(model: type[gtypes._common.BaseModel], value: Any) -> None:
    parsed = model.model_validate_json(orjson.dumps(value))
    back = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert _canon(back) == _canon(value), f"{model.__name__} changed the value: {back} != {value}"


def oracle(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a GenerateContentRequest with the google-genai types; return it."""
    assert set(body) <= {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig"}
    assert body["contents"], "Gemini refuses empty contents"
    for content in body["contents"]:
        assert content["role"] in ("user", "model") and content["parts"]
        roundtrip(gtypes.Content, content)
    if "systemInstruction" in body:
        roundtrip(gtypes.Content, body["systemInstruction"])
    for tool in body.get("tools", []):
        roundtrip(gtypes.Tool, tool)
    if "toolConfig" in body:
        roundtrip(gtypes.ToolConfig, body["toolConfig"])
    if "generationConfig" in body:
        roundtrip(gtypes.GenerationConfig, body["generationConfig"])
    return body


def build(body: dict[str, Any], target: Target = FLASH) -> dict[str, Any]:
    """The adapter's request body for an OpenAI ``body``; the oracle must pass it."""
    full = {"model": "google/x", **body}
    return oracle(orjson.loads(WIRE.build_request(full, target, GOOGLE, "key").body))


# -- tools and a tool-call history -------------------------------------------------------------------
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["c", "f"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7, "format": "int32"},
                "when": {"type": "array", "items": {"type": "string", "format": "date-time"}},
                "alt": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


def tool_history(*, signature: str | None = SIG, results_reversed: bool = True) -> list[dict[str, Any]]:
    """An OpenAI history with two tool calls (WEATHER, TIME), their results and a follow-up."""
    first: dict[str, Any] = {
        "id": "call_aaaaaaaaaaaaaaaaaaaaaaaa",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    if signature:
        first["extra_content"] = {"google": {"thought_signature": signature}}
    second = {"id": "fc-gemini-7", "type": "function", "function": {"name": "get_time", "arguments": ""}}
    results = [
        {"role": "tool", "tool_call_id": "call_aaaaaaaaaaaaaaaaaaaaaaaa", "content": '{"temp": 21}'},
        {"role": "tool", "tool_call_id": "fc-gemini-7", "content": "12:00"},
    ]
    if results_reversed:
        results.reverse()
    return [
        {"role": "user", "content": "Weather and time in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [first, second]},
        *results,
        {"role": "user", "content": "Thanks"},
    ]


# -- answers ------------------------------------------------------------------------------------------
def upstream(n: int = 1) -> UpstreamRequest:
    """The request an answer comes back to: only its context (``n`` candidates) matters."""
    return UpstreamRequest(url="u", headers={}, body=b"{}", context={**CTX, "n": n})


def expected_usage(meta: dict[str, Any]) -> Usage:
    """The usage billed for a Gemini ``usageMetadata``."""
    prompt = meta.get("promptTokenCount", 0) + meta.get("toolUsePromptTokenCount", 0)
    thoughts = meta.get("thoughtsTokenCount", 0)
    return Usage(
        input_tokens=prompt,
        cached_input_tokens=meta.get("cachedContentTokenCount", 0),
        output_tokens=meta.get("candidatesTokenCount", 0) + thoughts,
        reasoning_tokens=thoughts,
    )


# The recorded answers in tests/fixtures/provider-recordings/gemini, also served as native models
# (tests/integration/models_native.py).
NON_STREAM = [
    "generate-content-basic",
    "generate-content-function-call",
    "generate-content-json-schema",
    "generate-content-thinking",
]
STREAMS = [
    "stream-sse-text",
    "stream-sse-function-call",
    "stream-sse-function-call-thought-signature",
    "stream-sse-thinking",
    "stream-json-array-text",
    "stream-json-array-function-call",
    "stream-json-array-response-schema",
]
