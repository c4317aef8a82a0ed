"""Tests for providers/wire/anthropic.py and anthropic_stream.py: pure translation, both directions.

Every request the adapter builds is checked against the official ``anthropic`` SDK's request types
(``MessageCreateParams*``), validated strictly and compared with the input, so an unknown field or a
wrong type fails. The recorded Anthropic traffic in tests/fixtures/provider-recordings/anthropic is
used both ways: each recorded request, read back as an OpenAI request, must produce the same essential
Anthropic request, and each recorded answer must translate into what the recording says. The helpers
``openai_equivalent`` and ``recorded_answer`` are shared with tests/integration/test_anthropic.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pydantic
import pytest
from anthropic.types.message_create_params import (
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
)
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from aigateway.core.errors import InvalidRequest, ProviderError
from aigateway.core.pricing import Pricing, Usage, price_usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.anthropic import ANTHROPIC_VERSION, AnthropicWire
from aigateway.providers.wire.anthropic_stream import AnthropicStreamTranslator, convert_usage
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
    request = WIRE.build_request({"model": "anthropic/x", **body}, target, VENDOR, "sk-ant-test")
    sent = json.loads(request.body)
    oracle(sent)
    return sent, request


def test_oracle_is_strict() -> None:
    good = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    oracle(good)
    with pytest.raises(AssertionError):
        oracle({**good, "seed": 1})  # a field Anthropic does not have
    with pytest.raises(pydantic.ValidationError):
        oracle({**good, "max_tokens": "10"})  # a wrong type, not coerced
    bad_block = {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "x"}}]}
    with pytest.raises((pydantic.ValidationError, AssertionError)):
        oracle({**good, "messages": [bad_block]})  # nested: media_type missing
    tool_use = {"type": "tool_use", "id": "t", "name": "f", "input": "{}"}
    with pytest.raises((pydantic.ValidationError, AssertionError)):
        oracle({**good, "messages": [{"role": "assistant", "content": [tool_use]}]})  # input not an object
    with pytest.raises(AssertionError):
        oracle({**good, "temperature": 1.5})


# -- headers, url, basics --------------------------------------------------------------------------
def test_url_headers_and_minimal_body() -> None:
    sent, request = build({"messages": USER})
    assert request.url == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == ANTHROPIC_VERSION == "2023-06-01"
    assert request.headers["Content-Type"] == "application/json"
    assert not any(k.lower() == "anthropic-beta" for k in request.headers)
    assert not any(k.lower() == "authorization" for k in request.headers)
    assert sent == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64000,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    assert request.stream is False


def test_vendor_headers_can_pin_another_version_or_add_a_beta() -> None:
    vendor = VendorProfile(
        name="anthropic",
        base_url="https://proxy.example/anthropic/v1/",
        key_envs=(),
        wire="anthropic",
        auth="x-api-key",
        headers={"Anthropic-Version": "2026-10-21", "anthropic-beta": "some-feature"},
    )
    request = WIRE.build_request({"model": "m", "messages": USER}, TARGET, vendor, "k")
    assert request.url == "https://proxy.example/anthropic/v1/messages"
    assert request.headers["Anthropic-Version"] == "2026-10-21" and "anthropic-version" not in request.headers
    assert request.headers["anthropic-beta"] == "some-feature"


def test_stream_flag_and_dropped_fields() -> None:
    body = {
        "messages": USER,
        "stream": True,
        "stream_options": {"include_usage": True},
        "seed": 7,
        "presence_penalty": 0.5,
        "frequency_penalty": 0.5,
        "logprobs": True,
        "top_logprobs": 2,
        "logit_bias": {"1": 2},
        "metadata": {"run": "x"},
        "store": True,
        "service_tier": "flex",
        "webhook_url": "https://example.com/hook",
        "n": 1,
    }
    sent, request = build(body)
    assert sent["stream"] is True and request.stream is True
    dropped = set(body) - {"messages", "stream", "n"}
    assert set(request.context["dropped"]) == dropped
    assert not dropped & set(sent)


def test_n_above_one_is_refused() -> None:
    with pytest.raises(InvalidRequest) as exc:
        build({"messages": USER, "n": 2})
    assert exc.value.param == "n" and exc.value.status == 400


# -- messages --------------------------------------------------------------------------------------
def test_system_and_developer_lifted_in_order() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
    ]
    sent, _ = build({"messages": messages})
    assert sent["system"] == "Be brief.\n\nUse French."
    assert sent["messages"] == [{"role": "user", "content": "Hi"}]


def test_system_cache_control_kept_as_blocks() -> None:
    cached = {"type": "text", "text": "Long manual", "cache_control": {"type": "ephemeral"}}
    messages = [{"role": "system", "content": [cached]}, {"role": "system", "content": "Short"}, *USER]
    sent, _ = build({"messages": messages})
    assert sent["system"] == [cached, {"type": "text", "text": "Short"}]


def test_user_parts_text_images_and_pdf() -> None:
    parts = [
        {"type": "text", "text": "Look", "cache_control": {"type": "ephemeral"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}},
    ]
    sent, _ = build({"messages": [{"role": "user", "content": parts}]})
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "Look", "cache_control": {"type": "ephemeral"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        },
    ]


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "data:image/png,rawbytes"}},
        {"type": "image_url", "image_url": {"url": "ftp://example.com/a.png"}},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "mp3"}},
        {"type": "file", "file": {"file_id": "file-123"}},
    ],
)
def test_unsupported_parts_are_refused(part: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest):
        build({"messages": [{"role": "user", "content": [part]}]})


def test_tool_calls_and_results_merge_into_alternating_turns() -> None:
    calls = [
        {
            "id": "toolu_1",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
        },
        {"id": "toolu_2", "type": "function", "function": {"name": "time", "arguments": ""}},
    ]
    messages = [
        {"role": "user", "content": "Weather and time in Paris?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": calls},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "Sunny"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "10:00"}]},
        {"role": "user", "content": "Thanks, and tomorrow?"},
    ]
    sent, _ = build({"messages": messages})
    assert sent["messages"] == [
        {"role": "user", "content": "Weather and time in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "time", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [{"type": "text", "text": "10:00"}],
                },
                {"type": "text", "text": "Thanks, and tomorrow?"},
            ],
        },
    ]


def test_tool_results_come_first_and_same_roles_merge() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "user", "content": "while you are at it"},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
        {"role": "assistant", "content": "   "},  # whitespace only: skipped
        {"role": "assistant", "content": "Partial answer: "},  # prefill, trailing space removed
    ]
    sent, _ = build({"messages": messages})
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user", "assistant"]
    assert sent["messages"][0]["content"] == [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert sent["messages"][1]["content"] == [{"type": "tool_use", "id": "c1", "name": "f", "input": {}}]
    assert [b["type"] for b in sent["messages"][2]["content"]] == ["tool_result", "text"]
    assert sent["messages"][3]["content"] == "Partial answer:"


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", '"text"'])
def test_tool_call_arguments_must_be_a_json_object(arguments: str) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    with pytest.raises(InvalidRequest):
        build({"messages": [*USER, {"role": "assistant", "tool_calls": [call]}]})


def test_legacy_function_role_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        build({"messages": [*USER, {"role": "function", "name": "f", "content": "x"}]})


# -- sampling, limits, metadata ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "target", "expected"),
    [
        ({"max_completion_tokens": 300, "max_tokens": 100}, TARGET, 300),
        ({"max_tokens": 100}, TARGET, 100),
        ({}, Target("m", 128000), 64000),
        ({}, Target("m", 4096), 4096),
        ({}, Target("m"), 8192),
    ],
)
def test_max_tokens_always_set(body: dict[str, Any], target: Target, expected: int) -> None:
    sent, _ = build({"messages": USER, **body}, target)
    assert sent["max_tokens"] == expected


def test_stop_temperature_top_p_user() -> None:
    sent, req = build(
        {"messages": USER, "stop": ["\n", "END", "  "], "temperature": 1.7, "top_p": 0.5, "user": "u-1"}
    )
    assert sent["stop_sequences"] == ["END"]  # whitespace-only sequences are rejected by Anthropic
    assert sent["temperature"] == 1.0  # clamped to Anthropic's range
    assert "top_p" not in sent and "top_p" in req.context["dropped"]
    assert sent["metadata"] == {"user_id": "u-1"}
    sent, _ = build({"messages": USER, "stop": "STOP", "top_p": 0.9, "safety_identifier": "hash-1"})
    assert sent["stop_sequences"] == ["STOP"] and sent["top_p"] == 0.9 and "temperature" not in sent
    assert sent["metadata"] == {"user_id": "hash-1"}
    sent, _ = build({"messages": USER, "stop": ["\n\n"]})
    assert "stop_sequences" not in sent


def test_no_sampling_capability_drops_temperature_and_top_p() -> None:
    sent, req = build(
        {"messages": USER, "temperature": 0.2}, Target("claude-5", 64000, FULL | {"no_sampling"})
    )
    assert "temperature" not in sent and req.context["dropped"] == ["temperature"]


# -- tools -----------------------------------------------------------------------------------------
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
            "strict": True,
        },
    },
    {"type": "function", "function": {"name": "now"}},
]


def test_tools_mapped() -> None:
    sent, _ = build({"messages": USER, "tools": TOOLS})
    assert sent["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
            "strict": True,
        },
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in sent


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ({"type": "function", "function": {"name": "now"}}, None, {"type": "tool", "name": "now"}),
        (
            {"type": "function", "function": {"name": "now"}},
            False,
            {"type": "tool", "name": "now", "disable_parallel_tool_use": True},
        ),
    ],
)
def test_tool_choice(choice: Any, parallel: bool | None, expected: dict[str, Any]) -> None:
    body: dict[str, Any] = {"messages": USER, "tools": TOOLS, "tool_choice": choice}
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    sent, _ = build(body)
    assert sent["tool_choice"] == expected


def test_tool_choice_without_tools_is_left_out_and_other_tool_types_refused() -> None:
    sent, _ = build({"messages": USER, "tool_choice": "none"})
    assert "tool_choice" not in sent and "tools" not in sent
    with pytest.raises(InvalidRequest):
        build({"messages": USER, "tools": [{"type": "custom", "custom": {"name": "x"}}]})


# -- JSON output -------------------------------------------------------------------------------------
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "person", "schema": SCHEMA, "strict": True}}


def test_json_schema_native() -> None:
    sent, req = build({"messages": USER, "response_format": JSON_SCHEMA})
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert "tools" not in sent and req.context["json_tool"] is None


def test_json_schema_through_a_forced_tool() -> None:
    target = Target("claude-3-opus", 4096, frozenset({"tools"}))
    sent, req = build({"messages": USER, "response_format": JSON_SCHEMA}, target)
    assert "output_config" not in sent
    assert sent["tools"][0]["name"] == "person" and sent["tools"][0]["input_schema"] == SCHEMA
    assert sent["tool_choice"] == {"type": "tool", "name": "person"}
    assert req.context["json_tool"] == "person" and req.context["json_wrapped"] is False
    # With the client's own tools offered too, any tool may be used (its own, or the answer).
    sent, _ = build({"messages": USER, "response_format": JSON_SCHEMA, "tools": TOOLS}, target)
    assert [t["name"] for t in sent["tools"]] == ["get_weather", "now", "person"]
    assert sent["tool_choice"] == {"type": "any"}
    # A non-object schema is wrapped for the tool.
    array = {"type": "json_schema", "json_schema": {"name": "list", "schema": {"type": "array"}}}
    sent, req = build({"messages": USER, "response_format": array}, target)
    assert sent["tools"][0]["input_schema"]["properties"] == {"value": {"type": "array"}}
    assert req.context["json_wrapped"] is True


def test_json_object_uses_a_forced_tool() -> None:
    sent, req = build({"messages": USER, "response_format": {"type": "json_object"}})
    assert sent["tools"] == [
        {
            "name": "json_object",
            "description": sent["tools"][0]["description"],
            "input_schema": {"type": "object", "additionalProperties": True},
        }
    ]
    assert sent["tool_choice"] == {"type": "tool", "name": "json_object"}
    assert req.context["json_tool"] == "json_object"
    sent, _ = build({"messages": USER, "response_format": {"type": "text"}})
    assert "tools" not in sent and "output_config" not in sent


# -- reasoning ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("effort", "budget"),
    [("minimal", 1024), ("low", 1024), ("medium", 4096), ("high", 16384), ("xhigh", 32768)],
)
def test_reasoning_effort_to_thinking_budget(effort: str, budget: int) -> None:
    sent, req = build({"messages": USER, "reasoning_effort": effort, "temperature": 0.2, "top_p": 0.3})
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert sent["max_tokens"] == 64000 > budget
    assert "temperature" not in sent and "top_p" not in sent
    assert {"temperature", "top_p"} <= set(req.context["dropped"])


def test_reasoning_raises_max_tokens_above_the_budget() -> None:
    sent, _ = build({"messages": USER, "reasoning_effort": "medium", "max_completion_tokens": 1000})
    assert sent["thinking"]["budget_tokens"] == 4096 and sent["max_tokens"] == 5096
    sent, _ = build(
        {"messages": USER, "reasoning_effort": "high", "max_tokens": 8000}, Target("m", 20000, FULL)
    )
    assert sent["max_tokens"] == 20000 and sent["thinking"]["budget_tokens"] == 16384
    sent, _ = build({"messages": USER, "reasoning_effort": "low", "max_tokens": 5000})
    assert sent["max_tokens"] == 5000 and sent["thinking"]["budget_tokens"] == 1024


def test_reasoning_none_and_unknown() -> None:
    sent, _ = build({"messages": USER, "reasoning_effort": "none", "temperature": 0.5})
    assert "thinking" not in sent and sent["temperature"] == 0.5
    with pytest.raises(InvalidRequest) as exc:
        build({"messages": USER, "reasoning_effort": "extreme"})
    assert exc.value.param == "reasoning_effort"


@pytest.mark.parametrize(
    "extra",
    [
        {"tools": TOOLS, "tool_choice": "required"},
        {"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "now"}}},
        {"response_format": {"type": "json_object"}},
    ],
)
def test_reasoning_with_a_forced_tool_is_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest) as exc:
        build({"messages": USER, "reasoning_effort": "low", **extra})
    assert "forced" in exc.value.message


def test_reasoning_with_native_json_schema_and_auto_tools_is_fine() -> None:
    sent, _ = build(
        {"messages": USER, "reasoning_effort": "low", "response_format": JSON_SCHEMA, "tools": TOOLS}
    )
    assert sent["thinking"]["type"] == "enabled" and sent["output_config"]["format"]["schema"] == SCHEMA


def test_thinking_left_out_when_continuing_a_tool_call() -> None:
    call = {"id": "toolu_1", "type": "function", "function": {"name": "now", "arguments": "{}"}}
    messages = [
        *USER,
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "10:00"},
    ]
    sent, req = build({"messages": messages, "tools": TOOLS, "reasoning_effort": "high"})
    assert "thinking" not in sent and "tool call" in req.context["thinking_omitted"]
    # Forcing a tool is no conflict then (thinking is left out anyway).
    sent, _ = build(
        {"messages": messages, "tools": TOOLS, "tool_choice": "required", "reasoning_effort": "high"}
    )
    assert sent["tool_choice"] == {"type": "any"} and "thinking" not in sent
    # A later plain exchange closes the tool cycle: thinking again.
    later = [
        *messages,
        {"role": "assistant", "content": "It is 10:00."},
        {"role": "user", "content": "Thanks"},
    ]
    sent, _ = build({"messages": later, "tools": TOOLS, "reasoning_effort": "high"})
    assert sent["thinking"]["type"] == "enabled"


def test_adaptive_thinking_capability() -> None:
    target = Target("claude-opus-4-7", 128000, FULL | {"adaptive_thinking"})
    sent, _ = build({"messages": USER, "reasoning_effort": "high", "response_format": JSON_SCHEMA}, target)
    assert sent["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert sent["output_config"] == {"effort": "high", "format": {"type": "json_schema", "schema": SCHEMA}}


# -- recorded requests -------------------------------------------------------------------------------
def _recording(name: str) -> dict[str, Any]:
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


REQUEST_RECORDINGS = [n for n in ALL_RECORDINGS if n != "error-400-invalid-request"]  # its request is broken


def test_every_recording_is_considered() -> None:
    assert len(ALL_RECORDINGS) == 17
    assert set(ALL_RECORDINGS) - set(REQUEST_RECORDINGS) == {"error-400-invalid-request"}


@pytest.mark.parametrize("name", REQUEST_RECORDINGS)
def test_recorded_requests_rebuilt_from_their_openai_equivalent(name: str) -> None:
    recorded = _recording(name)["request"]["body"]
    target = Target(recorded["model"], 64000, FULL)
    sent, _ = build(openai_equivalent(recorded), target)
    assert essentials(sent) == essentials(recorded)


# -- answers: helpers shared with the integration tests ---------------------------------------------
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


def _kind(name: str) -> str:
    recording = _recording(name)
    if recording["response"]["status"] != 200:
        return "error"
    return "stream" if recording["response"]["body"].startswith("event:") else "message"


MESSAGE_RECORDINGS = [n for n in ALL_RECORDINGS if _kind(n) == "message"]
STREAM_RECORDINGS = [n for n in ALL_RECORDINGS if _kind(n) == "stream"]
ERROR_RECORDINGS = [n for n in ALL_RECORDINGS if _kind(n) == "error"]


def _request(**context: Any) -> UpstreamRequest:
    return UpstreamRequest(url="u", headers={}, body=b"{}", context={"json_tool": None, **context})


@pytest.mark.parametrize("name", MESSAGE_RECORDINGS)
def test_recorded_messages_translated(name: str) -> None:
    recording = _recording(name)
    want = recorded_answer(recording)
    translated = WIRE.parse_response(recording["response"]["body"].encode(), _request())
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


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("name", STREAM_RECORDINGS)
def test_recorded_streams_translated(name: str, include_usage: bool) -> None:
    recording = _recording(name)
    want = recorded_answer(recording)
    translator = WIRE.stream_translator(_request(), include_usage)
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
    recording = _recording("messages-tool-use-stream")
    translator = WIRE.stream_translator(_request(), True)
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
    recording = _recording("messages-tool-use-stream-empty-input")
    translator = WIRE.stream_translator(_request(), True)
    chunks = [c for o in feed_all(translator, recording["response"]["body"]) for c in o.chunks]
    deltas = [d["tool_calls"][0] for d in _deltas(chunks) if "tool_calls" in d]
    assert [(d["index"], d["function"]["arguments"]) for d in deltas] == [
        (0, ""),
        (0, "{}"),
        (1, ""),
        (1, "{}"),
    ]


# -- answers: constructed cases ------------------------------------------------------------------------
def _events(*events: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(e) for e in events]


START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "model": "claude-x",
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 90},
    },
}


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
    done = WIRE.parse_response(orjson.dumps(raw), _request(json_tool="person", json_wrapped=False))
    completion = ChatCompletion.model_validate_json(done.body)
    assert json.loads(completion.choices[0].message.content or "") == schema_answer
    assert completion.choices[0].message.tool_calls is None and completion.choices[0].finish_reason == "stop"
    wrapped = {**raw, "content": [{**raw["content"][0], "input": {"value": [1, 2]}}]}  # type: ignore[dict-item]
    done = WIRE.parse_response(orjson.dumps(wrapped), _request(json_tool="person", json_wrapped=True))
    assert json.loads(json.loads(done.body)["choices"][0]["message"]["content"]) == [1, 2]

    for wrapped_mode, fragments, expected in (
        (False, ['{"name": "R', 'ex", "age": 3}'], schema_answer),
        (True, ['{"value": [1', ", 2]}"], [1, 2]),
    ):
        translator = WIRE.stream_translator(_request(json_tool="person", json_wrapped=wrapped_mode), False)
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
    recording = _recording("messages-redacted-thinking-stream")
    translator = WIRE.stream_translator(_request(), True)
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
    completion = ChatCompletion.model_validate_json(WIRE.parse_response(orjson.dumps(raw), _request()).body)
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
        json.loads(WIRE.parse_response(orjson.dumps(raw), _request()).body)["choices"][0]["finish_reason"]
        == finish
    )
    translator = WIRE.stream_translator(_request(), False)
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
    translator = WIRE.stream_translator(_request(), True)
    translator.feed(orjson.dumps(START))
    out = translator.feed(orjson.dumps({"type": "error", "error": {"type": kind, "message": "Overloaded"}}))
    assert out.done and isinstance(out.error, ProviderError) and out.error.retryable is retryable
    assert out.error.status == 502 and "Overloaded" in out.error.message and kind in out.error.message
    assert out.chunks == [{"error": {"message": out.error.message, "type": "provider_error", "code": 502}}]


@pytest.mark.parametrize("name", ERROR_RECORDINGS)
def test_recorded_errors_parsed(name: str) -> None:
    recording = _recording(name)
    error = json.loads(recording["response"]["body"])["error"]
    got = WIRE.parse_error(recording["response"]["status"], recording["response"]["body"].encode(), {})
    assert got == (error["message"], error["type"])


def test_unreadable_errors_and_answers() -> None:
    assert WIRE.parse_error(502, b"<html>Bad gateway</html>", {}) == ("<html>Bad gateway</html>", None)
    assert WIRE.parse_error(500, b"", {}) == ("upstream answered HTTP 500", None)
    assert WIRE.parse_error(500, b'{"error": "boom"}', {}) == ("boom", None)
    with pytest.raises(ValueError):
        WIRE.parse_response(b'{"type": "error"}', _request())
