"""Anthropic wire, requests (providers/wire/anthropic.py): the oracle, headers, messages, sampling.

Every request the adapter builds passes the SDK oracle (tests/support/anthropic.py). Each recorded
request, read back as an OpenAI request, must produce the same essential Anthropic request.
"""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from aigateway.core.errors import InvalidRequest
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.anthropic import ANTHROPIC_VERSION
from aigateway.providers.wire.base import Target
from tests.support.anthropic import (
    ALL_RECORDINGS,
    FULL,
    TARGET,
    USER,
    WIRE,
    build,
    essentials,
    load_recording,
    openai_equivalent,
    oracle,
)


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


# -- recorded requests -------------------------------------------------------------------------------
REQUEST_RECORDINGS = [n for n in ALL_RECORDINGS if n != "error-400-invalid-request"]  # its request is broken


def test_every_recording_is_considered() -> None:
    assert len(ALL_RECORDINGS) == 17
    assert set(ALL_RECORDINGS) - set(REQUEST_RECORDINGS) == {"error-400-invalid-request"}


@pytest.mark.parametrize("name", REQUEST_RECORDINGS)
def test_recorded_requests_rebuilt_from_their_openai_equivalent(name: str) -> None:
    recorded = load_recording(name)["request"]["body"]
    target = Target(recorded["model"], 64000, FULL)
    sent, _ = build(openai_equivalent(recorded), target)
    assert essentials(sent) == essentials(recorded)
