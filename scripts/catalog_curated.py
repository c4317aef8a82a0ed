"""Curated catalog facts the pricing snapshot lacks, each with where it comes from.

``scripts/build_catalog.py`` merges these into the derived catalog:

* ``EXTRA_CATALOG``: more curated models (same ``m(...)`` lines as ``catalog_spec.CATALOG``, which is
  full). A spec may list no snapshot key when all its deployments are in ``CURATED_DEPLOYMENTS``.
* ``CURATED_DEPLOYMENTS``: deployments on upstreams the snapshot does not price for that model, with the
  provider's published list price and the page it was read from (``source``, with the date). They come
  after the model's snapshot deployments; a model with no snapshot key takes its price, modality and
  limits from its first curated deployment. The build refuses a curated deployment once the snapshot
  has a key for that provider and upstream id (list that key instead), and refuses a zero price.
* ``EMBEDDING_DIMENSIONS``: an embedding model's native (default) vector size when the snapshot's first
  deployment has no ``output_vector_size``. The build refuses a curated value the snapshot also gives.
* ``MODALITY_OVERRIDES``: a model whose snapshot entries are ``chat`` but which serves another modality
  (Llama Guard answers moderation through a chat API).

A curated deployment on the lab's own API (``catalog_tables.LAB_PROVIDER``) comes first and prices the
model; the snapshot deployments after it carry their own prices.

Prices are decimal strings in USD with the catalog's keys (``input_per_mtok`` is per million tokens,
``per_query`` per search). Only list prices a provider publishes go here: never a guess, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog_spec import Spec, m


@dataclass(frozen=True)
class CuratedDeployment:
    """One upstream serving a model at a published price the snapshot does not carry."""

    provider: str
    upstream: str
    modality: str
    pricing: dict[str, str]
    source: str  # the provider's page the price was read from, and when
    context_window: int | None = None


# Cloudflare Workers AI pricing page (its "Last updated" date is 2026-08-28), read 2026-12-02.
CF_PRICING = "https://developers.cloudflare.com/workers-ai/platform/pricing/ (2026-08-28)"
# Black Forest Labs' API pricing (1 credit = $0.01; FLUX.2 is priced per megapixel), read 2026-12-02.
BFL_PRICING = "https://docs.bfl.ai/quick_start/pricing (read 2026-12-02)"
DEEPGRAM_PRICING = "https://deepgram.com/pricing (as quoted 2026-05-13, read 2026-12-02)"
# Hugging Face Inference Providers, "Pricing and Billing" (read 2026-12-02): hf-inference requests are
# billed "based on the compute time x price of the underlying hardware"; the page's rate is a GPU machine
# at $0.00012 per second. HF does not say which hardware serves a given model; the Inference Endpoints
# list (huggingface.co/docs/inference-endpoints/pricing) prices CPUs from $0.033/h and GPUs from $0.50/h
# (nvidia-t4 x1, $0.000139/s), so the published per-second rate is the one carried.
HF_PRICING = "https://huggingface.co/docs/inference-providers/pricing (read 2026-12-02)"
HF_COMPUTE = {"per_compute_second": "0.00012"}

# fmt: off
EXTRA_CATALOG: tuple[Spec, ...] = (
    # BGE-M3 (BAAI): Novita's OpenAI-compatible API (priced in the snapshot) first, Cloudflare second.
    m("baai", "bge-m3", "BGE-M3", "novita/baai/bge-m3"),
    # BGE Reranker Base (BAAI): only Cloudflare Workers AI serves it here; the snapshot has no entry.
    m("baai", "bge-reranker-base", "BGE Reranker Base"),
    # The API contract's example models of the other synchronous modalities (priced below).
    m("black-forest-labs", "flux-2-klein-9b", "FLUX.2 [klein] 9B"),
    m("deepgram", "aura-2-en", "Deepgram Aura-2 (English)"),
    m("meta", "m2m100-1.2b", "M2M100 1.2B"),
    m("huggingface", "distilbert-sst-2", "DistilBERT SST-2 (int8)", aliases=("distilbert-sst-2-int8",)),
    # Mistral OCR: per page (the snapshot's ocr_cost_per_page; annotations cost extra and are not carried).
    m("mistral", "mistral-ocr-latest", "Mistral OCR", "mistral/mistral-ocr-latest"),
    # DETR ResNet-50 and TrOCR base (printed): the Hugging Face Inference API, billed per compute second.
    m("facebook", "detr-resnet-50", "DETR ResNet-50"),
    m("microsoft", "trocr-base-printed", "TrOCR base (printed)"),
)

# Llama Guard 3 8B and 4 12B are chat models that classify a conversation as safe or unsafe: they serve
# the moderation operation, billed per token like the chat entries that price them. (Groq retired
# llama-guard-3-8b on 2025-06-06, per the snapshot; no Together price for it was found.)
MODALITY_OVERRIDES: dict[str, str] = {
    "meta/llama-guard-3-8b": "moderation",
    "meta/llama-guard-4-12b": "moderation",
}

CURATED_DEPLOYMENTS: dict[str, tuple[CuratedDeployment, ...]] = {
    # Workers AI "Embeddings model pricing": @cf/baai/bge-m3 $0.012 per M input tokens (1075 neurons
    # per M at $0.011 / 1,000 neurons). Served on the OpenAI-compatible /v1/embeddings under
    # .../accounts/{account_id}/ai
    # (developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/).
    "baai/bge-m3": (
        CuratedDeployment(
            "cloudflare", "@cf/baai/bge-m3", "embedding", {"input_per_mtok": "0.012"}, CF_PRICING
        ),
    ),
    # Workers AI "Other model pricing": @cf/baai/bge-reranker-base $0.003 per M input tokens (283 neurons
    # per M; the model page rounds it to $0.0031). Priced per token, not per query. Native API only:
    # POST .../accounts/{account_id}/ai/run/@cf/baai/bge-reranker-base with {query, contexts, top_k}.
    # No token limit is published for the model itself, so context_window stays null.
    "baai/bge-reranker-base": (
        CuratedDeployment(
            "cloudflare", "@cf/baai/bge-reranker-base", "rerank", {"input_per_mtok": "0.003"}, CF_PRICING
        ),
    ),
    # FLUX.2 [klein] 9B. BFL: 1.5 credits for the first output megapixel (a 1024x1024 image), 0.2 per
    # further megapixel, and 0.2 per input-image megapixel (1 MP image edit: $0.017);
    # POST /v1/flux-2-klein-9b.
    # Workers AI "Image model pricing": @cf/black-forest-labs/flux-2-klein-9b $0.015 per first MP
    # (1024x1024), $0.002 per subsequent MP, $0.002 per input image MP. per_image is the first-megapixel
    # price; the megapixels beyond it are not metered yet (the images operation bounds the size).
    "black-forest-labs/flux-2-klein-9b": (
        CuratedDeployment(
            "bfl", "flux-2-klein-9b", "image", {"per_image": "0.015", "input_per_image": "0.002"}, BFL_PRICING
        ),
        CuratedDeployment(
            "cloudflare",
            "@cf/black-forest-labs/flux-2-klein-9b",
            "image",
            {"per_image": "0.015", "input_per_image": "0.002"},
            CF_PRICING,
        ),
    ),
    # FLUX.2 [pro] on BFL's own API: 3 credits for the first megapixel, 1.5 per further megapixel and
    # per input-image megapixel (1 MP image edit: $0.045); POST /v1/flux-2-pro. Azure (snapshot) is $0.04.
    "black-forest-labs/flux-2-pro": (
        CuratedDeployment(
            "bfl", "flux-2-pro", "image", {"per_image": "0.03", "input_per_image": "0.015"}, BFL_PRICING
        ),
    ),
    # Deepgram Aura-2 English voices, per character. deepgram.com/pricing: Aura-2 $0.030 per 1k characters
    # pay as you go ($0.027 on Growth) = $30 per million characters (the page as quoted, verified
    # 2026-05-13, by the public references read 2026-12-02). Deepgram's model id names the voice
    # (POST /v1/speak?model=aura-2-thalia-en, Thalia the default English voice); the speech adapter puts
    # the requested voice in its place. Workers AI "Audio model pricing": @cf/deepgram/aura-2-en $0.030
    # per 1k characters input.
    "deepgram/aura-2-en": (
        CuratedDeployment("deepgram", "aura-2-thalia-en", "audio-tts", {"per_mchar": "30"}, DEEPGRAM_PRICING),
        CuratedDeployment(
            "cloudflare", "@cf/deepgram/aura-2-en", "audio-tts", {"per_mchar": "30"}, CF_PRICING
        ),
    ),
    # Workers AI "Other model pricing": @cf/meta/m2m100-1.2b $0.342 per M input tokens and $0.342 per M
    # output tokens (31050 neurons per M each). Native API: POST .../ai/run/@cf/meta/m2m100-1.2b with
    # {text, source_lang, target_lang}.
    "meta/m2m100-1.2b": (
        CuratedDeployment(
            "cloudflare",
            "@cf/meta/m2m100-1.2b",
            "translation",
            {"input_per_mtok": "0.342", "output_per_mtok": "0.342"},
            CF_PRICING,
        ),
    ),
    # Workers AI "Other model pricing": @cf/huggingface/distilbert-sst-2-int8 $0.026 per M input tokens
    # (2394 neurons per M). Native API: POST .../ai/run/@cf/huggingface/distilbert-sst-2-int8 with {text}.
    # hf-inference (router.huggingface.co/hf-inference/models/{org}/{model}): the image bytes in, boxes
    # or the text out, billed by compute time at HF's published $0.00012 per second. Workers AI removed
    # @cf/facebook/detr-resnet-50 from its public catalog in 2026-09 and never published a per-unit price
    # for it, so it is not a deployment here.
    "facebook/detr-resnet-50": (
        CuratedDeployment("huggingface", "facebook/detr-resnet-50", "detection", HF_COMPUTE, HF_PRICING),
    ),
    "microsoft/trocr-base-printed": (
        CuratedDeployment("huggingface", "microsoft/trocr-base-printed", "ocr", HF_COMPUTE, HF_PRICING),
    ),
    "huggingface/distilbert-sst-2": (
        CuratedDeployment(
            "cloudflare",
            "@cf/huggingface/distilbert-sst-2-int8",
            "classification",
            {"input_per_mtok": "0.026"},
            CF_PRICING,
        ),
    ),
}

# Native vector sizes from the labs' documentation, for models whose first snapshot entry has no
# ``output_vector_size`` (the others come from the snapshot: OpenAI text-embedding-3-*, Gemini
# embeddings, Cohere embed-v4.0/v5, Voyage 4 series and multimodal/context, Titan v2, Nova 2, pplx-embed,
# bge-base-en-v1.5).
EMBEDDING_DIMENSIONS: dict[str, int] = {
    # huggingface.co/BAAI/bge-m3: dense vectors of 1024.
    "baai/bge-m3": 1024,
    # docs.cohere.com/docs/cohere-embed: embed-english-v3.0 and embed-multilingual-v3.0 are 1024.
    "cohere/embed-english-v3.0": 1024,
    "cohere/embed-multilingual-v3.0": 1024,
    # docs.mistral.ai (embeddings): mistral-embed 1024; codestral-embed 1536 by default (up to 3072).
    "mistral/mistral-embed": 1024,
    "mistral/codestral-embed": 1536,
    # huggingface.co/nomic-ai/nomic-embed-text-v1.5: 768 (Matryoshka down to 64).
    "nomic/nomic-embed-text-v1.5": 768,
    # huggingface.co/Qwen/Qwen3-Embedding-8B: embedding dimension up to 4096 (the default).
    "qwen/qwen3-embedding-8b": 4096,
    # docs.voyageai.com/docs/embeddings: 1024 default for voyage-3.5, -3.5-lite, -3-large, -code-3;
    # voyage-finance-2 and voyage-law-2 are fixed at 1024.
    "voyage/voyage-3.5": 1024,
    "voyage/voyage-3.5-lite": 1024,
    "voyage/voyage-3-large": 1024,
    "voyage/voyage-code-3": 1024,
    "voyage/voyage-finance-2": 1024,
    "voyage/voyage-law-2": 1024,
}
# fmt: on
