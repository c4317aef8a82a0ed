"""Anthropic wire, streams (providers/wire/anthropic_stream.py): recorded and constructed event streams.

Each recorded stream must translate into valid chunks that say what the recording says
(``check_chunks`` in tests/support/anthropic.py).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from aigateway.core.errors import ProviderError
from aigateway.core.pricing import Usage
from aigateway.providers.wire.anthropic_stream import AnthropicStreamTranslator
from aigateway.providers.wire.base import StreamOutput
from tests.support.anthropic import (
    START,
    STREAM_RECORDINGS,
    WIRE,
    check_chunks,
    feed_all,
    load_recording,
    recorded_answer,
    upstream,
)


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("name", STREAM_RECORDINGS)
def test_recorded_streams_translated(name: str, include_usage: bool) -> None:
    recording = load_recording(name)
    want = recorded_answer(recording)
    translator = WIRE.stream_translator(upstream(), include_usage)
    outputs = feed_all(translator, recording["response"]["body"])
    assert outputs[-1].done and all(not o.done for o in outputs[:-1])
    assert all(o.error is None for o in outputs)
    assert [o.usage for o in outputs if o.usage is not None] == [want["usage"]]
    chunks = [c for o in outputs for c in o.chunks]
    assert all(isinstance(c, dict) for c in chunks)
    check_chunks(chunks, want, include_usage)  # type: ignore[arg-type]
    assert translator.generated_units >= 1


def _deltas(chunks: list[Any]) -> list[dict[str, Any]]:
    return [c["choices"][0]["delta"] for c in chunks if isinstance(c, dict) and c.get("choices")]


def test_stream_tool_call_indexes_count_calls_not_blocks() -> None:
    # Text at block 0, the tool_use at block 1: the OpenAI index is 0.
    recording = load_recording("messages-tool-use-stream")
    translator = WIRE.stream_translator(upstream(), True)
    chunks = [c for o in feed_all(translator, recording["response"]["body"]) for c in o.chunks]
    heads = [d["tool_calls"][0] for d in _deltas(chunks) if "tool_calls" in d]
    assert {h["index"] for h in heads} == {0}
    assert heads[0] == {
        "index": 0,
        "id": "toolu_01DYJo37oETVsCdLTTcCWcdq",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    # Two calls with empty inputs (blocks 0 and 1): indexes 0 and 1, each with "{}" arguments.
    recording = load_recording("messages-tool-use-stream-empty-input")
    translator = WIRE.stream_translator(upstream(), True)
    chunks = [c for o in feed_all(translator, recording["response"]["body"]) for c in o.chunks]
    deltas = [d["tool_calls"][0] for d in _deltas(chunks) if "tool_calls" in d]
    assert [(d["index"], d["function"]["arguments"]) for d in deltas] == [
        (0, ""),
        (0, "{}"),
        (1, ""),
        (1, "{}"),
    ]


def test_stream_events_that_carry_nothing() -> None:
    translator = AnthropicStreamTranslator(True)
    for data in (b'{"type": "ping"}', b"not json", b"[1]", b'{"type": "brand_new_event"}'):
        assert translator.feed(data) == StreamOutput()
    assert translator.generated_units == 0
    # A stream without message_delta still ends with a finish reason and the usage.
    translator.feed(orjson.dumps(START))
    out = translator.feed(b'{"type": "message_stop"}')
    assert out.done and out.usage == Usage(input_tokens=100, cached_input_tokens=90)
    assert [c["choices"][0]["finish_reason"] if c["choices"] else "usage" for c in out.chunks] == [
        "stop",
        "usage",
    ]  # type: ignore[index]


@pytest.mark.parametrize(
    ("kind", "retryable"), [("overloaded_error", True), ("api_error", True), ("invalid_request_error", False)]
)
def test_mid_stream_error_event(kind: str, retryable: bool) -> None:
    translator = WIRE.stream_translator(upstream(), True)
    translator.feed(orjson.dumps(START))
    out = translator.feed(orjson.dumps({"type": "error", "error": {"type": kind, "message": "Overloaded"}}))
    assert out.done and isinstance(out.error, ProviderError) and out.error.retryable is retryable
    assert out.error.status == 502 and "Overloaded" in out.error.message and kind in out.error.message
    assert out.chunks == [{"error": {"message": out.error.message, "type": "provider_error", "code": 502}}]
