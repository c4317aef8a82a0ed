"""The Anthropic wire end to end: the official openai SDK -> the gateway -> the simulator's Anthropic wire.

Every recording in tests/fixtures/provider-recordings/anthropic is replayed through the gateway and the
client's answer (each chunk validated as an OpenAI ChatCompletionChunk / ChatCompletion) is compared
with what the recording holds; the ledger row must carry the recorded units and the catalog price
arithmetic. Synthesized answers cover the round trips recordings do not (tool results, vision, JSON
both ways, reasoning, prompt-cache writes), and injected faults the failures.
"""

from __future__ import annotations

import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from aigateway.core.pricing import Usage
from tests.integration.conftest import RECORDINGS, UPSTREAM_KEY, Gateway
from tests.integration.models_native import ANTHROPIC_MODELS
from tests.support.anthropic import (
    check_chunks,
    essentials,
    openai_equivalent,
    openai_usage,
    recorded_answer,
)

ANTHROPIC = RECORDINGS / "anthropic"
NAMES = sorted(p.stem for p in ANTHROPIC.glob("*.json"))
PRICES = {"input": Decimal(3), "output": Decimal(15), "cached": Decimal("0.3"), "write": Decimal("3.75")}
USER = [{"role": "user", "content": "What is the capital of France?"}]
SIM = "claude-sim/sonnet"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLOCK = {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}


def _recording(name: str) -> dict[str, Any]:
    return dict(json.loads((ANTHROPIC / f"{name}.json").read_text(encoding="utf-8")))


