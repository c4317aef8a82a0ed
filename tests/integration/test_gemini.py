"""The Gemini wire end to end: the openai SDK -> the gateway -> the simulator's Gemini API and back.

Recorded Gemini traffic is replayed (models ``gemtest/rec-<file>``, see models_native.py) and every
answer is checked against what the recording holds; synthesized models exercise tool round trips,
vision, structured output, reasoning, cached tokens and injected faults. Each ledger row is checked.
"""

from __future__ import annotations

import base64
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from aigateway.providers.simulated import generate_from_schema
from aigateway.providers.wire.gemini import DUMMY_SIGNATURE
from aigateway.simulators.recordings import parse_sse
from tests.integration.conftest import RECORDINGS, Gateway
from tests.support.gemini import NON_STREAM, STREAMS, oracle

USER = [{"role": "user", "content": "Tell me something"}]
PRICES = {"input": Decimal("0.3"), "cached": Decimal("0.03"), "output": Decimal("2.5")}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLOCK = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string"}},
            "additionalProperties": False,
        },
    },
}


# -- what a recording holds ---------------------------------------------------------------------
def recorded_docs(name: str) -> list[dict[str, Any]]:
    body = json.loads((RECORDINGS / "gemini" / f"{name}.json").read_text())["response"]["body"]
    if body.startswith("data:"):
        return [e.json() for e in parse_sse(body.encode()) if e.data]
    doc = json.loads(body)
    return doc if isinstance(doc, list) else [doc]


def expected(name: str) -> dict[str, Any]:
    docs = recorded_docs(name)
    parts = [p for d in docs for c in d.get("candidates", []) for p in c.get("content", {}).get("parts", [])]
    calls = [
        (p["functionCall"]["name"], p["functionCall"]["args"], p.get("thoughtSignature"))
        for p in parts
        if "functionCall" in p
    ]
    meta = [d["usageMetadata"] for d in docs if "usageMetadata" in d][-1]
    thoughts = meta.get("thoughtsTokenCount", 0)
    return {
        "text": "".join(p["text"] for p in parts if "text" in p and not p.get("thought")),
        "reasoning": "".join(p["text"] for p in parts if p.get("thought")),
        "calls": calls,
        "finish": "tool_calls" if calls else "stop",
        "prompt": meta.get("promptTokenCount", 0) + meta.get("toolUsePromptTokenCount", 0),
        "cached": meta.get("cachedContentTokenCount", 0),
        "completion": meta.get("candidatesTokenCount", 0) + thoughts,
        "reasoning_tokens": thoughts,
        "model": docs[0]["modelVersion"],
        "id": f"chatcmpl-{docs[0]['responseId']}",
    }


def cost_nano(prompt: int, cached: int, completion: int) -> int:
    total = (
        (prompt - cached) * PRICES["input"] + cached * PRICES["cached"] + completion * PRICES["output"]
    ) / Decimal(1_000_000)
    return int((total * Decimal(1_000_000_000)).to_integral_value(rounding=ROUND_HALF_UP))


def check_row(gateway: Gateway, rid: str, want: dict[str, Any], *, stream: bool, upstream: str) -> None:
    row = gateway.ledger_row(rid)
    assert row["status"] == "ok" and row["http_status"] == 200 and row["stream"] is stream
    assert row["provider"] == "google" and row["upstream_model"] == upstream
    assert row["input_units"] == want["prompt"] and row["cached_input_units"] == want["cached"]
    assert row["output_units"] == want["completion"] and row["reasoning_units"] == want["reasoning_tokens"]
    assert row["usage_estimated"] is False
    assert row["cost_nanousd"] == cost_nano(want["prompt"], want["cached"], want["completion"])


def signature_of(call: Any) -> str | None:
    extra = (call.model_extra or {}).get("extra_content") or {}
    return (extra.get("google") or {}).get("thought_signature")


def collect(chunks: list[ChatCompletionChunk]) -> dict[str, Any]:
    """A streamed answer put together: text, reasoning, tool calls, finish reason, usage."""
    text = reasoning = ""
    calls: list[Any] = []
    finish = None
    for chunk in chunks:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            reasoning += (choice.delta.model_extra or {}).get("reasoning_content") or ""
            calls += choice.delta.tool_calls or []
            finish = choice.finish_reason or finish
    usage = [c.usage for c in chunks if c.usage is not None]
    return {"text": text, "reasoning": reasoning, "calls": calls, "finish": finish, "usage": usage}


