"""Checks on the committed model catalog (src/aigateway/data/catalog.json).

The catalog is derived by scripts/build_catalog.py from a pricing snapshot; these tests read only the
committed JSON (and the built-in vendor names) so that the product requirements cannot silently regress
when it is regenerated.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aigateway.core.catalog import MODALITIES as LOADER_MODALITIES
from aigateway.providers.vendors import BUILTIN_VENDORS

CATALOG_PATH = Path(__file__).resolve().parents[2] / "src" / "aigateway" / "data" / "catalog.json"

PROVIDERS = {
    "openai", "anthropic", "google", "xai", "moonshot", "minimax", "deepseek", "mistral", "groq",
    "together", "fireworks", "openrouter", "cerebras", "deepinfra", "perplexity", "cohere", "zai",
    "dashscope", "sambanova", "voyage", "deepgram", "elevenlabs", "jina", "ai21", "nvidia_nim",
    "bedrock", "azure", "novita", "cloudflare", "bfl", "huggingface",
}  # fmt: skip
# Vendors the gateway has (or is getting) an adapter for, per operation. OpenAI-wire vendors serve
# embeddings only; Bedrock and Azure deployments are kept as the snapshot lists them.
OPENAI_WIRE_EMBEDDING_VENDORS = {
    "openai", "mistral", "together", "fireworks", "perplexity", "novita", "deepinfra",
}  # fmt: skip
EMBEDDING_VENDORS = OPENAI_WIRE_EMBEDDING_VENDORS | {"cohere", "voyage", "jina", "google", "cloudflare"}
RERANK_VENDORS = {"cohere", "voyage", "jina", "cloudflare"}
KEPT_AS_LISTED = {"bedrock", "azure"}
# Known exception: Fireworks serves qwen3-reranker-8b through its own (non-OpenAI) rerank API.
RERANK_EXCEPTIONS = {("qwen/qwen3-reranker-8b", "fireworks")}
# price_source: a lab-API deployment priced by another snapshot key; curated_source: a deployment the
# snapshot does not price, with the provider's pricing page.
DEPLOYMENT_KEYS = {"provider", "upstream_model", "pricing", "price_source", "curated_source"}
MODALITIES = set(LOADER_MODALITIES)
# Every modality has a model (detection: DETR ResNet-50 on Hugging Face, billed per compute second).
UNREPRESENTED_MODALITIES: set[str] = set()
CAPABILITIES = [
    "chat", "streaming", "tools", "parallel_tools", "vision", "json_mode", "json_schema", "reasoning",
    "prompt_caching", "audio_input", "audio_output", "web_search", "pdf_input", "system_messages",
    "adaptive_thinking", "no_sampling",
]  # fmt: skip
PRICE_KEYS = {
    "input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "cache_write_per_mtok",
    "reasoning_per_mtok", "per_image", "input_per_second", "output_per_second", "per_mchar",
    "per_query", "input_per_image", "per_page", "per_compute_second",
}  # fmt: skip
# At least one key of each group must be present for a model of that modality.
REQUIRED_PRICES: dict[str, list[set[str]]] = {
    "text": [{"input_per_mtok"}, {"output_per_mtok"}],
    "embedding": [{"input_per_mtok"}],
    "image": [{"per_image", "output_per_mtok", "input_per_mtok"}],
    "audio-stt": [{"input_per_second", "input_per_mtok"}],
    "audio-tts": [{"per_mchar", "output_per_mtok", "output_per_second"}],
    "video": [{"output_per_second"}],
    "rerank": [{"per_query", "input_per_mtok"}],
    "moderation": [{"input_per_mtok"}],
    "translation": [{"input_per_mtok", "per_query", "per_mchar"}],
    "classification": [{"input_per_mtok", "per_query"}],
    "detection": [{"per_image", "input_per_image", "per_query", "input_per_mtok", "per_compute_second"}],
    "ocr": [{"per_page", "input_per_image", "input_per_mtok", "per_query", "per_compute_second"}],
}
# The lab's own API, which must be the first deployment whenever the model has one there.
LAB_OWN_PROVIDER = {
    "openai": "openai", "anthropic": "anthropic", "google": "google", "xai": "xai",
    "moonshot": "moonshot", "minimax": "minimax", "deepseek": "deepseek", "mistral": "mistral",
    "z-ai": "zai", "qwen": "dashscope", "cohere": "cohere", "ai21": "ai21", "perplexity": "perplexity",
    "voyage": "voyage", "jina": "jina", "deepgram": "deepgram", "elevenlabs": "elevenlabs",
    "black-forest-labs": "bfl",
}  # fmt: skip
FEATURED_PRICES = {
    "anthropic/claude-opus-4.7": ("5", "25"),
    "openai/gpt-5.4": ("2.5", "15"),
    "google/gemini-3.1-pro": ("2", "12"),
    "moonshot/kimi-k2.6": ("0.95", "4"),
    "anthropic/claude-sonnet-4.6": ("3", "15"),
    "minimax/m2.7": ("0.3", "1.2"),
    "openai/gpt-5.4-mini": ("0.75", "4.5"),
    "xai/grok-4": ("3", "15"),
    "google/gemini-3-flash": ("0.5", "3"),
    "anthropic/claude-haiku-4.5": ("1", "5"),
}
# The lab whose own API must be the first deployment of each featured model. xai/grok-4 is the exception:
# xAI retired grok-4 (grok-4-0709) from its API on 2026-05-15, so Azure AI Foundry serves it.
FEATURED_FIRST_PROVIDER = {
    "anthropic/claude-opus-4.7": "anthropic",
    "anthropic/claude-sonnet-4.6": "anthropic",
    "anthropic/claude-haiku-4.5": "anthropic",
    "openai/gpt-5.4": "openai",
    "openai/gpt-5.4-mini": "openai",
    "google/gemini-3.1-pro": "google",
    "google/gemini-3-flash": "google",
    "moonshot/kimi-k2.6": "moonshot",
    "minimax/m2.7": "minimax",
    "xai/grok-4": "azure",
}
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9.-]*")
# Normalised non-negative decimal: no exponent, no sign, no leading zeros, no trailing fractional zeros.
PRICE_RE = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")


@pytest.fixture(scope="module")
def raw() -> str:
    return CATALOG_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalog(raw: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw, parse_float=Decimal)
    return data


@pytest.fixture(scope="module")
def models(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = catalog["models"]
    return result


@pytest.fixture(scope="module")
def by_id(models: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in models}


def test_header(catalog: dict[str, Any]) -> None:
    assert list(catalog) == ["schema_version", "source", "snapshot_date", "generated_by", "models"]
    assert catalog["schema_version"] == 1
    assert catalog["source"] == "BerriAI/litellm model_prices_and_context_window.json (MIT licence)"
    assert catalog["snapshot_date"] == "2026-11-26"
    assert catalog["generated_by"] == "scripts/build_catalog.py"


def test_stable_formatting(raw: str) -> None:
    data = json.loads(raw)
    assert raw == json.dumps(data, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def test_no_floats_anywhere(catalog: dict[str, Any]) -> None:
    def walk(node: Any, path: str) -> None:
        assert not isinstance(node, float | Decimal), f"float at {path}"
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(catalog, "$")


def test_models_sorted_and_unique(models: list[dict[str, Any]]) -> None:
    ids = [m["id"] for m in models]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))


def test_size_floors(models: list[dict[str, Any]]) -> None:
    labs = {m["lab"] for m in models}
    assert len(models) >= 170, len(models)
    assert len(labs) >= 44, sorted(labs)


def test_slugs(models: list[dict[str, Any]]) -> None:
    for m in models:
        assert SLUG_RE.fullmatch(m["id"]), m["id"]
        assert m["id"].split("/", 1)[0] == m["lab"], m["id"]
        assert isinstance(m["name"], str) and m["name"].strip(), m["id"]


def test_featured_exactly_the_ten(models: list[dict[str, Any]]) -> None:
    assert all(isinstance(m["featured"], bool) for m in models)
    assert {m["id"] for m in models if m["featured"]} == set(FEATURED_PRICES)


@pytest.mark.parametrize(("model_id", "prices"), sorted(FEATURED_PRICES.items()))
def test_featured_prices(by_id: dict[str, dict[str, Any]], model_id: str, prices: tuple[str, str]) -> None:
    model = by_id[model_id]
    assert model["modality"] == "text"
    assert (model["pricing"]["input_per_mtok"], model["pricing"]["output_per_mtok"]) == prices


def test_featured_upstreams(by_id: dict[str, dict[str, Any]]) -> None:
    assert by_id["anthropic/claude-opus-4.7"]["deployments"][0] == {
        "provider": "anthropic",
        "upstream_model": "claude-opus-4-7",
    }
    assert by_id["google/gemini-3.1-pro"]["deployments"][0] == {
        "provider": "google",
        "upstream_model": "gemini-3.1-pro-preview",
    }
    assert by_id["openai/gpt-5.4"]["deployments"][0] == {"provider": "openai", "upstream_model": "gpt-5.4"}
    assert by_id["moonshot/kimi-k2.6"]["deployments"][0]["provider"] == "moonshot"
    assert by_id["minimax/m2.7"]["deployments"][0] == {
        "provider": "minimax",
        "upstream_model": "MiniMax-M2.7",
        "price_source": "together_ai/MiniMaxAI/MiniMax-M2.7",
    }
    assert by_id["xai/grok-4"]["deployments"][0] == {"provider": "azure", "upstream_model": "grok-4"}


def test_featured_first_deployment_is_the_labs_api(by_id: dict[str, dict[str, Any]]) -> None:
    assert set(FEATURED_FIRST_PROVIDER) == set(FEATURED_PRICES)
    for model_id, provider in FEATURED_FIRST_PROVIDER.items():
        assert by_id[model_id]["deployments"][0]["provider"] == provider, model_id


def test_modalities(models: list[dict[str, Any]]) -> None:
    counts = Counter(m["modality"] for m in models)
    assert set(counts) <= MODALITIES
    assert set(counts) == MODALITIES - UNREPRESENTED_MODALITIES, (
        f"every modality should be represented: {counts}"
    )
    assert counts["text"] > len(models) / 2
    assert counts["embedding"] >= 5 and counts["image"] >= 5
    assert counts["audio-stt"] >= 3 and counts["audio-tts"] >= 3 and counts["rerank"] >= 3


def _check_pricing(pricing: dict[str, Any], modality: str, where: str) -> None:
    assert isinstance(pricing, dict) and pricing, f"{where}: no pricing"
    assert set(pricing) <= PRICE_KEYS, f"{where}: unknown price keys {set(pricing) - PRICE_KEYS}"
    for key, value in pricing.items():
        assert isinstance(value, str), f"{where}: {key} is not a string"
        assert PRICE_RE.fullmatch(value), f"{where}: {key}={value!r} is not a normalised decimal"
    for group in REQUIRED_PRICES[modality]:
        assert group & set(pricing), f"{where}: {modality} needs one of {sorted(group)}"
    if modality != "moderation":
        required = set().union(*REQUIRED_PRICES[modality])
        assert any(Decimal(pricing[k]) > 0 for k in required if k in pricing), f"{where}: zero price"


def test_pricing(models: list[dict[str, Any]]) -> None:
    for m in models:
        _check_pricing(m["pricing"], m["modality"], m["id"])
        if m["modality"] == "text":
            assert Decimal(m["pricing"]["input_per_mtok"]) > 0 or Decimal(m["pricing"]["output_per_mtok"]) > 0


def test_deployments(models: list[dict[str, Any]]) -> None:
    for m in models:
        deployments = m["deployments"]
        assert deployments, m["id"]
        seen = set()
        for dep in deployments:
            assert set(dep) <= DEPLOYMENT_KEYS, m["id"]
            if "curated_source" in dep:  # a price the snapshot lacks: the provider's page it came from
                assert dep["curated_source"].startswith("https://"), m["id"]
            assert dep["provider"] in PROVIDERS, f"{m['id']}: {dep['provider']}"
            assert isinstance(dep["upstream_model"], str) and dep["upstream_model"].strip(), m["id"]
            key = (dep["provider"], dep["upstream_model"])
            assert key not in seen, f"{m['id']}: duplicate deployment {key}"
            seen.add(key)
            if "pricing" in dep:
                _check_pricing(dep["pricing"], m["modality"], f"{m['id']} on {dep['provider']}")
                assert dep["pricing"] != m["pricing"], f"{m['id']}: redundant override"
        # The model's price is its first deployment's price.
        assert "pricing" not in deployments[0], m["id"]


def test_price_source_deployments(models: list[dict[str, Any]]) -> None:
    """A lab-API deployment the snapshot lacks is first, on the lab's API and priced by a listed key."""
    for m in models:
        for i, dep in enumerate(m["deployments"]):
            if "price_source" not in dep:
                continue
            assert i == 0, f"{m['id']}: price_source deployment must come first"
            assert dep["provider"] == LAB_OWN_PROVIDER[m["lab"]], m["id"]
            assert "pricing" not in dep, m["id"]
            assert dep["price_source"] in m["source_keys"], m["id"]