def expected_cost(usage: Usage) -> int:
    """The catalog price arithmetic for ANTHROPIC_MODELS (Sonnet prices), in nano-dollars."""
    plain = usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens
    total = (
        plain * PRICES["input"]
        + usage.cached_input_tokens * PRICES["cached"]
        + usage.cache_write_tokens * PRICES["write"]
        + usage.output_tokens * PRICES["output"]
    ) / 10**6
    return int((total * 10**9).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check_row(gateway: Gateway, rid: str, usage: Usage, *, stream: bool, upstream: str) -> dict[str, Any]:
    row = gateway.ledger_row(rid)
    assert row["status"] == "ok" and row["http_status"] == 200 and row["stream"] is stream
    assert row["provider"] == "anthropic" and row["upstream_model"] == upstream
    assert (
        row["input_units"],
        row["cached_input_units"],
        row["cache_write_units"],
        row["output_units"],
        row["reasoning_units"],
    ) == (
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
    )
    assert row["usage_estimated"] is False
    assert row["cost_nanousd"] == expected_cost(usage)
    return row


def usage_of(openai_usage_obj: Any) -> Usage:
    details = openai_usage_obj.prompt_tokens_details
    return Usage(
        input_tokens=openai_usage_obj.prompt_tokens,
        cached_input_tokens=details.cached_tokens if details else 0,
        output_tokens=openai_usage_obj.completion_tokens,
        reasoning_tokens=openai_usage_obj.completion_tokens_details.reasoning_tokens,
    )


def create(gateway: Gateway, rid: str, **request: Any) -> ChatCompletion:
    """A non-stream call; the raw answer is validated as a ChatCompletion (the SDK only constructs)."""
    raw = gateway.client().chat.completions.with_raw_response.create(
        **request, extra_headers={"X-Request-Id": rid}
    )
    completion = ChatCompletion.model_validate_json(raw.http_response.content)
    assert raw.headers["x-provider"] == "anthropic"
    assert completion.model_dump() == raw.parse().model_dump()
    return completion


def stream(gateway: Gateway, rid: str, **request: Any) -> list[dict[str, Any]]:
    """A stream call; returns the raw chunks (each validated) after checking the stream's end."""
    chunks: list[dict[str, Any]] = []
    with gateway.client().chat.completions.with_streaming_response.create(
        **request, stream=True, extra_headers={"X-Request-Id": rid}
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    for line in lines[:-1]:
        chunk = json.loads(line[6:])
        ChatCompletionChunk.model_validate(chunk)
        chunks.append(chunk)
    return chunks


def split_cost(chunks: list[dict[str, Any]]) -> Decimal | None:
    """Take the gateway's ``usage.cost_cents`` out of the usage chunk (it is not the provider's)."""
    for chunk in chunks:
        if isinstance(chunk.get("usage"), dict) and "cost_cents" in chunk["usage"]:
            return Decimal(str(chunk["usage"].pop("cost_cents")))
    return None


def joined(chunks: list[dict[str, Any]], key: str) -> str:
    return "".join(c["choices"][0]["delta"].get(key) or "" for c in chunks if c["choices"])


def stream_calls(chunks: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    calls: dict[int, list[str]] = {}
    for chunk in chunks:
        for call in (chunk["choices"][0]["delta"].get("tool_calls") or []) if chunk["choices"] else []:
            entry = calls.setdefault(call["index"], ["", "", ""])
            entry[0] = call.get("id") or entry[0]
            entry[1] = call.get("function", {}).get("name") or entry[1]
            entry[2] += call.get("function", {}).get("arguments") or ""
    return [(i, n, json.loads(a)) for i, n, a in (calls[k] for k in sorted(calls))]


def sent_upstream(gateway: Gateway, upstream: str) -> dict[str, Any]:
    record = gateway.simulator.requests(upstream)[-1]
    assert record["wire"] == "anthropic" and record["path"] == "/v1/messages"
    assert (
        record["headers"]["x-api-key"] == UPSTREAM_KEY
        and record["headers"]["anthropic-version"] == "2023-06-01"
    )
    return dict(record["body"])


# -- every recording -------------------------------------------------------------------------------
def test_every_recording_has_a_model() -> None:
    deployed = {m["deployments"][0]["upstream_model"] for m in ANTHROPIC_MODELS}
    assert {f"rec:anthropic/{name}" for name in NAMES} <= deployed
    assert len(NAMES) == 17


def _kind(name: str) -> str:
    recording = _recording(name)
    if recording["response"]["status"] != 200:
        return "error"
    return "stream" if recording["response"]["body"].startswith("event:") else "message"


@pytest.mark.parametrize("name", [n for n in NAMES if _kind(n) == "message"])
def test_recorded_messages_through_the_gateway(gateway: Gateway, name: str) -> None:
    recording = _recording(name)
    request = openai_equivalent(recording["request"]["body"])
    request["model"] = f"claude-rec/{name}"
    want = recorded_answer(recording)
    rid = f"anth-rec-{name}-{uuid.uuid4().hex[:6]}"
    completion = create(gateway, rid, **request)
    message = completion.choices[0].message
    assert completion.id == want["id"] and completion.model == want["model"]
    assert (message.content or "") == want["text"]
    assert (message.model_extra or {}).get("reasoning_content", "") == want["reasoning"]
    calls = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []]  # type: ignore[union-attr]
    assert calls == want["tool_calls"]
    assert completion.choices[0].finish_reason == want["finish_reason"]
    assert completion.usage is not None
    assert completion.usage.model_dump(exclude_none=True) == openai_usage(want["usage"])
    upstream = f"rec:anthropic/{name}"
    check_row(gateway, rid, want["usage"], stream=False, upstream=upstream)
    sent = sent_upstream(gateway, upstream)
    assert essentials(sent) == essentials({**recording["request"]["body"], "model": upstream})


@pytest.mark.parametrize("name", [n for n in NAMES if _kind(n) == "stream"])
def test_recorded_streams_through_the_gateway(gateway: Gateway, name: str) -> None:
    recording = _recording(name)
    request = openai_equivalent(recording["request"]["body"])
    request.pop("stream")
    request["model"] = f"claude-rec/{name}"
    want = recorded_answer(recording)
    rid = f"anth-recs-{name}-{uuid.uuid4().hex[:6]}"
    chunks = stream(gateway, rid, **request, stream_options={"include_usage": True})
    cost_cents = split_cost(chunks)
    check_chunks(chunks, want)
    upstream = f"rec:anthropic/{name}"
    row = check_row(gateway, rid, want["usage"], stream=True, upstream=upstream)
    assert cost_cents == Decimal(row["cost_nanousd"]) / 10**7
    sent = sent_upstream(gateway, upstream)
    assert essentials(sent) == essentials({**recording["request"]["body"], "model": upstream})


def test_recorded_stream_without_usage_requested(gateway: Gateway) -> None:
    name = "messages-tool-use-stream"
    recording = _recording(name)
    request = {**openai_equivalent(recording["request"]["body"]), "model": f"claude-rec/{name}"}
    request.pop("stream")
    rid = f"anth-nousage-{uuid.uuid4().hex[:6]}"
    chunks = stream(gateway, rid, **request)
    want = recorded_answer(recording)
    check_chunks(chunks, want, include_usage=False)
    check_row(gateway, rid, want["usage"], stream=True, upstream=f"rec:anthropic/{name}")


@pytest.mark.parametrize(
    ("name", "status", "kind", "needle"),
    [
        ("error-400-invalid-request", 400, "invalid_request_error", "messages.0: Input does not match"),
        ("error-404-not-found", 400, "invalid_request_error", "model: claude-sonet-4-5"),
        ("error-401-authentication", 502, "provider_error", "invalid x-api-key"),
    ],
)
def test_recorded_errors_through_the_gateway(
    gateway: Gateway, name: str, status: int, kind: str, needle: str
) -> None:
    rid = f"anth-err-{name}-{uuid.uuid4().hex[:6]}"
    with pytest.raises(openai.APIStatusError) as exc:
        gateway.client().chat.completions.create(
            model=f"claude-rec/{name}", messages=USER, extra_headers={"X-Request-Id": rid}
        )
    assert exc.value.status_code == status
    assert exc.value.body["type"] == kind  # type: ignore[index]
    assert needle in exc.value.message and "Provider 'anthropic'" in exc.value.message
    if status == 502:
        assert "ANTHROPIC_API_KEY" in exc.value.message  # the gateway's credentials, not the client's
    row = gateway.ledger_row(rid)
    assert (row["status"], row["http_status"], row["error_type"]) == ("error", status, kind)
    assert row["cost_nanousd"] == 0 and row["provider"] == "anthropic"


# -- synthesized round trips -----------------------------------------------------------------------
def _rid(tag: str) -> str:
    return f"anth-{tag}-{uuid.uuid4().hex[:8]}"


def test_text_answer_and_stream_agree(gateway: Gateway) -> None:
    question = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": f"Hello {uuid.uuid4().hex}"},
    ]
    rid = _rid("text")
    completion = create(gateway, rid, model=SIM, messages=question, max_tokens=300, temperature=0.3, seed=5)
    sent = sent_upstream(gateway, "claude-sim-sonnet")
    assert sent["system"] == "Be brief." and sent["temperature"] == 0.3 and "seed" not in sent
    assert sent["max_tokens"] == 300
    assert completion.choices[0].finish_reason == "stop" and completion.id.startswith("msg_sim")
    assert completion.usage is not None
    usage = usage_of(completion.usage)
    check_row(gateway, rid, usage, stream=False, upstream="claude-sim-sonnet")
    srid = _rid("text-stream")
    chunks = stream(
        gateway, srid, model=SIM, messages=question, max_tokens=300, stream_options={"include_usage": True}
    )
    split_cost(chunks)
    assert joined(chunks, "content") == completion.choices[0].message.content
    assert chunks[-1]["usage"] == completion.usage.model_dump(exclude_none=True)
    check_row(gateway, srid, usage, stream=True, upstream="claude-sim-sonnet")


def test_tools_parallel_and_not(gateway: Gateway) -> None:
    completion = create(gateway, _rid("tools"), model=SIM, messages=USER, tools=[WEATHER, CLOCK])
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls" and message.content is None
    calls = message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "now"]  # type: ignore[union-attr]
    assert all(c.id.startswith("toolu_") for c in calls)
    jsonschema.validate(json.loads(calls[0].function.arguments), WEATHER["function"]["parameters"])  # type: ignore[union-attr,index]
    sent = sent_upstream(gateway, "claude-sim-sonnet")
    assert [t["name"] for t in sent["tools"]] == ["get_weather", "now"] and "tool_choice" not in sent
    chunks = stream(gateway, _rid("tools-stream"), model=SIM, messages=USER, tools=[WEATHER, CLOCK])
    want = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls]  # type: ignore[union-attr]
    assert stream_calls(chunks) == [(i, n, a) for i, n, a in want]
    finishes = [
        c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]
    ]
    assert finishes == ["tool_calls"]
    single = create(
        gateway,
        _rid("tools-single"),
        model=SIM,
        messages=USER,
        tools=[WEATHER, CLOCK],
        parallel_tool_calls=False,
    )
    assert len(single.choices[0].message.tool_calls or []) == 1
    assert sent_upstream(gateway, "claude-sim-sonnet")["tool_choice"] == {
        "type": "auto",
        "disable_parallel_tool_use": True,
    }


