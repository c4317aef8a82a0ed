"""Gemini wire, requests (providers/wire/gemini.py): every recorded request, rebuilt from OpenAI.

Each recorded Gemini request has an OpenAI equivalent here; the adapter must build the same request
from it (spelling normalised), and the result passes the google-genai oracle (tests/support/gemini.py).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from aigateway.providers.wire.base import Target
from tests.support.gemini import GOOGLE, RECORDINGS, WIRE, oracle


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
