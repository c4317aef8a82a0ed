"""Chat completions through the real gateway with the official openai SDK as the client."""

from __future__ import annotations

import json
from decimal import Decimal

import openai
import pytest

from tests.integration.conftest import UPSTREAM_KEY, Gateway

USER = [{"role": "user", "content": "What is the capital of France?"}]


def test_plain_completion_headers_and_ledger(gateway: Gateway) -> None:
    client = gateway.client()
    raw = client.chat.completions.with_raw_response.create(
        model="sim/gpt", messages=USER, extra_headers={"X-Request-Id": "req-plain-1", "x-aig-tag": "team-a"}
    )
    completion = raw.parse()
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    h = raw.headers
    assert h["x-request-id"] == "req-plain-1"
    assert h["x-model"] == "sim/gpt"
    assert h["x-provider"] == "sim"
    assert int(h["x-latency-ms"]) >= 0
    assert h["x-cache-status"] == "miss"
    usage = completion.usage
    assert usage is not None
    assert h["x-input-units"] == str(usage.prompt_tokens)
    assert h["x-output-units"] == str(usage.completion_tokens)
    # 2.5 $/Mtok in, 10 $/Mtok out, in cents.
    expected = (Decimal(usage.prompt_tokens) * Decimal("2.5") + Decimal(usage.completion_tokens) * 10) / 10**4
    assert Decimal(h["x-cost-cents"]) == expected

    row = gateway.ledger_row("req-plain-1")
    assert row["status"] == "ok" and row["http_status"] == 200
    assert row["mode"] == "live" and row["tag"] == "team-a"
    assert row["model"] == "sim/gpt" and row["provider"] == "sim" and row["upstream_model"] == "sim-gpt"
    assert row["input_units"] == usage.prompt_tokens and row["output_units"] == usage.completion_tokens
    assert Decimal(row["cost_nanousd"]) / 10**7 == expected
    assert row["stream"] is False

    # What went upstream: the upstream model id and the provider's key, the client's fields intact.
    sent = [r for r in gateway.simulator.requests("sim-gpt") if r["headers"].get("x-request-id") is None]
    assert sent, "the simulator saw no request"
    last = gateway.simulator.requests("sim-gpt")[-1]
    assert last["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert last["body"]["messages"] == USER


def test_generated_request_id_and_passthrough_params(gateway: Gateway) -> None:
    client = gateway.client()
    raw = client.chat.completions.with_raw_response.create(
        model="sim/gpt",
        messages=USER,
        temperature=0.2,
        top_p=0.9,
        max_completion_tokens=50,
        stop=["\n\n"],
        seed=7,
        n=2,
        user="u-42",
        metadata={"run": "x"},
        reasoning_effort="low",
    )
    rid = raw.headers["x-request-id"]
    assert rid.startswith("req_")
    completion = raw.parse()
    assert len(completion.choices) == 2
    body = gateway.simulator.requests("sim-gpt")[-1]["body"]
    for key, value in {
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 50,
        "stop": ["\n\n"],
        "seed": 7,
        "n": 2,
        "user": "u-42",
        "metadata": {"run": "x"},
        "reasoning_effort": "low",
    }.items():
        assert body[key] == value, key
    assert gateway.ledger_row(rid)["status"] == "ok"


def test_streaming_relays_chunks_and_bills_from_usage(gateway: Gateway) -> None:
    client = gateway.client()
    with client.chat.completions.with_streaming_response.create(
        model="sim/gpt",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"X-Request-Id": "req-stream-1"},
    ) as response:
        assert response.headers["x-model"] == "sim/gpt"
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = list(response.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    final = chunks[-1]
    assert final.choices == [] and final.usage is not None
    extra = final.usage.model_extra or {}
    cost_cents = Decimal(str(extra["cost_cents"]))
    row = gateway.ledger_row("req-stream-1")
    assert row["stream"] is True and row["status"] == "ok"
    assert row["output_units"] == final.usage.completion_tokens
    assert Decimal(row["cost_nanousd"]) / 10**7 == cost_cents > 0
    assert row["usage_estimated"] is False


def test_stream_without_include_usage_still_billed(gateway: Gateway) -> None:
    client = gateway.client()
    stream = client.chat.completions.create(
        model="sim/gpt", messages=USER, stream=True, extra_headers={"X-Request-Id": "req-stream-nousage"}
    )
    chunks = list(stream)
    assert all(c.usage is None for c in chunks), "the client did not ask for usage"
    assert all(c.choices for c in chunks)
    # The gateway asked the upstream for usage anyway, and billed from it.
    sent = gateway.simulator.requests("sim-gpt")[-1]["body"]
    assert sent["stream_options"] == {"include_usage": True}
    row = gateway.ledger_row("req-stream-nousage")
    assert row["output_units"] > 0 and row["cost_nanousd"] > 0 and row["usage_estimated"] is False


def test_tools_and_tool_choice(gateway: Gateway) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                    "required": ["city", "unit"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "parameters": {
                    "type": "object",
                    "properties": {"tz": {"type": "string"}},
                    "required": ["tz"],
                },
            },
        },
    ]
    client = gateway.client()
    named = client.chat.completions.create(
        model="sim/gpt",
        messages=USER,
        tools=tools,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    calls = named.choices[0].message.tool_calls
    assert calls and calls[0].function.name == "get_time"
    assert "tz" in json.loads(calls[0].function.arguments)
    assert named.choices[0].finish_reason == "tool_calls"

    parallel = client.chat.completions.create(
        model="sim/gpt", messages=USER, tools=tools, parallel_tool_calls=True
    )
    names = [c.function.name for c in parallel.choices[0].message.tool_calls or []]
    assert names == ["get_weather", "get_time"]
    sent = gateway.simulator.requests("sim-gpt")[-1]["body"]
    assert sent["tools"] == tools and sent["parallel_tool_calls"] is True

    # The tool round trip: assistant tool_calls and the tool result go upstream intact.
    call = parallel.choices[0].message.tool_calls[0]  # type: ignore[index]
    follow = client.chat.completions.create(
        model="sim/gpt",
        tools=tools,
        messages=[
            *USER,
            {"role": "assistant", "tool_calls": [call.model_dump()], "content": None},
            {"role": "tool", "tool_call_id": call.id, "content": "22 C and sunny"},
        ],
    )
    assert follow.choices[0].message.content
    assert gateway.simulator.requests("sim-gpt")[-1]["body"]["messages"][2]["tool_call_id"] == call.id


def test_streamed_tool_call_deltas(gateway: Gateway) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
            },
        }
    ]
    stream = gateway.client().chat.completions.create(
        model="sim/gpt", messages=USER, tools=tools, tool_choice="required", stream=True
    )
    args = ""
    name = None
    for chunk in stream:
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            name = name or (tc.function.name if tc.function else None)
            args += (tc.function.arguments or "") if tc.function else ""
    assert name == "lookup"
    assert "q" in json.loads(args)