def test_tool_results_round_trip(gateway: Gateway) -> None:
    first = create(gateway, _rid("loop-1"), model=SIM, messages=USER, tools=[WEATHER, CLOCK])
    calls = first.choices[0].message.tool_calls or []
    history = [
        *USER,
        first.choices[0].message.model_dump(exclude_none=True),
        *({"role": "tool", "tool_call_id": c.id, "content": f"result {k}"} for k, c in enumerate(calls)),
    ]
    answer = create(
        gateway, _rid("loop-2"), model=SIM, messages=history, tools=[WEATHER, CLOCK], reasoning_effort="low"
    )
    assert answer.choices[0].finish_reason == "stop"
    assert "the tool returned 'result 1'" in (answer.choices[0].message.content or "")
    sent = sent_upstream(gateway, "claude-sim-sonnet")
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert [b["type"] for b in sent["messages"][1]["content"]] == ["tool_use", "tool_use"]
    results = sent["messages"][2]["content"]
    assert [(b["type"], b["tool_use_id"]) for b in results] == [("tool_result", c.id) for c in calls]
    assert "thinking" not in sent  # the signed thinking of the tool call cannot be sent back
    # A following user message joins the tool results' turn.
    follow = [*history, {"role": "user", "content": "And in Lyon?"}]
    create(gateway, _rid("loop-3"), model=SIM, messages=follow, tools=[WEATHER, CLOCK])
    sent = sent_upstream(gateway, "claude-sim-sonnet")
    assert [b["type"] for b in sent["messages"][2]["content"]] == ["tool_result", "tool_result", "text"]