def test_lab_own_api_first(models: list[dict[str, Any]]) -> None:
    for m in models:
        own = LAB_OWN_PROVIDER.get(m["lab"])
        providers = [d["provider"] for d in m["deployments"]]
        if own in providers:
            assert providers[0] == own, f"{m['id']}: {providers}"


def test_upstream_ids_have_no_snapshot_prefix(models: list[dict[str, Any]]) -> None:
    prefixes = ("gemini/", "together_ai/", "fireworks_ai/", "azure_ai/", "azure/", "bedrock/", "openrouter/")
    for m in models:
        for dep in m["deployments"]:
            assert not dep["upstream_model"].startswith(prefixes), f"{m['id']}: {dep['upstream_model']}"
            assert not dep["upstream_model"].startswith(f"{dep['provider']}/"), f"{m['id']}: {dep}"


def test_capabilities(models: list[dict[str, Any]]) -> None:
    for m in models:
        caps = m["capabilities"]
        assert isinstance(caps, list)
        assert len(caps) == len(set(caps)), m["id"]
        assert set(caps) <= set(CAPABILITIES), f"{m['id']}: {set(caps) - set(CAPABILITIES)}"
        assert caps == [c for c in CAPABILITIES if c in caps], f"{m['id']}: not in canonical order"
        if m["modality"] == "text":
            assert {"chat", "streaming"} <= set(caps), m["id"]
        else:
            assert "chat" not in caps, m["id"]


