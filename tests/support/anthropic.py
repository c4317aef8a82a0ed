"""Shared helpers for the Anthropic wire tests (unit and integration).

The SDK oracle: every request the adapter builds is checked against the official ``anthropic`` SDK's
request types (``MessageCreateParams*``), validated strictly and compared with the input, so an unknown
field or a wrong type fails. The recordings in tests/fixtures/provider-recordings/anthropic, read both
ways: ``openai_equivalent`` turns a recorded request into the OpenAI request that says the same,
``essentials`` is what must match between two Anthropic requests, ``recorded_answer`` is what a recorded
answer holds and ``check_chunks`` checks a translated stream against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
from anthropic.types.message_create_params import (
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
)
from openai.types.chat import ChatCompletionChunk

from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.anthropic import AnthropicWire
from aigateway.providers.wire.anthropic_stream import AnthropicStreamTranslator
from aigateway.providers.wire.base import StreamOutput, Target, UpstreamRequest
from aigateway.simulators.recordings import parse_sse

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings" / "anthropic"
ALL_RECORDINGS = sorted(p.stem for p in RECORDINGS.glob("*.json"))
WIRE = AnthropicWire()
VENDOR = VendorProfile(
    name="anthropic",
    base_url="https://api.anthropic.com/v1",
    key_envs=("ANTHROPIC_API_KEY",),
    wire="anthropic",
    auth="x-api-key",
)
FULL = frozenset({"tools", "vision", "json_schema", "reasoning", "prompt_caching"})
TARGET = Target("claude-sonnet-4-5", 64000, FULL)
USER = [{"role": "user", "content": "Hi"}]
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
BUDGETS = {1024: "low", 4096: "medium", 16384: "high"}


# -- the SDK oracle --------------------------------------------------------------------------------
_ORACLES = {
    False: pydantic.TypeAdapter(MessageCreateParamsNonStreaming),
    True: pydantic.TypeAdapter(MessageCreateParamsStreaming),
}
# The installed SDK speaks API version 2026-10-21, which removed the sampling parameters; the adapter
# sends anthropic-version 2023-06-01, where they are valid. They are checked here by hand.
SAMPLING = ("temperature", "top_p")


def _materialize(value: Any) -> Any:
    """Validated TypedDicts keep lists lazy (``Iterable``): walk them so every item is validated."""
    if isinstance(value, pydantic.BaseModel):
        return ("model instead of a request dict", type(value).__name__)
    if isinstance(value, dict):
        return {k: _materialize(v) for k, v in value.items()}
    if isinstance(value, list | tuple | Iterator):
        return [_materialize(v) for v in value]
    return value


def oracle(body: dict[str, Any]) -> None:
    """Fail unless ``body`` is a request Anthropic's SDK types accept exactly as it is."""
    payload = {k: v for k, v in body.items() if k not in SAMPLING}
    for key in SAMPLING:
        if key in body:
            assert isinstance(body[key], float | int) and 0 <= body[key] <= 1, (key, body[key])
    validated = _ORACLES[body.get("stream") is True].validate_python(payload, strict=True)
    # The TypedDicts ignore keys they do not know, so any difference is a field Anthropic rejects.
    assert _materialize(validated) == payload


def build(body: dict[str, Any], target: Target = TARGET) -> tuple[dict[str, Any], UpstreamRequest]:
    """The adapter's request for an OpenAI ``body`` (sent JSON and the request); the oracle must pass it."""
    request = WIRE.build_request({"model": "anthropic/x", **body}, target, VENDOR, "sk-ant-test")
    sent = json.loads(request.body)
    oracle(sent)
    return sent, request