def test_vision(gateway: Gateway) -> None:
    parts = [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    completion = create(gateway, _rid("vision"), model=SIM, messages=[{"role": "user", "content": parts}])
    assert "I saw 2 images" in (completion.choices[0].message.content or "")
    blocks = sent_upstream(gateway, "claude-sim-sonnet")["messages"][0]["content"]
    assert [b["source"]["type"] for b in blocks if b["type"] == "image"] == ["base64", "url"]


@pytest.mark.parametrize(
    ("model", "upstream"), [(SIM, "claude-sim-sonnet"), ("claude-sim/legacy", "claude-sim-legacy")]
)
def test_json_schema_native_and_through_a_tool(gateway: Gateway, model: str, upstream: str) -> None:
    completion = create(gateway, _rid("json"), model=model, messages=USER, response_format=JSON_SCHEMA)
    message = completion.choices[0].message
    jsonschema.validate(json.loads(message.content or ""), PERSON)
    assert message.tool_calls is None and completion.choices[0].finish_reason == "stop"
    sent = sent_upstream(gateway, upstream)
    if model == SIM:
        assert (
            sent["output_config"] == {"format": {"type": "json_schema", "schema": PERSON}}
            and "tools" not in sent
        )
    else:
        assert sent["tool_choice"] == {"type": "tool", "name": "person"} and "output_config" not in sent
    chunks = stream(gateway, _rid("json-stream"), model=model, messages=USER, response_format=JSON_SCHEMA)
    assert json.loads(joined(chunks, "content")) == json.loads(message.content or "")
    assert not stream_calls(chunks)
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"


def test_json_object(gateway: Gateway) -> None:
    completion = create(
        gateway, _rid("json-object"), model=SIM, messages=USER, response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)


def test_reasoning(gateway: Gateway) -> None:
    rid = _rid("reasoning")
    completion = create(gateway, rid, model=SIM, messages=USER, reasoning_effort="medium", temperature=0.2)
    sent = sent_upstream(gateway, "claude-sim-sonnet")
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 4096} and "temperature" not in sent
    reasoning = (completion.choices[0].message.model_extra or {}).get("reasoning_content")
    assert reasoning and "budget 4096" in reasoning
    assert completion.usage is not None and completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens > 0
    check_row(gateway, rid, usage_of(completion.usage), stream=False, upstream="claude-sim-sonnet")
    srid = _rid("reasoning-stream")
    chunks = stream(
        gateway,
        srid,
        model=SIM,
        messages=USER,
        reasoning_effort="medium",
        stream_options={"include_usage": True},
    )
    split_cost(chunks)
    assert joined(chunks, "reasoning_content") == reasoning
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    check_row(gateway, srid, usage_of(completion.usage), stream=True, upstream="claude-sim-sonnet")