def test_limits(models: list[dict[str, Any]]) -> None:
    for m in models:
        ctx, out = m["context_window"], m["max_output_tokens"]
        # Unknown limits are null: a context window of 0 would read as "accepts nothing".
        assert ctx is None or (isinstance(ctx, int) and not isinstance(ctx, bool) and ctx > 0), m["id"]
        assert out is None or (isinstance(out, int) and not isinstance(out, bool) and out >= 0), m["id"]
        assert out != 0 or m["modality"] == "moderation", m["id"]  # moderation really outputs no tokens
        if m["modality"] in {"text", "embedding"}:
            assert ctx is not None, m["id"]


def test_no_zero_context_window(raw: str) -> None:
    assert '"context_window": 0' not in raw


def test_aliases(models: list[dict[str, Any]]) -> None:
    ids = {m["id"].lower() for m in models}
    owner: dict[str, str] = {}
    for m in models:
        aliases = m.get("aliases", [])
        assert isinstance(aliases, list), m["id"]
        if "aliases" in m:
            assert aliases, f"{m['id']}: empty aliases list"
        for alias in aliases:
            assert isinstance(alias, str) and alias.strip() == alias and alias, m["id"]
            key = alias.lower()
            assert key not in ids, f"{m['id']}: alias {alias!r} is another model's id"
            assert key not in owner, f"alias {alias!r} used by {owner.get(key)} and {m['id']}"
            owner[key] = m["id"]


