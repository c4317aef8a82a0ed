"""Gemini wire, requests (providers/wire/gemini.py): the oracle, messages, generation config, reasoning.

Every request body the adapter builds passes the google-genai oracle (tests/support/gemini.py).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from aigateway.core.errors import InvalidRequest
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Target
from aigateway.providers.wire.gemini import generation
from tests.support.gemini import FLASH, GOOGLE, USER, WIRE, build, oracle


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