def test_prompt_cache_write_then_read_billed_at_their_rates(gateway: Gateway) -> None:
    manual = "Our product manual. " * 300 + uuid.uuid4().hex
    system = [{"type": "text", "text": manual, "cache_control": {"type": "ephemeral"}}]
    messages = [{"role": "system", "content": system}, *USER]
    first_rid, second_rid = _rid("cache-write"), _rid("cache-read")
    create(gateway, first_rid, model=SIM, messages=messages)
    assert sent_upstream(gateway, "claude-sim-sonnet")["system"] == system
    create(gateway, second_rid, model=SIM, messages=messages)
    first, second = gateway.ledger_row(first_rid), gateway.ledger_row(second_rid)
    assert first["cache_write_units"] > 1000 and first["cached_input_units"] == 0
    assert second["cached_input_units"] == first["cache_write_units"] and second["cache_write_units"] == 0
    assert first["input_units"] == second["input_units"]
    for row in (first, second):
        usage = Usage(
            input_tokens=row["input_units"],
            cached_input_tokens=row["cached_input_units"],
            cache_write_tokens=row["cache_write_units"],
            output_tokens=row["output_units"],
        )
        assert row["cost_nanousd"] == expected_cost(usage)
    assert second["cost_nanousd"] < first["cost_nanousd"]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"tools": [CLOCK], "tool_choice": "required", "reasoning_effort": "low"}, "reasoning_effort"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "input_audio", "input_audio": {"data": "AA", "format": "mp3"}}],
                    }
                ]
            },
            "messages[0].content[0]",
        ),
    ],
)
def test_refused_with_a_clear_400(gateway: Gateway, extra: dict[str, Any], param: str) -> None:
    rid = _rid("refused")
    with pytest.raises(openai.BadRequestError) as exc:
        gateway.client().chat.completions.create(
            **{"model": SIM, "messages": USER, **extra}, extra_headers={"X-Request-Id": rid}
        )
    assert exc.value.body["param"] == param  # type: ignore[index]
    row = gateway.ledger_row(rid)
    assert (row["status"], row["http_status"], row["error_type"]) == ("error", 400, "invalid_request_error")


