"""Streams: relayed as they arrive, recorded traffic replayed intact, cut or abandoned streams billed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.integration.conftest import RECORDINGS, Gateway

USER = [{"role": "user", "content": "Tell me a story"}]


def _recorded_chunks(name: str) -> list[dict[str, object]]:
    doc = json.loads((RECORDINGS / f"{name}.json").read_text())
    chunks = []
    for line in doc["response"]["body"].splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            chunks.append(json.loads(line[6:]))
    return chunks


def _recorded_body(name: str) -> dict[str, object]:
    return json.loads(json.loads((RECORDINGS / f"{name}.json").read_text())["response"]["body"])


def test_chunks_are_relayed_as_they_arrive(gateway: Gateway) -> None:
    gateway.simulator.add_faults("fault-slowchunks", [{"kind": "slow_chunks", "ms": 250}], sticky=True)
    with (
        gateway.http() as http,
        http.stream(
            "POST",
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {gateway.admin_key}"},
            json={"model": "sim/slowchunks", "messages": USER, "stream": True},
        ) as response,
    ):
        arrivals = []
        start = time.monotonic()
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic() - start)
    assert len(arrivals) >= 4
    # Not buffered: the first chunk arrives well before the last one.
    assert arrivals[-1] - arrivals[0] >= 0.5


def test_client_disconnect_cancels_upstream_and_bills_what_was_generated(gateway: Gateway) -> None:
    gateway.simulator.add_faults("fault-slowchunks", [{"kind": "slow_chunks", "ms": 400}], sticky=True)
    gateway.simulator.clear_requests()
    with (
        gateway.http() as http,
        http.stream(
            "POST",
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {gateway.admin_key}", "X-Request-Id": "s-disconnect"},
            json={"model": "sim/slowchunks", "messages": USER, "stream": True},
        ) as response,
    ):
        seen = 0
        for line in response.iter_lines():
            if line.startswith("data: "):
                seen += 1
            if seen == 2:
                break  # hang up mid-stream
    row = gateway.ledger_row("s-disconnect")
    assert row["status"] == "client_cancelled" and row["stream"] is True
    assert row["output_units"] >= 1 and row["usage_estimated"] is True
    assert row["input_units"] >= 1, "the prompt of an abandoned stream is billed too"
    assert row["cost_nanousd"] > 0
    # The gateway dropped its upstream connection too: the simulator saw its client go away.
    deadline = time.monotonic() + 60
    while True:
        log = gateway.simulator.requests("fault-slowchunks")
        if log and log[-1].get("client_disconnected"):
            break
        assert time.monotonic() < deadline, f"upstream request was not cancelled: {log[-1] if log else None}"
        time.sleep(0.05)


def test_upstream_cut_mid_stream_ends_with_error_event(gateway: Gateway) -> None:
    gateway.simulator.add_faults("fault-cut", [{"kind": "cut", "after_chunks": 3}], sticky=True)
    stream = gateway.client().chat.completions.create(
        model="sim/cut", messages=USER, stream=True, extra_headers={"X-Request-Id": "s-cut"}
    )
    got = []
    with pytest.raises(openai.APIError) as exc:
        for chunk in stream:
            got.append(chunk)
    assert got, "the chunks before the cut were relayed"
    assert "stream" in exc.value.message.lower()
    row = gateway.ledger_row("s-cut")
    assert row["status"] == "stream_error" and row["error_type"] == "provider_error"
    assert row["usage_estimated"] is True and row["output_units"] >= 1 and row["cost_nanousd"] > 0
    assert row["input_units"] >= 1


@pytest.mark.parametrize(
    ("model", "recording"),
    [
        ("rec/openai-stream-usage", "openai/chat-stream-include-usage"),
        ("rec/openai-stream-no-usage", "openai/chat-stream-no-usage"),
        ("rec/openai-tools-stream", "openai/chat-tools-stream"),
        ("rec/deepseek-stream-reasoning", "deepseek/chat-stream-reasoning-content"),
        ("rec/groq-stream", "groq/chat-stream"),
        ("rec/mistral-stream", "mistral/chat-stream"),
    ],
)
def test_recorded_streams_replayed_intact(gateway: Gateway, model: str, recording: str) -> None:
    rid = f"s-rec-{recording.replace('/', '-')}"
    stream = gateway.client().chat.completions.create(
        model=model,
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"X-Request-Id": rid},
    )
    got = list(stream)
    want = _recorded_chunks(recording)
    with_choices = [c for c in want if c.get("choices")]
    assert [c.model_dump(exclude_unset=True)["choices"] for c in got if c.choices] == [
        c["choices"] for c in with_choices
    ]
    reasoning = "".join(
        str((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "") for c in got if c.choices
    )
    want_reasoning = "".join(
        str(c["choices"][0]["delta"].get("reasoning_content") or "")
        for c in with_choices  # type: ignore[index]
    )
    assert reasoning == want_reasoning
    row = gateway.ledger_row(rid)
    assert row["status"] == "ok"
    usage_chunks = [c for c in want if isinstance(c.get("usage"), dict)]
    groq = [
        c["x_groq"]["usage"] for c in want if isinstance(c.get("x_groq"), dict) and "usage" in c["x_groq"]
    ]  # type: ignore[index]
    if usage_chunks or groq:
        usage = usage_chunks[-1]["usage"] if usage_chunks else groq[-1]
        assert row["input_units"] == usage["prompt_tokens"]  # type: ignore[index]
        assert row["output_units"] == usage["completion_tokens"]  # type: ignore[index]
        assert row["usage_estimated"] is False
    else:
        # The recording has no usage (the upstream was not asked for it then): estimated, still billed.
        assert row["usage_estimated"] is True and row["cost_nanousd"] > 0


@pytest.mark.parametrize(
    ("model", "recording"),
    [
        ("rec/openai-basic", "openai/chat-basic"),
        ("rec/openai-tools", "openai/chat-tools"),
        ("rec/openai-tools-parallel", "openai/chat-tools-parallel"),
        ("rec/openai-json-schema", "openai/chat-json-schema"),
        ("rec/openai-reasoning", "openai/chat-reasoning-gpt5-nano"),
        ("rec/openai-vision", "openai/chat-vision-base64-image"),
        ("rec/deepseek-reasoning", "deepseek/chat-reasoning-content"),
    ],
)
def test_recorded_completions_replayed_byte_for_byte(gateway: Gateway, model: str, recording: str) -> None:
    rid = f"r-{recording.replace('/', '-')}"
    with gateway.http() as http:
        response = http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {gateway.admin_key}", "X-Request-Id": rid},
            json={"model": model, "messages": USER},
        )
    assert response.status_code == 200
    raw = json.loads((RECORDINGS / f"{recording}.json").read_text())["response"]["body"]
    assert response.text == raw
    completion = openai.types.chat.ChatCompletion.model_validate_json(response.content)
    want = _recorded_body(recording)
    usage = want["usage"]
    row = gateway.ledger_row(rid)
    assert row["input_units"] == usage["prompt_tokens"]  # type: ignore[index]
    assert row["output_units"] == usage["completion_tokens"]  # type: ignore[index]
    details = usage.get("completion_tokens_details") or {}  # type: ignore[union-attr]
    assert row["reasoning_units"] == (details.get("reasoning_tokens") or 0)
    assert completion.choices[0].finish_reason == want["choices"][0]["finish_reason"]  # type: ignore[index]
    if recording.startswith("deepseek"):
        assert (completion.choices[0].message.model_extra or {}).get("reasoning_content")


def test_fixtures_are_in_the_project() -> None:
    assert (RECORDINGS / "PROVENANCE.md").is_file()
    assert Path(RECORDINGS / "openai" / "chat-basic.json").is_file()
    assert httpx  # the raw client is used above