# -- recordings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NON_STREAM)
def test_recorded_answers(gateway: Gateway, name: str) -> None:
    rid = f"gem-rec-{name}"
    raw = gateway.client().chat.completions.with_raw_response.create(
        model=f"gemtest/rec-{name}", messages=USER, extra_headers={"X-Request-Id": rid}
    )
    assert raw.headers["x-provider"] == "google"
    ChatCompletion.model_validate_json(raw.http_response.content)  # strict: the SDK's parse is lenient
    completion = raw.parse()
    want = expected(name)
    assert completion.id == want["id"] and completion.model == want["model"]
    message = completion.choices[0].message
    assert (message.content or "") == want["text"]
    assert (message.model_extra or {}).get("reasoning_content", "") == want["reasoning"]
    calls = message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments), signature_of(c)) for c in calls] == want[
        "calls"
    ]
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", c.id) for c in calls) and len({c.id for c in calls}) == len(
        calls
    )
    assert completion.choices[0].finish_reason == want["finish"]
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (want["prompt"], want["completion"])
    assert (
        usage.completion_tokens_details
        and usage.completion_tokens_details.reasoning_tokens == want["reasoning_tokens"]
    )
    assert raw.headers["x-input-units"] == str(want["prompt"])
    check_row(gateway, rid, want, stream=False, upstream=f"rec.gemini.{name}")


@pytest.mark.parametrize("name", STREAMS + NON_STREAM)
def test_recorded_streams(gateway: Gateway, name: str) -> None:
    """Stream recordings (SSE and JSON-array), and non-stream answers read as a one-element stream."""
    rid = f"gem-stream-{name}"
    stream = gateway.client().chat.completions.create(
        model=f"gemtest/rec-{name}",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"X-Request-Id": rid},
    )
    chunks = list(stream)
    want = expected(name)
    # The SDK parses leniently: the same answer, read raw, must validate strictly event by event.
    with (
        gateway.http() as http,
        http.stream(
            "POST",
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {gateway.admin_key}"},
            json={"model": f"gemtest/rec-{name}", "messages": USER, "stream": True},
        ) as response,
    ):
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]" and len(events) == len(chunks)  # no usage chunk: not asked for
    for event in events[:-1]:
        ChatCompletionChunk.model_validate_json(event)
    got = collect(chunks)
    assert len({(c.id, c.created, c.model) for c in chunks}) == 1 and chunks[0].id == want["id"]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert got["text"] == want["text"] and got["reasoning"] == want["reasoning"]
    assert [
        (c.function.name, json.loads(c.function.arguments), signature_of(c)) for c in got["calls"]
    ] == want["calls"]
    assert [c.index for c in got["calls"]] == list(range(len(want["calls"])))
    assert got["finish"] == want["finish"]
    (usage,) = got["usage"]
    assert chunks[-1].usage is usage and chunks[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens) == (want["prompt"], want["completion"])
    assert (usage.model_extra or {}).get("cost_cents") is not None
    check_row(gateway, rid, want, stream=True, upstream=f"rec.gemini.{name}")


def test_stream_without_include_usage_is_still_billed(gateway: Gateway) -> None:
    stream = gateway.client().chat.completions.create(
        model="gemtest/rec-stream-sse-thinking",
        messages=USER,
        stream=True,
        extra_headers={"X-Request-Id": "gem-nousage"},
    )
    chunks = list(stream)
    assert all(c.usage is None and c.choices for c in chunks)
    check_row(
        gateway,
        "gem-nousage",
        expected("stream-sse-thinking"),
        stream=True,
        upstream="rec.gemini.stream-sse-thinking",
    )


