"""The committed catalog's named models: the API contract's example models and the published prices
the curated deployments carry (scripts/catalog_curated.py), checked against what each price page says."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_catalog_data import (
    CATALOG_PATH,
    EMBEDDING_VENDORS,
    KEPT_AS_LISTED,
    MODALITIES,
    PROVIDERS,
    REQUIRED_PRICES,
    RERANK_EXCEPTIONS,
    RERANK_VENDORS,
)


@pytest.fixture(scope="module")
def models() -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))["models"]
    return result


@pytest.fixture(scope="module")
def by_id(models: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in models}


# Every example model of the API contract (../shared/api/aigateway-openapi.json, read 2026-12-02): its
# modality, the price its meter needs, and the first (real) upstream serving it.
CONTRACT_EXAMPLES: dict[str, tuple[str, str, str, str]] = {
    "anthropic/claude-opus-4.7": ("text", "input_per_mtok", "anthropic", "claude-opus-4-7"),
    "baai/bge-m3": ("embedding", "input_per_mtok", "novita", "baai/bge-m3"),
    "baai/bge-reranker-base": ("rerank", "input_per_mtok", "cloudflare", "@cf/baai/bge-reranker-base"),
    "black-forest-labs/flux-2-klein-9b": ("image", "per_image", "bfl", "flux-2-klein-9b"),
    "deepgram/nova-3": ("audio-stt", "input_per_second", "deepgram", "nova-3"),
    "deepgram/aura-2-en": ("audio-tts", "per_mchar", "deepgram", "aura-2-thalia-en"),
    "meta/llama-guard-3-8b": (
        "moderation",
        "input_per_mtok",
        "fireworks",
        "accounts/fireworks/models/llama-guard-3-8b",
    ),
    "meta/m2m100-1.2b": ("translation", "input_per_mtok", "cloudflare", "@cf/meta/m2m100-1.2b"),
    "huggingface/distilbert-sst-2": (
        "classification",
        "input_per_mtok",
        "cloudflare",
        "@cf/huggingface/distilbert-sst-2-int8",
    ),
    # Hugging Face hf-inference bills compute time: $0.00012 a second (its Inference Providers pricing).
    "facebook/detr-resnet-50": ("detection", "per_compute_second", "huggingface", "facebook/detr-resnet-50"),
    "microsoft/trocr-base-printed": (
        "ocr",
        "per_compute_second",
        "huggingface",
        "microsoft/trocr-base-printed",
    ),
}
CONTRACT_PATH = Path(__file__).resolve().parents[3] / "shared" / "api" / "aigateway-openapi.json"
# Upstreams a modality's models may be deployed on: the lab APIs and hosts that serve it.
REAL_UPSTREAMS: dict[str, set[str]] = {
    "image": {"openai", "xai", "google", "together", "bfl", "cloudflare", "azure", "bedrock"},
    "audio-tts": {
        "openai",
        "deepgram",
        "elevenlabs",
        "minimax",
        "mistral",
        "google",
        "groq",
        "cloudflare",
        "azure",
    },
    "moderation": {"openai", "mistral", "groq", "together", "fireworks", "deepinfra", "cloudflare"},
    "translation": {"cloudflare"},
    "classification": {"cloudflare", "huggingface"},
    "detection": {"cloudflare", "huggingface"},
    "ocr": {"mistral", "azure", "huggingface"},
}


def _contract_examples(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        model = node.get("properties", {}).get("model") if isinstance(node.get("properties"), dict) else None
        if isinstance(model, dict) and isinstance(model.get("example"), str):
            found.add(model["example"])
        for value in node.values():
            found |= _contract_examples(value)
    elif isinstance(node, list):
        for value in node:
            found |= _contract_examples(value)
    return found


@pytest.mark.skipif(not CONTRACT_PATH.exists(), reason="the shared API contract is not checked out beside")
def test_contract_examples_are_all_accounted_for() -> None:
    contract = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    assert _contract_examples(contract) == set(CONTRACT_EXAMPLES)


@pytest.mark.parametrize(("model_id", "expected"), sorted(CONTRACT_EXAMPLES.items()))
def test_api_contract_example_models(
    by_id: dict[str, dict[str, Any]], model_id: str, expected: tuple[str, str, str, str]
) -> None:
    """The OpenAPI contract's example models exist, are priced and are served by a real upstream."""
    modality, price_key, provider, upstream = expected
    model = by_id[model_id]
    assert model["modality"] == modality
    assert Decimal(model["pricing"][price_key]) > 0
    first = model["deployments"][0]
    assert (first["provider"], first["upstream_model"]) == (provider, upstream)
    for dep in model["deployments"]:
        assert Decimal(dep.get("pricing", model["pricing"])[price_key]) > 0, dep
        assert dep["provider"] in REAL_UPSTREAMS.get(modality, PROVIDERS), (model_id, dep["provider"])


