"""The simulated transport (simulators/transport.py): in-process answers that the real adapters read.

Each request is built by the production adapter, sent through `SimulatedTransport`, and the answer
parsed by the same adapter (streams through ``providers/sse.stream_events`` and the adapter's stream
translator), exactly as the pipeline does for a test key.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import orjson
import pytest

from aigateway.core.pricing import Usage
from aigateway.providers.registry import build_adapters
from aigateway.providers.simulated import synthesize_completion
from aigateway.providers.sse import stream_events
from aigateway.providers.vendors import BUILTIN_VENDORS, VendorProfile
from aigateway.providers.wire.anthropic import AnthropicWire
from aigateway.providers.wire.base import Target, UpstreamRequest, UpstreamResponse, WireAdapter
from aigateway.providers.wire.gemini import GeminiWire
from aigateway.providers.wire.openai import OpenAIWire
from aigateway.simulators.synth_embeddings import decode_base64
from aigateway.simulators.transport import SimulatedResponse, SimulatedTransport

VENDORS = {v.name: v for v in BUILTIN_VENDORS}
ADAPTERS = build_adapters()
TRANSPORT = SimulatedTransport()
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
CHAT_VENDORS = {"openai": VENDORS["openai"], "anthropic": VENDORS["anthropic"], "gemini": VENDORS["google"]}
CHAT_WIRES: dict[str, WireAdapter] = {
    "openai": OpenAIWire(),
    "anthropic": AnthropicWire(),
    "gemini": GeminiWire(),
}
CHAT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.5-flash"}


def _send(vendor: VendorProfile, request: UpstreamRequest) -> SimulatedResponse:
    return asyncio.run(TRANSPORT.send(vendor, request))


async def _relay(
    wire: WireAdapter, request: UpstreamRequest, response: UpstreamResponse
) -> tuple[list[dict[str, Any]], Usage | None, bool]:
    """The client chunks, usage and completeness of a stream, read the way services/relay.py does."""
    translator = wire.stream_translator(request, include_usage=True)
    chunks: list[dict[str, Any]] = []
    usage: Usage | None = None
    done = False
    async for data in stream_events(response.content, response.content_type):  # type: ignore[arg-type]
        out = translator.feed(data)
        chunks += [c if isinstance(c, dict) else orjson.loads(c) for c in out.chunks]
        usage = out.usage or usage
        done = done or out.done
    finish = getattr(translator, "finish", None)
    if not done and callable(finish):  # closed without an end marker: complete when usage is known
        out = finish()
        chunks += [c if isinstance(c, dict) else orjson.loads(c) for c in out.chunks]
        usage = out.usage or usage
        done = usage is not None
    return chunks, usage, done


def _text(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def _chat(wire: str, stream: bool, **extra: Any) -> tuple[UpstreamRequest, SimulatedResponse]:
    body = {"model": "x", "messages": MESSAGES, "stream": stream, **extra}
    target = Target(CHAT_MODELS[wire], 8192, frozenset({"tools"}))
    request = CHAT_WIRES[wire].build_request(body, target, CHAT_VENDORS[wire], "key")
    return request, _send(CHAT_VENDORS[wire], request)


# -- chat -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini"])
def test_chat_answers_parse_with_the_adapters_and_streams_say_the_same(wire: str) -> None:
    request, response = _chat(wire, stream=False)
    assert response.status == 200 and response.content_type == "application/json"
    parsed = CHAT_WIRES[wire].parse_response(asyncio.run(response.read()), request)
    completion = orjson.loads(parsed.body)
    content = completion["choices"][0]["message"]["content"]
    assert "capital of France" in content and parsed.usage is not None and parsed.usage.output_tokens > 0

    request, response = _chat(wire, stream=True)
    assert response.status == 200 and response.content_type == "text/event-stream"
    assert response.headers["content-type"].startswith("text/event-stream")  # case-insensitive
    chunks, usage, done = asyncio.run(_relay(CHAT_WIRES[wire], request, response))
    assert done and _text(chunks) == content
    assert usage is not None and usage.input_tokens == parsed.usage.input_tokens


def test_openai_chat_is_the_simulated_provider_byte_for_byte_and_streams_end_with_done() -> None:
    request, response = _chat("openai", stream=False)
    raw = asyncio.run(response.read())
    assert raw == orjson.dumps(synthesize_completion(orjson.loads(request.body or b""), model="gpt-4o-mini"))
    assert OpenAIWire().parse_response(raw, request).body == raw
    _, stream = _chat("openai", stream=True)
    pieces = asyncio.run(_pieces(stream))
    assert pieces[-1] == b"data: [DONE]\n\n"
    assert all(p.startswith(b"data: {") and p.endswith(b"}\n\n") for p in pieces[:-1])
    assert b'"usage"' in pieces[-2]  # the adapter asked include_usage


def test_gemini_streams_sse_with_crlf_or_a_json_array_as_the_url_asks() -> None:
    request, response = _chat("gemini", stream=True)
    assert request.url.endswith(":streamGenerateContent?alt=sse")
    pieces = asyncio.run(_pieces(response))
    assert len(pieces) > 1 and all(p.startswith(b"data: ") and p.endswith(b"\r\n\r\n") for p in pieces)
    array = dataclasses.replace(request, url=request.url.removesuffix("?alt=sse"))
    answer = _send(VENDORS["google"], array)
    assert answer.content_type == "application/json"
    body = asyncio.run(answer.read())
    assert body.startswith(b"[{") and body.endswith(b"}]") and len(orjson.loads(body)) == len(pieces)
    chunks, usage, done = asyncio.run(_relay(CHAT_WIRES["gemini"], array, _send(VENDORS["google"], array)))
    assert done and usage is not None
    assert _text(chunks) == "".join(
        p["text"] for c in orjson.loads(body) for p in c["candidates"][0]["content"]["parts"]
    )


def test_chat_requests_are_refused_in_each_wires_error_shape() -> None:
    anthropic = UpstreamRequest(
        url="https://api.anthropic.com/v1/messages",
        headers={"anthropic-version": "2023-06-01"},
        body=orjson.dumps({"model": "claude", "messages": []}),
        wire="anthropic",
    )
    response = _send(VENDORS["anthropic"], anthropic)
    doc = orjson.loads(asyncio.run(response.read()))
    assert (
        response.status == 400 and doc["type"] == "error" and doc["error"]["type"] == "invalid_request_error"
    )
    failure = AnthropicWire().parse_error(400, orjson.dumps(doc), {})
    assert "max_tokens" in failure.message and failure.code == "invalid_request_error"
    no_version = dataclasses.replace(anthropic, headers={})
    assert (
        "anthropic-version"
        in orjson.loads(asyncio.run(_send(VENDORS["anthropic"], no_version).read()))["error"]["message"]
    )

    gemini_body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "model": "x"}
    gemini = UpstreamRequest(
        url="https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
        headers={},
        body=orjson.dumps(gemini_body),
        wire="gemini",
    )
    response = _send(VENDORS["google"], gemini)
    raw = asyncio.run(response.read())
    assert response.status == 400 and orjson.loads(raw)["error"]["status"] == "INVALID_ARGUMENT"
    assert 'Unknown name "model"' in GeminiWire().parse_error(400, raw, {}).message

    openai = UpstreamRequest(url="https://x/v1/chat/completions", headers={}, body=b"{nope", wire="openai")
    response = _send(VENDORS["openai"], openai)
    assert response.status == 400 and OpenAIWire().parse_error(400, asyncio.run(response.read()), {}).message


# -- embeddings and rerank ------------------------------------------------------------------------
EMBEDDING_VENDORS = {
    "openai": "openai",
    "jina": "jina",
    "voyage": "voyage",
    "cohere": "cohere",
    "gemini": "google",
}


@pytest.mark.parametrize("wire", sorted(EMBEDDING_VENDORS))
def test_embeddings_parse_with_the_adapters_at_the_native_or_asked_size(wire: str) -> None:
    adapter = ADAPTERS[(wire, "embeddings")]
    vendor = VENDORS[EMBEDDING_VENDORS[wire]].for_operation("embeddings")
    texts = ["The capital of France is Paris.", "Bananas are yellow."]
    native = Target("embed-model-1", dimensions=512)
    for body, target, size in [
        ({"model": "x", "input": texts}, native, 512),
        ({"model": "x", "input": texts, "dimensions": 256}, native, 256),
        ({"model": "x", "input": texts}, Target("embed-model-1"), 1024),
    ]:
        request = adapter.build_request(body, target, vendor, "key")
        response = _send(vendor, request)
        raw = asyncio.run(response.read())
        assert response.status == 200, raw
        doc = orjson.loads(adapter.parse_response(raw, request).body)
        vectors = [item["embedding"] for item in doc["data"]]
        assert [len(v) for v in vectors] == [size, size]
        assert all(abs(sum(x * x for x in v) - 1.0) < 1e-5 for v in vectors)
    request = adapter.build_request(
        {"model": "x", "input": texts, "encoding_format": "base64"}, native, vendor, "k"
    )
    doc = orjson.loads(adapter.parse_response(asyncio.run(_send(vendor, request).read()), request).body)
    assert len(decode_base64(doc["data"][0]["embedding"])) == 512


RERANK_VENDORS = {"cohere": "cohere", "voyage": "voyage", "jina": "jina", "cloudflare": "cloudflare"}


@pytest.mark.parametrize("wire", sorted(RERANK_VENDORS))
def test_rerank_parses_with_the_adapters_and_follows_overlap(wire: str) -> None:
    adapter = ADAPTERS[(wire, "rerank")]
    vendor = VENDORS[RERANK_VENDORS[wire]]
    documents = [
        "Bananas are yellow.",
        "Paris is the capital of France.",
        "Berlin is the capital of Germany.",
    ]
    body = {
        "model": "x",
        "query": "capital of France",
        "documents": documents,
        "top_n": 2,
        "return_documents": True,
    }
    request = adapter.build_request(body, Target("rerank-model-1"), vendor, "key")
    response = _send(vendor, request)
    raw = asyncio.run(response.read())
    assert response.status == 200, raw
    doc = orjson.loads(adapter.parse_response(raw, request).body)
    assert [r["index"] for r in doc["results"]] == [1, 2]
    assert doc["results"][0]["document"] == {"text": documents[1]}


def test_cohere_rerank_version_follows_the_url() -> None:
    body = orjson.dumps({"query": "q", "documents": ["q"]})
    legacy = UpstreamRequest(
        url="https://api.cohere.com/v1/rerank", headers={}, body=body, wire="cohere", operation="rerank"
    )
    doc = orjson.loads(asyncio.run(_send(VENDORS["cohere"], legacy).read()))
    assert doc["meta"]["api_version"] == {"version": "1"}
    current = dataclasses.replace(legacy, url="https://api.cohere.com/v2/rerank")
    refused = _send(VENDORS["cohere"], current)  # v2 needs a model
    assert refused.status == 400 and "model" in orjson.loads(asyncio.run(refused.read()))["message"]


def test_cloudflare_embeddings_and_unknown_operations() -> None:
    embed = UpstreamRequest(
        url="https://api.cloudflare.com/client/v4/accounts/a/ai/run/@cf/baai/bge-base-en-v1.5",
        headers={},
        body=orjson.dumps({"text": ["hello"]}),
        wire="cloudflare",
        operation="embeddings",
        context={"dimensions": 768},
    )
    doc = orjson.loads(asyncio.run(_send(VENDORS["cloudflare"], embed).read()))
    assert doc["success"] is True and doc["result"]["shape"] == [1, 768]
    unknown = dataclasses.replace(embed, wire="deepgram", operation="transcription")
    response = _send(VENDORS["deepgram"], unknown)
    raw = asyncio.run(response.read())
    assert response.status == 501 and "transcription" in OpenAIWire().parse_error(501, raw, {}).message


# -- the response object --------------------------------------------------------------------------
async def _pieces(response: SimulatedResponse) -> list[bytes]:
    return [piece async for piece in response.content.iter_any()]


def test_response_has_the_client_response_shape() -> None:
    _, response = _chat("anthropic", stream=True)
    pieces = asyncio.run(_pieces(response))
    assert len(pieces) > 5 and all(p.startswith(b"event: ") and p.endswith(b"\n\n") for p in pieces)
    assert asyncio.run(response.read()) == b"".join(pieces)
    assert response.headers["CONTENT-TYPE"] == response.headers["content-type"]
    assert response.reason == "OK" and not response.closed
    response.release()
    response.close()
    assert response.closed
    assert SimulatedResponse(299, (b"{}",)).reason == ""


def test_a_stream_can_be_cancelled_between_pieces() -> None:
    _, response = _chat("openai", stream=True)

    async def scenario() -> list[bytes]:
        got: list[bytes] = []

        async def consume() -> None:
            async for piece in response.content.iter_any():
                got.append(piece)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)  # the consumer takes the first piece, then yields at the next
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return got

    assert len(asyncio.run(scenario())) == 1


def test_a_failing_synthesizer_answers_500_instead_of_raising(caplog: pytest.LogCaptureFixture) -> None:
    transport = SimulatedTransport()

    def broken(request: UpstreamRequest, body: Any) -> SimulatedResponse:
        raise RuntimeError("boom")

    transport.handlers[("openai", "chat")] = broken
    request = UpstreamRequest(url="https://x/v1/chat/completions", headers={}, body=b"{}")
    response = asyncio.run(transport.send(VENDORS["openai"], request))
    assert response.status == 500 and b"simulated provider failed" in asyncio.run(response.read())
    assert "boom" in caplog.text
