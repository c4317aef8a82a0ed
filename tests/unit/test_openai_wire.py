"""Tests for providers/wire/openai.py: request building, usage parsing, stream relaying, errors."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Target, UpstreamRequest
from aigateway.providers.wire.openai import (
    GATEWAY_FIELDS,
    OpenAIStreamTranslator,
    OpenAIWire,
    auth_headers,
    usage_from,
)

REQ = UpstreamRequest(url="http://upstream/v1/chat/completions", headers={}, body=b"{}")

WIRE = OpenAIWire()
OPENAI = VendorProfile(name="openai", base_url="https://api.openai.com/v1", key_envs=("OPENAI_API_KEY",))
USAGE = {
    "prompt_tokens": 100,
    "completion_tokens": 50,
    "total_tokens": 150,
    "prompt_tokens_details": {"cached_tokens": 40, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 20, "audio_tokens": 0},
}
USAGE_PARSED = Usage(input_tokens=100, cached_input_tokens=40, output_tokens=50, reasoning_tokens=20)


def _vendor(
    auth: str, headers: dict[str, str] | None = None, base_url: str = "https://up.example/v1"
) -> VendorProfile:
    return VendorProfile(name="v", base_url=base_url, key_envs=(), auth=auth, headers=headers or {})


def _chunk(content: str | None = "Hi", **extra: Any) -> dict[str, Any]:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    chunk: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-5.4",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }
    chunk.update(extra)
    return chunk


# ----------------------------------------------------------------------------------- build_request


def test_build_request_sets_upstream_model_and_url() -> None:
    body = {"model": "openai/gpt-5.4", "messages": [{"role": "user", "content": "hi"}]}
    req = WIRE.build_request(body, Target("gpt-5.4-2026-03-05"), OPENAI, "sk-test-credential")
    assert req.url == "https://api.openai.com/v1/chat/completions"
    sent = orjson.loads(req.body)
    assert sent == {"model": "gpt-5.4-2026-03-05", "messages": [{"role": "user", "content": "hi"}]}
    assert "stream_options" not in sent
    assert req.headers["Authorization"] == "Bearer sk-test-credential"
    assert isinstance(req.body, bytes)


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:9000/v1/", "http://127.0.0.1:9000/v1"])
def test_build_request_url_without_double_slash(base_url: str) -> None:
    req = WIRE.build_request(
        {"model": "m", "messages": []}, Target("m"), _vendor("bearer", base_url=base_url), None
    )
    assert req.url == "http://127.0.0.1:9000/v1/chat/completions"


def test_build_request_keeps_every_other_field() -> None:
    body: dict[str, Any] = {
        "model": "openai/gpt-5.4",
        "messages": [
            {"role": "system", "content": 'Ünïcödé ✓ \u2028 "quoted" \\ backslash'},
            {
                "role": "user",
                "content": [{"type": "text", "text": "x"}],
                "cache_control": {"type": "ephemeral"},
            },
        ],
        "temperature": 0.7,
        "top_p": 1e-7,
        "n": 3,
        "max_tokens": 2**40,
        "seed": -(2**63),
        "stop": ["\n\n"],
        "logit_bias": {"50256": -100},
        "metadata": {"a": "b"},
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": {"type": "object"}},
        },
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "tool_choice": "auto",
        "provider": {"order": ["groq"]},
        "null_field": None,
        "empty": {},
        "flag": False,
        "stream": False,
    }
    original = copy.deepcopy(body)
    req = WIRE.build_request(body, Target("gpt-5.4"), OPENAI, None)
    sent = orjson.loads(req.body)
    expected = {**original, "model": "gpt-5.4"}
    assert sent == expected
    assert list(sent) == list(expected)  # key order kept too
    for key, value in original.items():
        if key != "model":
            assert orjson.dumps(sent[key]) == orjson.dumps(value), key
    assert body == original  # the client's dict is not mutated


def test_build_request_drops_gateway_fields() -> None:
    assert "webhook_url" in GATEWAY_FIELDS
    body = {"model": "m", "messages": [], "webhook_url": "https://example.com/hook", "user": "u"}
    sent = orjson.loads(WIRE.build_request(body, Target("m"), OPENAI, None).body)
    assert "webhook_url" not in sent
    assert sent["user"] == "u"
    assert body["webhook_url"] == "https://example.com/hook"


def test_stream_forces_include_usage() -> None:
    sent = orjson.loads(
        WIRE.build_request({"model": "m", "messages": [], "stream": True}, Target("m"), OPENAI, None).body
    )
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


def test_stream_keeps_other_stream_options() -> None:
    body = {
        "model": "m",
        "messages": [],
        "stream": True,
        "stream_options": {"include_usage": False, "continuous_usage_stats": True},
    }
    original = copy.deepcopy(body)
    sent = orjson.loads(WIRE.build_request(body, Target("m"), OPENAI, None).body)
    assert sent["stream_options"] == {"include_usage": True, "continuous_usage_stats": True}
    assert body == original  # the client's stream_options dict is not mutated


def test_stream_with_null_stream_options() -> None:
    body = {"model": "m", "messages": [], "stream": True, "stream_options": None}
    sent = orjson.loads(WIRE.build_request(body, Target("m"), OPENAI, None).body)
    assert sent["stream_options"] == {"include_usage": True}


def test_non_stream_leaves_stream_options_alone() -> None:
    body = {"model": "m", "messages": [], "stream": False, "stream_options": {"include_usage": False}}
    sent = orjson.loads(WIRE.build_request(body, Target("m"), OPENAI, None).body)
    assert sent["stream_options"] == {"include_usage": False}


# ------------------------------------------------------------------------------------ auth headers


@pytest.mark.parametrize(
    ("auth", "name", "value"),
    [
        ("bearer", "Authorization", "Bearer secret-123"),
        ("api-key", "api-key", "secret-123"),
        ("x-api-key", "x-api-key", "secret-123"),
        ("x-goog-api-key", "x-goog-api-key", "secret-123"),
        ("token", "Authorization", "Token secret-123"),
    ],
)
def test_auth_styles(auth: str, name: str, value: str) -> None:
    headers = auth_headers(_vendor(auth), "secret-123")
    assert headers == {"Content-Type": "application/json", name: value}


def test_auth_none_sends_no_credential() -> None:
    assert auth_headers(_vendor("none"), "secret-123") == {"Content-Type": "application/json"}


@pytest.mark.parametrize("credential", [None, ""])
def test_no_credential_no_auth_header(credential: str | None) -> None:
    assert auth_headers(_vendor("bearer"), credential) == {"Content-Type": "application/json"}


def test_vendor_headers_are_added() -> None:
    vendor = _vendor("x-api-key", headers={"anthropic-version": "2023-06-01", "HTTP-Referer": "https://x"})
    headers = auth_headers(vendor, "k-123")
    assert headers == {
        "Content-Type": "application/json",
        "anthropic-version": "2023-06-01",
        "HTTP-Referer": "https://x",
        "x-api-key": "k-123",
    }
    assert vendor.headers == {"anthropic-version": "2023-06-01", "HTTP-Referer": "https://x"}


def test_build_request_uses_vendor_auth() -> None:
    req = WIRE.build_request({"model": "m", "messages": []}, Target("m"), _vendor("api-key"), "azure-key")
    assert req.headers["api-key"] == "azure-key"
    assert "Authorization" not in req.headers


# ---------------------------------------------------------------------------------------- usage_from


def test_usage_openai_with_details() -> None:
    assert usage_from(USAGE) == USAGE_PARSED


def test_usage_plain() -> None:
    assert usage_from({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}) == Usage(
        input_tokens=7, output_tokens=3
    )


def test_usage_deepseek_cache_hits() -> None:
    raw = {
        "prompt_tokens": 100,
        "completion_tokens": 10,
        "total_tokens": 110,
        "prompt_cache_hit_tokens": 60,
        "prompt_cache_miss_tokens": 40,
        "completion_tokens_details": {"reasoning_tokens": 4},
    }
    assert usage_from(raw) == Usage(
        input_tokens=100, cached_input_tokens=60, output_tokens=10, reasoning_tokens=4
    )


def test_usage_cached_tokens_detail_wins_over_deepseek_field() -> None:
    raw = {
        "prompt_tokens": 100,
        "prompt_tokens_details": {"cached_tokens": 30},
        "prompt_cache_hit_tokens": 60,
    }
    usage = usage_from(raw)
    assert usage is not None and usage.cached_input_tokens == 30


def test_usage_top_level_reasoning_tokens() -> None:
    usage = usage_from({"prompt_tokens": 5, "completion_tokens": 9, "reasoning_tokens": 6})
    assert usage == Usage(input_tokens=5, output_tokens=9, reasoning_tokens=6)


def test_usage_null_details() -> None:
    raw = {
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "prompt_tokens_details": None,
        "completion_tokens_details": None,
    }
    assert usage_from(raw) == Usage(input_tokens=5, output_tokens=2)


@pytest.mark.parametrize("raw", [None, "usage", 12, [1, 2], b"{}", True])
def test_usage_not_an_object(raw: object) -> None:
    assert usage_from(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"prompt_tokens": "12", "completion_tokens": 3.0},
        {"prompt_tokens": -5, "completion_tokens": True},
        {"prompt_tokens": None, "completion_tokens": [1]},
        {"prompt_tokens_details": "cached", "completion_tokens_details": [1]},
        {"prompt_tokens_details": {"cached_tokens": "4"}, "prompt_cache_hit_tokens": -1},
        {"completion_tokens_details": {"reasoning_tokens": 2.5}, "reasoning_tokens": False},
    ],
)
def test_usage_garbage_fields_are_zero(raw: dict[str, Any]) -> None:
    assert usage_from(raw) == Usage()


# ------------------------------------------------------------------------------------ parse_response


def test_parse_response_returns_the_same_bytes() -> None:
    doc = {
        "id": "chatcmpl-abc",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": USAGE,
    }
    raw = orjson.dumps(doc)
    out = WIRE.parse_response(raw, REQ)
    assert out.body is raw
    assert out.usage == USAGE_PARSED
    assert out.upstream_id == "chatcmpl-abc"


def test_parse_response_groq_usage() -> None:
    raw = orjson.dumps(
        {
            "id": "chatcmpl-groq",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}}],
            "x_groq": {"id": "req_01", "usage": {"prompt_tokens": 12, "completion_tokens": 8}},
        }
    )
    out = WIRE.parse_response(raw, REQ)
    assert out.usage == Usage(input_tokens=12, output_tokens=8)


def test_parse_response_without_usage() -> None:
    out = WIRE.parse_response(b'{"choices": []}', REQ)
    assert out.usage is None
    assert out.upstream_id is None


@pytest.mark.parametrize("raw", [b'{"object": "error"}', b"[]", b'"choices"'])
def test_parse_response_without_choices(raw: bytes) -> None:
    with pytest.raises(ValueError, match="without a chat completion"):
        WIRE.parse_response(raw, REQ)


def test_parse_response_not_json() -> None:
    with pytest.raises(ValueError):
        WIRE.parse_response(b"<html>bad gateway</html>", REQ)


# -------------------------------------------------------------------------------- stream translator


def test_translator_factory() -> None:
    translator = WIRE.stream_translator(REQ, True)
    assert isinstance(translator, OpenAIStreamTranslator)
    assert translator.include_usage is True
    assert translator.generated_units == 0


@pytest.mark.parametrize("include_usage", [True, False])
def test_plain_chunk_passes_through_as_same_object(include_usage: bool) -> None:
    translator = OpenAIStreamTranslator(include_usage)
    data = orjson.dumps(_chunk("Hello"))
    out = translator.feed(data)
    assert len(out.chunks) == 1
    assert out.chunks[0] is data
    assert out.usage is None
    assert out.done is False
    assert out.error is None
    assert translator.generated_units == 1


def test_done() -> None:
    translator = OpenAIStreamTranslator(False)
    out = translator.feed(b"[DONE]")
    assert out.done is True
    assert out.chunks == []
    assert out.usage is None
    assert translator.generated_units == 0


def test_usage_only_chunk_dropped_when_not_asked() -> None:
    translator = OpenAIStreamTranslator(include_usage=False)
    out = translator.feed(orjson.dumps(_chunk(choices=[], usage=USAGE)))
    assert out.chunks == []
    assert out.usage == USAGE_PARSED
    assert out.done is False
    assert translator.generated_units == 0


def test_usage_only_chunk_kept_when_asked() -> None:
    translator = OpenAIStreamTranslator(include_usage=True)
    chunk = _chunk(choices=[], usage=USAGE)
    out = translator.feed(orjson.dumps(chunk))
    assert out.chunks == [chunk]
    assert out.usage == USAGE_PARSED
    assert translator.generated_units == 0


def test_mistral_style_usage_in_content_chunk_not_asked() -> None:
    translator = OpenAIStreamTranslator(include_usage=False)
    chunk = _chunk("", usage={"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13})
    chunk["choices"][0]["finish_reason"] = "stop"
    out = translator.feed(orjson.dumps(chunk))
    expected = {k: v for k, v in chunk.items() if k != "usage"}
    assert out.chunks == [expected]
    assert out.usage == Usage(input_tokens=9, output_tokens=4)
    assert translator.generated_units == 1


def test_mistral_style_usage_in_content_chunk_asked() -> None:
    translator = OpenAIStreamTranslator(include_usage=True)
    chunk = _chunk("done", usage={"prompt_tokens": 9, "completion_tokens": 4})
    out = translator.feed(orjson.dumps(chunk))
    assert out.chunks == [chunk]
    assert out.usage == Usage(input_tokens=9, output_tokens=4)


@pytest.mark.parametrize("include_usage", [True, False])
def test_null_usage_chunk_passes_through(include_usage: bool) -> None:
    # OpenAI sends "usage": null on every chunk once include_usage is on.
    translator = OpenAIStreamTranslator(include_usage)
    data = orjson.dumps(_chunk("Hi", usage=None))
    out = translator.feed(data)
    assert out.chunks == [data]
    assert out.chunks[0] is data
    assert out.usage is None
    assert translator.generated_units == 1


def test_groq_usage_in_stream_not_asked() -> None:
    translator = OpenAIStreamTranslator(include_usage=False)
    chunk = _chunk(None, x_groq={"id": "req_01", "usage": {"prompt_tokens": 20, "completion_tokens": 6}})
    chunk["choices"][0]["finish_reason"] = "stop"
    out = translator.feed(orjson.dumps(chunk))
    assert out.usage == Usage(input_tokens=20, output_tokens=6)
    assert out.chunks == [chunk]
    assert translator.generated_units == 1


def test_groq_first_chunk_without_usage_passes_through() -> None:
    translator = OpenAIStreamTranslator(include_usage=False)
    data = orjson.dumps(_chunk("", x_groq={"id": "req_01"}))
    out = translator.feed(data)
    assert out.chunks == [data]
    assert out.usage is None


def test_groq_usage_in_stream_asked() -> None:
    translator = OpenAIStreamTranslator(include_usage=True)
    chunk = _chunk(None, x_groq={"id": "req_01", "usage": {"prompt_tokens": 20, "completion_tokens": 6}})
    out = translator.feed(orjson.dumps(chunk))
    assert out.usage == Usage(input_tokens=20, output_tokens=6)
    assert out.chunks == [chunk]


@pytest.mark.parametrize("include_usage", [True, False])
def test_error_event_ends_the_stream(include_usage: bool) -> None:
    translator = OpenAIStreamTranslator(include_usage)
    event = {"error": {"message": "Overloaded", "type": "server_error", "code": None}}
    out = translator.feed(orjson.dumps(event))
    assert out.done is True
    assert out.chunks == [event]
    assert out.usage is None
    assert translator.generated_units == 0


def test_error_inside_a_chunk_with_choices_is_not_the_end() -> None:
    translator = OpenAIStreamTranslator(False)
    data = orjson.dumps(_chunk("the word error", error=None))
    out = translator.feed(data)
    assert out.done is False
    assert out.chunks == [data]


@pytest.mark.parametrize("data", [b'not json but has "usage"', b'["usage"]', b'"error"', b'{"usage": 1'])
def test_unparseable_or_odd_data_passes_through(data: bytes) -> None:
    translator = OpenAIStreamTranslator(False)
    out = translator.feed(data)
    assert out.chunks == [data]
    assert out.usage is None
    assert out.done is False


def test_generated_units_counts_content_chunks() -> None:
    translator = OpenAIStreamTranslator(include_usage=False)
    events = [
        orjson.dumps(_chunk("", usage=None) | {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}),
        orjson.dumps(_chunk("Hello")),
        orjson.dumps(_chunk(" world")),
        orjson.dumps(_chunk("!", usage=None)),
        orjson.dumps(_chunk(choices=[], usage=USAGE)),
        b"[DONE]",
    ]
    outputs = [translator.feed(e) for e in events]
    assert translator.generated_units == 4
    usages = [o.usage for o in outputs if o.usage is not None]
    assert usages == [USAGE_PARSED]
    assert [o.done for o in outputs] == [False, False, False, False, False, True]
    assert sum(len(o.chunks) for o in outputs) == 4


# ---------------------------------------------------------------------------------------- parse_error


def test_parse_error_openai_shape() -> None:
    raw = orjson.dumps(
        {
            "error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
    )
    assert tuple(WIRE.parse_error(401, raw, {})) == ("Incorrect API key provided.", "invalid_api_key")


def test_parse_error_type_when_no_code() -> None:
    raw = orjson.dumps({"error": {"message": "Slow down", "type": "rate_limit_error", "code": None}})
    assert tuple(WIRE.parse_error(429, raw, {})) == ("Slow down", "rate_limit_error")


def test_parse_error_numeric_code() -> None:
    raw = orjson.dumps({"error": {"message": "Too many requests", "code": 429}})
    assert tuple(WIRE.parse_error(429, raw, {})) == ("Too many requests", "429")


def test_parse_error_object_without_message() -> None:
    assert tuple(WIRE.parse_error(500, b'{"error": {}}', {})) == ("upstream answered HTTP 500", None)


def test_parse_error_string() -> None:
    assert tuple(WIRE.parse_error(400, b'{"error": "model not found"}', {})) == ("model not found", None)


def test_parse_error_top_level_message() -> None:
    assert tuple(WIRE.parse_error(422, b'{"message": "bad field", "detail": []}', {})) == ("bad field", None)


def test_parse_error_detail_and_param() -> None:
    # Voyage (and FastAPI servers) answer {"detail": "..."}; OpenAI names the parameter at fault.
    assert WIRE.parse_error(400, b'{"detail": "Model x is not supported."}', {}).message == (
        "Model x is not supported."
    )
    raw = b'{"error": {"message": "bad", "type": "invalid_request_error", "param": "messages", "code": null}}'
    assert WIRE.parse_error(400, raw, {}).param == "messages"


@pytest.mark.parametrize("raw", [b"[]", b"null", b"42", b'{"detail": []}', b'{"error": 5}'])
def test_parse_error_unknown_json(raw: bytes) -> None:
    assert tuple(WIRE.parse_error(503, raw, {})) == ("upstream answered HTTP 503", None)


def test_parse_error_not_json() -> None:
    raw = b"  <html><body>502 Bad Gateway</body></html>\n"
    assert tuple(WIRE.parse_error(502, raw, {})) == ("<html><body>502 Bad Gateway</body></html>", None)


def test_parse_error_not_json_is_truncated() -> None:
    message, code = WIRE.parse_error(500, b"x" * 2000, {})
    assert message == "x" * 500
    assert code is None


def test_parse_error_empty_and_invalid_utf8() -> None:
    assert tuple(WIRE.parse_error(504, b"", {})) == ("upstream answered HTTP 504", None)
    assert tuple(WIRE.parse_error(504, b"   \n", {})) == ("upstream answered HTTP 504", None)
    message, _ = WIRE.parse_error(500, b"bad \xff\xfe bytes", {})
    assert message == "bad \ufffd\ufffd bytes"


def test_reasoning_field_in_stream_deltas_gets_the_one_shape() -> None:
    translator = WIRE.stream_translator(REQ, False)
    data = orjson.dumps(
        {
            "id": "x",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"reasoning": "thinking..."}, "finish_reason": None}],
        }
    )
    out = translator.feed(data)
    chunk = out.chunks[0]
    assert isinstance(chunk, dict)
    delta = chunk["choices"][0]["delta"]
    assert delta["reasoning_content"] == "thinking..." and delta["reasoning"] == "thinking..."
    # A null reasoning field changes nothing: the same bytes go out.
    same = orjson.dumps({"choices": [{"index": 0, "delta": {"content": "a", "reasoning": None}}]})
    assert translator.feed(same).chunks == [same]


def test_mistral_thinking_parts_in_a_delta_are_flattened() -> None:
    translator = WIRE.stream_translator(REQ, False)
    delta = {
        "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]},
            {"type": "text", "text": "Hi"},
        ]
    }
    out = translator.feed(orjson.dumps({"choices": [{"index": 0, "delta": delta}]}))
    chunk = out.chunks[0]
    assert isinstance(chunk, dict)
    assert chunk["choices"][0]["delta"] == {"content": "Hi", "reasoning_content": "hmm"}
