"""Anthropic wire, answers (providers/wire/anthropic.py): messages, finish reasons, usage, errors.

Each recorded answer must translate into what the recording says (``recorded_answer`` in
tests/support/anthropic.py); constructed answers cover the cases recordings do not.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from aigateway.core.pricing import Pricing, Usage, price_usage
from aigateway.providers.wire.anthropic_stream import convert_usage
from tests.support.anthropic import (
    ERROR_RECORDINGS,
    MESSAGE_RECORDINGS,
    START,
    WIRE,
    feed_all,
    load_recording,
    openai_usage,
    recorded_answer,
    upstream,
)


@pytest.mark.parametrize("name", MESSAGE_RECORDINGS)
def test_recorded_messages_translated(name: str) -> None:
    recording = load_recording(name)
    want = recorded_answer(recording)
    translated = WIRE.parse_response(recording["response"]["body"].encode(), upstream())
    completion = ChatCompletion.model_validate_json(translated.body)
    message = completion.choices[0].message
    assert completion.id == want["id"] == translated.upstream_id and completion.model == want["model"]
    assert (message.content or "") == want["text"]
    assert (message.model_extra or {}).get("reasoning_content", "") == want["reasoning"]
    got_calls = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []]  # type: ignore[union-attr]
    assert got_calls == want["tool_calls"]
    assert completion.choices[0].finish_reason == want["finish_reason"]
    assert translated.usage == want["usage"]
    assert completion.usage is not None and completion.usage.model_dump(exclude_none=True) == openai_usage(
        want["usage"]
    )


# -- answers: constructed cases ------------------------------------------------------------------------
def _events(*events: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(e) for e in events]


def test_json_tool_answer_becomes_content_in_messages_and_streams() -> None:
    schema_answer = {"name": "Rex", "age": 3}
    raw = {
        "id": "msg_1",
        "type": "message",
        "model": "claude-x",
        "content": [{"type": "tool_use", "id": "toolu_9", "name": "person", "input": schema_answer}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "output_tokens": 7},
    }
    done = WIRE.parse_response(orjson.dumps(raw), upstream(json_tool="person", json_wrapped=False))
    completion = ChatCompletion.model_validate_json(done.body)
    assert json.loads(completion.choices[0].message.content or "") == schema_answer
    assert completion.choices[0].message.tool_calls is None and completion.choices[0].finish_reason == "stop"
    wrapped = {**raw, "content": [{**raw["content"][0], "input": {"value": [1, 2]}}]}  # type: ignore[dict-item]
    done = WIRE.parse_response(orjson.dumps(wrapped), upstream(json_tool="person", json_wrapped=True))
    assert json.loads(json.loads(done.body)["choices"][0]["message"]["content"]) == [1, 2]

    for wrapped_mode, fragments, expected in (
        (False, ['{"name": "R', 'ex", "age": 3}'], schema_answer),
        (True, ['{"value": [1', ", 2]}"], [1, 2]),
    ):
        translator = WIRE.stream_translator(upstream(json_tool="person", json_wrapped=wrapped_mode), False)
        tool = {"type": "tool_use", "id": "t", "name": "person", "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": f} for f in fragments]
        events = _events(
            START,
            {"type": "content_block_start", "index": 0, "content_block": tool},
            *({"type": "content_block_delta", "index": 0, "delta": d} for d in deltas),
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}},
            {"type": "message_stop"},
        )
        chunks = [c for e in events for c in translator.feed(e).chunks]
        parsed = [ChatCompletionChunk.model_validate(c) for c in chunks]
        content = "".join(c.choices[0].delta.content or "" for c in parsed)
        assert json.loads(content) == expected
        assert not any(c.choices[0].delta.tool_calls for c in parsed)
        assert parsed[-1].choices[0].finish_reason == "stop"


def test_redacted_thinking_and_refusal() -> None:
    recording = load_recording("messages-redacted-thinking-stream")
    translator = WIRE.stream_translator(upstream(), True)
    chunks = [c for o in feed_all(translator, recording["response"]["body"]) for c in o.chunks]
    assert not any(
        "reasoning_content" in c["choices"][0]["delta"]
        for c in chunks
        if isinstance(c, dict) and c["choices"]
    )
    raw = {
        "id": "msg_2",
        "model": "claude-x",
        "content": [
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "I can't help."},
        ],
        "stop_reason": "refusal",
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    completion = ChatCompletion.model_validate_json(WIRE.parse_response(orjson.dumps(raw), upstream()).body)
    assert completion.choices[0].finish_reason == "content_filter"
    assert "reasoning_content" not in (completion.choices[0].message.model_extra or {})


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "length"),
        ("something_new", "stop"),
    ],
)
def test_finish_reasons(stop: str, finish: str) -> None:
    raw = {"id": "m", "model": "c", "content": [], "stop_reason": stop, "usage": {}}
    assert (
        json.loads(WIRE.parse_response(orjson.dumps(raw), upstream()).body)["choices"][0]["finish_reason"]
        == finish
    )
    translator = WIRE.stream_translator(upstream(), False)
    translator.feed(orjson.dumps(START))
    out = translator.feed(orjson.dumps({"type": "message_delta", "delta": {"stop_reason": stop}}))
    assert out.chunks[0]["choices"][0]["finish_reason"] == finish  # type: ignore[index]


def test_usage_with_cache_writes_reads_and_thinking_is_priced_at_each_rate() -> None:
    raw = {
        "input_tokens": 100,
        "cache_creation_input_tokens": 1000,
        "cache_read_input_tokens": 5000,
        "output_tokens": 400,
        "output_tokens_details": {"thinking_tokens": 150},
    }
    openai, usage = convert_usage(raw)
    assert usage == Usage(
        input_tokens=6100,
        cached_input_tokens=5000,
        cache_write_tokens=1000,
        output_tokens=400,
        reasoning_tokens=150,
    )
    assert openai == openai_usage(usage)
    pricing = Pricing.from_mapping(
        {
            "input_per_mtok": "3",
            "output_per_mtok": "15",
            "cached_input_per_mtok": "0.3",
            "cache_write_per_mtok": "3.75",
        }
    )
    expected = (100 * Decimal(3) + 5000 * Decimal("0.3") + 1000 * Decimal("3.75") + 400 * 15) / 10**6
    assert price_usage(usage, pricing) == int(expected * 10**9)
    assert convert_usage(None)[1] == Usage()


@pytest.mark.parametrize("name", ERROR_RECORDINGS)
def test_recorded_errors_parsed(name: str) -> None:
    recording = load_recording(name)
    error = json.loads(recording["response"]["body"])["error"]
    got = tuple(WIRE.parse_error(recording["response"]["status"], recording["response"]["body"].encode(), {}))
    assert got == (error["message"], error["type"])


def test_unreadable_errors_and_answers() -> None:
    assert tuple(WIRE.parse_error(502, b"<html>Bad gateway</html>", {})) == ("<html>Bad gateway</html>", None)
    assert tuple(WIRE.parse_error(500, b"", {})) == ("upstream answered HTTP 500", None)
    assert tuple(WIRE.parse_error(500, b'{"error": "boom"}', {})) == ("boom", None)
    with pytest.raises(ValueError):
        WIRE.parse_response(b'{"type": "error"}', upstream())