# -- recorded requests ------------------------------------------------------------------------------
def load_recording(name: str) -> dict[str, Any]:
    return dict(json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8")))


def _text_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [
        {
            "type": "text",
            "text": b["text"],
            **({"cache_control": b["cache_control"]} if "cache_control" in b else {}),
        }
        for b in content
    ]


def openai_equivalent(recorded: dict[str, Any]) -> dict[str, Any]:
    """The OpenAI chat request that says what a recorded Anthropic request says."""
    messages: list[dict[str, Any]] = []
    if recorded.get("system"):
        messages.append({"role": "system", "content": _text_parts(recorded["system"])})
    for turn in recorded["messages"]:
        content = turn["content"]
        if isinstance(content, str):
            messages.append({"role": turn["role"], "content": content})
            continue
        if turn["role"] == "assistant":
            text = "".join(b["text"] for b in content if b["type"] == "text")
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            calls = [
                {
                    "id": b["id"],
                    "type": "function",
                    "function": {"name": b["name"], "arguments": json.dumps(b["input"])},
                }
                for b in content
                if b["type"] == "tool_use"
            ]
            if calls:
                message["tool_calls"] = calls
            messages.append(message)
            continue
        parts: list[dict[str, Any]] = []
        for block in content:
            if block["type"] == "tool_result":
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": block["tool_use_id"],
                        "content": _text_parts(block["content"]),
                    }
                )
            elif block["type"] == "text":
                parts.extend(_text_parts([block]))
            elif block["type"] == "image":
                source = block["source"]
                url = f"data:{source['media_type']};base64,{source['data']}"
                parts.append({"type": "image_url", "image_url": {"url": url}})
        if parts:
            messages.append({"role": "user", "content": parts})
    body: dict[str, Any] = {
        "model": "anthropic/recorded",
        "messages": messages,
        "max_tokens": recorded["max_tokens"],
    }
    if recorded.get("tools"):
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t.get("description"),
                    "parameters": t["input_schema"],
                },
            }
            for t in recorded["tools"]
        ]
    for src, dst in (("stop_sequences", "stop"), ("temperature", "temperature"), ("stream", "stream")):
        if src in recorded:
            body[dst] = recorded[src]
    if "thinking" in recorded:
        body["reasoning_effort"] = BUDGETS[recorded["thinking"]["budget_tokens"]]
    fmt = (recorded.get("output_config") or {}).get("format")
    if fmt:
        name = fmt["schema"].get("title", "response")
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": fmt["schema"]},
        }
    return body


def essentials(request: dict[str, Any]) -> dict[str, Any]:
    """What must match between a recorded request and the adapter's (spelling normalised)."""

    def blocks(content: Any) -> Any:
        if isinstance(content, str):
            return [{"type": "text", "text": content}]
        out = []
        for block in content:
            if block.get("type") == "tool_result":
                block = {**block, "content": blocks(block["content"])}
            out.append(block)
        return out

    thinking = request.get("thinking")
    return {
        "model": request["model"],
        "max_tokens": request["max_tokens"],
        "system": blocks(request["system"]) if request.get("system") else None,
        "messages": [{"role": m["role"], "content": blocks(m["content"])} for m in request["messages"]],
        "tools": request.get("tools"),
        "tool_choice": request.get("tool_choice"),
        "stop_sequences": request.get("stop_sequences"),
        "stream": request.get("stream") is True,
        "thinking": {k: thinking[k] for k in ("type", "budget_tokens")} if thinking else None,
        "output_config": request.get("output_config"),
        # Anthropic accepts temperature 1 with thinking; the adapter sends none then.
        "temperature": None if thinking else request.get("temperature"),
    }