def test_default_task_models_are_the_contract_examples(by_id: dict[str, dict[str, Any]]) -> None:
    """Each task endpoint's default model (used when a request names none) is in the catalog."""
    from aigateway.settings import Settings

    settings = Settings()
    defaults = {
        "translation": settings.default_translation_model,
        "classification": settings.default_classification_model,
        "detection": settings.default_detection_model,
        "ocr": settings.default_ocr_model,
    }
    for modality, model_id in defaults.items():
        assert by_id[model_id]["modality"] == modality, model_id
        assert model_id in CONTRACT_EXAMPLES, model_id


@pytest.mark.parametrize(
    ("model_id", "provider", "upstream", "pricing"),
    [
        # docs.bfl.ai pricing: FLUX.2 [klein] 9B 1.5 credits ($0.015) for the first megapixel, 0.2 per
        # input-image megapixel; FLUX.2 [pro] 3 and 1.5.
        (
            "black-forest-labs/flux-2-klein-9b",
            "bfl",
            "flux-2-klein-9b",
            {"per_image": "0.015", "input_per_image": "0.002"},
        ),
        (
            "black-forest-labs/flux-2-klein-9b",
            "cloudflare",
            "@cf/black-forest-labs/flux-2-klein-9b",
            {"per_image": "0.015", "input_per_image": "0.002"},
        ),
        (
            "black-forest-labs/flux-2-pro",
            "bfl",
            "flux-2-pro",
            {"per_image": "0.03", "input_per_image": "0.015"},
        ),
        ("black-forest-labs/flux-2-pro", "azure", "flux.2-pro", {"per_image": "0.04"}),
        ("black-forest-labs/flux-1.1-pro", "bfl", "flux-pro-1.1", {"per_image": "0.04"}),
        ("black-forest-labs/flux-1-kontext-pro", "bfl", "flux-kontext-pro", {"per_image": "0.04"}),
        # Workers AI pricing page: Aura-2 $0.030 per 1k characters; m2m100 $0.342 per M tokens each way;
        # distilbert-sst-2-int8 $0.026 per M input tokens; Llama Guard 3 8B $0.484 in, $0.030 out.
        ("deepgram/aura-2-en", "cloudflare", "@cf/deepgram/aura-2-en", {"per_mchar": "30"}),
        # deepgram.com/pricing: Aura-2 $0.030 per 1k characters, pay as you go.
        ("deepgram/aura-2-en", "deepgram", "aura-2-thalia-en", {"per_mchar": "30"}),
        (
            "meta/m2m100-1.2b",
            "cloudflare",
            "@cf/meta/m2m100-1.2b",
            {"input_per_mtok": "0.342", "output_per_mtok": "0.342"},
        ),
        (
            "huggingface/distilbert-sst-2",
            "cloudflare",
            "@cf/huggingface/distilbert-sst-2-int8",
            {"input_per_mtok": "0.026"},
        ),
        (
            "meta/llama-guard-3-8b",
            "cloudflare",
            "@cf/meta/llama-guard-3-8b",
            {"input_per_mtok": "0.484", "output_per_mtok": "0.03"},
        ),
        (
            "meta/llama-guard-3-8b",
            "fireworks",
            "accounts/fireworks/models/llama-guard-3-8b",
            {"input_per_mtok": "0.2", "output_per_mtok": "0.2"},
        ),
        # huggingface.co/docs/inference-providers/pricing: hf-inference, compute time at $0.00012/s.
        (
            "facebook/detr-resnet-50",
            "huggingface",
            "facebook/detr-resnet-50",
            {"per_compute_second": "0.00012"},
        ),
        (
            "microsoft/trocr-base-printed",
            "huggingface",
            "microsoft/trocr-base-printed",
            {"per_compute_second": "0.00012"},
        ),
        # Mistral OCR: $4 per 1,000 pages (annotations extra).
        ("mistral/mistral-ocr-latest", "mistral", "mistral-ocr-latest", {"per_page": "0.004"}),
    ],
)
def test_published_prices(
    by_id: dict[str, dict[str, Any]], model_id: str, provider: str, upstream: str, pricing: dict[str, str]
) -> None:
    model = by_id[model_id]
    dep = next(
        d for d in model["deployments"] if (d["provider"], d["upstream_model"]) == (provider, upstream)
    )
    assert dep.get("pricing", model["pricing"]) == pricing


