"""Moderation and task models of the integration gateway, and the upstreams they reach.

Mistral (moderation, OCR), Hugging Face (the Inference API), a vendor serving Llama Guard as a chat
model and Cloudflare Workers AI (configured by models_vectors) all point at the simulator, whose
ml_wire answers each in its own format. ``rec/...`` replays a real recording.
"""

from __future__ import annotations

from typing import Any

from tests.integration.models_vectors import UPSTREAM_KEY


def ml_providers(sim_url: str) -> list[str]:
    """Config-file lines for the moderation and task vendors (simulator URLs)."""
    lines: list[str] = []
    for name, path, wire in (
        ("mistral", "/mistral/v1", None),
        ("huggingface", "/hf-inference/models", "huggingface"),
        ("guard", "/llama-guard/v1", None),
    ):
        lines += [f"[providers.{name}]", f'base_url = "{sim_url}{path}"', f'api_key = "{UPSTREAM_KEY}"']
        lines += [f'wire = "{wire}"', ""] if wire else [""]
    return lines


def _model(
    model_id: str, modality: str, provider: str, upstream: str, pricing: dict[str, str]
) -> dict[str, Any]:
    return {
        "id": model_id,
        "modality": modality,
        "pricing": pricing,
        "deployments": [{"provider": provider, "upstream_model": upstream}],
    }


FREE = {"input_per_mtok": "0"}  # OpenAI's and Mistral's moderation are free: a real price of 0
GUARD_PRICE = {"input_per_mtok": "0.2", "output_per_mtok": "0.2"}
M2M_PRICE = {"input_per_mtok": "0.342", "output_per_mtok": "0.342"}
SST_PRICE = {"input_per_mtok": "0.026"}
PER_QUERY = {"per_query": "0.001"}
PER_IMAGE = {"input_per_image": "0.002"}
PER_PAGE = {"per_page": "0.001"}

ML_MODELS: list[dict[str, Any]] = [
    _model("ml/omni", "moderation", "sim", "omni-moderation-latest", FREE),
    _model("rec/mod-openai", "moderation", "sim", "rec:openai/moderations", FREE),
    _model("ml/mistral-mod", "moderation", "mistral", "mistral-moderation-latest", FREE),
    _model("ml/guard", "moderation", "guard", "meta-llama/Llama-Guard-3-8B", GUARD_PRICE),
    _model("ml/m2m", "translation", "cloudflare", "@cf/meta/m2m100-1.2b", M2M_PRICE),
    _model("ml/sst", "classification", "cloudflare", "@cf/huggingface/distilbert-sst-2-int8", SST_PRICE),
    _model("ml/detr", "detection", "cloudflare", "@cf/facebook/detr-resnet-50", PER_IMAGE),
    _model("ml/hf-opus", "translation", "huggingface", "Helsinki-NLP/opus-mt-en-fr", PER_QUERY),
    _model(
        "ml/hf-sst",
        "classification",
        "huggingface",
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        PER_QUERY,
    ),
    _model("ml/hf-mnli", "classification", "huggingface", "facebook/bart-large-mnli", PER_QUERY),
    _model("ml/hf-detr", "detection", "huggingface", "facebook/detr-resnet-50", PER_QUERY),
    _model("ml/hf-trocr", "ocr", "huggingface", "microsoft/trocr-base-printed", PER_QUERY),
    _model("ml/mistral-ocr", "ocr", "mistral", "mistral-ocr-latest", PER_PAGE),
    _model(
        "ml/detr-per-output-image",
        "detection",
        "cloudflare",
        "@cf/facebook/detr-resnet-50",
        {"per_image": "0.01"},
    ),
]