def test_recorded_404_becomes_400_with_geminis_message(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        gateway.client().chat.completions.create(
            model="gemtest/rec-error-404-model", messages=USER, extra_headers={"X-Request-Id": "gem-404"}
        )
    assert exc.value.status_code == 400
    assert (
        "Provider 'google' answered 404: models/gemini-3.6-flahs is not found for API version v1beta"
        in exc.value.message
    )
    row = gateway.ledger_row("gem-404")
    assert (
        row["status"] == "error"
        and row["http_status"] == 400
        and row["error_type"] == "invalid_request_error"
    )
    assert row["cost_nanousd"] == 0


# -- synthesized round trips --------------------------------------------------------------------
def last_request(gateway: Gateway, upstream: str) -> dict[str, Any]:
    log = gateway.simulator.requests(upstream)
    assert log, f"no request reached {upstream}"
    entry = log[-1]
    assert entry["wire"] == "gemini" and entry["headers"]["x-goog-api-key"]
    oracle(entry["body"])  # what the gateway sent passes the google-genai types, field for field
    return entry


def test_parallel_tool_calls_round_trip(gateway: Gateway) -> None:
    client = gateway.client()
    question = [{"role": "user", "content": "Weather and time in Paris?"}]
    first = client.chat.completions.create(model="gemtest/flash-3", messages=question, tools=[WEATHER, CLOCK])
    ChatCompletion.model_validate(first.model_dump())
    message = first.choices[0].message
    calls = message.tool_calls or []
    assert first.choices[0].finish_reason == "tool_calls" and [c.function.name for c in calls] == [
        "get_weather",
        "get_time",
    ]
    assert json.loads(calls[0].function.arguments) == {"city": "example city"}
    signature = signature_of(calls[0])
    assert signature and signature_of(calls[1]) is None
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", c.id) for c in calls)
    # The client sends the assistant turn back as it got it, and the results in the opposite order.
    history = [
        *question,
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": calls[1].id, "content": "12:00"},
        {"role": "tool", "tool_call_id": calls[0].id, "content": json.dumps({"temp": 21})},
    ]
    second = client.chat.completions.create(
        model="gemtest/flash-3",
        messages=history,
        tools=[WEATHER, CLOCK],
        extra_headers={"X-Request-Id": "gem-tools-2"},
    )
    assert second.choices[0].finish_reason == "stop" and "the tool returned" in (
        second.choices[0].message.content or ""
    )
    sent = last_request(gateway, "gemini-3-flash-sim")["body"]
    model_turn, results = sent["contents"][1], sent["contents"][2]
    assert model_turn["role"] == "model" and model_turn["parts"][0]["thoughtSignature"] == signature
    assert [p["functionCall"]["name"] for p in model_turn["parts"]] == ["get_weather", "get_time"]
    assert all("id" not in p["functionCall"] for p in model_turn["parts"])  # the gateway's ids stay here
    assert results == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
            {"functionResponse": {"name": "get_time", "response": {"result": "12:00"}}},
        ],
    }
    assert (
        sent["tools"][0]["functionDeclarations"][1]["parametersJsonSchema"] == CLOCK["function"]["parameters"]
    )
    row = gateway.ledger_row("gem-tools-2")
    assert row["status"] == "ok" and row["input_units"] > 0 and row["cost_nanousd"] > 0


def test_streamed_tool_calls_arrive_whole(gateway: Gateway) -> None:
    chunks = list(
        gateway.client().chat.completions.create(
            model="gemtest/flash-3",
            messages=[{"role": "user", "content": "Weather and time?"}],
            tools=[WEATHER, CLOCK],
            tool_choice="required",
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    got = collect(chunks)
    assert [(c.index, c.function.name) for c in got["calls"]] == [(0, "get_weather"), (1, "get_time")]
    assert all(c.id and c.function.arguments for c in got["calls"]) and signature_of(got["calls"][0])
    assert got["finish"] == "tool_calls" and got["usage"][0].completion_tokens > 0
    sent = last_request(gateway, "gemini-3-flash-sim")
    assert sent["query"] == "alt=sse" and sent["body"]["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY"}
    }


def test_history_without_signatures_gets_the_documented_dummy(gateway: Gateway) -> None:
    history = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "toolu_01",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_01", "content": "sunny"},
    ]
    answer = gateway.client().chat.completions.create(
        model="gemtest/flash-3", messages=history, tools=[WEATHER]
    )
    assert "sunny" in (answer.choices[0].message.content or "")
    sent = last_request(gateway, "gemini-3-flash-sim")["body"]
    part = sent["contents"][1]["parts"][0]
    assert part["thoughtSignature"] == DUMMY_SIGNATURE and part["functionCall"]["id"] == "toolu_01"
    assert sent["contents"][2]["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"result": "sunny"},
        "id": "toolu_01",
    }


