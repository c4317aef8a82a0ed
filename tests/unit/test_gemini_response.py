"""Gemini wire, answers (providers/wire/gemini.py): recorded and constructed answers, errors."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import pytest
from openai.types.chat import ChatCompletion

from aigateway.core.pricing import Usage
from aigateway.providers.wire.gemini_stream import finish_reason
from tests.support.gemini import NON_STREAM, RECORDINGS, SIG, WIRE, expected_usage, upstream


def _recorded_response(name: str) -> tuple[bytes, dict[str, Any]]:
    raw = json.loads((RECORDINGS / "gemini" / f"{name}.json").read_text())["response"]["body"]
    return raw.encode(), json.loads(raw)


@pytest.mark.parametrize("name", NON_STREAM)
def test_recorded_answers_translate(name: str) -> None:
    raw, doc = _recorded_response(name)
    translated = WIRE.parse_response(raw, upstream())
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
    assert translated.usage == expected_usage(doc["usageMetadata"])
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens == translated.usage.input_tokens
    assert usage.completion_tokens == translated.usage.output_tokens
    assert usage.total_tokens == doc["usageMetadata"]["totalTokenCount"]
    assert usage.completion_tokens_details and usage.completion_tokens_details.reasoning_tokens == doc[
        "usageMetadata"
    ].get("thoughtsTokenCount", 0)
    again = WIRE.parse_response(raw, upstream())
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
    translated = WIRE.parse_response(raw, upstream(2))
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
    doc = json.loads(WIRE.parse_response(raw, upstream()).body)
    choice = doc["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["native_finish_reason"] == "MALFORMED_FUNCTION_CALL"
    assert choice["message"]["content"] == ""
    assert "usage" not in doc and WIRE.parse_response(raw, upstream()).usage is None


def test_blocked_prompt_is_content_filter() -> None:
    raw = orjson.dumps(
        {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 7}}
    )
    translated = WIRE.parse_response(raw, upstream(2))
    completion = ChatCompletion.model_validate_json(translated.body)
    assert [c.finish_reason for c in completion.choices] == ["content_filter", "content_filter"]
    assert all(c.message.content == "" for c in completion.choices)
    assert translated.usage == Usage(input_tokens=7)


def test_unreadable_answers_raise_value_error() -> None:
    for raw in (b'{"error": {"code": 500}}', b"{}", b"[]"):
        with pytest.raises(ValueError):
            WIRE.parse_response(raw, upstream())


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
    assert tuple(WIRE.parse_error(429, orjson.dumps([quota]), {})) == (
        "You exceeded your current quota. (retry in 37s)",
        "RESOURCE_EXHAUSTED",
    )
    assert tuple(WIRE.parse_error(502, b"<html>Bad gateway</html>", {})) == ("<html>Bad gateway</html>", None)
    assert tuple(WIRE.parse_error(500, b"", {})) == ("upstream answered HTTP 500", None)
    assert tuple(WIRE.parse_error(500, b'{"other": 1}', {})) == ("upstream answered HTTP 500", None)
