"""Tests for the simulator's Anthropic wire (simulators/anthropic_wire.py), over real HTTP.

The official ``anthropic`` SDK is the client where it can be: it parses every answer into its own
``Message`` / stream event types, so a malformed simulated answer fails here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest

from aigateway.providers.simulated import prompt_tokens
from aigateway.simulators.anthropic_wire import to_openai
from aigateway.simulators.recordings import parse_sse
from aigateway.simulators.server import SimulatorServer

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings"
ANTHROPIC_RECORDINGS = sorted(p.stem for p in (RECORDINGS / "anthropic").glob("*.json"))
KEY = "sk-ant-simulator-test"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
USER: list[Any] = [{"role": "user", "content": "What is the capital of France?"}]
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
CLOCK = {"name": "now", "input_schema": {"type": "object", "properties": {}}}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(RECORDINGS) as server:
        yield server


@pytest.fixture()
def client(sim: SimulatorServer) -> Iterator[anthropic.Anthropic]:
    # The 2.x SDK sends the key as a Bearer token; the simulator wants x-api-key like API 2023-06-01.
    with anthropic.Anthropic(
        base_url=sim.url, api_key=KEY, default_headers={"x-api-key": KEY}, max_retries=0, timeout=10
    ) as c:
        yield c


def _model() -> str:
    return f"claude-sim-{uuid.uuid4().hex[:8]}"


def _post(sim: SimulatorServer, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"content-type": "application/json", **(HEADERS if headers is None else headers)}
    return httpx.post(f"{sim.url}/v1/messages", content=content, headers=hdrs, timeout=10)


def _body(**extra: Any) -> dict[str, Any]:
    return {"model": _model(), "max_tokens": 4000, "messages": USER, **extra}


# -- requests the API would refuse ------------------------------------------------------------------
def test_credentials_and_version_required(sim: SimulatorServer) -> None:
    response = _post(sim, _body(), headers={"anthropic-version": "2023-06-01"})
    assert response.status_code == 401
    doc = response.json()
    assert doc["type"] == "error" and doc["error"]["type"] == "authentication_error"
    response = _post(sim, _body(), headers={"x-api-key": KEY})
    assert response.status_code == 400 and "anthropic-version" in response.json()["error"]["message"]
    # Works at any path prefix ending in /messages.
    response = httpx.post(f"{sim.url}/anthropic/v1/messages", json=_body(), headers=HEADERS, timeout=10)
    assert response.status_code == 200 and response.json()["type"] == "message"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"seed": 1}, "seed: Extra inputs are not permitted"),
        ({"max_tokens": None}, "max_tokens"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "role"),
        ({"messages": ["Invalid content"]}, "messages.0"),
        ({"temperature": 1.5}, "temperature"),
        ({"stop_sequences": ["\n"]}, "non-whitespace"),
        ({"thinking": {"type": "enabled", "budget_tokens": 512}}, "1024"),
        ({"max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 2048}}, "max_tokens"),
        (
            {
                "thinking": {"type": "enabled", "budget_tokens": 1024},
                "tools": [CLOCK],
                "tool_choice": {"type": "any"},
            },
            "tool_choice forces tool use",
        ),
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}, "temperature": 0.2}, "temperature"),
    ],
)
def test_invalid_requests_answered_400(sim: SimulatorServer, change: dict[str, Any], needle: str) -> None:
    body = {k: v for k, v in _body(**change).items() if v is not None}
    response = _post(sim, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and needle in error["message"]


def test_unparseable_body(sim: SimulatorServer) -> None:
    response = _post(sim, b"{nope")
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"


# -- recordings --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ANTHROPIC_RECORDINGS)
def test_recordings_replayed_exactly(sim: SimulatorServer, name: str) -> None:
    recording = json.loads((RECORDINGS / "anthropic" / f"{name}.json").read_text(encoding="utf-8"))
    model = f"rec:anthropic/{name}"
    response = _post(sim, {**_body(), "model": model})
    assert response.status_code == recording["response"]["status"]
    assert response.text == recording["response"]["body"]
    is_stream = recording["response"]["body"].startswith("event:")
    assert response.headers["content-type"].startswith(
        "text/event-stream" if is_stream else "application/json"
    )
    logged = sim.requests(model)[-1]
    assert logged["wire"] == "anthropic" and logged["outcome"] == "completed"
    events = parse_sse(recording["response"]["body"].encode())
    assert logged["chunks_sent"] == (len(events) if is_stream else 1)


def test_unknown_recording(sim: SimulatorServer) -> None:
    response = _post(sim, {**_body(), "model": "rec:anthropic/nope"})
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"


# -- synthesized answers ----------------------------------------------------------------------------
def _streamed(client: anthropic.Anthropic, **kwargs: Any) -> anthropic.types.Message:
    with client.messages.stream(**kwargs) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    return final


def _same(one: anthropic.types.Message, two: anthropic.types.Message) -> None:
    assert one.model_dump(exclude={"content"}) == two.model_dump(exclude={"content"})
    strip = {"parsed_output", "citations"}
    assert [b.model_dump(exclude=strip) for b in one.content] == [
        b.model_dump(exclude=strip) for b in two.content
    ]


def test_text_answer_stream_and_message_agree(client: anthropic.Anthropic) -> None:
    model = _model()
    message = client.messages.create(model=model, max_tokens=500, messages=USER, system="Be brief.")
    assert message.type == "message" and message.role == "assistant" and message.model == model
    assert message.id.startswith("msg_sim") and message.stop_reason == "end_turn"
    assert [b.type for b in message.content] == ["text"]
    assert "capital of France" in message.content[0].text  # type: ignore[union-attr]
    body = {"model": model, "max_tokens": 500, "messages": USER, "system": "Be brief."}
    assert message.usage.input_tokens == prompt_tokens(to_openai(body))
    assert message.usage.cache_creation_input_tokens == message.usage.cache_read_input_tokens == 0
    _same(message, _streamed(client, model=model, max_tokens=500, messages=USER, system="Be brief."))


def test_tools_answered_with_tool_use(client: anthropic.Anthropic) -> None:
    model = _model()
    message = client.messages.create(model=model, max_tokens=500, messages=USER, tools=[WEATHER, CLOCK])
    assert message.stop_reason == "tool_use"
    uses = [b for b in message.content if b.type == "tool_use"]
    assert [u.name for u in uses] == ["get_weather", "now"] and all(u.id.startswith("toolu_") for u in uses)
    jsonschema.validate(uses[0].input, WEATHER["input_schema"])
    streamed = _streamed(client, model=model, max_tokens=500, messages=USER, tools=[WEATHER, CLOCK])
    _same(message, streamed)
    one = client.messages.create(
        model=model,
        max_tokens=500,
        messages=USER,
        tools=[WEATHER, CLOCK],
        tool_choice={"type": "tool", "name": "now", "disable_parallel_tool_use": True},
    )
    assert [b.name for b in one.content if b.type == "tool_use"] == ["now"]
    none = client.messages.create(
        model=model, max_tokens=500, messages=USER, tools=[WEATHER], tool_choice={"type": "none"}
    )
    assert none.stop_reason == "end_turn" and none.content[0].type == "text"


def test_tool_results_images_and_documents(client: anthropic.Anthropic) -> None:
    turns: list[Any] = [
        *USER,
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "now", "input": {}}]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "It is noon"}],
        },
    ]
    message = client.messages.create(model=_model(), max_tokens=500, messages=turns, tools=[CLOCK])
    assert "the tool returned 'It is noon'" in message.content[0].text  # type: ignore[union-attr]
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    data = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    seen = client.messages.create(
        model=_model(),
        max_tokens=500,
        messages=[{"role": "user", "content": [{"type": "text", "text": "Look"}, image, data]}],
    )
    assert "I saw 2 images" in seen.content[0].text  # type: ignore[union-attr]


def test_thinking(client: anthropic.Anthropic) -> None:
    model = _model()
    kwargs: dict[str, Any] = {
        "model": model,
        "max_tokens": 3000,
        "messages": USER,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    message = client.messages.create(**kwargs)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking and message.content[0].signature  # type: ignore[union-attr]
    details = message.usage.output_tokens_details
    assert details is not None and 0 < details.thinking_tokens < message.usage.output_tokens
    _same(message, _streamed(client, **kwargs))


def test_structured_output(client: anthropic.Anthropic) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    message = client.messages.create(
        model=_model(),
        max_tokens=500,
        messages=USER,
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    jsonschema.validate(json.loads(message.content[0].text), schema)  # type: ignore[union-attr]


def test_stop_sequence_and_max_tokens(client: anthropic.Anthropic) -> None:
    stopped = client.messages.create(model=_model(), max_tokens=500, messages=USER, stop_sequences=["reply"])
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "reply"
    assert stopped.content[0].text == "Simulated "  # type: ignore[union-attr]
    short = client.messages.create(model=_model(), max_tokens=3, messages=USER)
    assert short.stop_reason == "max_tokens" and short.usage.output_tokens <= 3


def test_prompt_caching_writes_then_reads(client: anthropic.Anthropic) -> None:
    system: Any = [
        {
            "type": "text",
            "text": "A long manual. " * 200 + uuid.uuid4().hex,
            "cache_control": {"type": "ephemeral"},
        }
    ]
    first = client.messages.create(model="claude-cache", max_tokens=200, messages=USER, system=system)
    second = client.messages.create(model="claude-cache", max_tokens=200, messages=USER, system=system)
    written = first.usage.cache_creation_input_tokens
    assert written and written > 500 and first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == written and second.usage.cache_creation_input_tokens == 0
    assert first.usage.input_tokens == second.usage.input_tokens > 0


# -- faults --------------------------------------------------------------------------------------------
def test_status_faults_use_anthropic_errors(sim: SimulatorServer, client: anthropic.Anthropic) -> None:
    model = _model()
    sim.add_faults(
        model, [{"kind": "status", "status": 429, "retry_after": "9"}, {"kind": "status", "status": 529}]
    )
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(model=model, max_tokens=10, messages=USER)
    assert limited.value.response.headers["retry-after"] == "9"
    assert limited.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        client.messages.create(model=model, max_tokens=10, messages=USER)
    assert overloaded.value.status_code == 529
    assert overloaded.value.body["error"] == {"type": "overloaded_error", "message": "Overloaded"}  # type: ignore[index]
    assert client.messages.create(model=model, max_tokens=10, messages=USER).stop_reason


def test_cut_with_a_body_sends_an_error_event(sim: SimulatorServer) -> None:
    model = _model()
    failure = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    sim.add_faults(model, [{"kind": "cut", "after_chunks": 3, "body": failure}])
    response = _post(sim, {**_body(), "model": model, "stream": True})
    events = [e.json() for e in parse_sse(response.content)]
    assert [e["type"] for e in events] == ["message_start", "content_block_start", "ping", "error"]
    assert events[-1]["error"] == failure["error"]
    assert sim.requests(model)[-1]["fault"]["kind"] == "cut"


def test_plain_cut_drops_the_stream(sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "cut", "after_chunks": 2}])
    with pytest.raises(httpx.RemoteProtocolError):
        _post(sim, {**_body(), "model": model, "stream": True})
    assert sim.requests(model)[-1]["outcome"] == "aborted"