def test_vision_inline_and_file_data(gateway: Gateway) -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image").decode()
    answer = gateway.client().chat.completions.create(
        model="gemtest/flash-2.5",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare these"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/photo.jpg"}},
                ],
            }
        ],
    )
    assert "I saw 2 images" in (answer.choices[0].message.content or "")
    parts = last_request(gateway, "gemini-2.5-flash-sim")["body"]["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": png}}
    assert parts[2] == {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/photo.jpg"}}


def test_json_schema_output(gateway: Gateway) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 3}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    answer = gateway.client().chat.completions.create(
        model="gemtest/flash-2.5",
        messages=[{"role": "user", "content": "Invent a dog"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "dog", "schema": schema, "strict": True},
        },
    )
    assert json.loads(answer.choices[0].message.content or "") == generate_from_schema(schema)
    config = last_request(gateway, "gemini-2.5-flash-sim")["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json" and config["responseJsonSchema"] == schema


@pytest.mark.parametrize(
    ("model", "upstream", "effort", "thinking"),
    [
        (
            "gemtest/flash-2.5",
            "gemini-2.5-flash-sim",
            "low",
            {"thinkingBudget": 1024, "includeThoughts": True},
        ),
        ("gemtest/flash-3", "gemini-3-flash-sim", "high", {"thinkingLevel": "HIGH", "includeThoughts": True}),
        ("gemtest/flash-2.5", "gemini-2.5-flash-sim", None, {"includeThoughts": True}),
    ],
)
def test_reasoning(
    gateway: Gateway, model: str, upstream: str, effort: str | None, thinking: dict[str, Any]
) -> None:
    rid = f"gem-reason-{model}-{effort}"
    extra = {"reasoning_effort": effort} if effort else {}
    answer = gateway.client().chat.completions.create(
        model=model,
        messages=USER,
        extra_headers={"X-Request-Id": rid},
        **extra,
    )
    assert last_request(gateway, upstream)["body"]["generationConfig"]["thinkingConfig"] == thinking
    reasoning = (answer.choices[0].message.model_extra or {}).get("reasoning_content")
    assert reasoning and reasoning.startswith("Thinking")
    usage = answer.usage
    assert usage and usage.completion_tokens_details and usage.completion_tokens_details.reasoning_tokens
    row = gateway.ledger_row(rid)
    assert row["reasoning_units"] == usage.completion_tokens_details.reasoning_tokens
    assert row["output_units"] == usage.completion_tokens
    streamed = collect(
        list(gateway.client().chat.completions.create(model=model, messages=USER, stream=True, **extra))
    )
    assert streamed["reasoning"] == reasoning and streamed["text"] == answer.choices[0].message.content


def test_model_without_reasoning_gets_no_thinking_config(gateway: Gateway) -> None:
    gateway.client().chat.completions.create(model="gemtest/plain", messages=USER, temperature=0.3, n=2)
    sent = last_request(gateway, "gemini-2.0-flash-sim")["body"]
    assert sent["generationConfig"] == {"temperature": 0.3, "candidateCount": 2}


def test_cached_tokens_are_billed_at_the_cached_price(gateway: Gateway) -> None:
    long = "All work and no play makes a dull model. " * 600
    answer = gateway.client().chat.completions.create(
        model="gemtest/flash-2.5",
        messages=[{"role": "user", "content": long}],
        n=2,
        extra_headers={"X-Request-Id": "gem-cached"},
    )
    assert len(answer.choices) == 2
    usage = answer.usage
    assert usage and usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens
    cached = usage.prompt_tokens_details.cached_tokens
    assert cached == ((usage.prompt_tokens - 1) // 1024) * 1024
    want = {
        "prompt": usage.prompt_tokens,
        "cached": cached,
        "completion": usage.completion_tokens,
        "reasoning_tokens": usage.completion_tokens_details.reasoning_tokens
        if usage.completion_tokens_details
        else 0,
    }
    check_row(gateway, "gem-cached", want, stream=False, upstream="gemini-2.5-flash-sim")


def test_unsupported_fields_are_refused_before_dispatch(gateway: Gateway) -> None:
    before = len(gateway.simulator.requests("gemini-2.5-flash-sim"))
    with pytest.raises(openai.BadRequestError) as exc:
        gateway.client().chat.completions.create(
            model="gemtest/flash-2.5",
            messages=USER,
            logprobs=True,
            extra_headers={"X-Request-Id": "gem-logprobs"},
        )
    assert "logprobs" in exc.value.message
    assert len(gateway.simulator.requests("gemini-2.5-flash-sim")) == before
    row = gateway.ledger_row("gem-logprobs")
    assert row["status"] == "error" and row["http_status"] == 400


# -- faults -----------------------------------------------------------------------------------------
def test_429_passes_retry_after_and_geminis_message(gateway: Gateway) -> None:
    upstream = "gemini-2.5-flash-fault-e429"
    gateway.simulator.clear_faults(upstream)
    gateway.simulator.add_faults(upstream, [{"kind": "status", "status": 429, "retry_after": "7"}])
    with pytest.raises(openai.RateLimitError) as exc:
        gateway.client().chat.completions.create(
            model="gemtest/fault-e429", messages=USER, extra_headers={"X-Request-Id": "gem-429"}
        )
    assert exc.value.response.headers["retry-after"] == "7"
    assert "Resource has been exhausted" in exc.value.message and "(retry in 1s)" in exc.value.message
    row = gateway.ledger_row("gem-429")
    assert row["http_status"] == 429 and row["error_type"] == "rate_limit_error" and row["cost_nanousd"] == 0


def test_429_retry_delay_from_the_body_becomes_retry_after(gateway: Gateway) -> None:
    """Gemini puts the delay in the body (RetryInfo); clients get it as a Retry-After header."""
    upstream = "gemini-2.5-flash-fault-e429"
    body = {
        "error": {
            "code": 429,
            "message": "Quota exceeded.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37.2s"}],
        }
    }
    gateway.simulator.clear_faults(upstream)
    gateway.simulator.add_faults(upstream, [{"kind": "status", "status": 429, "body": body}])
    with pytest.raises(openai.RateLimitError) as exc:
        gateway.client().chat.completions.create(model="gemtest/fault-e429", messages=USER)
    assert exc.value.response.headers["retry-after"] == "38"
    assert "Quota exceeded." in exc.value.message


