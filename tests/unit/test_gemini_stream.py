"""Gemini wire, streams (providers/wire/gemini_stream.py): recorded and constructed streams."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from openai.types.chat import ChatCompletionChunk

from aigateway.core.pricing import Usage
from aigateway.providers.wire.gemini_stream import GeminiStreamTranslator
from aigateway.simulators.recordings import load_recordings
from tests.support.gemini import CTX, RECORDINGS, STREAMS, WIRE, expected_usage, upstream


def _events(name: str) -> list[bytes]:
    recording = load_recordings(RECORDINGS)[f"gemini/{name}"]
    if recording.is_sse:
        return [e.data.encode() for e in recording.events if e.data]
    return [orjson.dumps(e) for e in json.loads(recording.body)]


def _run(
    events: list[bytes], include_usage: bool = True, n: int = 1
) -> tuple[list[dict[str, Any]], list[Any]]:
    translator = WIRE.stream_translator(upstream(n), include_usage)
    outs = [translator.feed(e) for e in events]
    chunks = [c for o in outs for c in o.chunks]
    for chunk in chunks:
        assert isinstance(chunk, dict)
        ChatCompletionChunk.model_validate(chunk)
    return chunks, outs  # type: ignore[return-value]


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
    assert billed == [expected_usage(docs[-1]["usageMetadata"])]
    assert usage_chunks[0]["usage"]["prompt_tokens"] == billed[0].input_tokens
    assert usage_chunks[0]["usage"]["completion_tokens"] == billed[0].output_tokens
    translator = WIRE.stream_translator(upstream(), False)
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