def test_the_labs_own_flux_api_comes_first(by_id: dict[str, dict[str, Any]]) -> None:
    flux = [m for m in by_id.values() if m["lab"] == "black-forest-labs"]
    assert len(flux) >= 4
    for model in flux:
        assert model["deployments"][0]["provider"] == "bfl", model["id"]
        assert "pricing" not in model["deployments"][0], model["id"]


def test_image_models_reach_the_image_vendors(models: list[dict[str, Any]]) -> None:
    """OpenAI, xAI, Google (Imagen and Gemini image) and BFL each serve image models from the catalog."""
    served = {d["provider"] for m in models if m["modality"] == "image" for d in m["deployments"]}
    assert {"openai", "xai", "google", "bfl", "cloudflare"} <= served
    google = {
        m["id"] for m in models if m["modality"] == "image" and m["deployments"][0]["provider"] == "google"
    }
    assert any("imagen" in i for i in google) and any("gemini" in i for i in google)


def test_moderation_prices_are_the_published_ones(by_id: dict[str, dict[str, Any]]) -> None:
    """OpenAI's moderation models are free (developers.openai.com, omni-moderation-latest); Mistral's
    moderation model is listed at $0 in the snapshot (its model card); Llama Guard is billed per token."""
    free = {"input_per_mtok": "0", "output_per_mtok": "0"}
    assert by_id["openai/omni-moderation"]["pricing"] == free
    assert by_id["mistral/mistral-moderation"]["pricing"] == free
    moderation = [m for m in by_id.values() if m["modality"] == "moderation"]
    assert {m["id"] for m in moderation} >= {"openai/omni-moderation", "meta/llama-guard-3-8b"}
    assert Decimal(by_id["meta/llama-guard-3-8b"]["pricing"]["input_per_mtok"]) > 0


def test_required_prices_cover_every_modality() -> None:
    assert set(REQUIRED_PRICES) == MODALITIES


def test_bge_m3_on_cloudflare(by_id: dict[str, dict[str, Any]]) -> None:
    deps = {d["provider"]: d for d in by_id["baai/bge-m3"]["deployments"]}
    assert deps["cloudflare"]["upstream_model"] == "@cf/baai/bge-m3"
    assert deps["cloudflare"]["pricing"] == {"input_per_mtok": "0.012"}
    assert by_id["baai/bge-m3"]["pricing"] == {"input_per_mtok": "0.01"}
    assert by_id["baai/bge-reranker-base"]["pricing"] == {"input_per_mtok": "0.003"}


def test_embedding_and_rerank_deployments_have_adapters(models: list[dict[str, Any]]) -> None:
    for m in models:
        allowed = {"embedding": EMBEDDING_VENDORS, "rerank": RERANK_VENDORS}.get(m["modality"])
        if allowed is None:
            continue
        for dep in m["deployments"]:
            provider = dep["provider"]
            ok = provider in allowed | KEPT_AS_LISTED or (m["id"], provider) in RERANK_EXCEPTIONS
            assert ok, f"{m['id']}: {m['modality']} on {provider}"
