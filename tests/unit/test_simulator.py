"""Tests for the upstream simulator server (real HTTP against a SimulatorServer on port 0)."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

from aigateway.providers.simulated import synthesize_completion
from aigateway.simulators.faults import Fault, FaultError, FaultQueue, parse_faults
from aigateway.simulators.recordings import load_recordings, parse_sse, split_sse
from aigateway.simulators.server import SimulatorServer, create_simulator_app
from aigateway.simulators.state import RequestLog

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-recordings"
KEY = "sk-test-simulator"
MESSAGES: list[Any] = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(RECORDINGS) as server:
        yield server


@pytest.fixture()
def client(sim: SimulatorServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{sim.url}/v1", api_key=KEY, max_retries=0, timeout=10) as c:
        yield c


def _model(prefix: str = "sim") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _http(
    sim: SimulatorServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], bytes]:
    """Plain HTTP/1.1 request; returns status, headers (lower-case) and the whole body."""
    parts = urlsplit(sim.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


def _poll(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def _recording(key: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{key}.json").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- basics


def test_health_models_and_recordings(sim: SimulatorServer) -> None:
    assert _http(sim, "GET", "/_sim/health")[2] == b'{"ok":true}'
    status, _, body = _http(sim, "GET", "/v1/models")
    ids = {m["id"] for m in json.loads(body)["data"]}
    assert status == 200 and "rec:openai/chat-basic" in ids and "rec:deepseek/chat-reasoning-content" in ids
    keys = json.loads(_http(sim, "GET", "/_sim/recordings")[2])
    assert keys["openai/chat-basic"]["status"] == 200


def test_server_lifecycle() -> None:
    server = SimulatorServer(recordings_dir=RECORDINGS)
    server.start()
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        with pytest.raises(RuntimeError):
            server.start()
    finally:
        server.stop()
    server.stop()  # idempotent
    app = create_simulator_app(RECORDINGS / "does-not-exist")
    assert app is not None


def test_auth_and_body_validation(sim: SimulatorServer) -> None:
    status, headers, body = _http(sim, "POST", "/v1/chat/completions", {"model": "x", "messages": MESSAGES})
    assert status == 401
    assert json.loads(body)["error"] == {
        "message": json.loads(body)["error"]["message"],
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    assert headers["x-request-id"]
    status, _, _ = _http(sim, "POST", "/v1/chat/completions", {"model": "x"}, {"Authorization": "Bearer "})
    assert status == 401
    status, _, body = _http(sim, "POST", "/v1/chat/completions", b"{not json", _auth())
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_request_error"
    status, _, body = _http(sim, "POST", "/v1/chat/completions", {"messages": MESSAGES}, _auth())
    assert status == 400 and json.loads(body)["error"]["param"] == "model"


# ----------------------------------------------------------------------------- replay


def test_replay_chat_basic(client: openai.OpenAI, sim: SimulatorServer) -> None:
    raw = client.chat.completions.with_raw_response.create(model="rec:openai/chat-basic", messages=MESSAGES)
    recorded = _recording("openai/chat-basic")
    assert raw.http_response.status_code == 200
    assert raw.http_response.content == recorded["response"]["body"].encode()
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.headers.get("x-request-id")
    completion = raw.parse()
    assert completion.id == json.loads(recorded["response"]["body"])["id"]


def test_replay_stream_recording_with_sdk(client: openai.OpenAI) -> None:
    key = "openai/chat-stream-include-usage"
    recorded = _recording(key)["response"]["body"]
    stream = client.chat.completions.create(model=f"rec:{key}", messages=MESSAGES, stream=True)
    chunks = list(stream)
    data_events = [e for e in parse_sse(recorded.encode()) if e.data and e.data != "[DONE]"]
    assert len(chunks) == len(data_events)
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    expected = "".join(
        (e.json()["choices"][0]["delta"].get("content") or "") for e in data_events if e.json()["choices"]
    )
    assert text == expected


def test_replay_stream_is_byte_exact_and_prefixed_paths(sim: SimulatorServer) -> None:
    key = "deepseek/chat-stream-reasoning-content"
    status, headers, body = _http(
        sim, "POST", "/chat/completions", {"model": f"rec:{key}", "stream": True}, _auth()
    )
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert body == _recording(key)["response"]["body"].encode()
    status, _, body = _http(
        sim, "POST", "/openai/v1/chat/completions", {"model": "rec:groq/chat-basic"}, _auth()
    )
    assert status == 200 and body == _recording("groq/chat-basic")["response"]["body"].encode()


def test_replay_error_recording_and_unknown(client: openai.OpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="rec:openai/error-401-invalid-api-key", messages=MESSAGES)
    assert info.value.status_code == 401
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="rec:openai/nope", messages=MESSAGES)
    assert missing.value.code == "model_not_found"


# ----------------------------------------------------------------------------- synthesis


def test_synthesized_non_stream(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    raw = client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES, max_tokens=200)
    completion = raw.parse()
    assert raw.headers["x-request-id"].startswith("req_")
    assert "capital of France" in (completion.choices[0].message.content or "")
    (entry,) = sim.requests(model)
    assert completion.model_dump(exclude_none=True) == openai.types.chat.ChatCompletion.model_validate(
        synthesize_completion(entry["body"], model=model)
    ).model_dump(exclude_none=True)
    again = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=200)
    assert again == completion  # cached and deterministic


def test_synthesized_stream(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    stream = client.chat.completions.create(
        model=model, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    full = client.chat.completions.create(model=model, messages=MESSAGES)
    assert text == full.choices[0].message.content
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    status, headers, body = _http(
        sim, "POST", "/v1/chat/completions", {"model": model, "stream": True}, _auth()
    )
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert body.endswith(b"data: [DONE]\n\n") and body.count(b"data: ") > 3


def test_synthesized_tool_calls(client: openai.OpenAI) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        },
    }
    completion = client.chat.completions.create(model=_model(), messages=MESSAGES, tools=[tool])  # type: ignore[list-item]
    calls = completion.choices[0].message.tool_calls or []
    assert completion.choices[0].finish_reason == "tool_calls"
    assert json.loads(calls[0].function.arguments)["q"]  # type: ignore[union-attr]


def test_request_log_records_headers_and_body(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    client.chat.completions.create(model=model, messages=MESSAGES)
    (entry,) = sim.requests(model)
    assert entry["headers"]["Authorization"] == f"Bearer {KEY}"
    assert entry["body"]["messages"] == MESSAGES
    assert entry["method"] == "POST" and entry["path"] == "/v1/chat/completions"
    assert entry["outcome"] == "completed" and entry["client_disconnected"] is False
    assert entry["status"] == 200 and entry["chunks_sent"] == 1 and entry["time"] > 0
    status, _, body = _http(sim, "GET", f"/_sim/requests?model={model}")
    listed = json.loads(body)
    assert status == 200 and [e["seq"] for e in listed] == [entry["seq"]]


# ----------------------------------------------------------------------------- faults


def test_fault_429_with_retry_after(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    status, _, _ = _http(
        sim,
        "POST",
        "/_sim/faults",
        {"model": model, "faults": [{"kind": "status", "status": 429, "retry_after": "3"}]},
    )
    assert status == 200
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=model, messages=MESSAGES)
    assert info.value.response.headers["retry-after"] == "3"
    assert info.value.code == "rate_limit_exceeded"
    # one fault per request: the next one is normal
    assert client.chat.completions.create(model=model, messages=MESSAGES).choices


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (500, openai.InternalServerError, "server_error"),
        (503, openai.InternalServerError, "overloaded"),
        (400, openai.BadRequestError, None),
    ],
)
def test_fault_status_defaults(
    client: openai.OpenAI,
    sim: SimulatorServer,
    status: int,
    error: type[openai.APIStatusError],
    code: str | None,
) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "status", "status": status}])
    with pytest.raises(error) as info:
        client.chat.completions.create(model=model, messages=MESSAGES, stream=True)
    assert info.value.status_code == status
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == code and "message" in body


def test_fault_custom_body_sticky_and_clear(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    custom = {"error": {"message": "custom boom", "type": "server_error", "param": None, "code": "boom"}}
    sim.add_faults(model, [{"kind": "status", "status": 502, "body": custom}], sticky=True)
    for _ in range(3):
        with pytest.raises(openai.InternalServerError) as info:
            client.chat.completions.create(model=model, messages=MESSAGES)
        assert info.value.status_code == 502 and info.value.code == "boom"
    other = client.chat.completions.create(model=_model(), messages=MESSAGES)  # other models unaffected
    assert other.choices
    assert model in json.loads(_http(sim, "GET", "/_sim/faults")[2])["sticky"]
    assert _http(sim, "DELETE", f"/_sim/faults?model={model}")[0] == 200
    assert client.chat.completions.create(model=model, messages=MESSAGES).choices


def test_fault_validation(sim: SimulatorServer) -> None:
    bad = [
        {"model": "m", "faults": [{"kind": "explode"}]},
        {"model": "m", "faults": [{"kind": "status", "status": 42}]},
        {"model": "m", "faults": [{"kind": "latency", "ms": -1}]},
        {"faults": [{"kind": "reset"}]},
        {"model": "m", "faults": "reset"},
    ]
    for payload in bad:
        status, _, body = _http(sim, "POST", "/_sim/faults", payload)
        assert status == 400, payload
        assert json.loads(body)["error"]
    with pytest.raises(FaultError):
        parse_faults([{"kind": "cut", "after_chunks": -2}])


def test_fault_reset(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "reset"}])
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=model, messages=MESSAGES)
    (entry,) = sim.requests(model)
    assert entry["outcome"] == "aborted" and entry["fault"]["kind"] == "reset"


def test_fault_cut_stream_with_sdk(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "cut", "after_chunks": 3}])
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(model=model, messages=MESSAGES, stream=True):
            received.append(chunk)
    assert len(received) == 3
    (entry,) = sim.requests(model)
    assert entry["chunks_sent"] == 3 and entry["outcome"] == "aborted"


def test_fault_cut_stream_raw_has_no_done(sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "cut", "after_chunks": 2}])
    parts = urlsplit(sim.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps({"model": model, "stream": True}), _auth())
        resp = conn.getresponse()
        assert resp.status == 200
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
    finally:
        conn.close()
    partial = info.value.partial
    assert partial.count(b"data: ") == 2 and b"[DONE]" not in partial


def test_fault_cut_non_stream(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "cut"}])
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=model, messages=MESSAGES)


def test_fault_latency(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "latency", "ms": 300}])
    started = time.monotonic()
    assert client.chat.completions.create(model=model, messages=MESSAGES).choices
    assert time.monotonic() - started >= 0.28


def test_fault_slow_chunks_with_latency(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "slow_chunks", "ms": 40, "latency_ms": 100}])
    started = time.monotonic()
    chunks = list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True))
    elapsed = time.monotonic() - started
    # n chunks + [DONE] -> n gaps of 40ms, plus 100ms before the first byte
    assert len(chunks) >= 5
    assert elapsed >= 0.1 + len(chunks) * 0.04 * 0.9


def test_fault_hang_until_client_gives_up(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "hang"}])
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.5).chat.completions.create(model=model, messages=MESSAGES)
    assert time.monotonic() - started >= 0.45
    assert _poll(lambda: sim.requests(model)[0]["client_disconnected"] is True)
    assert sim.requests(model)[0]["outcome"] == "client_disconnected"


def test_client_disconnect_mid_stream_is_logged(client: openai.OpenAI, sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "slow_chunks", "ms": 150}])
    stream = client.chat.completions.create(model=model, messages=MESSAGES, stream=True)
    iterator = iter(stream)
    next(iterator)
    next(iterator)
    stream.close()
    assert _poll(lambda: sim.requests(model)[0]["client_disconnected"] is True)
    (entry,) = sim.requests(model)
    assert entry["outcome"] == "client_disconnected"
    assert 2 <= entry["chunks_sent"] < 8


def test_clear_requests_and_faults(sim: SimulatorServer) -> None:
    model = _model()
    sim.add_faults(model, [{"kind": "reset"}])
    assert _http(sim, "DELETE", "/_sim/faults")[0] == 200
    status, _, _ = _http(sim, "POST", "/v1/chat/completions", {"model": model}, _auth())
    assert status == 200
    assert _http(sim, "DELETE", "/_sim/requests")[0] == 200
    assert sim.requests(model) == []


# ----------------------------------------------------------------------------- building blocks


def test_load_recordings_and_sse_parsing() -> None:
    recordings = load_recordings(RECORDINGS)
    assert len(recordings) == 87
    assert load_recordings(None) == {} and load_recordings(RECORDINGS / "missing") == {}
    gemini = recordings["gemini/stream-sse-text"]
    assert gemini.is_sse and b"".join(gemini.chunks) == gemini.body
    assert all(chunk.endswith(b"\r\n\r\n") for chunk in gemini.chunks)
    anthropic = recordings["anthropic/messages-stream-text"]
    names = [e.event for e in anthropic.events]
    assert names[0] == "message_start" and "ping" in names and names[-1] == "message_stop"
    openrouter = recordings["openrouter/chat-stream-reasoning"]
    assert any(e.comments for e in openrouter.events)
    wav = recordings["deepgram/speak-tts-wav"]
    assert wav.body.startswith(b"RIFF") and wav.content_type == "audio/wav"
    assert split_sse(b"data: a\n\ndata: b") == (b"data: a\n\n", b"data: b")
    assert recordings["openai/chat-basic"].upstream_model


def test_fault_queue_and_log_cap() -> None:
    queue = FaultQueue()
    queue.add("m", parse_faults([{"kind": "latency", "ms": 1}, {"kind": "reset"}]))
    queue.add("m", [Fault("hang")], sticky=True)
    kinds = [getattr(queue.pop("m"), "kind", None) for _ in range(4)]
    assert kinds == ["latency", "reset", "hang", "hang"]
    assert queue.pop("other") is None
    queue.clear()
    assert queue.pop("m") is None
    combined = Fault.from_json({"kind": "latency", "ms": 200, "latency_ms": 50})
    assert combined.delay_before == pytest.approx(0.25)

    log = RequestLog(limit=3)

    request = SimpleNamespace(
        method="POST", path="/v1/chat/completions", query_string="", headers={"Authorization": "Bearer x"}
    )
    for i in range(5):
        log.add(request, wire="openai", body={"i": i}, raw=b"", model="m")  # type: ignore[arg-type]
    assert [e["body"]["i"] for e in log.list()] == [2, 3, 4]
