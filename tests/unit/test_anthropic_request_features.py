"""Anthropic wire, requests (providers/wire/anthropic.py): tools, JSON output and reasoning.

Every request the adapter builds passes the SDK oracle (tests/support/anthropic.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from aigateway.core.errors import InvalidRequest
from aigateway.providers.wire.base import Target
from tests.support.anthropic import FULL, USER, build

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
