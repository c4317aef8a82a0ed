"""Moderation adapters: OpenAI passed through, Mistral and Llama Guard mapped to OpenAI's categories."""

from __future__ import annotations

import orjson
import pytest

from aigateway.core.catalog import CatalogError, parse_entry
from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage, price_usage
from aigateway.providers.registry import build_adapters
from aigateway.providers.vendors import build_vendors
from aigateway.providers.wire.base import Target
from aigateway.providers.wire.moderation import (
    LLAMA_GUARD,
    MISTRAL_TO_OPENAI,
    OPENAI_CATEGORIES,
    parse_llama_guard,
)
from aigateway.simulators import synth_ml

VENDORS = build_vendors({}, environ={"CLOUDFLARE_ACCOUNT_ID": "acct"})
ADAPTERS = build_adapters()


def test_llama_guard_answers() -> None:
    assert parse_llama_guard("safe") == (False, [])
    assert parse_llama_guard("\n\nunsafe\nS1,S10") == (True, ["S1", "S10"])
    assert parse_llama_guard("unsafe\nS2\nS14") == (True, ["S2", "S14"])
    with pytest.raises(ValueError):
        parse_llama_guard("I cannot help with that")


def test_the_mappings_name_only_openai_categories() -> None:
    assert sorted(LLAMA_GUARD, key=lambda c: int(c[1:])) == [f"S{i}" for i in range(1, 15)]
    for _name, targets in LLAMA_GUARD.values():
        assert set(targets) <= set(OPENAI_CATEGORIES)
    for targets in MISTRAL_TO_OPENAI.values():
        assert set(targets) <= set(OPENAI_CATEGORIES)
    assert set(MISTRAL_TO_OPENAI) == set(synth_ml.MISTRAL_CATEGORIES)


def _request(model: str, vendor: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    profile = VENDORS[vendor]
    adapter = ADAPTERS[(profile.wire, "moderations")]
    return adapter, adapter.build_request(body, Target(model), profile, "sk")


def test_openai_is_passed_through_byte_for_byte() -> None:
    adapter, request = _request("omni-moderation-latest", "openai", {"model": "openai/omni", "input": "x"})
    assert request.url == "https://api.openai.com/v1/moderations"
    assert orjson.loads(request.body or b"") == {"model": "omni-moderation-latest", "input": "x"}
    raw = orjson.dumps(synth_ml.openai_moderation({"input": "kill", "model": "omni-moderation-latest"}))
    translated = adapter.parse_response(raw, request)
    assert translated.body == raw and translated.usage is None


def test_mistral_categories_become_openai_ones() -> None:
    adapter, request = _request("mistral-moderation-latest", "mistral", {"input": ["I hate you", "hi"]})
    assert request.url == "https://api.mistral.ai/v1/moderations" and request.wire == "mistral"
    raw = orjson.dumps(synth_ml.mistral_moderation(orjson.loads(request.body or b"")))
    translated = adapter.parse_response(raw, request)
    doc = orjson.loads(translated.body)
    first, second = doc["results"]
    assert first["flagged"] and first["categories"]["hate"] and first["categories"]["harassment"]
    assert first["category_scores"]["hate"] == first["provider_category_scores"]["hate_and_discrimination"]
    assert not second["flagged"] and not any(second["categories"].values())
    assert translated.usage is not None and translated.usage.input_tokens > 0
    with pytest.raises(InvalidRequest):
        _request("m", "mistral", {"input": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]})


def test_llama_guard_goes_through_the_deployments_chat_adapter() -> None:
    adapter, request = _request("meta-llama/llama-guard-4-12b", "groq", {"model": "g", "input": "hello"})
    assert request.url == "https://api.groq.com/openai/v1/chat/completions"
    sent = orjson.loads(request.body or b"")
    assert sent["messages"] == [{"role": "user", "content": "hello"}] and "response_format" not in sent
    answer = {
        "model": "llama-guard",
        "choices": [{"message": {"content": "unsafe\nS11,S7"}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4},
    }
    translated = adapter.parse_response(orjson.dumps(answer), request)
    result = orjson.loads(translated.body)["results"][0]
    assert (
        result["flagged"]
        and result["categories"]["self-harm"]
        and result["category_scores"]["self-harm"] == 1.0
    )
    assert result["provider_categories"]["privacy"] and result["category_scores"]["violence"] == 0.0
    assert translated.usage == Usage(input_tokens=9, output_tokens=4)
    cloudflare = _request("@cf/meta/llama-guard-3-8b", "cloudflare", {"input": "hi"})[1]
    assert cloudflare.url == "https://api.cloudflare.com/client/v4/accounts/acct/ai/v1/chat/completions"
    with pytest.raises(InvalidRequest):
        _request("meta-llama/llama-guard-4-12b", "groq", {"input": ["a", "b"]})


def test_a_free_moderation_model_is_priced_not_unpriced() -> None:
    raw = {
        "id": "x/mod",
        "modality": "moderation",
        "deployments": [{"provider": "openai", "upstream_model": "m"}],
    }
    free = parse_entry({**raw, "pricing": {"input_per_mtok": "0"}})
    assert price_usage(Usage(input_tokens=10_000, queries=1), free.pricing) == 0
    with pytest.raises(CatalogError, match="never billed as \\$0"):
        parse_entry({**raw, "pricing": {}})