def test_json_modes(gateway: Gateway) -> None:
    client = gateway.client()
    obj = client.chat.completions.create(
        model="sim/gpt", messages=USER, response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(obj.choices[0].message.content or ""), dict)
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    strict = client.chat.completions.create(
        model="sim/gpt",
        messages=USER,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": schema, "strict": True},
        },
    )
    doc = json.loads(strict.choices[0].message.content or "")
    assert set(doc) == {"city", "population"} and isinstance(doc["population"], int)
    assert (
        gateway.simulator.requests("sim-gpt")[-1]["body"]["response_format"]["json_schema"]["schema"]
        == schema
    )


def test_vision_input(gateway: Gateway) -> None:
    png = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQ"
        "GAhKmMIQAAAABJRU5ErkJggg=="
    )
    content = [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": png, "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    completion = gateway.client().chat.completions.create(
        model="sim/gpt", messages=[{"role": "user", "content": content}]
    )
    assert completion.choices[0].message.content
    assert gateway.simulator.requests("sim-gpt")[-1]["body"]["messages"][0]["content"] == content
    with pytest.raises(openai.BadRequestError) as err:
        gateway.client().chat.completions.create(
            model="sim/text-only", messages=[{"role": "user", "content": content}]
        )
    assert "image" in err.value.message


def test_test_mode_key_is_simulated_and_free(gateway: Gateway) -> None:
    client = gateway.client(gateway.test_key)
    before = gateway.client().with_raw_response  # noqa: F841 - keeps the admin client warm
    raw = client.chat.completions.with_raw_response.create(
        model="anthropic/claude-opus-4.7", messages=USER, extra_headers={"X-Request-Id": "req-test-mode"}
    )
    assert raw.headers["x-provider"] == "simulated"
    assert raw.headers["x-cost-cents"] == "0"
    assert raw.parse().choices[0].message.content
    stream = client.chat.completions.create(
        model="openai/gpt-5.4",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"X-Request-Id": "req-test-mode-stream"},
    )
    chunks = list(stream)
    assert chunks[-1].usage is not None
    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            },
        }
    ]
    tool = client.chat.completions.create(model="google/gemini-3-flash", messages=USER, tools=tools)
    assert isinstance(json.loads(tool.choices[0].message.tool_calls[0].function.arguments)["a"], int)  # type: ignore[index]
    js = client.chat.completions.create(
        model="xai/grok-4", messages=USER, response_format={"type": "json_object"}
    )
    json.loads(js.choices[0].message.content or "")
    for rid in ("req-test-mode", "req-test-mode-stream"):
        row = gateway.ledger_row(rid)
        assert row["mode"] == "test" and row["provider"] == "simulated"
        assert row["cost_nanousd"] == 0 and row["status"] == "ok"


