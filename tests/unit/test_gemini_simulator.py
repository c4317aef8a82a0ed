"""The simulator's Gemini mode (simulators/gemini_wire.py): validation, replay, synthesis, faults.

Synthesized answers pass the google-genai types (tests/support/gemini.py), and a request the adapter
builds is answered end to end without the gateway.
"""

from __future__ import annotations

import copy
import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from google.genai import types as gtypes
from openai.types.chat import ChatCompletion

from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Target
from aigateway.providers.wire.gemini import DUMMY_SIGNATURE
from aigateway.simulators import gemini_wire as sim_wire
from aigateway.simulators.recordings import load_recordings, parse_sse
from aigateway.simulators.server import SimulatorServer
from tests.support.gemini import RECORDINGS, TIME, WEATHER, WIRE, oracle, roundtrip, tool_history


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(RECORDINGS) as server:
        yield server


def _post(
    sim: SimulatorServer, path: str, body: Any, key: str | None = "g-key"
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(sim.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        headers = {"Content-Type": "application/json", **({"x-goog-api-key": key} if key else {})}
        conn.request(
            "POST", path, body=body if isinstance(body, bytes) else json.dumps(body).encode(), headers=headers
        )
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


SIMPLE = {"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]}


def test_simulator_auth_and_validation(sim: SimulatorServer) -> None:
    status, _, body = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", SIMPLE, key=None)
    assert status == 403 and json.loads(body)["error"]["status"] == "PERMISSION_DENIED"
    status, _, _ = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent?key=abc", SIMPLE, key=None)
    assert status == 200
    cases = [
        ({"contents": []}, "contents is not specified"),
        ({**SIMPLE, "generation_config": {"maxTokens": 5}}, 'Unknown name "maxTokens"'),
        ({**SIMPLE, "model": "x"}, 'Unknown name "model"'),
        ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
        ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "valid role"),
        (
            {**SIMPLE, "generationConfig": {"thinkingConfig": {"thinkingBudget": 1, "thinkingLevel": "LOW"}}},
            "only set one",
        ),
    ]
    for body_, needle in cases:
        status, _, body = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", body_)
        error = json.loads(body)["error"]
        assert status == 400 and error["status"] == "INVALID_ARGUMENT" and needle in error["message"], body_
    status, _, body = _post(sim, "/v1beta/models/gemini-2.5-flash:countTokens", SIMPLE)
    assert status == 404 and json.loads(body)["error"]["status"] == "NOT_FOUND"
    status, _, _ = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", b"{nope")
    assert status == 400


def test_simulator_checks_function_turns(sim: SimulatorServer) -> None:
    call = {"functionCall": {"name": "f", "args": {}}}
    answer = {"functionResponse": {"name": "f", "response": {"result": 1}}}
    turns = [
        SIMPLE["contents"][0],
        {"role": "model", "parts": [call, call]},
        {"role": "user", "parts": [answer]},
    ]
    status, _, body = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", {"contents": turns})
    assert status == 400 and "number of function response parts" in json.loads(body)["error"]["message"]
    turns[2] = {"role": "user", "parts": [answer, answer]}
    status, _, body = _post(sim, "/v1beta/models/gemini-3-flash-preview:generateContent", {"contents": turns})
    assert status == 400 and "thought_signature" in json.loads(body)["error"]["message"]
    turns[1] = {"role": "model", "parts": [{**call, "thoughtSignature": DUMMY_SIGNATURE}, call]}
    status, _, body = _post(sim, "/v1beta/models/gemini-3-flash-preview:generateContent", {"contents": turns})
    assert (
        status == 200 and "tool returned" in json.loads(body)["candidates"][0]["content"]["parts"][0]["text"]
    )


def test_simulator_replays_recordings_exactly(sim: SimulatorServer) -> None:
    recordings = load_recordings(RECORDINGS)
    for key in (
        "gemini/stream-sse-thinking",
        "gemini/stream-json-array-text",
        "gemini/generate-content-basic",
    ):
        model = "rec." + key.replace("/", ".", 1)
        method = "generateContent" if "generate-content" in key else "streamGenerateContent?alt=sse"
        status, headers, body = _post(sim, f"/v1beta/models/{model}:{method}", SIMPLE)
        recording = recordings[key]
        assert status == 200 and body == recording.body and headers["content-type"] == recording.content_type
    status, _, body = _post(sim, "/v1beta/models/rec.gemini.error-404-model:generateContent", SIMPLE)
    assert status == 404 and b"gemini-3.6-flahs is not found" in body
    status, _, body = _post(sim, "/v1beta/models/rec.gemini.nope:generateContent", SIMPLE)
    assert status == 404 and json.loads(body)["error"]["status"] == "NOT_FOUND"
    assert sim_wire._split_array(b'[{"a": "}"}\n,\r\n{"b": {"c": 1}}\n]') == (
        b'[{"a": "}"}',
        b'\n,\r\n{"b": {"c": 1}}',
        b"\n]",
    )


def _validate_response(doc: dict[str, Any]) -> None:
    roundtrip(gtypes.GenerateContentResponse, doc)


def test_simulator_synthesizes_native_answers(sim: SimulatorServer) -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {"city": {"type": "STRING"}},
                        "required": ["city"],
                    },
                },
                {
                    "name": "get_time",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {},
                        "additionalProperties": False,
                    },
                },
            ]
        }
    ]
    body = {
        **SIMPLE,
        "tools": tools,
        "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}},
    }
    status, _, raw = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", body)
    doc = json.loads(raw)
    _validate_response(doc)
    parts = doc["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and parts[0]["text"].startswith("Thinking")
    calls = [p for p in parts if "functionCall" in p]
    assert [c["functionCall"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert calls[0]["functionCall"]["args"] == {"city": "example city"} and calls[0]["thoughtSignature"]
    assert "thoughtSignature" not in calls[1] and doc["candidates"][0]["finishReason"] == "STOP"
    meta = doc["usageMetadata"]
    assert (
        meta["thoughtsTokenCount"] > 0
        and meta["totalTokenCount"]
        == meta["promptTokenCount"] + meta["candidatesTokenCount"] + meta["thoughtsTokenCount"]
    )
    status, headers, raw = _post(sim, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", body)
    assert status == 200 and headers["content-type"] == "text/event-stream" and raw.endswith(b"\r\n\r\n")
    events = [e.json() for e in parse_sse(raw)]
    for event in events:
        _validate_response(event)
    assert events[-1]["usageMetadata"] == meta and events[-1]["candidates"][0]["finishReason"] == "STOP"
    streamed = [p for e in events for p in e["candidates"][0]["content"]["parts"]]
    assert "".join(p.get("text", "") for p in streamed if p.get("thought")) == parts[0]["text"]
    status, headers, raw = _post(sim, "/v1beta/models/gemini-2.5-flash:streamGenerateContent", body)
    assert headers["content-type"].startswith("application/json") and json.loads(raw) == events


def test_simulator_long_prompts_report_cached_tokens_and_json(sim: SimulatorServer) -> None:
    long = {"contents": [{"role": "user", "parts": [{"text": "word " * 3000}]}]}
    status, _, raw = _post(sim, "/v1beta/models/gemini-2.5-flash:generateContent", long)
    assert status == 200
    meta = json.loads(raw)["usageMetadata"]
    assert meta["cachedContentTokenCount"] == ((meta["promptTokenCount"] - 1) // 1024) * 1024 > 0
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    config = {"responseMimeType": "application/json", "responseJsonSchema": schema, "candidateCount": 2}
    _, _, raw = _post(
        sim, "/v1beta/models/gemini-2.5-flash:generateContent", {**SIMPLE, "generationConfig": config}
    )
    doc = json.loads(raw)
    assert [c["index"] for c in doc["candidates"]] == [0, 1]
    assert json.loads(doc["candidates"][0]["content"]["parts"][0]["text"]) == {"n": 1}


def test_simulator_faults_and_request_log(sim: SimulatorServer) -> None:
    model = "gemini-2.5-flash-faulty"
    sim.clear_requests()
    sim.add_faults(
        model, [{"kind": "status", "status": 429, "retry_after": "3"}, {"kind": "status", "status": 503}]
    )
    status, headers, raw = _post(sim, f"/v1beta/models/{model}:generateContent", SIMPLE)
    error = json.loads(raw)["error"]
    assert status == 429 and headers["retry-after"] == "3" and error["status"] == "RESOURCE_EXHAUSTED"
    assert WIRE.parse_error(429, raw, headers).message.endswith("(retry in 1s)")
    status, _, raw = _post(sim, f"/v1beta/models/{model}:generateContent", SIMPLE)
    assert status == 503 and json.loads(raw)["error"]["status"] == "UNAVAILABLE"
    sim.add_faults(model, [{"kind": "cut", "after_chunks": 1}])
    with pytest.raises(http.client.IncompleteRead):
        _post(
            sim,
            f"/v1beta/models/{model}:streamGenerateContent?alt=sse",
            {**SIMPLE, "generationConfig": {"maxOutputTokens": 500}},
        )
    log = sim.requests(model)
    assert [r["status"] for r in log] == [429, 503, 200] and all(r["wire"] == "gemini" for r in log)
    assert [r["stream"] for r in log] == [False, False, True] and log[-1]["outcome"] == "aborted"
    assert log[0]["headers"]["x-goog-api-key"] == "g-key" and log[0]["body"] == SIMPLE


def test_adapter_requests_are_accepted_by_the_simulator(sim: SimulatorServer) -> None:
    """The adapter's request and the simulator's answer, end to end without the gateway."""
    body = {
        "model": "x",
        "messages": copy.deepcopy(tool_history()[:-1]),
        "tools": [WEATHER, TIME],
        "reasoning_effort": "low",
        "max_completion_tokens": 400,
    }
    vendor = VendorProfile("google", f"{sim.url}/v1beta", (), wire="gemini", auth="x-goog-api-key")
    request = WIRE.build_request(
        body, Target("gemini-3-flash-preview", None, frozenset({"reasoning"})), vendor, "k"
    )
    oracle(orjson.loads(request.body))
    status, _, raw = _post(sim, urlsplit(request.url).path, request.body)
    assert status == 200, raw
    completion = ChatCompletion.model_validate_json(WIRE.parse_response(raw, request).body)
    assert "the tool returned" in (completion.choices[0].message.content or "")
    assert (completion.choices[0].message.model_extra or {}).get("reasoning_content")