def test_source_keys(models: list[dict[str, Any]]) -> None:
    for m in models:
        keys = m["source_keys"]
        assert isinstance(keys, list), m["id"]
        assert keys or all("curated_source" in d for d in m["deployments"]), m["id"]
        assert all(isinstance(k, str) and k for k in keys), m["id"]
        # One snapshot key per deployment, except lab-API deployments priced from another key and
        # curated deployments (priced from the provider's page); a model may have only curated ones.
        own = [d for d in m["deployments"] if "price_source" not in d and "curated_source" not in d]
        assert len(keys) == len(set(keys)) == len(own), m["id"]


def test_field_order(models: list[dict[str, Any]]) -> None:
    expected = [
        "id", "name", "lab", "modality", "featured", "context_window", "max_output_tokens", "dimensions",
        "capabilities", "pricing", "deployments", "aliases", "source_keys",
    ]  # fmt: skip
    for m in models:
        assert [k for k in expected if k in m] == list(m), m["id"]
        assert set(m) <= set(expected), m["id"]


def test_claude_thinking_modes_follow_the_lab(models: list[dict[str, Any]]) -> None:
    """Claude 4.7+ accept only adaptive thinking and no sampling parameters; 4.6 prefers adaptive."""
    caps = {m["id"]: set(m["capabilities"]) for m in models}
    assert {"adaptive_thinking", "no_sampling"} <= caps["anthropic/claude-opus-4.7"]
    assert "adaptive_thinking" in caps["anthropic/claude-sonnet-4.6"]
    assert "no_sampling" not in caps["anthropic/claude-sonnet-4.6"]
    assert not {"adaptive_thinking", "no_sampling"} & caps["anthropic/claude-haiku-4.5"]