def test_models_endpoints(gateway: Gateway) -> None:
    client = gateway.client()
    models = client.models.list()
    ids = {m.id for m in models.data}
    assert len(ids) >= 150
    for featured in (
        "anthropic/claude-opus-4.7",
        "openai/gpt-5.4",
        "google/gemini-3.1-pro",
        "moonshot/kimi-k2.6",
        "anthropic/claude-sonnet-4.6",
        "minimax/m2.7",
        "openai/gpt-5.4-mini",
        "xai/grok-4",
        "google/gemini-3-flash",
        "anthropic/claude-haiku-4.5",
    ):
        assert featured in ids
    one = client.models.retrieve("anthropic/claude-opus-4.7")
    assert one.id == "anthropic/claude-opus-4.7"
    extra = one.model_extra or {}
    assert extra["pricing"]["input_per_mtok"] and "tools" in extra["capabilities"]
    assert extra["deployments"][0]["provider"] == "anthropic"
    with gateway.http() as http:
        auth = {"Authorization": f"Bearer {gateway.admin_key}"}
        emb = http.get("/v1/models", params={"modality": "embedding"}, headers=auth).json()["data"]
        assert emb and all(m["modality"] == "embedding" for m in emb)
        anth = http.get("/v1/models", params={"provider": "anthropic"}, headers=auth).json()["data"]
        assert anth and all(m["owned_by"] == "anthropic" or "anthropic" in m["providers"] for m in anth)
        bad = http.get("/v1/models", params={"modality": "smell"}, headers=auth)
        assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("anthropic/claude-opuss-4.7")
    assert "claude-opus-4.7" in err.value.message


def test_balance_is_debited(gateway: Gateway) -> None:
    with gateway.http() as http:
        auth = {"Authorization": f"Bearer {gateway.admin_key}"}
        before = http.get("/v1/balance", headers=auth).json()
        raw = gateway.client().chat.completions.with_raw_response.create(model="sim/gpt", messages=USER)
        cost_nano = int(Decimal(raw.headers["x-cost-cents"]) * 10**7)
        after = http.get("/v1/balance", headers=auth).json()
    assert set(before) >= {"cents", "usd"}
    assert before["nanousd"] - after["nanousd"] == cost_nano
    assert Decimal(str(after["usd"])) == Decimal(after["nanousd"]) / 10**9


def test_cached_prompt_tokens_are_billed_at_the_cached_rate(gateway: Gateway) -> None:
    """An upstream answer reporting cached prompt tokens (injected verbatim through the simulator)."""
    answer = {
        "id": "chatcmpl-cached",
        "object": "chat.completion",
        "created": 1764000000,
        "model": "sim-gpt-cache",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 2000,
            "completion_tokens": 10,
            "total_tokens": 2010,
            "prompt_tokens_details": {"cached_tokens": 1536},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }
    gateway.simulator.add_faults("fault-midstream", [{"kind": "status", "status": 200, "body": answer}])
    raw = gateway.client().chat.completions.with_raw_response.create(
        model="sim/midstream", messages=USER, extra_headers={"X-Request-Id": "c-cached"}
    )
    assert raw.parse().usage.prompt_tokens_details.cached_tokens == 1536  # type: ignore[union-attr]
    row = gateway.ledger_row("c-cached")
    assert row["input_units"] == 2000 and row["cached_input_units"] == 1536 and row["output_units"] == 10
    # sim/midstream: 2 $/Mtok in, no cached price (so cached input at the input price), 8 $/Mtok out.
    assert row["cost_nanousd"] == 2000 * 2000 + 10 * 8000
    # sim/gpt has a cached price: 464 plain at 2.5, 1536 cached at 1.25, 10 out at 10 ($/Mtok).
    gateway.simulator.add_faults("sim-gpt", [{"kind": "status", "status": 200, "body": answer}])
    gateway.client().chat.completions.create(
        model="sim/gpt", messages=USER, extra_headers={"X-Request-Id": "c-cached-2"}
    )
    row = gateway.ledger_row("c-cached-2")
    assert row["cost_nanousd"] == 464 * 2500 + 1536 * 1250 + 10 * 10000
