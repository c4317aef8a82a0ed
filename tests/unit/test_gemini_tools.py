"""Gemini wire, requests (providers/wire/gemini.py): tool declarations, tool choice, calls and results.

Every request body the adapter builds passes the google-genai oracle (tests/support/gemini.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from aigateway.core.errors import InvalidRequest
from aigateway.providers.wire.base import Target
from aigateway.providers.wire.gemini import DUMMY_SIGNATURE, fits_openapi_subset
from tests.support.gemini import FLASH, SIG, TIME, USER, WEATHER, build, tool_history


# -- request: tools ---------------------------------------------------------------------------------
def test_tool_declarations_subset_vs_json_schema() -> None:
    strict = {
        "type": "object",
        "properties": {"q": {"type": "string"}},
        "required": ["q"],
        "additionalProperties": False,
    }
    tools = [
        WEATHER,
        {"type": "function", "function": {"name": "search", "parameters": strict, "strict": True}},
        {"type": "function", "function": {"name": "ping"}},
    ]
    decls = build({"messages": USER, "tools": tools})["tools"][0]["functionDeclarations"]
    weather = decls[0]
    assert weather["name"] == "get_weather" and weather["description"] == "Weather in a city."
    assert weather["parameters"]["type"] == "OBJECT"
    assert weather["parameters"]["properties"]["days"] == {
        "type": "INTEGER",
        "minimum": 1,
        "maximum": 7,
        "format": "int32",
    }
    assert weather["parameters"]["properties"]["alt"]["anyOf"][1] == {"type": "NULL"}
    assert decls[1] == {"name": "search", "parametersJsonSchema": strict}
    assert decls[2] == {"name": "ping"}


@pytest.mark.parametrize(
    ("schema", "fits"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}}, True),
        ({"type": "object", "additionalProperties": False}, False),
        ({"$ref": "#/$defs/a", "$defs": {"a": {"type": "string"}}}, False),
        ({"type": ["string", "null"]}, False),
        ({"type": "integer", "enum": [1, 2]}, False),
        ({"type": "string", "format": "email"}, False),
        ({"type": "string", "const": "x"}, False),
        ({"oneOf": [{"type": "string"}]}, False),
        ({"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}}, True),
        ({"type": "array", "items": {"type": "object", "properties": {"x": {"$ref": "#/x"}}}}, False),
    ],
)
def test_openapi_subset_detection(schema: dict[str, Any], fits: bool) -> None:
    assert fits_openapi_subset(schema) is fits
    decl = build(
        {"messages": USER, "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}]}
    )
    assert ("parameters" if fits else "parametersJsonSchema") in decl["tools"][0]["functionDeclarations"][0]


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_time"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "get_time"}}],
                },
            },
            {"mode": "ANY", "allowedFunctionNames": ["get_time"]},
        ),
    ],
)
def test_tool_choice(choice: Any, config: dict[str, Any]) -> None:
    out = build({"messages": USER, "tools": [WEATHER, TIME], "tool_choice": choice})
    assert out["toolConfig"] == {"functionCallingConfig": config}
    assert "toolConfig" not in build({"messages": USER, "tools": [WEATHER]})


def test_allowed_tools_in_auto_mode_declares_only_those() -> None:
    choice = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "get_time"}}]},
    }
    out = build({"messages": USER, "tools": [WEATHER, TIME], "tool_choice": choice})
    assert [d["name"] for d in out["tools"][0]["functionDeclarations"]] == ["get_time"]
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}


def test_non_function_tools_and_bad_choice_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="custom"):
        build({"messages": USER, "tools": [{"type": "custom", "custom": {"name": "x"}}]})
    with pytest.raises(InvalidRequest, match="tool_choice"):
        build({"messages": USER, "tools": [WEATHER], "tool_choice": {"type": "function", "function": {}}})


# -- request: tool calls and results ----------------------------------------------------------------
def test_tool_calls_and_results_map_back_in_call_order() -> None:
    out = build({"messages": tool_history(), "tools": [WEATHER, TIME]})
    model, answers, last = out["contents"][1:]
    assert model == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SIG},
            {"functionCall": {"name": "get_time", "args": {}, "id": "fc-gemini-7"}},
        ],
    }
    # Results came back in reverse order; Gemini gets them in call order, in one user turn.
    assert answers == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
            {"functionResponse": {"name": "get_time", "response": {"result": "12:00"}, "id": "fc-gemini-7"}},
        ],
    }
    assert last == {"role": "user", "parts": [{"text": "Thanks"}]}


@pytest.mark.parametrize(
    ("content", "response"),
    [
        ("[1, 2]", {"result": [1, 2]}),
        ("42", {"result": 42}),
        ("not json", {"result": "not json"}),
        ([{"type": "text", "text": '{"ok": '}, {"type": "text", "text": "true}"}], {"ok": True}),
    ],
)
def test_tool_result_wrapping(content: Any, response: dict[str, Any]) -> None:
    messages = [
        *tool_history()[:2],
        {"role": "tool", "tool_call_id": "call_aaaaaaaaaaaaaaaaaaaaaaaa", "content": content},
        {"role": "tool", "tool_call_id": "fc-gemini-7", "content": "{}"},
    ]
    parts = build({"messages": messages})["contents"][2]["parts"]
    assert parts[0]["functionResponse"]["response"] == response


def test_thought_signatures_for_gemini_3_histories() -> None:
    g3 = Target("gemini-3-flash-preview")
    without = build({"messages": tool_history(signature=None)}, g3)["contents"][1]["parts"]
    assert without[0]["thoughtSignature"] == DUMMY_SIGNATURE and "thoughtSignature" not in without[1]
    kept = build({"messages": tool_history()}, g3)["contents"][1]["parts"]
    assert kept[0]["thoughtSignature"] == SIG
    older = build({"messages": tool_history(signature=None)}, FLASH)["contents"][1]["parts"]
    assert all("thoughtSignature" not in p for p in older)


def test_orphan_results_and_bad_arguments() -> None:
    orphan = [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "1"}]
    with pytest.raises(InvalidRequest, match="nope"):
        build({"messages": orphan})
    named = build({"messages": [*orphan[:1], {**orphan[1], "name": "lookup"}]})
    assert named["contents"][1]["parts"][0]["functionResponse"]["name"] == "lookup"
    bad = tool_history()
    bad[1]["tool_calls"][0]["function"]["arguments"] = "[1]"
    with pytest.raises(InvalidRequest, match="JSON object"):
        build({"messages": bad})
    with pytest.raises(InvalidRequest, match="function"):
        build({"messages": [{"role": "function", "name": "f", "content": "x"}]})
