"""Tests for the deterministic simulated chat provider."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from aigateway.providers.simulated import (
    estimate_tokens,
    generate_from_schema,
    prompt_tokens,
    synthesize_chunks,
    synthesize_completion,
)

MODEL = "openai/gpt-5.4"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 3, "maximum": 7},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
    },
}
PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 20},
        "age": {"type": "integer", "exclusiveMinimum": 17, "maximum": 120},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "email": {"type": "string", "format": "email"},
        "born": {"type": "string", "format": "date"},
        "site": {"type": "string", "format": "uri"},
        "active": {"type": "boolean"},
        "nothing": {"type": "null"},
        "kind": {"const": "person"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": True},
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "zip": {"type": "string", "maxLength": 5}},
            "required": ["street", "zip"],
            "additionalProperties": False,
        },
        "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "pet": {"oneOf": [{"$ref": "#/$defs/Pet"}, {"type": "string"}]},
        "level": {"type": "string", "default": "basic"},
        "ratio": {"type": ["number", "null"], "multipleOf": 0.5, "minimum": 2},
    },
    "required": ["name", "age", "email", "tags", "address", "pet", "kind"],
    "additionalProperties": False,
    "$defs": {
        "Pet": {
            "type": "object",
            "properties": {"species": {"enum": ["cat", "dog"]}, "legs": {"type": "integer"}},
            "required": ["species", "legs"],
        }
    },
}


def _user(text: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}]}


BODIES: dict[str, dict[str, Any]] = {
    "text": _user("What is the capital of France?"),
    "system_and_history": {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi"},
            {"role": "user", "content": [{"type": "text", "text": "tell me about Paris please"}]},
        ],
    },
    "tools": {**_user("weather in Paris?"), "tools": [WEATHER_TOOL]},
    "tools_parallel": {**_user("weather and time"), "tools": [WEATHER_TOOL, TIME_TOOL]},
    "tool_result": {
        "model": MODEL,
        "tools": [WEATHER_TOOL],
        "messages": [
            {"role": "user", "content": "weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny and 21 degrees"},
        ],
    },
    "json_object": {**_user("give me json"), "response_format": {"type": "json_object"}},
    "json_schema": {
        **_user("a person"),
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": PERSON_SCHEMA, "strict": False},
        },
    },
    "vision": {
        "model": MODEL,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is in these pictures?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            }
        ],
    },
    "reasoning": {**_user("think about 2+2"), "reasoning_effort": "low"},
    "reasoning_tools": {**_user("weather?"), "reasoning_effort": "high", "tools": [WEATHER_TOOL]},
    "n3": {**_user("three answers please"), "n": 3},
    "n2_tools": {**_user("weather"), "n": 2, "tools": [WEATHER_TOOL, TIME_TOOL]},
    "max_tokens": {**_user("a long question about many things"), "max_tokens": 5},
    "stop": {**_user("where is Rome"), "stop": ["Rome", "generated"]},
    "usage_stream": {**_user("hi"), "stream": True, "stream_options": {"include_usage": True}},
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_completion_validates_with_openai_types(name: str) -> None:
    out = synthesize_completion(BODIES[name], model=MODEL)
    parsed = ChatCompletion.model_validate(out)
    assert parsed.object == "chat.completion"
    assert parsed.model == MODEL
    assert parsed.usage is not None
    assert parsed.usage.total_tokens == parsed.usage.prompt_tokens + parsed.usage.completion_tokens
    assert out["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}
    assert "reasoning_tokens" in out["usage"]["completion_tokens_details"]
    json.dumps(out)  # plain JSON-serialisable data


@pytest.mark.parametrize("name", sorted(BODIES))
def test_chunks_validate_and_reassemble(name: str) -> None:
    body = BODIES[name]
    completion = synthesize_completion(body, model=MODEL)
    chunks = synthesize_chunks(body, model=MODEL)
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)
        assert chunk["id"] == completion["id"]
        assert chunk["object"] == "chat.completion.chunk"
    include_usage = bool(body.get("stream_options", {}).get("include_usage"))
    data_chunks = chunks[:-1] if include_usage else chunks
    assert all("usage" not in c for c in data_chunks)
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"] == completion["usage"]

    rebuilt: dict[int, dict[str, Any]] = {}
    for chunk in data_chunks:
        (entry,) = chunk["choices"]
        slot = rebuilt.setdefault(
            entry["index"], {"content": None, "reasoning": None, "tools": {}, "finish": None, "role": None}
        )
        delta = entry["delta"]
        if "role" in delta:
            assert slot["role"] is None, "role must only be in the first delta"
            slot["role"] = delta["role"]
        if delta.get("content") is not None:
            slot["content"] = (slot["content"] or "") + delta["content"]
        if delta.get("reasoning_content") is not None:
            slot["reasoning"] = (slot["reasoning"] or "") + delta["reasoning_content"]
        for call in delta.get("tool_calls") or []:
            if "id" in call:
                assert call["function"]["arguments"] == ""
                slot["tools"][call["index"]] = {
                    "id": call["id"],
                    "name": call["function"]["name"],
                    "args": "",
                }
            else:
                slot["tools"][call["index"]]["args"] += call["function"]["arguments"]
        if entry["finish_reason"] is not None:
            slot["finish"] = entry["finish_reason"]

    assert sorted(rebuilt) == [c["index"] for c in completion["choices"]]
    for choice in completion["choices"]:
        got = rebuilt[choice["index"]]
        msg = choice["message"]
        assert got["role"] == "assistant"
        assert got["finish"] == choice["finish_reason"]
        if msg.get("tool_calls"):
            assert got["content"] is None
            calls = [got["tools"][k] for k in sorted(got["tools"])]
            assert [(c["id"], c["name"], c["args"]) for c in calls] == [
                (t["id"], t["function"]["name"], t["function"]["arguments"]) for t in msg["tool_calls"]
            ]
        else:
            assert (got["content"] or "") == msg["content"]
        assert got["reasoning"] == msg.get("reasoning_content")


def test_content_is_streamed_in_several_small_deltas() -> None:
    chunks = synthesize_chunks(BODIES["text"], model=MODEL)
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks if c["choices"][0]["delta"].get("content")]
    assert len(pieces) >= 3
    assert all(len(p.split()) <= 3 for p in pieces)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_deterministic_and_body_dependent() -> None:
    body = BODIES["tools_parallel"]
    assert synthesize_completion(body, model=MODEL) == synthesize_completion(dict(body), model=MODEL)
    assert synthesize_chunks(body, model=MODEL) == synthesize_chunks(body, model=MODEL)
    other = synthesize_completion(BODIES["text"], model=MODEL)
    assert other["id"] != synthesize_completion(body, model=MODEL)["id"]
    assert other["id"] != synthesize_completion(BODIES["text"], model="other/model")["id"]
    assert other["created"] == synthesize_completion(BODIES["text"], model=MODEL)["created"]
    assert synthesize_completion(BODIES["text"], model=MODEL, created=123)["created"] == 123
    ids = [c["id"] for c in synthesize_completion(body, model=MODEL)["choices"][0]["message"]["tool_calls"]]
    assert all(i.startswith("call_") for i in ids) and len(set(ids)) == 2


def test_text_names_model_and_echoes_question() -> None:
    content = synthesize_completion(BODIES["text"], model=MODEL)["choices"][0]["message"]["content"]
    assert MODEL in content
    assert "capital of France" in content


def test_tool_calls_single_parallel_named_none() -> None:
    one = synthesize_completion(BODIES["tools"], model=MODEL)["choices"][0]
    assert one["finish_reason"] == "tool_calls"
    assert one["message"]["content"] is None
    (call,) = one["message"]["tool_calls"]
    args = json.loads(call["function"]["arguments"])
    assert call["function"]["name"] == "get_weather"
    assert isinstance(args["city"], str) and args["unit"] in ("celsius", "fahrenheit")
    assert 3 <= args["days"] <= 7

    two = synthesize_completion(BODIES["tools_parallel"], model=MODEL)["choices"][0]["message"]
    assert [c["function"]["name"] for c in two["tool_calls"]] == ["get_weather", "get_time"]

    serial = {**BODIES["tools_parallel"], "parallel_tool_calls": False}
    msg = synthesize_completion(serial, model=MODEL)["choices"][0]["message"]
    assert [c["function"]["name"] for c in msg["tool_calls"]] == ["get_weather"]

    named = {
        **BODIES["tools_parallel"],
        "tool_choice": {"type": "function", "function": {"name": "get_time"}},
    }
    msg = synthesize_completion(named, model=MODEL)["choices"][0]["message"]
    assert [c["function"]["name"] for c in msg["tool_calls"]] == ["get_time"]
    assert json.loads(msg["tool_calls"][0]["function"]["arguments"]) == {"tz": "example tz"}

    required = {**BODIES["tools"], "tool_choice": "required"}
    msg = synthesize_completion(required, model=MODEL)["choices"][0]["message"]
    assert [c["function"]["name"] for c in msg["tool_calls"]] == ["get_weather"]

    none = {**BODIES["tools_parallel"], "tool_choice": "none"}
    choice = synthesize_completion(none, model=MODEL)["choices"][0]
    assert choice["finish_reason"] == "stop" and "tool_calls" not in choice["message"]


def test_answer_after_tool_result_mentions_it() -> None:
    out = synthesize_completion(BODIES["tool_result"], model=MODEL)
    choice = out["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "sunny and 21 degrees" in choice["message"]["content"]


def test_tool_call_usage_counts_arguments() -> None:
    out = synthesize_completion(BODIES["tools_parallel"], model=MODEL)
    calls = out["choices"][0]["message"]["tool_calls"]
    expected = sum(estimate_tokens(c["function"]["arguments"]) for c in calls)
    assert out["usage"]["completion_tokens"] == expected


def test_json_object_mode() -> None:
    content = synthesize_completion(BODIES["json_object"], model=MODEL)["choices"][0]["message"]["content"]
    parsed = json.loads(content)
    assert isinstance(parsed, dict) and parsed["model"] == MODEL


def test_json_schema_mode_validates() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    content = synthesize_completion(BODIES["json_schema"], model=MODEL)["choices"][0]["message"]["content"]
    value = json.loads(content)
    jsonschema.Draft202012Validator(
        PERSON_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(value)
    assert value["kind"] == "person" and value["pet"]["species"] in ("cat", "dog")


SCHEMAS: list[Any] = [
    {"type": "string"},
    {"type": "integer", "minimum": 10, "maximum": 10},
    {"type": "integer", "exclusiveMaximum": 0},
    {"type": "number", "exclusiveMinimum": 5},
    {"type": "integer", "multipleOf": 7, "minimum": 8},
    {"type": "boolean"},
    {"type": "null"},
    {"enum": ["a", 1, None]},
    {"const": {"x": 1}},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3, "uniqueItems": True},
    {"type": "array", "maxItems": 0},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "items": False},
    {"type": "object", "properties": {}, "additionalProperties": False},
    {"type": "object", "required": ["free"], "additionalProperties": {"type": "integer"}},
    {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]}, {"required": ["b"]}]},
    {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 100}]},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "uuid"},
    {"type": "string", "minLength": 3, "maxLength": 4},
    {
        "type": "object",
        "properties": {"child": {"$ref": "#"}, "v": {"type": "integer"}},
        "required": ["v"],
    },
    {"$ref": "#/definitions/Item", "definitions": {"Item": {"type": "object", "required": ["id"]}}},
    PERSON_SCHEMA,
    True,
    {},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=[str(i) for i in range(len(SCHEMAS))])
def test_generated_values_validate(schema: Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    value = generate_from_schema(schema)
    json.dumps(value)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(value)
    assert generate_from_schema(schema) == value


@pytest.mark.parametrize("schema", [s for s in SCHEMAS if isinstance(s, dict) and s.get("type") == "object"])
def test_tool_arguments_validate_against_parameters(schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    body = {**_user("go"), "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}]}
    (call,) = synthesize_completion(body, model=MODEL)["choices"][0]["message"]["tool_calls"]
    jsonschema.Draft202012Validator(schema).validate(json.loads(call["function"]["arguments"]))


def test_vision_counts_images() -> None:
    out = synthesize_completion(BODIES["vision"], model=MODEL)
    assert "2 images" in out["choices"][0]["message"]["content"]
    text_only = {"model": MODEL, "messages": [{"role": "user", "content": "what is in these pictures?"}]}
    assert prompt_tokens(BODIES["vision"]) >= prompt_tokens(text_only) + 2 * 85


def test_reasoning_content_and_tokens() -> None:
    out = synthesize_completion(BODIES["reasoning"], model=MODEL)
    msg = out["choices"][0]["message"]
    assert msg["reasoning_content"] and "low" in msg["reasoning_content"]
    reasoning = out["usage"]["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning == estimate_tokens(msg["reasoning_content"]) > 0
    assert out["usage"]["completion_tokens"] == reasoning + estimate_tokens(msg["content"])
    plain = synthesize_completion(BODIES["text"], model=MODEL)
    assert "reasoning_content" not in plain["choices"][0]["message"]
    assert plain["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    chunks = synthesize_chunks(BODIES["reasoning"], model=MODEL)
    kinds = [k for c in chunks for k in c["choices"][0]["delta"] if k in ("reasoning_content", "content")]
    assert kinds[0] == "content"  # the role chunk carries content ""
    reasoning_positions = [i for i, k in enumerate(kinds) if k == "reasoning_content"]
    content_positions = [i for i, k in enumerate(kinds) if k == "content"][1:]
    assert max(reasoning_positions) < min(content_positions)


def test_max_tokens_truncates_with_length() -> None:
    for key in ("max_tokens", "max_completion_tokens"):
        body = {**_user("a long question about many things"), key: 5}
        out = synthesize_completion(body, model=MODEL)
        choice = out["choices"][0]
        assert choice["finish_reason"] == "length"
        assert 0 < out["usage"]["completion_tokens"] <= 5
        full = synthesize_completion(_user("a long question about many things"), model=MODEL)
        assert full["choices"][0]["message"]["content"].startswith(choice["message"]["content"])
    roomy = synthesize_completion({**_user("hi"), "max_tokens": 4000}, model=MODEL)
    assert roomy["choices"][0]["finish_reason"] == "stop"


def test_stop_sequences() -> None:
    out = synthesize_completion(BODIES["stop"], model=MODEL)
    choice = out["choices"][0]
    assert choice["finish_reason"] == "stop"
    content = choice["message"]["content"]
    assert "Rome" not in content and "generated" not in content
    full = synthesize_completion(_user("where is Rome"), model=MODEL)["choices"][0]["message"]["content"]
    assert full.startswith(content) and full[len(content) :].startswith("Rome")
    single = synthesize_completion({**_user("where is Rome"), "stop": "reply"}, model=MODEL)
    assert single["choices"][0]["message"]["content"] == "Simulated "


def test_n_choices_differ() -> None:
    out = synthesize_completion(BODIES["n3"], model=MODEL)
    assert [c["index"] for c in out["choices"]] == [0, 1, 2]
    texts = [c["message"]["content"] for c in out["choices"]]
    assert len(set(texts)) == 3
    single = synthesize_completion(_user("three answers please"), model=MODEL)
    per_choice = single["usage"]["completion_tokens"]
    assert out["usage"]["completion_tokens"] >= 3 * per_choice
    tools = synthesize_completion(BODIES["n2_tools"], model=MODEL)
    ids = [t["id"] for c in tools["choices"] for t in c["message"]["tool_calls"]]
    assert len(ids) == 4 and len(set(ids)) == 4


def test_usage_chunk_only_when_requested() -> None:
    without = synthesize_chunks(_user("hi"), model=MODEL)
    assert all(c["choices"] for c in without)
    with_usage = synthesize_chunks(BODIES["usage_stream"], model=MODEL)
    assert with_usage[-1]["choices"] == [] and "usage" in with_usage[-1]
    off = synthesize_chunks({**_user("hi"), "stream_options": {"include_usage": False}}, model=MODEL)
    assert all("usage" not in c for c in off)


def test_estimates() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1
    assert estimate_tokens("abcd" * 10) == 10
    assert prompt_tokens({}) >= 1
    assert prompt_tokens(BODIES["tools"]) > prompt_tokens(_user("weather in Paris?"))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"messages": None},
        {"messages": "hello"},
        {"messages": [None, 3, {"role": "user"}]},
        {"messages": [{"role": "user", "content": [{"type": "image_url"}, "raw", {"foo": 1}]}]},
        {"messages": [], "tools": "nope", "tool_choice": {"function": 3}},
        {"messages": [], "tools": [None, {"function": {"name": ""}}, {"type": "function"}]},
        {"messages": [], "n": "two", "max_tokens": "ten", "stop": 5, "response_format": "json"},
        {"messages": [], "response_format": {"type": "json_schema", "json_schema": None}},
        {"messages": [], "tools": [{"type": "function", "function": {"name": "f", "parameters": "bad"}}]},
        {"messages": [], "stream_options": "yes", "n": 0, "max_tokens": -1, "reasoning_effort": "low"},
    ],
)
def test_odd_shapes_do_not_crash(body: dict[str, Any]) -> None:
    ChatCompletion.model_validate(synthesize_completion(body, model=MODEL))
    for chunk in synthesize_chunks(body, model=MODEL):
        ChatCompletionChunk.model_validate(chunk)
