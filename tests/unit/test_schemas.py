"""Tests for api/schemas.py: validate_chat accepts every documented field and explains each refusal."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aigateway.core.errors import InvalidRequest
from aigateway.services.operations.chat_schema import ChatRequest, validate_chat

USER = {"role": "user", "content": "Hello"}
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": True,
    },
}


def _body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "openai/gpt-5.4", "messages": [USER]}
    body.update(fields)
    return body


def _refused(body: object) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        validate_chat(body)
    exc = info.value
    assert exc.status == 400
    assert exc.error_type == "invalid_request_error"
    return exc


# ---------------------------------------------------------------------------------------- valid


def test_minimal_request() -> None:
    req = validate_chat(_body())
    assert isinstance(req, ChatRequest)
    assert req.model == "openai/gpt-5.4"
    assert len(req.messages) == 1
    assert req.messages[0].role == "user"
    assert req.messages[0].content == "Hello"
    assert req.stream is None
    assert req.model_extra == {}


def test_every_documented_field() -> None:
    body: dict[str, Any] = {
        "model": "anthropic/claude-opus-4.7",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Answer in English."},
            {
                "role": "user",
                "name": "alice",
                "content": [
                    {"type": "text", "text": "What is in this image, and the weather there?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                    {"type": "image_url", "image_url": "data:image/png;base64,iVBORw0KGgo="},
                    {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                ],
            },
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
            {"role": "tool", "tool_call_id": "call_1", "content": "18 °C, sunny"},
            {"role": "function", "name": "legacy", "content": "{}"},
            {"role": "assistant", "content": "It is sunny in Paris."},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.7,
        "top_p": 0.9,
        "n": 2,
        "max_tokens": 100,
        "max_completion_tokens": 200,
        "stop": ["\n\n", "END"],
        "seed": 42,
        "user": "user-1234",
        "metadata": {"team": "search"},
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "weather", "schema": {"type": "object"}, "strict": True},
        },
        "reasoning_effort": "high",
        "presence_penalty": -2,
        "frequency_penalty": 2,
        "logprobs": True,
        "top_logprobs": 20,
    }
    original = copy.deepcopy(body)
    req = validate_chat(body)
    assert body == original  # validation never rewrites the client's object
    assert req.model_extra == {}
    assert req.stream is True
    assert req.stream_options is not None and req.stream_options.include_usage is True
    assert req.temperature == 0.7
    assert req.n == 2
    assert req.stop == ["\n\n", "END"]
    assert req.tools is not None and req.tools[0].function is not None
    assert req.tools[0].function.name == "get_weather"
    assert req.response_format is not None and req.response_format.type == "json_schema"
    assert [m.role for m in req.messages] == [
        "system",
        "developer",
        "user",
        "assistant",
        "tool",
        "function",
        "assistant",
    ]
    tool_calls = req.messages[3].tool_calls
    assert tool_calls is not None and tool_calls[0].function.arguments == '{"city": "Paris"}'


@pytest.mark.parametrize(
    "fields",
    [
        {"stop": "END"},
        {"stop": ["a", "b", "c", "d"]},
        {"tool_choice": "none"},
        {"tool_choice": "auto"},
        {"tools": [WEATHER_TOOL], "tool_choice": "required"},
        {"tools": [WEATHER_TOOL], "tool_choice": "auto"},
        {"response_format": {"type": "text"}},
        {"response_format": {"type": "json_object"}},
        {"temperature": 0},
        {"temperature": 2},
        {"top_p": 0},
        {"top_p": 1},
        {"n": 1},
        {"n": 128},
        {"top_logprobs": 0},
        {"stream": False},
        {"stream_options": {"include_usage": False, "continuous_usage_stats": True}},
    ],
)
def test_valid_variants(fields: dict[str, Any]) -> None:
    validate_chat(_body(**fields))


def test_unknown_fields_are_kept() -> None:
    body = _body(
        webhook_url="https://example.com/hook",
        provider={"order": ["groq", "together"], "allow_fallbacks": False},
        thinking={"type": "enabled", "budget_tokens": 1024},
        top_k=40,
    )
    body["messages"] = [{"role": "user", "content": "hi", "cache_control": {"type": "ephemeral"}}]
    body["tools"] = [{**WEATHER_TOOL, "cache_control": {"type": "ephemeral"}}]
    req = validate_chat(body)
    assert req.model_extra == {
        "webhook_url": "https://example.com/hook",
        "provider": {"order": ["groq", "together"], "allow_fallbacks": False},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "top_k": 40,
    }
    assert req.messages[0].model_extra == {"cache_control": {"type": "ephemeral"}}
    assert req.tools is not None and req.tools[0].model_extra == {"cache_control": {"type": "ephemeral"}}
    dumped = req.model_dump(exclude_none=True)
    assert dumped["top_k"] == 40
    assert dumped["messages"][0]["cache_control"] == {"type": "ephemeral"}


def test_assistant_message_may_have_no_content() -> None:
    req = validate_chat(_body(messages=[USER, {"role": "assistant"}]))
    assert req.messages[1].content is None


# -------------------------------------------------------------------------------------- invalid


@pytest.mark.parametrize("body", [None, [], ["model"], "model=x", 42, True])
def test_non_object_body(body: object) -> None:
    exc = _refused(body)
    assert "JSON object" in exc.message


def test_missing_model() -> None:
    body = _body()
    del body["model"]
    exc = _refused(body)
    assert exc.param == "model"
    assert exc.message == "Missing required field 'model'."


@pytest.mark.parametrize("model", ["", 42, None, "x" * 257])
def test_bad_model(model: object) -> None:
    exc = _refused(_body(model=model))
    assert exc.param == "model"
    assert "'model'" in exc.message


def test_missing_messages() -> None:
    body = _body()
    del body["messages"]
    exc = _refused(body)
    assert exc.param == "messages"
    assert exc.message == "Missing required field 'messages'."


def test_empty_messages() -> None:
    exc = _refused(_body(messages=[]))
    assert exc.param == "messages"
    assert "'messages'" in exc.message
    assert "at least 1" in exc.message


def test_bad_role() -> None:
    exc = _refused(_body(messages=[USER, {"role": "robot", "content": "beep"}]))
    assert exc.param == "messages.1.role"
    assert "'messages.1.role'" in exc.message
    assert "'assistant'" in exc.message  # the allowed roles are listed


def test_missing_role() -> None:
    exc = _refused(_body(messages=[{"content": "hi"}]))
    assert exc.param == "messages.0.role"
    assert exc.message == "Missing required field 'messages.0.role'."


def test_message_that_is_not_an_object() -> None:
    exc = _refused(_body(messages=["hello"]))
    assert exc.param == "messages.0"


def test_user_message_without_content() -> None:
    exc = _refused(_body(messages=[{"role": "user"}]))
    assert exc.param == "messages.0"
    assert "'user' message needs content" in exc.message


def test_tool_message_without_tool_call_id() -> None:
    exc = _refused(_body(messages=[USER, {"role": "tool", "content": "42"}]))
    assert exc.param == "messages.1"
    assert "tool_call_id" in exc.message
    assert "'messages.1'" in exc.message


def test_tool_message_with_empty_tool_call_id() -> None:
    exc = _refused(_body(messages=[{"role": "tool", "content": "42", "tool_call_id": ""}]))
    assert "tool_call_id" in exc.message


@pytest.mark.parametrize("temperature", [-0.1, 2.01, 5, "hot"])
def test_temperature_out_of_range(temperature: object) -> None:
    exc = _refused(_body(temperature=temperature))
    assert exc.param == "temperature"
    assert exc.message.startswith("Invalid 'temperature':")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("top_p", 1.5),
        ("n", 129),
        ("max_tokens", 0),
        ("max_completion_tokens", -1),
        ("presence_penalty", 2.5),
        ("frequency_penalty", -3),
        ("top_logprobs", 21),
        ("metadata", {"k": 1}),
        ("stream", [True]),
        ("logprobs", "maybe"),
    ],
)
def test_other_fields_out_of_range(field: str, value: object) -> None:
    exc = _refused(_body(**{field: value}))
    assert exc.param is not None and exc.param.startswith(field)
    assert f"'{field}" in exc.message


@pytest.mark.parametrize(
    ("field", "value"),
    [("stream", "false"), ("stream", "yes"), ("stream", 1), ("temperature", "0.5"), ("n", "2")],
)
def test_wrongly_typed_values_are_refused_not_coerced(field: str, value: object) -> None:
    exc = _refused(_body(**{field: value}))
    assert exc.param == field


def test_n_zero() -> None:
    exc = _refused(_body(n=0))
    assert exc.param == "n"
    assert exc.message == "Invalid 'n': Input should be greater than or equal to 1."


def test_stop_with_five_items() -> None:
    exc = _refused(_body(stop=["a", "b", "c", "d", "e"]))
    assert "stop" in exc.message
    assert "at most 4" in exc.message


def test_tool_choice_sometimes() -> None:
    exc = _refused(_body(tools=[WEATHER_TOOL], tool_choice="sometimes"))
    assert "tool_choice" in exc.message


def test_tool_choice_without_tools() -> None:
    for choice in ("required", {"type": "function", "function": {"name": "get_weather"}}):
        exc = _refused(_body(tool_choice=choice))
        assert "tool_choice" in exc.message
        assert "without tools" in exc.message
    exc = _refused(_body(tools=[], tool_choice="required"))
    assert "without tools" in exc.message


def test_stop_with_five_items_param() -> None:
    assert _refused(_body(stop=["a", "b", "c", "d", "e"])).param == "stop"


def test_tool_choice_sometimes_param() -> None:
    assert _refused(_body(tools=[WEATHER_TOOL], tool_choice="sometimes")).param == "tool_choice"


def test_tool_choice_without_tools_param() -> None:
    assert _refused(_body(tool_choice="required")).param == "tool_choice"


def test_tool_without_function_name() -> None:
    exc = _refused(_body(tools=[{"type": "function", "function": {"name": ""}}]))
    assert exc.param == "tools.0.function.name"


def test_response_format_json_schema_without_name() -> None:
    exc = _refused(_body(response_format={"type": "json_schema", "json_schema": {"schema": {}}}))
    assert exc.param == "response_format"
    assert "json_schema.name" in exc.message
    exc = _refused(_body(response_format={"type": "json_schema"}))
    assert exc.param == "response_format"


def test_response_format_unknown_type() -> None:
    exc = _refused(_body(response_format={"type": "yaml"}))
    assert exc.param == "response_format.type"


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {}},
        {"type": "image_url", "image_url": {"url": ""}},
        {"type": "image_url", "image_url": {"detail": "high"}},
        {"type": "image_url"},
        {"type": "image_url", "image_url": 7},
    ],
)
def test_image_url_part_without_url(part: dict[str, Any]) -> None:
    exc = _refused(_body(messages=[{"role": "user", "content": [part]}]))
    assert exc.param == "messages.0"
    assert "image_url.url" in exc.message


def test_text_part_without_text() -> None:
    exc = _refused(_body(messages=[{"role": "user", "content": [{"type": "text"}]}]))
    assert exc.param == "messages.0"
    assert "text" in exc.message


def test_part_without_type() -> None:
    exc = _refused(_body(messages=[{"role": "user", "content": [{"text": "hi"}]}]))
    assert exc.param == "messages.0"
    assert "'type'" in exc.message


def test_message_lists_at_most_three_errors() -> None:
    exc = _refused({"messages": [], "temperature": 9, "n": 0, "top_p": 7})
    assert exc.param == "model"
    assert exc.message.startswith("Missing required field 'model'. Invalid 'messages': ")
    assert "Invalid 'temperature': " in exc.message
    assert "'top_p'" not in exc.message and "'n'" not in exc.message


def test_exception_is_not_chained_to_pydantic() -> None:
    exc = _refused(_body(n=0))
    assert exc.__cause__ is None
    assert exc.__suppress_context__ is True
    assert exc.body()["error"] == {
        "message": exc.message,
        "type": "invalid_request_error",
        "code": 400,
        "param": "n",
    }