# -- faults ------------------------------------------------------------------------------------------
def test_429_passes_retry_after(gateway: Gateway) -> None:
    gateway.simulator.add_faults(
        "claude-fault-e429", [{"kind": "status", "status": 429, "retry_after": "7"}], sticky=True
    )
    rid = _rid("429")
    with pytest.raises(openai.RateLimitError) as exc:
        gateway.client().chat.completions.create(
            model="claude-sim/e429", messages=USER, extra_headers={"X-Request-Id": rid}
        )
    assert exc.value.response.headers["retry-after"] == "7"
    assert exc.value.body["type"] == "rate_limit_error"  # type: ignore[index]
    assert "exceeded your rate limit" in exc.value.message
    assert gateway.ledger_row(rid)["http_status"] == 429


def test_529_overloaded_is_a_502(gateway: Gateway) -> None:
    gateway.simulator.add_faults("claude-fault-e529", [{"kind": "status", "status": 529}], sticky=True)
    rid = _rid("529")
    with pytest.raises(openai.APIStatusError) as exc:
        gateway.client().chat.completions.create(
            model="claude-sim/e529", messages=USER, extra_headers={"X-Request-Id": rid}
        )
    assert exc.value.status_code == 502 and exc.value.body["type"] == "provider_error"  # type: ignore[index]
    assert "529" in exc.value.message and "Overloaded" in exc.value.message
    row = gateway.ledger_row(rid)
    assert (row["http_status"], row["error_type"]) == (502, "provider_error")


def test_upstream_400_passes_anthropics_message(gateway: Gateway) -> None:
    body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "prompt is too long: 210000 tokens"},
    }
    gateway.simulator.add_faults(
        "claude-fault-e400", [{"kind": "status", "status": 400, "body": body}], sticky=True
    )
    with pytest.raises(openai.BadRequestError) as exc:
        gateway.client().chat.completions.create(model="claude-sim/e400", messages=USER)
    assert "prompt is too long: 210000 tokens" in exc.value.message


def test_mid_stream_error_event(gateway: Gateway) -> None:
    failure = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    gateway.simulator.add_faults(
        "claude-fault-midstream", [{"kind": "cut", "after_chunks": 5, "body": failure}], sticky=True
    )
    rid = _rid("midstream")
    got = []
    with pytest.raises(openai.APIError) as exc:
        for chunk in gateway.client().chat.completions.create(
            model="claude-sim/midstream", messages=USER, stream=True, extra_headers={"X-Request-Id": rid}
        ):
            got.append(chunk)
    assert got and got[0].choices[0].delta.role == "assistant"
    assert "overloaded_error" in exc.value.message and "Overloaded" in exc.value.message
    row = gateway.ledger_row(rid)
    assert (row["status"], row["error_type"]) == ("stream_error", "provider_error")
    assert row["usage_estimated"] is True and row["output_units"] >= 1 and row["cost_nanousd"] > 0


def test_cut_stream(gateway: Gateway) -> None:
    gateway.simulator.add_faults("claude-fault-cut", [{"kind": "cut", "after_chunks": 6}], sticky=True)
    rid = _rid("cut")
    got = []
    with pytest.raises(openai.APIError) as exc:
        for chunk in gateway.client().chat.completions.create(
            model="claude-sim/cut", messages=USER, stream=True, extra_headers={"X-Request-Id": rid}
        ):
            got.append(chunk)
    assert got, "the chunks before the cut were relayed"
    assert "stream" in exc.value.message.lower()
    row = gateway.ledger_row(rid)
    assert (row["status"], row["error_type"]) == ("stream_error", "provider_error")
    assert row["usage_estimated"] is True and row["output_units"] >= 1 and row["cost_nanousd"] > 0