# -- recorded answers -------------------------------------------------------------------------------
def recorded_answer(recording: dict[str, Any]) -> dict[str, Any]:
    """What a recorded 200 answer holds: id, model, text, reasoning, tool calls, stop reason, usage."""
    body = recording["response"]["body"]
    content: dict[int, dict[str, Any]] = {}
    if "event-stream" in str(recording["response"]["headers"]).lower() or body.startswith("event:"):
        message: dict[str, Any] = {}
        partial: dict[int, str] = {}
        for event in parse_sse(body.encode()):
            data = event.json()
            if data["type"] == "message_start":
                message = dict(data["message"])
            elif data["type"] == "content_block_start":
                content[data["index"]] = dict(data["content_block"])
            elif data["type"] == "content_block_delta":
                block, delta = content[data["index"]], data["delta"]
                if delta["type"] == "text_delta":
                    block["text"] += delta["text"]
                elif delta["type"] == "thinking_delta":
                    block["thinking"] += delta["thinking"]
                elif delta["type"] == "input_json_delta":
                    partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
            elif data["type"] == "message_delta":
                message["stop_reason"] = data["delta"]["stop_reason"]
                message["usage"] = {**message["usage"], **data["usage"]}
        for index, raw in partial.items():
            if raw:
                content[index]["input"] = json.loads(raw)
        message["content"] = [content[i] for i in sorted(content)]
    else:
        message = json.loads(body)
    blocks = message["content"]
    usage = message["usage"]
    written = usage.get("cache_creation_input_tokens") or 0
    read = usage.get("cache_read_input_tokens") or 0
    prompt = usage["input_tokens"] + written + read
    thinking = (usage.get("output_tokens_details") or {}).get("thinking_tokens") or 0
    return {
        "id": message["id"],
        "model": message["model"],
        "text": "".join(b["text"] for b in blocks if b["type"] == "text"),
        "reasoning": "".join(b["thinking"] for b in blocks if b["type"] == "thinking"),
        "tool_calls": [(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"],
        "finish_reason": FINISH[message["stop_reason"]],
        "usage": Usage(
            input_tokens=prompt,
            cached_input_tokens=read,
            cache_write_tokens=written,
            output_tokens=usage["output_tokens"],
            reasoning_tokens=thinking,
        ),
    }


def openai_usage(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def recording_kind(name: str) -> str:
    """``message``, ``stream`` or ``error``: what a recording answers."""
    recording = load_recording(name)
    if recording["response"]["status"] != 200:
        return "error"
    return "stream" if recording["response"]["body"].startswith("event:") else "message"


MESSAGE_RECORDINGS = [n for n in ALL_RECORDINGS if recording_kind(n) == "message"]
STREAM_RECORDINGS = [n for n in ALL_RECORDINGS if recording_kind(n) == "stream"]
ERROR_RECORDINGS = [n for n in ALL_RECORDINGS if recording_kind(n) == "error"]


# -- translating answers ----------------------------------------------------------------------------
def upstream(**context: Any) -> UpstreamRequest:
    """The request an answer comes back to: only its ``context`` matters to the translation."""
    return UpstreamRequest(url="u", headers={}, body=b"{}", context={"json_tool": None, **context})


def feed_all(translator: AnthropicStreamTranslator, body: str) -> list[StreamOutput]:
    return [translator.feed(event.data.encode()) for event in parse_sse(body.encode()) if event.data]


def check_chunks(chunks: list[dict[str, Any]], want: dict[str, Any], include_usage: bool = True) -> None:
    """Every chunk is a valid ChatCompletionChunk and together they say what the recording says."""
    parsed = [ChatCompletionChunk.model_validate(c) for c in chunks]
    assert parsed[0].choices[0].delta.role == "assistant"
    assert {(c.id, c.created, c.model) for c in parsed} == {(want["id"], parsed[0].created, want["model"])}
    with_choices = [c for c in parsed if c.choices]
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content", "") for c in with_choices
    )
    assert text == want["text"] and reasoning == want["reasoning"]
    calls: dict[int, list[Any]] = {}
    for chunk in with_choices:
        for call in chunk.choices[0].delta.tool_calls or []:
            if call.id is not None:
                assert call.index not in calls and call.type == "function"
                assert call.function is not None and call.function.name
                calls[call.index] = [call.id, call.function.name, call.function.arguments or ""]
            else:
                assert call.function is not None
                calls[call.index][2] += call.function.arguments or ""
    assert sorted(calls) == list(range(len(calls)))
    assert [(i, n, json.loads(a)) for i, n, a in (calls[k] for k in sorted(calls))] == want["tool_calls"]
    finishes = [c.choices[0].finish_reason for c in with_choices if c.choices[0].finish_reason]
    assert finishes == [want["finish_reason"]]
    usage_chunks = [c for c in parsed if not c.choices]
    if include_usage:
        assert len(usage_chunks) == 1 and parsed[-1] is usage_chunks[0]
        assert usage_chunks[0].usage is not None
        assert usage_chunks[0].usage.model_dump(exclude_none=True) == openai_usage(want["usage"])
    else:
        assert not usage_chunks


# A message_start event for constructed streams.
START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "model": "claude-x",
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 90},
    },
}
