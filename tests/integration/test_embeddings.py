"""POST /v1/embeddings through the real gateway, with the openai SDK as the client.

Test keys reach every embeddings wire through the simulated transport (the real adapters); live
keys replay every embeddings recording through the upstream simulator, and the vectors the SDK
returns equal the recorded ones.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import uuid
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from tests.integration.conftest import RECORDINGS, Gateway

WIRES = {
    "sim/embed": 64,
    "sim/embed-openai": 1536,
    "sim/embed-cohere": 1536,
    "sim/embed-voyage": 1024,
    "sim/embed-jina": 1024,
    "sim/embed-gemini": 768,
    "sim/embed-cloudflare": 1024,
}


def _rid() -> str:
    return "req-emb-" + uuid.uuid4().hex[:12]


def _recorded_vectors(name: str) -> list[list[float]]:
    doc = json.loads((RECORDINGS / f"{name}.json").read_text())
    body = json.loads(doc["response"]["body"])
    if "embeddings" in body and isinstance(body["embeddings"], dict):  # Cohere v2
        return [list(map(float, v)) for v in body["embeddings"]["float"]]
    if "embeddings" in body:  # Gemini
        return [list(map(float, e["values"])) for e in body["embeddings"]]
    out = []
    for item in sorted(body["data"], key=lambda d: d.get("index", 0)):
        vec = item["embedding"]
        if isinstance(vec, str):
            raw = base64.b64decode(vec)
            out.append(list(struct.unpack(f"<{len(raw) // 4}f", raw)))
        else:
            out.append([float(x) for x in vec])
    return out


def _float32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


@pytest.mark.parametrize("model", sorted(WIRES))
def test_test_key_every_wire(gateway: Gateway, model: str) -> None:
    client = gateway.client(gateway.test_key)
    rid = _rid()
    raw = client.embeddings.with_raw_response.create(
        model=model, input=["The capital of France is Paris.", "Bonjour"], extra_headers={"X-Request-Id": rid}
    )
    result = raw.parse()
    assert [d.index for d in result.data] == [0, 1]
    for item in result.data:
        assert len(item.embedding) == WIRES[model]
        assert math.isclose(math.sqrt(sum(x * x for x in item.embedding)), 1.0, rel_tol=1e-4)
    assert result.usage.prompt_tokens > 0
    assert raw.headers["x-provider"] == "simulated" and raw.headers["x-cost-cents"] == "0"
    again = client.embeddings.create(model=model, input=["The capital of France is Paris."])
    assert again.data[0].embedding == result.data[0].embedding  # deterministic
    row = gateway.ledger_row(rid)
    assert row["mode"] == "test" and row["cost_nanousd"] == 0 and row["status"] == "ok"
    assert row["operation"] == "embeddings" and row["unit_kind"] == "tokens"
    assert row["call_id"].startswith("call_") and row["request_id"] == rid


def test_float_format_and_dimensions(gateway: Gateway) -> None:
    client = gateway.client(gateway.test_key)
    floats = client.embeddings.create(
        model="sim/embed-openai", input="hi", encoding_format="float", dimensions=256
    )
    assert len(floats.data[0].embedding) == 256
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {gateway.test_key}"}
        doc = http.post("/embeddings", json={"model": "sim/embed", "input": "hi"}, headers=auth).json()
        assert isinstance(doc["data"][0]["embedding"], list)  # float is the default
        doc = http.post(
            "/embeddings",
            json={"model": "sim/embed", "input": "hi", "encoding_format": "base64"},
            headers=auth,
        ).json()
        packed = base64.b64decode(doc["data"][0]["embedding"])
        assert len(packed) == 64 * 4


def test_token_id_input(gateway: Gateway) -> None:
    client = gateway.client(gateway.test_key)
    ok = client.embeddings.create(model="sim/embed-openai", input=[[1, 2, 3], [4, 5]])
    assert len(ok.data) == 2
    with pytest.raises(openai.BadRequestError) as err:
        client.embeddings.create(model="sim/embed-cohere", input=[[1, 2, 3]])
    assert "token ids" in str(err.value)


@pytest.mark.parametrize(
    ("model", "recording", "dims"),
    [
        ("rec/emb-openai-ada", "openai/embeddings-base64", 1536),
        ("rec/emb-openai-3-small", "openai/embeddings-3-small-base64", 1536),
        ("rec/emb-mistral", "mistral/embeddings", 1024),
        ("rec/emb-cohere", "cohere/embed-v2", 1024),
        ("rec/emb-voyage", "voyage/embeddings-base64", 512),
        ("rec/emb-gemini", "gemini/batch-embed-contents", 768),
    ],
)
def test_recordings_replay_through_the_sdk(gateway: Gateway, model: str, recording: str, dims: int) -> None:
    expected = _recorded_vectors(recording)
    doc = json.loads((RECORDINGS / f"{recording}.json").read_text())
    sent = doc["request"]["body"]
    texts: Any = (
        sent.get("input") or sent.get("texts") or [r["content"]["parts"][0]["text"] for r in sent["requests"]]
    )
    rid = _rid()
    client = gateway.client()
    raw = client.embeddings.with_raw_response.create(
        model=model, input=texts, extra_headers={"X-Request-Id": rid}
    )
    result = raw.parse()
    got = [list(map(float, d.embedding)) for d in result.data]
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        # The SDK decodes base64 as float32; a float answer compares at float32 precision too.
        assert _float32(mine) == _float32(theirs)
    tokens = result.usage.prompt_tokens
    assert tokens > 0
    cost = Decimal(raw.headers["x-cost-cents"])
    assert cost == Decimal(tokens) * Decimal("0.1") / 10**4  # 0.1 $/Mtok, in cents
    row = gateway.ledger_row(rid)
    assert row["status"] == "ok" and row["mode"] == "live" and row["input_units"] == tokens
    assert row["usage_estimated"] is (recording == "gemini/batch-embed-contents")


def test_openai_answers_pass_through_byte_for_byte(gateway: Gateway) -> None:
    doc = json.loads((RECORDINGS / "openai/embeddings-3-small-base64.json").read_text())
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        answer = http.post(
            "/embeddings",
            json={"model": "rec/emb-openai-3-small", "input": ["Hello, world!"], "encoding_format": "base64"},
            headers={"Authorization": f"Bearer {gateway.admin_key}"},
        )
    assert answer.status_code == 200
    assert answer.content == doc["response"]["body"].encode()


@pytest.mark.parametrize(
    ("model", "words"), [("rec/emb-cohere-404", "not found"), ("rec/emb-voyage-400", "not supported")]
)
def test_recorded_upstream_errors(gateway: Gateway, model: str, words: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        gateway.client().embeddings.create(model=model, input=["Hello, world!"])
    assert words in str(err.value)


def test_refusals(gateway: Gateway) -> None:
    client = gateway.client(gateway.test_key)
    with pytest.raises(openai.BadRequestError, match="cannot serve embeddings"):
        client.embeddings.create(model="sim/gpt", input="hi")
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="sim/embed", input="")
    with pytest.raises(openai.BadRequestError, match="dimensions"):
        client.embeddings.create(model="sim/embed", input="hi", dimensions=65)
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="nope/nothing", input="hi")