@pytest.mark.parametrize(
    ("kind", "status", "needle"), [("e500", 500, "internal error"), ("e503", 503, "overloaded")]
)
def test_upstream_5xx_becomes_502(gateway: Gateway, kind: str, status: int, needle: str) -> None:
    upstream = f"gemini-2.5-flash-fault-{kind}"
    gateway.simulator.clear_faults(upstream)
    gateway.simulator.add_faults(upstream, [{"kind": "status", "status": status}])
    rid = f"gem-{kind}"
    with pytest.raises(openai.InternalServerError) as exc:
        gateway.client().chat.completions.create(
            model=f"gemtest/fault-{kind}",
            messages=USER,
            stream=kind == "e503",
            extra_headers={"X-Request-Id": rid},
        )
    assert exc.value.status_code == 502 and f"answered {status}" in exc.value.message
    assert needle in exc.value.message.lower()
    row = gateway.ledger_row(rid)
    assert row["http_status"] == 502 and row["error_type"] == "provider_error"


def test_cut_stream_ends_with_an_error_and_is_billed_estimated(gateway: Gateway) -> None:
    upstream = "gemini-2.5-flash-fault-cut"
    gateway.simulator.clear_faults(upstream)
    gateway.simulator.add_faults(upstream, [{"kind": "cut", "after_chunks": 3}])
    stream = gateway.client().chat.completions.create(
        model="gemtest/fault-cut",
        messages=[{"role": "user", "content": "Tell me a long story about the sea"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"X-Request-Id": "gem-cut"},
    )
    got = []
    with pytest.raises(openai.APIError) as exc:
        for chunk in stream:
            got.append(chunk)
    assert got and all(c.usage is None for c in got)
    assert "stream" in exc.value.message.lower()
    row = gateway.ledger_row("gem-cut")
    assert row["status"] == "stream_error" and row["error_type"] == "provider_error"
    assert row["usage_estimated"] is True and row["output_units"] >= 1 and row["cost_nanousd"] > 0