def test_deployment_providers_are_builtin_vendors() -> None:
    """create_app refuses a catalog deployment on a provider with no vendor profile."""
    assert {v.name for v in BUILTIN_VENDORS} >= PROVIDERS


def test_embedding_dimensions(models: list[dict[str, Any]]) -> None:
    for m in models:
        if m["modality"] == "embedding":
            dims = m.get("dimensions")
            assert isinstance(dims, int) and not isinstance(dims, bool) and dims > 0, m["id"]
        else:
            assert "dimensions" not in m, m["id"]


@pytest.mark.parametrize(
    ("model_id", "dims"),
    [
        ("openai/text-embedding-3-small", 1536),
        ("openai/text-embedding-3-large", 3072),
        ("mistral/mistral-embed", 1024),
        ("mistral/codestral-embed", 1536),
        ("cohere/embed-english-v3.0", 1024),
        ("cohere/embed-v4.0", 1536),
        ("google/gemini-embedding-001", 3072),
        ("voyage/voyage-3.5", 1024),
        ("voyage/voyage-4", 1024),
        ("baai/bge-base-en-v1.5", 768),
        ("baai/bge-m3", 1024),
        ("nomic/nomic-embed-text-v1.5", 768),
        ("qwen/qwen3-embedding-8b", 4096),
        ("amazon/titan-embed-text-v2", 1024),
    ],
)
def test_documented_dimensions(by_id: dict[str, dict[str, Any]], model_id: str, dims: int) -> None:
    assert by_id[model_id]["dimensions"] == dims


