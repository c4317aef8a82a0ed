"""Static tables of ``scripts/build_catalog.py``: snapshot providers, lab APIs, modes, prices, flags."""

from __future__ import annotations

# snapshot ``litellm_provider`` -> (gateway provider, key prefix stripped to get the upstream id)
PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("openai", ""),
    "anthropic": ("anthropic", ""),
    "gemini": ("google", "gemini/"),
    "xai": ("xai", "xai/"),
    "moonshot": ("moonshot", "moonshot/"),
    "minimax": ("minimax", "minimax/"),
    "deepseek": ("deepseek", "deepseek/"),
    "mistral": ("mistral", "mistral/"),
    "groq": ("groq", "groq/"),
    "together_ai": ("together", "together_ai/"),
    "fireworks_ai": ("fireworks", "fireworks_ai/"),
    "fireworks_ai-embedding-models": ("fireworks", "fireworks_ai/"),
    "openrouter": ("openrouter", "openrouter/"),
    "cerebras": ("cerebras", "cerebras/"),
    "deepinfra": ("deepinfra", "deepinfra/"),
    "perplexity": ("perplexity", "perplexity/"),
    "cohere": ("cohere", "cohere/"),
    "cohere_chat": ("cohere", "cohere_chat/"),
    "zai": ("zai", "zai/"),
    "dashscope": ("dashscope", "dashscope/"),
    "sambanova": ("sambanova", "sambanova/"),
    "voyage": ("voyage", "voyage/"),
    "deepgram": ("deepgram", "deepgram/"),
    "elevenlabs": ("elevenlabs", "elevenlabs/"),
    "jina_ai": ("jina", "jina_ai/"),
    "ai21": ("ai21", "ai21/"),
    "nvidia_nim": ("nvidia_nim", "nvidia_nim/"),
    "bedrock": ("bedrock", "bedrock/"),
    "bedrock_converse": ("bedrock", "bedrock/"),
    "azure": ("azure", "azure/"),
    "azure_ai": ("azure", "azure_ai/"),
    "novita": ("novita", "novita/"),
    "cloudflare": ("cloudflare", "cloudflare/"),
    "black_forest_labs": ("bfl", "black_forest_labs/"),
    # No snapshot entry has it; listed so curated deployments may name the Hugging Face Inference API.
    "huggingface": ("huggingface", "huggingface/"),
}

# The gateway provider that is each lab's own API (used for ordering checks and raw-id aliases).
LAB_PROVIDER: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "xai": "xai",
    "moonshot": "moonshot",
    "minimax": "minimax",
    "deepseek": "deepseek",
    "mistral": "mistral",
    "z-ai": "zai",
    "qwen": "dashscope",
    "alibaba": "dashscope",
    "cohere": "cohere",
    "ai21": "ai21",
    "amazon": "bedrock",
    "microsoft": "azure",
    "nvidia": "nvidia_nim",
    "perplexity": "perplexity",
    "voyage": "voyage",
    "jina": "jina",
    "deepgram": "deepgram",
    "elevenlabs": "elevenlabs",
    "black-forest-labs": "bfl",
}

# Labs whose slugs drop the brand (``minimax/m2.7``): their bare model part (``m2.7``) is too generic to
# be an alias, so their aliases are curated (``minimax-m2.7``) plus the raw upstream id.
NO_BARE_ALIAS_LABS = frozenset({"minimax"})

MODE_TO_MODALITY: dict[str, str] = {
    "chat": "text",
    "embedding": "embedding",
    "image_generation": "image",
    "audio_transcription": "audio-stt",
    "audio_speech": "audio-tts",
    "video_generation": "video",
    "rerank": "rerank",
    "moderation": "moderation",
    "ocr": "ocr",
    # BFL's FLUX.1 Kontext endpoints generate from a prompt alone too (an input image is optional).
    "image_edit": "image",
}
ALLOWED_PRICES: dict[str, frozenset[str]] = {
    "text": frozenset(
        {
            "input_per_mtok",
            "output_per_mtok",
            "cached_input_per_mtok",
            "cache_write_per_mtok",
            "reasoning_per_mtok",
        }
    ),
    "embedding": frozenset({"input_per_mtok", "input_per_image"}),
    "image": frozenset(
        {"per_image", "input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "input_per_image"}
    ),
    "audio-stt": frozenset({"input_per_second", "input_per_mtok", "output_per_mtok"}),
    "audio-tts": frozenset({"per_mchar", "input_per_mtok", "output_per_mtok", "output_per_second"}),
    "video": frozenset({"output_per_second", "input_per_image"}),
    "rerank": frozenset({"per_query", "input_per_mtok"}),
    "moderation": frozenset({"input_per_mtok", "output_per_mtok"}),
    "translation": frozenset({"input_per_mtok", "output_per_mtok", "per_mchar", "per_query"}),
    "classification": frozenset({"input_per_mtok", "per_query"}),
    "detection": frozenset(
        {"per_image", "input_per_image", "per_query", "input_per_mtok", "per_compute_second"}
    ),
    "ocr": frozenset(
        {
            "per_page",
            "input_per_image",
            "input_per_mtok",
            "output_per_mtok",
            "per_query",
            "per_compute_second",
        }
    ),
}
# A model of a modality must carry at least one key of each group.
REQUIRED_PRICES: dict[str, tuple[frozenset[str], ...]] = {
    "text": (frozenset({"input_per_mtok"}), frozenset({"output_per_mtok"})),
    "embedding": (frozenset({"input_per_mtok"}),),
    "image": (frozenset({"per_image", "output_per_mtok", "input_per_mtok"}),),
    "audio-stt": (frozenset({"input_per_second", "input_per_mtok"}),),
    "audio-tts": (frozenset({"per_mchar", "output_per_mtok", "output_per_second"}),),
    "video": (frozenset({"output_per_second"}),),
    "rerank": (frozenset({"per_query", "input_per_mtok"}),),
    "moderation": (frozenset({"input_per_mtok"}),),
    # The same groups as core/catalog.py's loader requires of these modalities.
    "translation": (frozenset({"input_per_mtok", "per_query", "per_mchar"}),),
    "classification": (frozenset({"input_per_mtok", "per_query"}),),
    "detection": (
        frozenset({"per_image", "input_per_image", "per_query", "input_per_mtok", "per_compute_second"}),
    ),
    "ocr": (frozenset({"per_page", "input_per_image", "input_per_mtok", "per_query", "per_compute_second"}),),
}

CAPABILITIES = (
    "chat",
    "streaming",
    "tools",
    "parallel_tools",
    "vision",
    "json_mode",
    "json_schema",
    "reasoning",
    "prompt_caching",
    "audio_input",
    "audio_output",
    "web_search",
    "pdf_input",
    "system_messages",
    "adaptive_thinking",
    "no_sampling",
)
FLAG_TO_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "supports_function_calling": ("tools",),
    "supports_parallel_function_calling": ("parallel_tools",),
    "supports_vision": ("vision",),
    "supports_response_schema": ("json_mode", "json_schema"),
    "supports_reasoning": ("reasoning",),
    "supports_prompt_caching": ("prompt_caching",),
    "supports_audio_input": ("audio_input",),
    "supports_audio_output": ("audio_output",),
    "supports_web_search": ("web_search",),
    "supports_pdf_input": ("pdf_input",),
    "supports_system_messages": ("system_messages",),
}
