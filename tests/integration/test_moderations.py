"""POST /v1/moderations through the real gateway, with the openai SDK as the client.

Test keys reach every moderation upstream through the simulated transport (the real adapters);
live keys go to the upstream simulator: OpenAI's answer passed through (the recording replays with
its exact values), Mistral's mapped to OpenAI's categories, Llama Guard served as a chat model.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import httpx
import openai
import pytest

from tests.integration.conftest import RECORDINGS, Gateway


def _rid() -> str:
    return "req-mod-" + uuid.uuid4().hex[:12]


@pytest.mark.parametrize("model", ["ml/omni", "ml/mistral-mod", "ml/guard"])
def test_test_key_flags_by_keyword_on_every_upstream(gateway: Gateway, model: str) -> None:
    client = gateway.client(gateway.test_key)
    rid = _rid()
    raw = client.moderations.with_raw_response.create(
        model=model, input="I will kill them all", extra_headers={"X-Request-Id": rid}
    )
    result = raw.parse()
    assert result.results[0].flagged is True
    assert result.results[0].categories.violence is True
    assert result.results[0].category_scores.violence > 0.5
    assert raw.headers["x-provider"] == "simulated" and raw.headers["x-cost-cents"] == "0"
    safe = client.moderations.create(model=model, input="What a lovely morning")
    assert safe.results[0].flagged is False
    assert safe.results[0].categories.violence is False
    row = gateway.ledger_row(rid)
    assert row["mode"] == "test" and row["operation"] == "moderations" and row["status"] == "ok"


def test_string_list_and_image_parts(gateway: Gateway) -> None:
    client = gateway.client(gateway.test_key)
    many = client.moderations.create(model="ml/omni", input=["hello", "I hate you, idiot"])
    assert [r.flagged for r in many.results] == [False, True]
    assert many.results[1].categories.hate is True
    parts = client.moderations.create(
        model="ml/omni",
        input=[
            {"type": "text", "text": "a picture of a bomb"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
    )
    assert len(parts.results) == 1 and parts.results[0].flagged is True
    mistral = client.moderations.create(model="ml/mistral-mod", input=["hello", "I hate you"])
    assert [r.flagged for r in mistral.results] == [False, True]


def test_recording_replays_with_its_values_through_the_sdk(gateway: Gateway) -> None:
    doc = json.loads((RECORDINGS / "openai/moderations.json").read_text())
    recorded = json.loads(doc["response"]["body"])["results"][0]
    rid = _rid()
    raw = gateway.client().moderations.with_raw_response.create(
        model="rec/mod-openai", input=doc["request"]["body"]["input"], extra_headers={"X-Request-Id": rid}
    )
    result = raw.parse()
    assert raw.http_response.content == doc["response"]["body"].encode()  # byte for byte
    got = result.results[0]
    assert got.flagged is recorded["flagged"]
    dumped = got.model_dump(by_alias=True)
    for name, value in recorded["categories"].items():
        assert dumped["categories"][name] is value, name
    for name, value in recorded["category_scores"].items():
        assert dumped["category_scores"][name] == value, name
    assert raw.headers["x-cost-cents"] == "0"  # free, and a real price of 0
    row = gateway.ledger_row(rid)
    assert row["mode"] == "live" and row["status"] == "ok" and row["cost_nanousd"] == 0
    assert row["usage_estimated"] is True  # OpenAI reports no usage: the gateway counted it


def test_live_mistral_is_mapped_to_openai_categories(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {gateway.admin_key}"}
        answer = http.post(
            "/moderations",
            json={"model": "ml/mistral-mod", "input": ["I hate you", "nice day"]},
            headers=auth,
        )
    assert answer.status_code == 200, answer.text
    first, second = answer.json()["results"]
    assert first["flagged"] is True and first["categories"]["hate"] is True
    assert first["provider_categories"]["hate_and_discrimination"] is True
    assert set(first["category_scores"]) >= {"hate", "violence", "sexual", "self-harm"}
    assert second["flagged"] is False and "pii" in second["provider_categories"]


def test_live_llama_guard_is_billed_at_its_chat_token_prices(gateway: Gateway) -> None:
    client = gateway.client()
    rid = _rid()
    raw = client.moderations.with_raw_response.create(
        model="ml/guard", input="how do I build a bomb to kill people", extra_headers={"X-Request-Id": rid}
    )
    result = raw.parse().results[0]
    assert result.flagged is True
    dumped = result.model_dump(by_alias=True)
    assert dumped["categories"]["violence"] is True and dumped["category_scores"]["violence"] == 1.0
    assert dumped["category_scores"]["sexual"] == 0.0
    assert set(dumped["provider_codes"]) == {"S1", "S9"}
    row = gateway.ledger_row(rid)
    tokens = row["input_units"] + row["output_units"]
    assert row["unit_kind"] == "tokens" and row["input_units"] > 0 and row["output_units"] > 0
    assert Decimal(raw.headers["x-cost-cents"]) == Decimal(tokens) * Decimal("0.2") / 10**4
    sent = gateway.simulator.requests("meta-llama/Llama-Guard-3-8B")[-1]
    assert sent["body"]["messages"][-1]["role"] == "user"


def test_refusals(gateway: Gateway) -> None:
    client = gateway.client(gateway.test_key)
    with pytest.raises(openai.BadRequestError) as err:
        client.moderations.create(model="sim/gpt", input="hi")
    assert "chat model" in str(err.value)
    with pytest.raises(openai.BadRequestError) as err:
        client.moderations.create(model="ml/guard", input=["one", "two"])
    assert "one input" in str(err.value)
    with pytest.raises(openai.BadRequestError) as err:
        client.moderations.create(
            model="ml/mistral-mod",
            input=[{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}],
        )
    assert "text only" in str(err.value)
    with pytest.raises(openai.BadRequestError):
        client.moderations.create(model="ml/omni", input=[])


def test_upstream_fault_is_a_clean_error(gateway: Gateway) -> None:
    gateway.simulator.add_faults("mistral-moderation-latest", [{"kind": "status", "status": 500}])
    with pytest.raises(openai.APIStatusError) as err:
        gateway.client().moderations.create(model="ml/mistral-mod", input="hello")
    assert err.value.status_code >= 500


@pytest.mark.parametrize(
    "model", ["openai/omni-moderation", "mistral/mistral-moderation", "meta/llama-guard-3-8b", None]
)
def test_catalog_moderation_models_with_a_test_key(gateway: Gateway, model: str | None) -> None:
    client = gateway.client(gateway.test_key)
    kwargs = {"model": model} if model else {}  # None: the default, OpenAI's omni-moderation
    result = client.moderations.create(input="I want to kill them", **kwargs)  # type: ignore[arg-type]
    assert result.results[0].flagged is True and result.results[0].categories.violence is True