# ------------------------------------------------------------------ the derivation (scripts/build_catalog.py)

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
SNAPSHOT_PATH = (
    Path(__file__).resolve().parents[3] / "shared" / "catalog-data" / "model_prices_and_context_window.json"
)


@pytest.fixture(scope="module")
def build() -> Any:
    import importlib
    import sys

    sys.path.insert(0, str(SCRIPTS))
    try:
        return importlib.import_module("build_catalog")
    finally:
        sys.path.remove(str(SCRIPTS))


@pytest.mark.skipif(not SNAPSHOT_PATH.exists(), reason="the pricing snapshot is not checked out beside")
def test_the_committed_catalog_is_the_derived_one(build: Any) -> None:
    assert build.main(["--check", "--source", str(SNAPSHOT_PATH), "--out", str(CATALOG_PATH)]) == 0


def test_a_curated_deployment_on_the_labs_api_leads_and_prices_the_model(
    build: Any, monkeypatch: Any
) -> None:
    spec = build.Spec(lab="black-forest-labs", model="flux-x", name="FLUX X", keys=("azure_ai/FLUX-X",))
    snapshot = {
        "azure_ai/FLUX-X": {
            "litellm_provider": "azure_ai",
            "mode": "image_generation",
            "output_cost_per_image": 0.04,
        }
    }
    lead = build.CuratedDeployment(
        "bfl", "flux-x", "image", {"per_image": "0.03"}, "https://docs.bfl.ai/ (test)"
    )
    monkeypatch.setitem(build.CURATED_DEPLOYMENTS, spec.id, (lead,))
    model = build.build_model(spec, snapshot).model
    assert model["pricing"] == {"per_image": "0.03"}
    assert model["deployments"] == [
        {"provider": "bfl", "upstream_model": "flux-x", "curated_source": "https://docs.bfl.ai/ (test)"},
        {"provider": "azure", "upstream_model": "FLUX-X", "pricing": {"per_image": "0.04"}},
    ]
    assert model["source_keys"] == ["azure_ai/FLUX-X"]


def test_a_modality_override_applies_to_chat_entries_only(build: Any, monkeypatch: Any) -> None:
    spec = build.Spec(lab="meta", model="guard-x", name="Guard X", keys=("deepinfra/meta-llama/Guard-X",))
    entry = {
        "litellm_provider": "deepinfra",
        "mode": "chat",
        "input_cost_per_token": 2e-07,
        "output_cost_per_token": 2e-07,
    }
    monkeypatch.setitem(build.MODALITY_OVERRIDES, spec.id, "moderation")
    model = build.build_model(spec, {"deepinfra/meta-llama/Guard-X": entry}).model
    assert model["modality"] == "moderation" and "chat" not in model["capabilities"]
    assert model["pricing"] == {"input_per_mtok": "0.2", "output_per_mtok": "0.2"}
    with pytest.raises(build.CatalogError, match="modality override"):
        build.build_model(spec, {"deepinfra/meta-llama/Guard-X": {**entry, "mode": "embedding"}})


def test_ocr_entries_are_priced_per_page(build: Any) -> None:
    entry = {
        "litellm_provider": "mistral",
        "mode": "ocr",
        "ocr_cost_per_page": 0.002,
        "annotation_cost_per_page": 0.003,
    }
    spec = build.Spec(lab="mistral", model="ocr-x", name="OCR X", keys=("mistral/ocr-x",))
    model = build.build_model(spec, {"mistral/ocr-x": entry}).model
    assert (model["modality"], model["pricing"]) == ("ocr", {"per_page": "0.002"})
    with pytest.raises(build.CatalogError, match="lacks"):
        build.build_model(spec, {"mistral/ocr-x": {**entry, "ocr_cost_per_page": None}})
