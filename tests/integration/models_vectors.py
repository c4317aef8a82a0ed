"""Embedding and rerank models of the integration gateway, and the upstreams they reach.

Each native vendor (Cohere, Voyage, Jina, Cloudflare) is pointed at the simulator under its own path
prefix, so the simulator answers in that vendor's format; Google and OpenAI reuse the chat URLs.
Models ``rec/...`` replay a real recording (tests/fixtures/provider-recordings).
"""

from __future__ import annotations

from typing import Any

UPSTREAM_KEY = "sk-upstream-secret-key-0123456789abcdef"


def vector_providers(sim_url: str) -> list[str]:
    """Config-file lines for the native vector vendors (built-in profiles, simulator URLs)."""
    lines: list[str] = []
    for name, path in (
        ("cohere", "/cohere"),
        ("voyage", "/voyage/v1"),
        ("jina", "/jina/v1"),
        ("cloudflare", "/cloudflare/client/v4/accounts/acct-test/ai"),
    ):
        lines += [f"[providers.{name}]", f'base_url = "{sim_url}{path}"', f'api_key = "{UPSTREAM_KEY}"', ""]
    return lines


def _embed(model_id: str, provider: str, upstream: str, dims: int | None = 64) -> dict[str, Any]:
    model: dict[str, Any] = {
        "id": model_id,
        "modality": "embedding",
        "pricing": {"input_per_mtok": "0.1"},
        "deployments": [{"provider": provider, "upstream_model": upstream}],
    }
    if dims:
        model["dimensions"] = dims
    return model


def _rerank(model_id: str, provider: str, upstream: str, price: dict[str, str]) -> dict[str, Any]:
    return {
        "id": model_id,
        "modality": "rerank",
        "pricing": price,
        "deployments": [{"provider": provider, "upstream_model": upstream}],
    }


PER_QUERY = {"per_query": "0.002"}
PER_TOKEN = {"input_per_mtok": "0.05"}

EMBEDDING_MODELS: list[dict[str, Any]] = [
    _embed("sim/embed", "sim", "sim-embed"),
    _embed("sim/embed-openai", "openai", "text-embedding-3-small", 1536),
    _embed("sim/embed-cohere", "cohere", "embed-v4.0", 1536),
    _embed("sim/embed-voyage", "voyage", "voyage-3.5", 1024),
    _embed("sim/embed-jina", "jina", "jina-embeddings-v3", 1024),
    _embed("sim/embed-gemini", "google", "gemini-embedding-001", 768),
    _embed("sim/embed-cloudflare", "cloudflare", "@cf/baai/bge-m3", 1024),
    # Recordings: OpenAI through the openai vendor (full OpenAI API: answers passed through byte for byte).
    _embed("rec/emb-openai-ada", "openai", "rec:openai/embeddings-base64", 1536),
    _embed("rec/emb-openai-3-small", "openai", "rec:openai/embeddings-3-small-base64", 1536),
    _embed("rec/emb-mistral", "sim", "rec:mistral/embeddings", 1024),
    _embed("rec/emb-cohere", "cohere", "rec:cohere/embed-v2", 1024),
    _embed("rec/emb-voyage", "voyage", "rec:voyage/embeddings-base64", 512),
    _embed("rec/emb-gemini", "google", "rec.gemini.batch-embed-contents", 768),
    _embed("rec/emb-cohere-404", "cohere", "rec:cohere/error-404-embed-model", 1024),
    _embed("rec/emb-voyage-400", "voyage", "rec:voyage/error-400-unknown-model", 1024),
]

RERANK_MODELS: list[dict[str, Any]] = [
    _rerank("sim/rerank-cohere", "cohere", "rerank-v3.5", PER_QUERY),
    _rerank("sim/rerank-voyage", "voyage", "rerank-2.5", PER_TOKEN),
    _rerank("sim/rerank-jina", "jina", "jina-reranker-v2-base-multilingual", PER_TOKEN),
    _rerank("sim/rerank-cloudflare", "cloudflare", "@cf/baai/bge-reranker-base", PER_TOKEN),
    _rerank("rec/rr-cohere-v2", "cohere", "rec:cohere/rerank-v2", PER_QUERY),
    _rerank("rec/rr-cohere-v1", "cohere", "rec:cohere/rerank-v1", PER_QUERY),
    _rerank("rec/rr-voyage", "voyage", "rec:voyage/rerank", PER_TOKEN),
]
