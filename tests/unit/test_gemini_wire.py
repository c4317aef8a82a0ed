"""Tests for the Gemini wire (providers/wire/gemini*.py) and the simulator's Gemini mode.

Every request body the adapter builds is checked against the google-genai SDK's own types (strict:
``extra="forbid"``) and must survive a round trip through them unchanged, so a misspelt field fails.
"""

from __future__ import annotations

import base64
import copy
import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from google.genai import types as gtypes
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Target, UpstreamRequest
from aigateway.providers.wire.gemini import (
    DUMMY_SIGNATURE,
    GeminiWire,
    fits_openapi_subset,
    generation,
)
from aigateway.providers.wire.gemini_stream import GeminiStreamTranslator, finish_reason
from aigateway.simulators import gemini_wire as sim_wire
from aigateway.simulators.recordings import load_recordings, parse_sse
from aigateway.simulators.server import SimulatorServer

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


def _roundtrip(model: type[gtypes._common.BaseModel], value: Any) -> None:
    parsed = model.model_validate_json(orjson.dumps(value))
    back = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert _canon(back) == _canon(value), f"{model.__name__} changed the value: {back} != {value}"


def oracle(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a GenerateContentRequest with the google-genai types; return it."""
    assert set(body) <= {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig"}
    assert body["contents"], "Gemini refuses empty contents"
    for content in body["contents"]:
        assert content["role"] in ("user", "model") and content["parts"]
        _roundtrip(gtypes.Content, content)
    if "systemInstruction" in body:
        _roundtrip(gtypes.Content, body["systemInstruction"])
    for tool in body.get("tools", []):
        _roundtrip(gtypes.Tool, tool)
    if "toolConfig" in body:
        _roundtrip(gtypes.ToolConfig, body["toolConfig"])
    if "generationConfig" in body:
        _roundtrip(gtypes.GenerationConfig, body["generationConfig"])
    return body


def build(body: dict[str, Any], target: Target = FLASH) -> dict[str, Any]:
    full = {"model": "google/x", **body}
    return oracle(orjson.loads(WIRE.build_request(full, target, GOOGLE, "key").body))


def test_oracle_catches_a_wrong_field_name() -> None:
    with pytest.raises(ValueError):
        oracle({"contents": [{"role": "user", "parts": [{"text": "x", "thougth": True}]}]})
    contents = [{"role": "user", "parts": [{"text": "x"}]}]
    with pytest.raises(ValueError):
        oracle({"contents": contents, "generationConfig": {"maxOutputTokenz": 1}})
    with pytest.raises(AssertionError):  # accepted by the SDK, but not the REST spelling we send
        oracle({"contents": contents, "generationConfig": {"max_output_tokens": 1}})


# -- request: url, headers, messages --------------------------------------------------------------
def test_url_headers_and_context() -> None:
    req = WIRE.build_request({"model": "m", "messages": USER, "n": 2}, FLASH, GOOGLE, "g-key")
    assert (
        req.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert req.headers["x-goog-api-key"] == "g-key" and "Authorization" not in req.headers
    assert req.stream is False and req.context["n"] == 2 and req.context["model"] == "gemini-2.5-flash"
    vendor = VendorProfile("google", "http://sim/v1beta/", (), wire="gemini", auth="x-goog-api-key")
    stream = WIRE.build_request(
        {"model": "m", "messages": USER, "stream": True}, Target("tunedModels/t1"), vendor, "k"
    )
    assert stream.url == "http://sim/v1beta/tunedModels/t1:streamGenerateContent?alt=sse" and stream.stream


def test_roles_system_and_text_parts() -> None:
    out = build(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Salut", "reasoning_content": "dropped"},
                {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            ]
        }
    )
    assert out["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Use French."}]}
    assert out["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Salut"}]},
        {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
    ]
    only_system = build({"messages": [{"role": "system", "content": "Say hi"}]})
    assert only_system["contents"] == [{"role": "user", "parts": [{"text": "Say hi"}]}]
    assert "systemInstruction" not in only_system
    with pytest.raises(InvalidRequest, match="only text"):
        build(
            {"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}
        )


def test_images_audio_and_files() -> None:
    png = base64.b64encode(b"\x89PNG fake").decode()
    parts = build(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {
                            "type": "image_url",
                            "image_url": {"url": f"data:image/png;base64,{png}", "detail": "low"},
                        },
                        {"type": "image_url", "image_url": {"url": "https://example.com/cat.webp?x=1"}},
                        {"type": "image_url", "image_url": {"url": "https://example.com/image"}},
                        {"type": "image_url", "image_url": {"url": "data:image/svg+xml,%3Csvg%2F%3E"}},
                        {"type": "input_audio", "input_audio": {"data": png, "format": "mp3"}},
                        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{png}"}},
                    ],
                }
            ]
        }
    )["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": png}}
    assert parts[2] == {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/cat.webp?x=1"}}
    assert parts[3] == {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/image"}}
    assert parts[4]["inlineData"] == {
        "mimeType": "image/svg+xml",
        "data": base64.b64encode(b"<svg/>").decode(),
    }
    assert parts[5] == {"inlineData": {"mimeType": "audio/mp3", "data": png}}
    assert parts[6] == {"inlineData": {"mimeType": "application/pdf", "data": png}}
    for bad, needle in (
        ({"type": "file", "file": {"file_id": "file-1"}}, "file_data"),
        ({"type": "input_audio", "input_audio": {"data": png, "format": "aiff"}}, "input_audio"),
        ({"type": "video", "video": {}}, "video"),
        ({"type": "image_url", "image_url": {"url": "data:broken"}}, "data: URL"),
    ):
        with pytest.raises(InvalidRequest, match=needle):
            build({"messages": [{"role": "user", "content": [bad]}]})


# -- request: tools ---------------------------------------------------------------------------------
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


def test_tool_declarations_subset_vs_json_schema() -> None:
    strict = {
        "type": "object",
        "properties": {"q": {"type": "string"}},
        "required": ["q"],
        "additionalProperties": False,
    }
    tools = [
        WEATHER,
        {"type": "function", "function": {"name": "search", "parameters": strict, "strict": True}},
        {"type": "function", "function": {"name": "ping"}},
    ]
    decls = build({"messages": USER, "tools": tools})["tools"][0]["functionDeclarations"]
    weather = decls[0]
    assert weather["name"] == "get_weather" and weather["description"] == "Weather in a city."
    assert weather["parameters"]["type"] == "OBJECT"
    assert weather["parameters"]["properties"]["days"] == {
        "type": "INTEGER",
        "minimum": 1,
        "maximum": 7,
        "format": "int32",
    }
    assert weather["parameters"]["properties"]["alt"]["anyOf"][1] == {"type": "NULL"}
    assert decls[1] == {"name": "search", "parametersJsonSchema": strict}
    assert decls[2] == {"name": "ping"}


@pytest.mark.parametrize(
    ("schema", "fits"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}}, True),
        ({"type": "object", "additionalProperties": False}, False),
        ({"$ref": "#/$defs/a", "$defs": {"a": {"type": "string"}}}, False),
        ({"type": ["string", "null"]}, False),
        ({"type": "integer", "enum": [1, 2]}, False),
        ({"type": "string", "format": "email"}, False),
        ({"type": "string", "const": "x"}, False),
        ({"oneOf": [{"type": "string"}]}, False),
        ({"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}}, True),
        ({"type": "array", "items": {"type": "object", "properties": {"x": {"$ref": "#/x"}}}}, False),
    ],
)
def test_openapi_subset_detection(schema: dict[str, Any], fits: bool) -> None:
    assert fits_openapi_subset(schema) is fits
    decl = build(
        {"messages": USER, "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}]}
    )
    assert ("parameters" if fits else "parametersJsonSchema") in decl["tools"][0]["functionDeclarations"][0]


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_time"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "get_time"}}],
                },
            },
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
    ],
)
def test_tool_choice(choice: Any, config: dict[str, Any]) -> None:
    out = build({"messages": USER, "tools": [WEATHER, TIME], "tool_choice": choice})
    assert out["toolConfig"] == {"functionCallingConfig": config}
    assert "toolConfig" not in build({"messages": USER, "tools": [WEATHER]})


def test_allowed_tools_in_auto_mode_declares_only_those() -> None:
    choice = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "get_time"}}]},
    }
    out = build({"messages": USER, "tools": [WEATHER, TIME], "tool_choice": choice})
    assert [d["name"] for d in out["tools"][0]["functionDeclarations"]] == ["get_time"]
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}


def test_non_function_tools_and_bad_choice_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="custom"):
        build({"messages": USER, "tools": [{"type": "custom", "custom": {"name": "x"}}]})
    with pytest.raises(InvalidRequest, match="tool_choice"):
        build({"messages": USER, "tools": [WEATHER], "tool_choice": {"type": "function", "function": {}}})


# -- request: tool calls and results ----------------------------------------------------------------
def _history(*, signature: str | None = SIG, results_reversed: bool = True) -> list[dict[str, Any]]:
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


def test_tool_calls_and_results_map_back_in_call_order() -> None:
    out = build({"messages": _history(), "tools": [WEATHER, TIME]})
    model, answers, last = out["contents"][1:]
    assert model == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SIG},
            {"functionCall": {"name": "get_time", "args": {}, "id": "fc-gemini-7"}},
        ],
    }
    # Results came back in reverse order; Gemini gets them in call order, in one user turn.
    assert answers == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
            {"functionResponse": {"name": "get_time", "response": {"result": "12:00"}, "id": "fc-gemini-7"}},
        ],
    }
    assert last == {"role": "user", "parts": [{"text": "Thanks"}]}


@pytest.mark.parametrize(
    ("content", "response"),
    [
        ("[1, 2]", {"result": [1, 2]}),
        ("42", {"result": 42}),
        ("not json", {"result": "not json"}),
        ([{"type": "text", "text": '{"ok": '}, {"type": "text", "text": "true}"}], {"ok": True}),
    ],
)
def test_tool_result_wrapping(content: Any, response: dict[str, Any]) -> None:
    messages = [
        *_history()[:2],
        {"role": "tool", "tool_call_id": "call_aaaaaaaaaaaaaaaaaaaaaaaa", "content": content},
        {"role": "tool", "tool_call_id": "fc-gemini-7", "content": "{}"},
    ]
    parts = build({"messages": messages})["contents"][2]["parts"]
    assert parts[0]["functionResponse"]["response"] == response


def test_thought_signatures_for_gemini_3_histories() -> None:
    g3 = Target("gemini-3-flash-preview")
    without = build({"messages": _history(signature=None)}, g3)["contents"][1]["parts"]
    assert without[0]["thoughtSignature"] == DUMMY_SIGNATURE and "thoughtSignature" not in without[1]
    kept = build({"messages": _history()}, g3)["contents"][1]["parts"]
    assert kept[0]["thoughtSignature"] == SIG
    older = build({"messages": _history(signature=None)}, FLASH)["contents"][1]["parts"]
    assert all("thoughtSignature" not in p for p in older)


def test_orphan_results_and_bad_arguments() -> None:
    orphan = [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "1"}]
    with pytest.raises(InvalidRequest, match="nope"):
        build({"messages": orphan})
    named = build({"messages": [*orphan[:1], {**orphan[1], "name": "lookup"}]})
    assert named["contents"][1]["parts"][0]["functionResponse"]["name"] == "lookup"
    bad = _history()
    bad[1]["tool_calls"][0]["function"]["arguments"] = "[1]"
    with pytest.raises(InvalidRequest, match="JSON object"):
        build({"messages": bad})
    with pytest.raises(InvalidRequest, match="function"):
        build({"messages": [{"role": "function", "name": "f", "content": "x"}]})


# -- request: generation config and reasoning -------------------------------------------------------
def test_generation_config_mapping() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    out = build(
        {
            "messages": USER,
            "temperature": 0.2,
            "top_p": 0.9,
            "max_tokens": 50,
            "max_completion_tokens": 100,
            "stop": "END",
            "n": 2,
            "seed": 7,
            "presence_penalty": 0.5,
            "frequency_penalty": -0.5,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": schema, "strict": True},
            },
        },
        Target("gemini-2.0-flash"),
    )
    assert out["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "maxOutputTokens": 100,
        "stopSequences": ["END"],
        "candidateCount": 2,
        "seed": 7,
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.5,
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }
    json_object = build(
        {"messages": USER, "response_format": {"type": "json_object"}, "stop": ["a", "b"]}, Target("g")
    )
    assert json_object["generationConfig"] == {
        "responseMimeType": "application/json",
        "stopSequences": ["a", "b"],
    }
    assert "generationConfig" not in build(
        {"messages": USER, "response_format": {"type": "text"}}, Target("g")
    )


@pytest.mark.parametrize(
    ("model", "effort", "config"),
    [
        ("gemini-2.5-flash", "none", {"thinkingBudget": 0}),
        ("gemini-2.5-flash", "minimal", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("gemini-2.5-flash", "low", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("gemini-2.5-flash", "medium", {"thinkingBudget": 8192, "includeThoughts": True}),
        ("gemini-2.5-flash-lite", "high", {"thinkingBudget": 24576, "includeThoughts": True}),
        ("gemini-2.5-pro", "none", {"thinkingBudget": 128}),
        ("gemini-2.5-pro", "xhigh", {"thinkingBudget": 24576, "includeThoughts": True}),
        ("gemini-3-flash-preview", "none", {"thinkingLevel": "MINIMAL"}),
        ("gemini-3-flash-preview", "minimal", {"thinkingLevel": "MINIMAL", "includeThoughts": True}),
        ("gemini-3-flash-preview", "medium", {"thinkingLevel": "MEDIUM", "includeThoughts": True}),
        ("gemini-3.1-pro-preview", "minimal", {"thinkingLevel": "LOW", "includeThoughts": True}),
        ("gemini-3-pro-preview", "medium", {"thinkingLevel": "HIGH", "includeThoughts": True}),
        ("gemini-3-pro-preview", "xhigh", {"thinkingLevel": "HIGH", "includeThoughts": True}),
        ("gemini-flash-latest", "low", {"thinkingLevel": "LOW", "includeThoughts": True}),
    ],
)
def test_reasoning_effort_mapping(model: str, effort: str, config: dict[str, Any]) -> None:
    out = build({"messages": USER, "reasoning_effort": effort}, Target(model, None, frozenset({"reasoning"})))
    assert out["generationConfig"]["thinkingConfig"] == config


def test_thoughts_included_for_reasoning_models_and_bad_effort() -> None:
    assert build({"messages": USER})["generationConfig"] == {"thinkingConfig": {"includeThoughts": True}}
    assert "generationConfig" not in build({"messages": USER}, Target("gemini-2.0-flash"))
    with pytest.raises(InvalidRequest, match="reasoning_effort"):
        build({"messages": USER, "reasoning_effort": "max"})
    assert generation("models/gemini-3.1-pro") == 3 and generation("gemini-2.5-flash") == 2
    assert generation("gemini-flash-latest") is None


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 2}, "logprobs"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"web_search_options": {}}, "web_search_options"),
        ({"functions": [{"name": "f"}]}, "functions"),
    ],
)
def test_refused_fields(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as exc:
        build({"messages": USER, **extra})
    assert exc.value.param == param


def test_dropped_fields_never_reach_gemini() -> None:
    dropped = {
        "user": "u1",
        "metadata": {"a": "b"},
        "store": True,
        "service_tier": "auto",
        "logit_bias": {"1": 2},
        "parallel_tool_calls": False,
        "prediction": {"type": "content", "content": "x"},
        "prompt_cache_key": "k",
        "safety_identifier": "s",
        "verbosity": "low",
        "stream_options": {"include_usage": True},
        "webhook_url": "https://example.com",
        "logprobs": False,
        "modalities": ["text"],
    }
    assert build({"messages": USER, **dropped}, Target("gemini-2.0-flash")) == {
        "contents": [{"role": "user", "parts": [{"text": "Hello!"}]}]
    }


# -- request: the recorded requests ------------------------------------------------------------------
def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


def _essential(value: Any, key: str = "") -> Any:
    """A request body reduced to what matters: camelCase keys, schema keys unified, type case folded."""
    renames = {
        "parametersJsonSchema": "schema",
        "parameters": "schema",
        "responseSchema": "schema",
        "responseJsonSchema": "schema",
    }
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            name = _camel(k) if not key.endswith("properties") else k
            if name in ("responseModalities", "safetySettings") or (name == "description" and not v):
                continue
            if name == "role" and key == "systemInstruction":
                continue
            out[renames.get(name, name)] = _essential(v, name)
        return out
    if isinstance(value, list):
        return [_essential(v, key) for v in value]
    return value.lower() if key == "type" and isinstance(value, str) else value


SCHEMA_OBJ = {"type": "object", "properties": {}, "additionalProperties": False}
RECORDED_AS_OPENAI: dict[str, tuple[str, dict[str, Any], frozenset[str]]] = {
    "generate-content-basic": (
        "gemini-2.5-flash",
        {
            "messages": [
                {"role": "system", "content": "You are a chatbot."},
                {"role": "user", "content": "Hello!"},
            ]
        },
        frozenset(),
    ),
    "error-404-model": (
        "gemini-3.6-flahs",
        {"messages": [{"role": "user", "content": "hello"}]},
        frozenset(),
    ),
    "generate-content-function-call": (
        "gemini-3-flash-preview",
        {
            "messages": [
                {
                    "role": "system",
                    "content": "Tell three jokes. Generate topics with the generate_topic tool.",
                },
                {"role": "user", "content": ""},
            ],
            "tools": [
                {"type": "function", "function": {"name": "generate_topic", "parameters": SCHEMA_OBJ}},
                {
                    "type": "function",
                    "function": {
                        "name": "final_result",
                        "description": "The final response which ends this conversation",
                        "parameters": {
                            "properties": {"response": {"items": {"type": "string"}, "type": "array"}},
                            "required": ["response"],
                            "type": "object",
                        },
                    },
                },
            ],
            "tool_choice": {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [
                        {"type": "function", "function": {"name": "generate_topic"}},
                        {"type": "function", "function": {"name": "final_result"}},
                    ],
                },
            },
        },
        frozenset(),
    ),
    "generate-content-json-schema": (
        "gemini-2.5-flash",
        {
            "messages": [{"role": "user", "content": "Return exactly this payment amount: 12.34"}],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "Payment",
                    "schema": {
                        "properties": {
                            "amount": {
                                "anyOf": [
                                    {"type": "number"},
                                    {"pattern": "^(?!^[-+.]*$)[+-]?0*\\d*\\.?\\d*$", "type": "string"},
                                ]
                            }
                        },
                        "required": ["amount"],
                        "title": "Payment",
                        "type": "object",
                    },
                },
            },
        },
        frozenset(),
    ),
    "generate-content-thinking": (
        "gemini-3-pro-preview",
        {
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "How do I cross the street?"},
            ],
            "tools": [{"type": "function", "function": {"name": "dummy", "parameters": SCHEMA_OBJ}}],
        },
        frozenset({"reasoning"}),
    ),
    "stream-sse-text": (
        "gemini-2.0-flash-exp",
        {
            "stream": True,
            "temperature": 0.0,
            "messages": [
                {"role": "system", "content": "You are a helpful chatbot."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
        },
        frozenset(),
    ),
    "stream-sse-function-call": (
        "gemini-2.0-flash",
        {
            "stream": True,
            "messages": [
                {"role": "system", "content": "You are a helpful chatbot."},
                {"role": "user", "content": "What is the temperature of the capital of France?"},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": f"get_{what}",
                        "description": f"Get the {what} {where}.",
                        "parameters": {
                            "type": "object",
                            "properties": {arg: {"type": "string", "description": f"The {arg} name."}},
                            "required": [arg],
                        },
                    },
                }
                for what, where, arg in (
                    ("capital", "of a country", "country"),
                    ("temperature", "in a city", "city"),
                )
            ],
        },
        frozenset(),
    ),
    "stream-sse-function-call-thought-signature": (
        "gemini-3-pro-preview",
        {
            "stream": True,
            "messages": [
                {"role": "user", "content": "What is the capital of the user country? Call the tool"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_country", "parameters": SCHEMA_OBJ}}],
        },
        frozenset(),
    ),
    "stream-sse-thinking": (
        "gemini-2.5-pro",
        {
            "stream": True,
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "How do I cross the street?"},
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "dummy", "parameters": {"type": "object", "properties": {}}},
                }
            ],
        },
        frozenset({"reasoning"}),
    ),
    "stream-json-array-text": (
        "gemini-flash-latest",
        {"stream": True, "messages": [{"role": "user", "content": "Name for a pet pelican, just the name"}]},
        frozenset({"reasoning"}),
    ),
    "stream-json-array-function-call": (
        "gemini-2.5-flash",
        {
            "stream": True,
            "messages": [{"role": "user", "content": "Two names for a pet pelican"}],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "pelican_name_generator",
                        "parameters": {"properties": {}, "type": "object"},
                    },
                }
            ],
        },
        frozenset({"reasoning"}),
    ),
    "stream-json-array-response-schema": (
        "gemini-flash-latest",
        {
            "stream": True,
            "messages": [{"role": "user", "content": "Invent a cool dog"}],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "Dog",
                    "schema": {
                        "properties": {
                            "name": {"title": "Name", "type": "string"},
                            "age": {"title": "Age", "type": "integer"},
                            "bio": {"title": "Bio", "type": "string"},
                        },
                        "required": ["name", "age", "bio"],
                        "type": "object",
                    },
                },
            },
        },
        frozenset({"reasoning"}),
    ),
}


def test_every_gemini_request_recording_has_an_openai_equivalent() -> None:
    files = {p.stem for p in (RECORDINGS / "gemini").glob("*.json")} - {"batch-embed-contents"}
    assert files == set(RECORDED_AS_OPENAI)


@pytest.mark.parametrize("name", sorted(RECORDED_AS_OPENAI))
def test_recorded_requests_are_reproduced(name: str) -> None:
    model, body, capabilities = RECORDED_AS_OPENAI[name]
    recorded = json.loads((RECORDINGS / "gemini" / f"{name}.json").read_text())["request"]
    req = WIRE.build_request({"model": "x", **body}, Target(model, None, capabilities), GOOGLE, "k")
    ours = oracle(orjson.loads(req.body))
    assert urlsplit(req.url).path == urlsplit(recorded["url"]).path
    want = _essential(recorded["body"])
    got = _essential(ours)
    for key in ("contents", "systemInstruction", "tools", "toolConfig"):
        assert got.get(key) == want.get(key), key
    want_config = want.get("generationConfig", {})
    got_config = got.get("generationConfig", {})
    assert got_config == want_config


# -- response -------------------------------------------------------------------------------------------
def _request(n: int = 1) -> UpstreamRequest:
    return UpstreamRequest(url="u", headers={}, body=b"{}", context={**CTX, "n": n})


def _recorded_response(name: str) -> tuple[bytes, dict[str, Any]]:
    raw = json.loads((RECORDINGS / "gemini" / f"{name}.json").read_text())["response"]["body"]
    return raw.encode(), json.loads(raw)


def _expected_usage(meta: dict[str, Any]) -> Usage:
    prompt = meta.get("promptTokenCount", 0) + meta.get("toolUsePromptTokenCount", 0)
    thoughts = meta.get("thoughtsTokenCount", 0)
    return Usage(
        input_tokens=prompt,
        cached_input_tokens=meta.get("cachedContentTokenCount", 0),
        output_tokens=meta.get("candidatesTokenCount", 0) + thoughts,
        reasoning_tokens=thoughts,
    )


@pytest.mark.parametrize(
    "name",
    [
        "generate-content-basic",
        "generate-content-function-call",
        "generate-content-json-schema",
        "generate-content-thinking",
    ],
)
def test_recorded_answers_translate(name: str) -> None:
    raw, doc = _recorded_response(name)
    translated = WIRE.parse_response(raw, _request())
    completion = ChatCompletion.model_validate_json(translated.body)
    assert translated.upstream_id == doc["responseId"] and completion.id == f"chatcmpl-{doc['responseId']}"
    assert completion.model == doc["modelVersion"]
    parts = doc["candidates"][0]["content"]["parts"]
    message = completion.choices[0].message
    assert (message.content or "") == "".join(
        p["text"] for p in parts if "text" in p and not p.get("thought")
    )
    extra = message.model_extra or {}
    assert extra.get("reasoning_content", "") == "".join(p["text"] for p in parts if p.get("thought"))
    calls = [p for p in parts if "functionCall" in p]
    assert len(message.tool_calls or []) == len(calls)
    for got, part in zip(message.tool_calls or [], calls, strict=True):
        assert got.function.name == part["functionCall"]["name"]
        assert json.loads(got.function.arguments) == part["functionCall"]["args"]
        assert re.fullmatch(r"call_[0-9a-f]{24}", got.id)
        signature = (
            (got.model_extra or {}).get("extra_content", {}).get("google", {}).get("thought_signature")
        )
        assert signature == part.get("thoughtSignature")
    assert len({c.id for c in message.tool_calls or []}) == len(calls)
    assert completion.choices[0].finish_reason == ("tool_calls" if calls else "stop")
    assert translated.usage == _expected_usage(doc["usageMetadata"])
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens == translated.usage.input_tokens
    assert usage.completion_tokens == translated.usage.output_tokens
    assert usage.total_tokens == doc["usageMetadata"]["totalTokenCount"]
    assert usage.completion_tokens_details and usage.completion_tokens_details.reasoning_tokens == doc[
        "usageMetadata"
    ].get("thoughtsTokenCount", 0)
    again = WIRE.parse_response(raw, _request())
    assert [c["id"] for c in json.loads(again.body)["choices"][0]["message"].get("tool_calls", [])] == [
        c.id for c in message.tool_calls or []
    ]


def _answer(*candidates: dict[str, Any], usage: dict[str, Any] | None = None, **extra: Any) -> bytes:
    doc: dict[str, Any] = {
        "candidates": list(candidates),
        "responseId": "r1",
        "modelVersion": "gemini-x",
        **extra,
    }
    if usage is not None:
        doc["usageMetadata"] = usage
    return orjson.dumps(doc)


def test_candidates_calls_ids_and_cached_usage() -> None:
    raw = _answer(
        {
            "index": 1,
            "content": {"role": "model", "parts": [{"text": "B"}]},
            "finishReason": "MAX_TOKENS",
        },
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "plan", "thought": True},
                    {"functionCall": {"id": "gem-1", "name": "a", "args": {"x": 1}}, "thoughtSignature": SIG},
                    {"functionCall": {"name": "b"}},
                ],
            },
            "finishReason": "STOP",
        },
        usage={
            "promptTokenCount": 1000,
            "toolUsePromptTokenCount": 20,
            "cachedContentTokenCount": 600,
            "candidatesTokenCount": 30,
            "thoughtsTokenCount": 12,
            "totalTokenCount": 1062,
        },
    )
    translated = WIRE.parse_response(raw, _request(2))
    completion = ChatCompletion.model_validate_json(translated.body)
    first, second = completion.choices
    assert (first.index, second.index) == (0, 1)
    assert first.finish_reason == "tool_calls" and second.finish_reason == "length"
    assert first.message.content is None and second.message.content == "B"
    calls = first.message.tool_calls or []
    assert calls[0].id == "gem-1" and calls[1].id.startswith("call_")
    assert calls[1].function.arguments == "{}"
    assert (calls[0].model_extra or {})["extra_content"] == {"google": {"thought_signature": SIG}}
    assert "extra_content" not in (calls[1].model_extra or {})
    assert translated.usage == Usage(
        input_tokens=1020, cached_input_tokens=600, output_tokens=42, reasoning_tokens=12
    )
    assert completion.usage and completion.usage.prompt_tokens_details
    assert completion.usage.prompt_tokens_details.cached_tokens == 600


@pytest.mark.parametrize(
    ("native", "calls", "expected"),
    [
        ("STOP", False, "stop"),
        ("STOP", True, "tool_calls"),
        ("MAX_TOKENS", False, "length"),
        ("MAX_TOKENS", True, "length"),
        ("SAFETY", False, "content_filter"),
        ("RECITATION", False, "content_filter"),
        ("BLOCKLIST", False, "content_filter"),
        ("PROHIBITED_CONTENT", False, "content_filter"),
        ("SPII", False, "content_filter"),
        ("IMAGE_SAFETY", False, "content_filter"),
        ("LANGUAGE", False, "content_filter"),
        ("MALFORMED_FUNCTION_CALL", False, "stop"),
        ("UNEXPECTED_TOOL_CALL", False, "stop"),
        ("OTHER", False, "stop"),
        ("SOMETHING_NEW", True, "tool_calls"),
    ],
)
def test_finish_reason_mapping(native: str, calls: bool, expected: str) -> None:
    assert finish_reason(native, calls) == expected


def test_malformed_function_call_keeps_native_reason() -> None:
    raw = _answer(
        {
            "content": {"role": "model", "parts": []},
            "finishReason": "MALFORMED_FUNCTION_CALL",
            "finishMessage": "bad",
        }
    )
    doc = json.loads(WIRE.parse_response(raw, _request()).body)
    choice = doc["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["native_finish_reason"] == "MALFORMED_FUNCTION_CALL"
    assert choice["message"]["content"] == ""
    assert "usage" not in doc and WIRE.parse_response(raw, _request()).usage is None


def test_blocked_prompt_is_content_filter() -> None:
    raw = orjson.dumps(
        {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 7}}
    )
    translated = WIRE.parse_response(raw, _request(2))
    completion = ChatCompletion.model_validate_json(translated.body)
    assert [c.finish_reason for c in completion.choices] == ["content_filter", "content_filter"]
    assert all(c.message.content == "" for c in completion.choices)
    assert translated.usage == Usage(input_tokens=7)


def test_unreadable_answers_raise_value_error() -> None:
    for raw in (b'{"error": {"code": 500}}', b"{}", b"[]"):
        with pytest.raises(ValueError):
            WIRE.parse_response(raw, _request())


def test_parse_error() -> None:
    recorded = json.loads((RECORDINGS / "gemini" / "error-404-model.json").read_text())["response"]["body"]
    message, code = WIRE.parse_error(404, recorded.encode(), {})
    assert message.startswith("models/gemini-3.6-flahs is not found") and code == "NOT_FOUND"
    quota = {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}],
        }
    }
    assert WIRE.parse_error(429, orjson.dumps([quota]), {}) == (
        "You exceeded your current quota. (retry in 37s)",
        "RESOURCE_EXHAUSTED",
    )
    assert WIRE.parse_error(502, b"<html>Bad gateway</html>", {}) == ("<html>Bad gateway</html>", None)
    assert WIRE.parse_error(500, b"", {}) == ("upstream answered HTTP 500", None)
    assert WIRE.parse_error(500, b'{"other": 1}', {}) == ("upstream answered HTTP 500", None)


# -- stream -------------------------------------------------------------------------------------------------
def _events(name: str) -> list[bytes]:
    recording = load_recordings(RECORDINGS)[f"gemini/{name}"]
    if recording.is_sse:
        return [e.data.encode() for e in recording.events if e.data]
    return [orjson.dumps(e) for e in json.loads(recording.body)]


def _run(
    events: list[bytes], include_usage: bool = True, n: int = 1
) -> tuple[list[dict[str, Any]], list[Any]]:
    translator = WIRE.stream_translator(_request(n), include_usage)
    outs = [translator.feed(e) for e in events]
    chunks = [c for o in outs for c in o.chunks]
    for chunk in chunks:
        assert isinstance(chunk, dict)
        ChatCompletionChunk.model_validate(chunk)
    return chunks, outs  # type: ignore[return-value]


STREAMS = [
    "stream-sse-text",
    "stream-sse-function-call",
    "stream-sse-function-call-thought-signature",
    "stream-sse-thinking",
    "stream-json-array-text",
    "stream-json-array-function-call",
    "stream-json-array-response-schema",
]


@pytest.mark.parametrize("name", STREAMS)
def test_recorded_streams_translate(name: str) -> None:
    events = _events(name)
    docs = [json.loads(e) for e in events]
    parts = [p for d in docs for c in d.get("candidates", []) for p in c["content"].get("parts", [])]
    chunks, outs = _run(events)
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("content") or "" for d in deltas) == "".join(
        p["text"] for p in parts if "text" in p and not p.get("thought")
    )
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "".join(
        p["text"] for p in parts if p.get("thought")
    )
    calls = [t for d in deltas for t in d.get("tool_calls", [])]
    want_calls = [p for p in parts if "functionCall" in p]
    assert [(t["index"], t["function"]["name"], json.loads(t["function"]["arguments"])) for t in calls] == [
        (k, p["functionCall"]["name"], p["functionCall"]["args"]) for k, p in enumerate(want_calls)
    ]
    for call, part in zip(calls, want_calls, strict=True):
        assert call.get("extra_content", {}).get("google", {}).get("thought_signature") == part.get(
            "thoughtSignature"
        )
    finishes = [
        c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]
    ]
    assert finishes == ["tool_calls" if want_calls else "stop"]
    usage_chunks = [c for c in chunks if not c["choices"]]
    assert len(usage_chunks) == 1 and chunks[-1] is usage_chunks[0]
    billed = [o.usage for o in outs if o.usage is not None]
    assert billed == [_expected_usage(docs[-1]["usageMetadata"])]
    assert usage_chunks[0]["usage"]["prompt_tokens"] == billed[0].input_tokens
    assert usage_chunks[0]["usage"]["completion_tokens"] == billed[0].output_tokens
    translator = WIRE.stream_translator(_request(), False)
    for event in events:
        translator.feed(event)
    assert translator.generated_units == len([d for d in deltas if d and "role" not in d])


def test_stream_without_include_usage_still_bills() -> None:
    chunks, outs = _run(_events("stream-sse-text"), include_usage=False)
    assert all(c["choices"] for c in chunks)
    assert [o.usage for o in outs if o.usage] == [Usage(input_tokens=13, output_tokens=8)]


def _event(*candidates: dict[str, Any], **extra: Any) -> bytes:
    return orjson.dumps({"candidates": list(candidates), "responseId": "r9", **extra})


def _cand(index: int, text: str, finish: str | None = None) -> dict[str, Any]:
    cand: dict[str, Any] = {"index": index, "content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        cand["finishReason"] = finish
    return cand


def test_stream_with_two_candidates_ends_when_both_finish() -> None:
    usage = {"usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 6}}
    chunks, outs = _run(
        [
            _event(_cand(0, "a"), _cand(1, "b"), **usage),
            _event(_cand(0, "c", "STOP"), _cand(1, "d"), **usage),
            _event(_cand(1, "e", "SAFETY"), **usage),
        ],
        n=2,
    )
    assert [o.usage for o in outs] == [None, None, Usage(input_tokens=4, output_tokens=6)]
    by_index: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            by_index[choice["index"]] = by_index.get(choice["index"], "") + (
                choice["delta"].get("content") or ""
            )
    assert by_index == {0: "ac", 1: "bde"}
    finishes = {
        c["choices"][0]["index"]: c["choices"][0]["finish_reason"]
        for c in chunks
        if c["choices"] and c["choices"][0]["finish_reason"]
    }
    assert finishes == {0: "stop", 1: "content_filter"}


def test_stream_blocked_prompt_late_usage_and_errors() -> None:
    blocked, outs = _run(
        [
            orjson.dumps(
                {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}}
            )
        ]
    )
    assert [c["choices"][0].get("finish_reason") for c in blocked if c["choices"]] == [None, "content_filter"]
    assert outs[0].usage == Usage(input_tokens=3)
    translator = GeminiStreamTranslator(CTX, True)
    assert translator.feed(_event(_cand(0, "x", "STOP"))).usage == Usage(output_tokens=1, estimated=True)
    late = translator.feed(
        orjson.dumps({"usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 1}})
    )
    assert late.usage == Usage(input_tokens=2, output_tokens=1) and late.chunks == []
    for bad in (
        b'{"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}',
        b"not json",
        b"[1]",
    ):
        out = GeminiStreamTranslator(CTX, True).feed(bad)
        assert out.done and out.error is not None and out.error.status == 502
        assert out.chunks == [out.error.body()]
        assert ("Internal error" in out.error.message) is bad.startswith(b"{")


def test_incomplete_stream_reports_no_usage() -> None:
    """Usage comes only once every candidate finished, so a stream cut short is seen as cut."""
    events = _events("stream-sse-thinking")[:-1]
    _chunks, outs = _run(events)
    assert all(o.usage is None for o in outs)


# -- the simulator's Gemini mode ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(RECORDINGS) as server:
        yield server


def _post(
    sim: SimulatorServer, path: str, body: Any, key: str | None = "g-key"
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(sim.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        headers = {"Content-Type": "application/json", **({"x-goog-api-key": key} if key else {})}
        conn.request(
            "POST", path, body=body if isinstance(body, bytes) else json.dumps(body).encode(), headers=headers
        )
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


SIMPLE = {"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]}


def test_simulator_auth_and_validation(sim: SimulatorServer) -> None:
    status, _, body = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", SIMPLE, key=None)
    assert status == 403 and json.loads(body)["error"]["status"] == "PERMISSION_DENIED"
    status, _, _ = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent?key=abc", SIMPLE, key=None)
    assert status == 200
    cases = [
        ({"contents": []}, "contents is not specified"),
        ({**SIMPLE, "generation_config": {"maxTokens": 5}}, 'Unknown name "maxTokens"'),
        ({**SIMPLE, "model": "x"}, 'Unknown name "model"'),
        ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
        ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "valid role"),
        (
            {**SIMPLE, "generationConfig": {"thinkingConfig": {"thinkingBudget": 1, "thinkingLevel": "LOW"}}},
            "only set one",
        ),
    ]
    for body_, needle in cases:
        status, _, body = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", body_)
        error = json.loads(body)["error"]
        assert status == 400 and error["status"] == "INVALID_ARGUMENT" and needle in error["message"], body_
    status, _, body = _post(sim, "/v1beta/models/gemini-2.5-flash:countTokens", SIMPLE)
    assert status == 404 and json.loads(body)["error"]["status"] == "NOT_FOUND"
    status, _, _ = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", b"{nope")
    assert status == 400


def test_simulator_checks_function_turns(sim: SimulatorServer) -> None:
    call = {"functionCall": {"name": "f", "args": {}}}
    answer = {"functionResponse": {"name": "f", "response": {"result": 1}}}
    turns = [
        SIMPLE["contents"][0],
        {"role": "model", "parts": [call, call]},
        {"role": "user", "parts": [answer]},
    ]
    status, _, body = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", {"contents": turns})
    assert status == 400 and "number of function response parts" in json.loads(body)["error"]["message"]
    turns[2] = {"role": "user", "parts": [answer, answer]}
    status, _, body = _post(sim, "/v1beta/models/gemini-3-flash-preview:generateContent", {"contents": turns})
    assert status == 400 and "thought_signature" in json.loads(body)["error"]["message"]
    turns[1] = {"role": "model", "parts": [{**call, "thoughtSignature": DUMMY_SIGNATURE}, call]}
    status, _, body = _post(sim, "/v1beta/models/gemini-3-flash-preview:generateContent", {"contents": turns})
    assert (
        status == 200 and "tool returned" in json.loads(body)["candidates"][0]["content"]["parts"][0]["text"]
    )


def test_simulator_replays_recordings_exactly(sim: SimulatorServer) -> None:
    recordings = load_recordings(RECORDINGS)
    for key in (
        "gemini/stream-sse-thinking",
        "gemini/stream-json-array-text",
        "gemini/generate-content-basic",
    ):
        model = "rec." + key.replace("/", ".", 1)
        method = "generateContent" if "generate-content" in key else "streamGenerateContent?alt=sse"
        status, headers, body = _post(sim, f"/v1beta/models/{model}:{method}", SIMPLE)
        recording = recordings[key]
        assert status == 200 and body == recording.body and headers["content-type"] == recording.content_type
    status, _, body = _post(sim, "/v1beta/models/rec.gemini.error-404-model:generateContent", SIMPLE)
    assert status == 404 and b"gemini-3.6-flahs is not found" in body
    status, _, body = _post(sim, "/v1beta/models/rec.gemini.nope:generateContent", SIMPLE)
    assert status == 404 and json.loads(body)["error"]["status"] == "NOT_FOUND"
    assert sim_wire._split_array(b'[{"a": "}"}\n,\r\n{"b": {"c": 1}}\n]') == (
        b'[{"a": "}"}',
        b'\n,\r\n{"b": {"c": 1}}',
        b"\n]",
    )


def _validate_response(doc: dict[str, Any]) -> None:
    _roundtrip(gtypes.GenerateContentResponse, doc)


def test_simulator_synthesizes_native_answers(sim: SimulatorServer) -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {"city": {"type": "STRING"}},
                        "required": ["city"],
                    },
                },
                {
                    "name": "get_time",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {},
                        "additionalProperties": False,
                    },
                },
            ]
        }
    ]
    body = {
        **SIMPLE,
        "tools": tools,
        "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}},
    }
    status, _, raw = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", body)
    doc = json.loads(raw)
    _validate_response(doc)
    parts = doc["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and parts[0]["text"].startswith("Thinking")
    calls = [p for p in parts if "functionCall" in p]
    assert [c["functionCall"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert calls[0]["functionCall"]["args"] == {"city": "example city"} and calls[0]["thoughtSignature"]
    assert "thoughtSignature" not in calls[1] and doc["candidates"][0]["finishReason"] == "STOP"
    meta = doc["usageMetadata"]
    assert (
        meta["thoughtsTokenCount"] > 0
        and meta["totalTokenCount"]
        == meta["promptTokenCount"] + meta["candidatesTokenCount"] + meta["thoughtsTokenCount"]
    )
    status, headers, raw = _post(sim, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", body)
    assert status == 200 and headers["content-type"] == "text/event-stream" and raw.endswith(b"\r\n\r\n")
    events = [e.json() for e in parse_sse(raw)]
    for event in events:
        _validate_response(event)
    assert events[-1]["usageMetadata"] == meta and events[-1]["candidates"][0]["finishReason"] == "STOP"
    streamed = [p for e in events for p in e["candidates"][0]["content"]["parts"]]
    assert "".join(p.get("text", "") for p in streamed if p.get("thought")) == parts[0]["text"]
    status, headers, raw = _post(sim, "/v1beta/models/gemini-2.5-flash:streamGenerateContent", body)
    assert headers["content-type"].startswith("application/json") and json.loads(raw) == events


def test_simulator_long_prompts_report_cached_tokens_and_json(sim: SimulatorServer) -> None:
    long = {"contents": [{"role": "user", "parts": [{"text": "word " * 3000}]}]}
    status, _, raw = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", long)
    assert status == 200
    meta = json.loads(raw)["usageMetadata"]
    assert meta["cachedContentTokenCount"] == ((meta["promptTokenCount"] - 1) // 1024) * 1024 > 0
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    config = {"responseMimeType": "application/json", "responseJsonSchema": schema, "candidateCount": 2}
    _, _, raw = _post(
        sim, "/v1beta/models/gemini-2.5-flash:generateContent", {**SIMPLE, "generationConfig": config}
    )
    doc = json.loads(raw)
    assert [c["index"] for c in doc["candidates"]] == [0, 1]
    assert json.loads(doc["candidates"][0]["content"]["parts"][0]["text"]) == {"n": 1}


def test_simulator_faults_and_request_log(sim: SimulatorServer) -> None:
    model = "gemini-2.5-flash-faulty"
    sim.clear_requests()
    sim.add_faults(
        model, [{"kind": "status", "status": 429, "retry_after": "3"}, {"kind": "status", "status": 503}]
    )
    status, headers, raw = _post(sim, f"/v1beta/models/{model}:generateContent", SIMPLE)
    error = json.loads(raw)["error"]
    assert status == 429 and headers["retry-after"] == "3" and error["status"] == "RESOURCE_EXHAUSTED"
    assert WIRE.parse_error(429, raw, headers)[0].endswith("(retry in 1s)")
    status, _, raw = _post(sim, f"/v1beta/models/{model}:generateContent", SIMPLE)
    assert status == 503 and json.loads(raw)["error"]["status"] == "UNAVAILABLE"
    sim.add_faults(model, [{"kind": "cut", "after_chunks": 1}])
    with pytest.raises(http.client.IncompleteRead):
        _post(
            sim,
            f"/v1beta/models/{model}:streamGenerateContent?alt=sse",
            {**SIMPLE, "generationConfig": {"maxOutputTokens": 500}},
        )
    log = sim.requests(model)
    assert [r["status"] for r in log] == [429, 503, 200] and all(r["wire"] == "gemini" for r in log)
    assert [r["stream"] for r in log] == [False, False, True] and log[-1]["outcome"] == "aborted"
    assert log[0]["headers"]["x-goog-api-key"] == "g-key" and log[0]["body"] == SIMPLE


def test_adapter_requests_are_accepted_by_the_simulator(sim: SimulatorServer) -> None:
    """The adapter's request and the simulator's answer, end to end without the gateway."""
    body = {
        "model": "x",
        "messages": copy.deepcopy(_history()[:-1]),
        "tools": [WEATHER, TIME],
        "reasoning_effort": "low",
        "max_completion_tokens": 400,
    }
    vendor = VendorProfile("google", f"{sim.url}/v1beta", (), wire="gemini", auth="x-goog-api-key")
    request = WIRE.build_request(
        body, Target("gemini-3-flash-preview", None, frozenset({"reasoning"})), vendor, "k"
    )
    oracle(orjson.loads(request.body))
    status, _, raw = _post(sim, urlsplit(request.url).path, request.body)
    assert status == 200, raw
    completion = ChatCompletion.model_validate_json(WIRE.parse_response(raw, request).body)
    assert "the tool returned" in (completion.choices[0].message.content or "")
    assert (completion.choices[0].message.model_extra or {}).get("reasoning_content")


def test_fewer_candidates_than_asked_complete_when_the_stream_closes() -> None:
    """n=2 asked, Gemini streamed one candidate: the close completes the stream, it is not cut."""
    translator = GeminiStreamTranslator({"n": 2, "model": "gemini-2.5-flash"}, include_usage=True)
    event = {
        "candidates": [
            {"index": 0, "content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1, "totalTokenCount": 6},
        "responseId": "r1",
        "modelVersion": "gemini-2.5-flash",
    }
    out = translator.feed(orjson.dumps(event))
    assert out.usage is None, "still waiting for the second candidate"
    end = translator.finish()
    assert end.usage == Usage(input_tokens=5, output_tokens=1)
    last = end.chunks[-1]
    assert isinstance(last, dict) and last["choices"] == [] and last["usage"]["prompt_tokens"] == 5
    assert translator.finish().usage is None, "completes once"


def test_a_stream_closed_mid_candidate_is_not_completed() -> None:
    translator = GeminiStreamTranslator({"model": "gemini-2.5-flash"}, include_usage=True)
    translator.feed(orjson.dumps({"candidates": [{"index": 0, "content": {"parts": [{"text": "Hel"}]}}]}))
    assert translator.finish().usage is None
