"""The curated model table that ``scripts/build_catalog.py`` turns into ``src/aigateway/data/catalog.json``.

Curated choices only; turning snapshot entries into prices, limits and capabilities is build_catalog's job.

How to add a model
------------------
1. Find the model's entries in the snapshot (``grep -n 'name' model_prices_and_context_window.json``).
   Only entries whose ``litellm_provider`` is in ``build_catalog.PROVIDERS`` can become deployments.
2. Add one ``m(lab, model, name, key, key, ...)`` line to ``CATALOG`` in the lab's section:
   * ``lab`` is who MADE the model (not who hosts it); ``model`` is the lowercase slug part, with
     dots for versions as the lab writes them publicly (``claude-opus-4.7``, ``gemini-3.1-pro``).
   * the snapshot keys are the deployments, in order. Put the lab's own API first when the snapshot
     has it; otherwise the usual order is together, fireworks, groq, deepinfra, cerebras, sambanova,
     bedrock, azure. The FIRST deployment sets the model's price, context window and capabilities;
     later deployments whose prices differ carry their own ``pricing`` override.
   * ``aliases=(...)`` adds extra names. The slug's model part (except for ``NO_BARE_ALIAS_LABS``) and,
     when the first deployment is the lab's own API, its upstream id are added automatically. Aliases
     shared by two models, equal to a model id or repeating one case-insensitively are dropped.
3. Run ``python scripts/build_catalog.py``, then ``pytest -q tests/unit/test_catalog_data.py``.

Lab-API deployments the snapshot lacks (``lab_api=LabApi(upstream, price_source)``)
------------------------------------------------------------------------------------
When the snapshot prices a model only on hosts although the lab's own API serves it (MiniMax-M2.7),
``lab_api`` adds a deployment on the lab's provider (``build_catalog.LAB_PROVIDER[lab]``) with that
upstream id, FIRST, priced (with limits and capabilities) from the ``price_source`` entry, which must
be one of the model's keys. The catalog records ``"price_source": "<key>"`` on that deployment;
``source_keys`` lists only real snapshot keys. Use it only when the lab documents that exact id as
served on the snapshot date AND the price source's list price is the lab's own. The build refuses it
once the snapshot has an entry for that provider and id (list that key instead). Checked, left out:
grok-4, grok-4.1-fast, kimi-k2-thinking, kimi-k2-0905 (ids retired by the lab, see the comments there)
and open-weight models only hosts price (Qwen, Gemma, ...: a host's price is not the lab's).
"""

from __future__ import annotations

from dataclasses import dataclass

FEATURED = frozenset({
    "anthropic/claude-opus-4.7", "anthropic/claude-sonnet-4.6", "anthropic/claude-haiku-4.5",
    "openai/gpt-5.4", "openai/gpt-5.4-mini", "google/gemini-3.1-pro", "google/gemini-3-flash",
    "moonshot/kimi-k2.6", "minimax/m2.7", "xai/grok-4",
})  # fmt: skip


@dataclass(frozen=True)
class LabApi:
    """A deployment on the lab's own API that the snapshot has no entry for (see the module docstring)."""

    upstream: str
    price_source: str


@dataclass(frozen=True)
class Spec:
    """One curated catalog model: who made it, its slug and name, and the snapshot keys serving it."""

    lab: str
    model: str
    name: str
    keys: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    lab_api: LabApi | None = None

    @property
    def id(self) -> str:
        return f"{self.lab}/{self.model}"


def m(
    lab: str, model: str, name: str, *keys: str, aliases: tuple[str, ...] = (), lab_api: LabApi | None = None
) -> Spec:
    return Spec(lab=lab, model=model, name=name, keys=keys, aliases=aliases, lab_api=lab_api)


FW = "fireworks_ai/accounts/fireworks/models/"

# fmt: off
CATALOG: tuple[Spec, ...] = (
    # ---------------------------------------------------------------- anthropic
    m("anthropic", "claude-opus-4.7", "Claude Opus 4.7", "claude-opus-4-7", "anthropic.claude-opus-4-7",
      "azure_ai/claude-opus-4-7", "deepinfra/anthropic/claude-opus-4-7"),
    m("anthropic", "claude-opus-4.8", "Claude Opus 4.8", "claude-opus-4-8", "anthropic.claude-opus-4-8",
      "azure_ai/claude-opus-4-8", "deepinfra/anthropic/claude-opus-4-8"),
    m("anthropic", "claude-opus-4.6", "Claude Opus 4.6", "claude-opus-4-6", "anthropic.claude-opus-4-6-v1",
      "azure_ai/claude-opus-4-6"),
    m("anthropic", "claude-opus-5", "Claude Opus 5", "claude-opus-5", "anthropic.claude-opus-5",
      "azure_ai/claude-opus-5", "deepinfra/anthropic/claude-opus-5"),
    m("anthropic", "claude-opus-5.5", "Claude Opus 5.5", "claude-opus-5-5", "anthropic.claude-opus-5-5",
      "azure_ai/claude-opus-5-5"),
    m("anthropic", "claude-sonnet-4.6", "Claude Sonnet 4.6", "claude-sonnet-4-6",
      "anthropic.claude-sonnet-4-6", "azure_ai/claude-sonnet-4-6", "deepinfra/anthropic/claude-sonnet-4-6"),
    m("anthropic", "claude-sonnet-5", "Claude Sonnet 5", "claude-sonnet-5", "anthropic.claude-sonnet-5",
      "azure_ai/claude-sonnet-5", "deepinfra/anthropic/claude-sonnet-5"),
    m("anthropic", "claude-sonnet-5.5", "Claude Sonnet 5.5", "claude-sonnet-5-5",
      "anthropic.claude-sonnet-5-5", "azure_ai/claude-sonnet-5-5"),
    m("anthropic", "claude-haiku-4.5", "Claude Haiku 4.5", "claude-haiku-4-5",
      "anthropic.claude-haiku-4-5-20251001-v1:0", "deepinfra/anthropic/claude-haiku-4-5",
      aliases=("claude-haiku-4-5-20251001",)),
    m("anthropic", "claude-haiku-5.5", "Claude Haiku 5.5", "claude-haiku-5-5", "anthropic.claude-haiku-5-5",
      "azure_ai/claude-haiku-5-5"),
    m("anthropic", "claude-fable-5", "Claude Fable 5", "claude-fable-5", "anthropic.claude-fable-5",
      "azure_ai/claude-fable-5", "deepinfra/anthropic/claude-fable-5"),
    m("anthropic", "claude-fable-5.1", "Claude Fable 5.1", "claude-fable-5-1", "anthropic.claude-fable-5-1",
      "azure_ai/claude-fable-5-1"),
    m("anthropic", "claude-mythos-5", "Claude Mythos 5", "claude-mythos-5"),
    m("anthropic", "claude-mythos-5.1", "Claude Mythos 5.1", "claude-mythos-5-1",
      "anthropic.claude-mythos-5-1"),

    # ---------------------------------------------------------------- openai
    m("openai", "gpt-5.4", "GPT-5.4", "gpt-5.4", "azure/gpt-5.4"),
    m("openai", "gpt-5.4-mini", "GPT-5.4 mini", "gpt-5.4-mini", "azure/gpt-5.4-mini"),
    m("openai", "gpt-5.4-nano", "GPT-5.4 nano", "gpt-5.4-nano", "azure/gpt-5.4-nano"),
    m("openai", "gpt-5.5", "GPT-5.5", "gpt-5.5", "azure/gpt-5.5"),
    m("openai", "gpt-5.6", "GPT-5.6", "gpt-5.6", "azure/gpt-5.6"),
    m("openai", "gpt-5.6-terra", "GPT-5.6 Terra", "gpt-5.6-terra", "azure/gpt-5.6-terra"),
    m("openai", "gpt-5.6-luna", "GPT-5.6 Luna", "gpt-5.6-luna", "azure/gpt-5.6-luna"),
    m("openai", "gpt-6-astra", "GPT-6 Astra", "gpt-6-astra", "azure/gpt-6-astra"),
    m("openai", "gpt-6-sol", "GPT-6 Sol", "gpt-6-sol", "azure/gpt-6-sol", "openai.gpt-6-sol"),
    m("openai", "gpt-6-luna", "GPT-6 Luna", "gpt-6-luna", "azure/gpt-6-luna", "openai.gpt-6-luna"),
    m("openai", "gpt-6.1-sol", "GPT-6.1 Sol", "gpt-6.1-sol", "azure/gpt-6.1-sol"),
    m("openai", "gpt-5.2", "GPT-5.2", "gpt-5.2", "azure/gpt-5.2"),
    m("openai", "gpt-5.1", "GPT-5.1", "gpt-5.1", "azure/gpt-5.1"),
    m("openai", "gpt-5", "GPT-5", "gpt-5", "azure/gpt-5"),
    m("openai", "gpt-5-mini", "GPT-5 mini", "gpt-5-mini", "azure/gpt-5-mini"),
    m("openai", "gpt-5-nano", "GPT-5 nano", "gpt-5-nano", "azure/gpt-5-nano"),
    m("openai", "gpt-4.1", "GPT-4.1", "gpt-4.1", "azure/gpt-4.1"),
    m("openai", "gpt-4.1-mini", "GPT-4.1 mini", "gpt-4.1-mini", "azure/gpt-4.1-mini"),
    m("openai", "gpt-4o", "GPT-4o", "gpt-4o", "azure/gpt-4o"),
    m("openai", "gpt-4o-mini", "GPT-4o mini", "gpt-4o-mini", "azure/gpt-4o-mini"),
    m("openai", "o3", "o3", "o3"),
    m("openai", "gpt-oss-120b", "gpt-oss-120b", "together_ai/openai/gpt-oss-120b", "groq/openai/gpt-oss-120b",
      "deepinfra/openai/gpt-oss-120b", "cerebras/gpt-oss-120b", "sambanova/gpt-oss-120b",
      "openai.gpt-oss-120b-1:0", "azure_ai/gpt-oss-120b"),
    m("openai", "gpt-oss-20b", "gpt-oss-20b", FW + "gpt-oss-20b", "groq/openai/gpt-oss-20b",
      "deepinfra/openai/gpt-oss-20b", "openai.gpt-oss-20b-1:0"),
    m("openai", "gpt-oss-safeguard-20b", "gpt-oss-safeguard-20b", FW + "gpt-oss-safeguard-20b",
      "groq/openai/gpt-oss-safeguard-20b", "openai.gpt-oss-safeguard-20b"),
    m("openai", "gpt-oss-safeguard-120b", "gpt-oss-safeguard-120b", FW + "gpt-oss-safeguard-120b",
      "openai.gpt-oss-safeguard-120b"),
    m("openai", "gpt-image-2", "GPT Image 2", "gpt-image-2", "azure/gpt-image-2"),
    m("openai", "text-embedding-3-large", "text-embedding-3-large", "text-embedding-3-large",
      "azure/text-embedding-3-large"),
    m("openai", "text-embedding-3-small", "text-embedding-3-small", "text-embedding-3-small",
      "azure/text-embedding-3-small"),
    m("openai", "omni-moderation", "omni-moderation", "omni-moderation-latest",
      aliases=("omni-moderation-2024-09-26",)),
    m("openai", "gpt-4o-mini-tts", "GPT-4o mini TTS", "gpt-4o-mini-tts", "azure/gpt-4o-mini-tts"),
    m("openai", "tts-1", "TTS-1", "tts-1"),
    m("openai", "tts-1-hd", "TTS-1 HD", "tts-1-hd"),
    m("openai", "gpt-transcribe", "GPT Transcribe", "gpt-transcribe"),
    m("openai", "gpt-4o-transcribe", "GPT-4o Transcribe", "gpt-4o-transcribe"),
    m("openai", "gpt-4o-mini-transcribe", "GPT-4o mini Transcribe", "gpt-4o-mini-transcribe",
      "azure/gpt-4o-mini-transcribe"),
    m("openai", "whisper-1", "Whisper", "whisper-1"),
    m("openai", "whisper-large-v3", "Whisper Large v3", "groq/whisper-large-v3"),
    m("openai", "whisper-large-v3-turbo", "Whisper Large v3 Turbo", "groq/whisper-large-v3-turbo"),

    # ---------------------------------------------------------------- google
    m("google", "gemini-3.1-pro", "Gemini 3.1 Pro", "gemini/gemini-3.1-pro-preview",
      "deepinfra/google/gemini-3.1-pro"),
    m("google", "gemini-3-flash", "Gemini 3 Flash", "gemini/gemini-3-flash-preview"),
    m("google", "gemini-3.5-flash", "Gemini 3.5 Flash", "gemini/gemini-3.5-flash",
      "deepinfra/google/gemini-3.5-flash"),
    m("google", "gemini-3.5-flash-lite", "Gemini 3.5 Flash-Lite", "gemini/gemini-3.5-flash-lite"),
    m("google", "gemini-3.6-flash", "Gemini 3.6 Flash", "gemini/gemini-3.6-flash"),
    m("google", "gemini-3.7-flash", "Gemini 3.7 Flash", "gemini/gemini-3.7-flash",
      "deepinfra/google/gemini-3.7-flash"),
    m("google", "gemini-3.8-flash", "Gemini 3.8 Flash", "gemini/gemini-3.8-flash"),
    m("google", "gemini-3.1-flash-lite", "Gemini 3.1 Flash-Lite", "gemini/gemini-3.1-flash-lite",
      "deepinfra/google/gemini-3.1-flash-lite"),
    m("google", "gemini-2.5-pro", "Gemini 2.5 Pro", "gemini/gemini-2.5-pro",
      "deepinfra/google/gemini-2.5-pro"),
    m("google", "gemini-2.5-flash", "Gemini 2.5 Flash", "gemini/gemini-2.5-flash",
      "deepinfra/google/gemini-2.5-flash"),
    m("google", "gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", "gemini/gemini-2.5-flash-lite"),
    m("google", "gemma-4-31b-it", "Gemma 4 31B", "deepinfra/google/gemma-4-31B-it", "cerebras/gemma-4-31b",
      "sambanova/gemma-4-31B-it"),
    m("google", "gemma-4-26b-a4b-it", "Gemma 4 26B A4B", "deepinfra/google/gemma-4-26B-A4B-it"),
    m("google", "gemma-4-e4b-it", "Gemma 4 E4B", "deepinfra/google/gemma-4-E4B-it"),
    m("google", "gemma-3-27b-it", "Gemma 3 27B", "deepinfra/google/gemma-3-27b-it", FW + "gemma-3-27b-it"),
    m("google", "gemma-3-12b-it", "Gemma 3 12B", "deepinfra/google/gemma-3-12b-it"),
    m("google", "gemini-3-pro-image", "Gemini 3 Pro Image (Nano Banana Pro)", "gemini/gemini-3-pro-image",
      aliases=("nano-banana-pro",)),
    m("google", "gemini-3.1-flash-image", "Gemini 3.1 Flash Image (Nano Banana 2)",
      "gemini/gemini-3.1-flash-image", aliases=("nano-banana-2",)),
    m("google", "gemini-2.5-flash-image", "Gemini 2.5 Flash Image (Nano Banana)",
      "gemini/gemini-2.5-flash-image", aliases=("nano-banana",)),
    m("google", "imagen-3.0", "Imagen 3", "gemini/imagen-3.0-generate-001"),
    m("google", "imagen-3.0-fast", "Imagen 3 Fast", "gemini/imagen-3.0-fast-generate-001"),
    m("google", "veo-3.1", "Veo 3.1", "gemini/veo-3.1-generate-001"),
    m("google", "veo-3.1-fast", "Veo 3.1 Fast", "gemini/veo-3.1-fast-generate-001"),
    m("google", "gemini-3.8-flash-tts", "Gemini 3.8 Flash TTS", "gemini/gemini-3.8-flash-tts"),
    m("google", "gemini-3.8-flash-lite-tts", "Gemini 3.8 Flash-Lite TTS", "gemini/gemini-3.8-flash-lite-tts"),
    m("google", "gemini-3.5-transcribe", "Gemini 3.5 Transcribe", "gemini/gemini-3.5-transcribe"),
    m("google", "gemini-embedding-2", "Gemini Embedding 2", "gemini/gemini-embedding-2"),
    m("google", "gemini-embedding-001", "Gemini Embedding", "gemini/gemini-embedding-001"),

    # ---------------------------------------------------------------- xai
    # No lab_api for grok-4 / grok-4.1-fast: xAI retired grok-4-0709 and grok-4-1-fast-* on 2026-05-15
    # (docs.x.ai/developers/migration/may-15-retirement); Azure AI Foundry still serves both.
    m("xai", "grok-4", "Grok 4", "azure_ai/grok-4"),
    m("xai", "grok-4.1-fast", "Grok 4.1 Fast", "azure_ai/grok-4-1-fast-reasoning"),
    m("xai", "grok-4.20", "Grok 4.20", "xai/grok-4.20", "azure_ai/grok-4-20-reasoning"),
    m("xai", "grok-4.3", "Grok 4.3", "xai/grok-4.3", "azure_ai/grok-4.3"),
    m("xai", "grok-4.5", "Grok 4.5", "xai/grok-4.5"),
    m("xai", "grok-4.6", "Grok 4.6", "xai/grok-4.6", "azure_ai/grok-4.6"),
    m("xai", "grok-4.7", "Grok 4.7", "xai/grok-4.7", "azure_ai/grok-4.7"),
    m("xai", "grok-code-fast-1", "Grok Code Fast 1", "xai/grok-code-fast-1", "azure_ai/grok-code-fast-1"),
    m("xai", "grok-imagine-image", "Grok Imagine Image", "xai/grok-imagine-image"),
    m("xai", "grok-imagine-image-pro", "Grok Imagine Image Pro", "xai/grok-imagine-image-pro"),
    m("xai", "grok-imagine-image-2.0", "Grok Imagine Image 2.0", "xai/grok-imagine-image-2.0"),
    m("xai", "grok-imagine-video", "Grok Imagine Video", "xai/grok-imagine-video"),
    m("xai", "grok-imagine-video-1.5", "Grok Imagine Video 1.5", "xai/grok-imagine-video-1.5"),
    m("xai", "grok-voice-transcribe-2.0", "Grok Voice Transcribe 2.0", "xai/grok-voice-transcribe-2.0"),

    # ---------------------------------------------------------------- moonshot
    m("moonshot", "kimi-k2.6", "Kimi K2.6", "moonshot/kimi-k2.6", "deepinfra/moonshotai/Kimi-K2.6",
      "azure_ai/kimi-k2.6"),
    m("moonshot", "kimi-k2.5", "Kimi K2.5", "moonshot/kimi-k2.5", FW + "kimi-k2p5",
      "deepinfra/moonshotai/Kimi-K2.5", "moonshotai.kimi-k2.5", "azure_ai/kimi-k2.5"),
    m("moonshot", "kimi-k3", "Kimi K3", "moonshot/kimi-k3", "together_ai/moonshotai/Kimi-K3", FW + "kimi-k3",
      "deepinfra/moonshotai/Kimi-K3", "moonshotai.kimi-k3"),
    m("moonshot", "kimi-k2.7-code", "Kimi K2.7 Code", "moonshot/kimi-k2.7-code",
      "deepinfra/moonshotai/Kimi-K2.7-Code", "azure_ai/kimi-k2.7-code"),
    # No lab_api for these two: Moonshot discontinued kimi-k2-thinking and kimi-k2-0905-preview in 2026.
    m("moonshot", "kimi-k2-thinking", "Kimi K2 Thinking", FW + "kimi-k2-thinking",
      "moonshot.kimi-k2-thinking"),
    m("moonshot", "kimi-k2-0905", "Kimi K2 (0905)", FW + "kimi-k2-instruct-0905",
      "deepinfra/moonshotai/Kimi-K2-Instruct-0905"),

    # ---------------------------------------------------------------- minimax
    # The snapshot has no MiniMax-API entry for M2.7 (api.minimax.io serves "MiniMax-M2.7" at the
    # $0.3/$1.2 that Together lists), so the lab API is added and priced from the Together entry.
    m("minimax", "m2.7", "MiniMax M2.7", "together_ai/MiniMaxAI/MiniMax-M2.7",
      "deepinfra/MiniMaxAI/MiniMax-M2.7", "sambanova/MiniMax-M2.7", aliases=("minimax-m2.7",),
      lab_api=LabApi("MiniMax-M2.7", price_source="together_ai/MiniMaxAI/MiniMax-M2.7")),
    m("minimax", "m3", "MiniMax M3", "minimax/MiniMax-M3", "together_ai/MiniMaxAI/MiniMax-M3",
      FW + "minimax-m3", "deepinfra/MiniMaxAI/MiniMax-M3", aliases=("minimax-m3",)),
    m("minimax", "m3.1-flash", "MiniMax M3.1 Flash", FW + "minimax-m3p1-flash",
      aliases=("minimax-m3.1-flash",)),
    m("minimax", "m2.5", "MiniMax M2.5", "minimax/MiniMax-M2.5", "minimax.minimax-m2.5",
      aliases=("minimax-m2.5",)),
    m("minimax", "m2.5-lightning", "MiniMax M2.5 Lightning", "minimax/MiniMax-M2.5-lightning",
      aliases=("minimax-m2.5-lightning",)),
    m("minimax", "m2.1", "MiniMax M2.1", "minimax/MiniMax-M2.1", FW + "minimax-m2p1",
      aliases=("minimax-m2.1",)),
    m("minimax", "m2", "MiniMax M2", "minimax/MiniMax-M2", FW + "minimax-m2", aliases=("minimax-m2",)),
    m("minimax", "speech-2.6-hd", "MiniMax Speech 2.6 HD", "minimax/speech-2.6-hd"),
    m("minimax", "speech-2.6-turbo", "MiniMax Speech 2.6 Turbo", "minimax/speech-2.6-turbo"),
    m("minimax", "speech-02-hd", "MiniMax Speech 02 HD", "minimax/speech-02-hd"),
    m("minimax", "h3", "MiniMax H3 (Hailuo)", "minimax/MiniMax-H3", aliases=("minimax-h3",)),
    m("minimax", "h3-max", "MiniMax H3 Max (Hailuo)", "minimax/MiniMax-H3-Max", aliases=("minimax-h3-max",)),

    # ---------------------------------------------------------------- deepseek
    m("deepseek", "deepseek-v4-pro", "DeepSeek V4 Pro", "deepseek/deepseek-v4-pro",
      "deepinfra/deepseek-ai/DeepSeek-V4-Pro", "dashscope/deepseek-v4-pro"),
    m("deepseek", "deepseek-v4-flash", "DeepSeek V4 Flash", "deepseek/deepseek-v4-flash",
      FW + "deepseek-v4-flash", "deepinfra/deepseek-ai/DeepSeek-V4-Flash", "dashscope/deepseek-v4-flash"),
    m("deepseek", "deepseek-v4.1-flash", "DeepSeek V4.1 Flash", "together_ai/deepseek-ai/DeepSeek-V4.1-Flash",
      FW + "deepseek-v4p1-flash", "deepinfra/deepseek-ai/DeepSeek-V4.1-Flash"),
    m("deepseek", "deepseek-v3.2", "DeepSeek V3.2", "deepseek/deepseek-v3.2", FW + "deepseek-v3p2",
      "deepinfra/deepseek-ai/DeepSeek-V3.2", "sambanova/DeepSeek-V3.2", "deepseek.v3.2",
      "azure_ai/deepseek-v3.2"),
    m("deepseek", "deepseek-v3.1", "DeepSeek V3.1", FW + "deepseek-v3p1",
      "deepinfra/deepseek-ai/DeepSeek-V3.1", "sambanova/DeepSeek-V3.1"),
    m("deepseek", "deepseek-v3", "DeepSeek V3", "deepseek/deepseek-v3", "together_ai/deepseek-ai/DeepSeek-V3",
      FW + "deepseek-v3", "deepinfra/deepseek-ai/DeepSeek-V3"),
    m("deepseek", "deepseek-r1", "DeepSeek R1", "deepseek/deepseek-r1", FW + "deepseek-r1",
      "deepinfra/deepseek-ai/DeepSeek-R1", "sambanova/DeepSeek-R1"),
    m("deepseek", "deepseek-r1-0528", "DeepSeek R1 (0528)", "together_ai/deepseek-ai/DeepSeek-R1-0528",
      FW + "deepseek-r1-0528", "deepinfra/deepseek-ai/DeepSeek-R1-0528"),
    m("deepseek", "deepseek-r1-distill-llama-70b", "DeepSeek R1 Distill Llama 70B",
      FW + "deepseek-r1-distill-llama-70b", "deepinfra/deepseek-ai/DeepSeek-R1-Distill-Llama-70B"),

    # ---------------------------------------------------------------- mistral
    m("mistral", "mistral-large-3", "Mistral Large 3", "mistral/mistral-large-2512",
      FW + "mistral-large-3-fp8", "mistral.mistral-large-3-675b-instruct", "azure_ai/mistral-large-3"),
    m("mistral", "mistral-large-4", "Mistral Large 4", "mistral/mistral-large-4"),
    m("mistral", "mistral-medium-3.5", "Mistral Medium 3.5", "mistral/mistral-medium-3.5",
      "azure_ai/mistral-medium-3-5"),
    m("mistral", "mistral-small-2603", "Mistral Small (26.03)", "mistral/mistral-small-2603"),
    m("mistral", "mistral-small-3.2", "Mistral Small 3.2 24B",
      "deepinfra/mistralai/Mistral-Small-3.2-24B-Instruct-2506"),
    m("mistral", "magistral-medium", "Magistral Medium", "mistral/magistral-medium-latest"),
    m("mistral", "magistral-small", "Magistral Small", "mistral/magistral-small-latest",
      "mistral.magistral-small-2509"),
    m("mistral", "codestral-2508", "Codestral (25.08)", "mistral/codestral-2508"),
    m("mistral", "devstral-2", "Devstral 2", "mistral/devstral-latest", "mistral.devstral-2-123b"),
    m("mistral", "devstral-small", "Devstral Small", "mistral/devstral-small-latest"),
    m("mistral", "ministral-3-14b", "Ministral 3 14B", "mistral/ministral-3-14b-2512",
      "together_ai/mistralai/Ministral-3-14B-Instruct-2512", FW + "ministral-3-14b-instruct-2512",
      "mistral.ministral-3-14b-instruct"),
    m("mistral", "ministral-3-8b", "Ministral 3 8B", "mistral/ministral-3-8b-2512",
      FW + "ministral-3-8b-instruct-2512", "mistral.ministral-3-8b-instruct"),
    m("mistral", "ministral-3-3b", "Ministral 3 3B", "mistral/ministral-3-3b-2512",
      FW + "ministral-3-3b-instruct-2512", "mistral.ministral-3-3b-instruct"),
    m("mistral", "pixtral-large", "Pixtral Large", "mistral/pixtral-large-latest",
      "mistral.pixtral-large-2502-v1:0"),
    m("mistral", "mistral-nemo", "Mistral Nemo", "mistral/open-mistral-nemo",
      FW + "mistral-nemo-instruct-2407", "deepinfra/mistralai/Mistral-Nemo-Instruct-2407"),
    m("mistral", "mixtral-8x22b-instruct", "Mixtral 8x22B Instruct", FW + "mixtral-8x22b-instruct"),
    m("mistral", "mistral-7b-instruct-v0.3", "Mistral 7B Instruct v0.3",
      "together_ai/mistralai/Mistral-7B-Instruct-v0.3"),
    m("mistral", "voxtral-small", "Voxtral Small", "mistral/voxtral-small-2507"),
    m("mistral", "voxtral-mini-transcribe", "Voxtral Mini Transcribe", "mistral/voxtral-mini-2602"),
    m("mistral", "voxtral-mini-transcribe-realtime", "Voxtral Mini Transcribe Realtime",
      "mistral/voxtral-mini-transcribe-realtime-2602"),
    m("mistral", "voxtral-mini-tts", "Voxtral Mini TTS", "mistral/voxtral-mini-tts-2603"),
    m("mistral", "mistral-embed", "Mistral Embed", "mistral/mistral-embed"),
    m("mistral", "codestral-embed", "Codestral Embed", "mistral/codestral-embed"),
    m("mistral", "mistral-moderation", "Mistral Moderation", "mistral/mistral-moderation-2603"),

    # ---------------------------------------------------------------- z-ai (Zhipu)
    m("z-ai", "glm-5.3", "GLM-5.3", "zai/glm-5.3", "together_ai/zai-org/GLM-5.3", FW + "glm-5p3",
      "mistral/zai-glm-5-3"),
    m("z-ai", "glm-5.3-flash", "GLM-5.3 Flash", "zai/glm-5.3-flash", "together_ai/zai-org/GLM-5.3-Flash",
      FW + "glm-5p3-flash"),
    m("z-ai", "glm-5.2", "GLM-5.2", "zai/glm-5.2", "together_ai/zai-org/GLM-5.2", "deepinfra/zai-org/GLM-5.2",
      "dashscope/glm-5.2", "azure_ai/FW-GLM-5.2"),
    m("z-ai", "glm-5.1", "GLM-5.1", "zai/glm-5.1", FW + "glm-5p1", "deepinfra/zai-org/GLM-5.1",
      "dashscope/glm-5.1"),
    m("z-ai", "glm-5", "GLM-5", "zai/glm-5", "deepinfra/zai-org/GLM-5", "zai.glm-5"),
    m("z-ai", "glm-5-code", "GLM-5 Code", "zai/glm-5-code"),
    m("z-ai", "glm-4.7", "GLM-4.7", "zai/glm-4.7", FW + "glm-4p7", "deepinfra/zai-org/GLM-4.7",
      "zai.glm-4.7"),
    m("z-ai", "glm-4.7-flash", "GLM-4.7 Flash", "deepinfra/zai-org/GLM-4.7-Flash", "zai.glm-4.7-flash"),
    m("z-ai", "glm-4.6", "GLM-4.6", "zai/glm-4.6", "together_ai/zai-org/GLM-4.6", FW + "glm-4p6",
      "deepinfra/zai-org/GLM-4.6"),
    m("z-ai", "glm-4.5", "GLM-4.5", "zai/glm-4.5", FW + "glm-4p5", "deepinfra/zai-org/GLM-4.5"),
    m("z-ai", "glm-4.5-air", "GLM-4.5 Air", "zai/glm-4.5-air", FW + "glm-4p5-air"),
    m("z-ai", "glm-4.5v", "GLM-4.5V", "zai/glm-4.5v", FW + "glm-4p5v"),

    # ---------------------------------------------------------------- qwen (Alibaba)
    m("qwen", "qwen3-max", "Qwen3 Max", "dashscope/qwen3-max", "deepinfra/Qwen/Qwen3-Max"),
    m("qwen", "qwen3-max-thinking", "Qwen3 Max Thinking", "deepinfra/Qwen/Qwen3-Max-Thinking"),
    m("qwen", "qwen3.8-max", "Qwen3.8 Max", "dashscope/qwen3.8-max", FW + "qwen3p8-max",
      "deepinfra/Qwen/Qwen3.8-Max"),
    m("qwen", "qwen3.7-max", "Qwen3.7 Max", "dashscope/qwen3.7-max", "together_ai/Qwen/Qwen3.7-Max",
      "deepinfra/Qwen/Qwen3.7-Max"),
    m("qwen", "qwen3.7-plus", "Qwen3.7 Plus", "dashscope/qwen3.7-plus", "together_ai/Qwen/Qwen3.7-Plus",
      FW + "qwen3p7-plus"),
    m("qwen", "qwen3.8-flash", "Qwen3.8 Flash", "dashscope/qwen3.8-flash", "together_ai/Qwen/Qwen3.8-Flash"),
    m("qwen", "qwen3.8-omni-flash", "Qwen3.8 Omni Flash", "dashscope/qwen3.8-omni-flash"),
    m("qwen", "qwen3.6-plus", "Qwen3.6 Plus", "together_ai/Qwen/Qwen3.6-Plus"),
    m("qwen", "qwen3.5-plus", "Qwen3.5 Plus", "dashscope/qwen3.5-plus"),
    m("qwen", "qwen-plus", "Qwen Plus", "dashscope/qwen-plus"),
    m("qwen", "qwen-turbo", "Qwen Turbo", "dashscope/qwen-turbo"),
    m("qwen", "qwen-flash", "Qwen Flash", "dashscope/qwen-flash"),
    m("qwen", "qwen3-coder-plus", "Qwen3 Coder Plus", "dashscope/qwen3-coder-plus"),
    m("qwen", "qwen3-coder-480b-a35b-instruct", "Qwen3 Coder 480B A35B",
      FW + "qwen3-coder-480b-a35b-instruct", "deepinfra/Qwen/Qwen3-Coder-480B-A35B-Instruct",
      "qwen.qwen3-coder-480b-a35b-v1:0"),
    m("qwen", "qwen3-coder-30b-a3b-instruct", "Qwen3 Coder 30B A3B", FW + "qwen3-coder-30b-a3b-instruct",
      "qwen.qwen3-coder-30b-a3b-v1:0"),
    m("qwen", "qwen3-235b-a22b-instruct-2507", "Qwen3 235B A22B Instruct 2507",
      FW + "qwen3-235b-a22b-instruct-2507", "deepinfra/Qwen/Qwen3-235B-A22B-Instruct-2507",
      "qwen.qwen3-235b-a22b-2507-v1:0"),
    m("qwen", "qwen3-235b-a22b-thinking-2507", "Qwen3 235B A22B Thinking 2507",
      FW + "qwen3-235b-a22b-thinking-2507", "deepinfra/Qwen/Qwen3-235B-A22B-Thinking-2507"),
    m("qwen", "qwen3-next-80b-a3b-instruct", "Qwen3 Next 80B A3B Instruct",
      "dashscope/qwen3-next-80b-a3b-instruct", "deepinfra/Qwen/Qwen3-Next-80B-A3B-Instruct",
      "qwen.qwen3-next-80b-a3b"),
    m("qwen", "qwen3-next-80b-a3b-thinking", "Qwen3 Next 80B A3B Thinking",
      "dashscope/qwen3-next-80b-a3b-thinking", "deepinfra/Qwen/Qwen3-Next-80B-A3B-Thinking"),
    m("qwen", "qwen3-vl-235b-a22b-instruct", "Qwen3 VL 235B A22B Instruct",
      "dashscope/qwen3-vl-235b-a22b-instruct", FW + "qwen3-vl-235b-a22b-instruct",
      "deepinfra/Qwen/Qwen3-VL-235B-A22B-Instruct", "qwen.qwen3-vl-235b-a22b"),
    m("qwen", "qwen3-vl-235b-a22b-thinking", "Qwen3 VL 235B A22B Thinking",
      "dashscope/qwen3-vl-235b-a22b-thinking", FW + "qwen3-vl-235b-a22b-thinking"),
    m("qwen", "qwen3-vl-32b-instruct", "Qwen3 VL 32B Instruct", "dashscope/qwen3-vl-32b-instruct"),
    m("qwen", "qwen3-vl-30b-a3b-instruct", "Qwen3 VL 30B A3B Instruct", FW + "qwen3-vl-30b-a3b-instruct",
      "deepinfra/Qwen/Qwen3-VL-30B-A3B-Instruct"),
    m("qwen", "qwen3-32b", "Qwen3 32B", FW + "qwen3-32b", "deepinfra/Qwen/Qwen3-32B", "cerebras/qwen-3-32b",
      "qwen.qwen3-32b-v1:0"),
    m("qwen", "qwen3-30b-a3b", "Qwen3 30B A3B", FW + "qwen3-30b-a3b", "deepinfra/Qwen/Qwen3-30B-A3B"),
    m("qwen", "qwen3-14b", "Qwen3 14B", FW + "qwen3-14b", "deepinfra/Qwen/Qwen3-14B"),
    m("qwen", "qwen3.5-397b-a17b", "Qwen3.5 397B A17B", "deepinfra/Qwen/Qwen3.5-397B-A17B"),
    m("qwen", "qwen3.5-122b-a10b", "Qwen3.5 122B A10B", "deepinfra/Qwen/Qwen3.5-122B-A10B"),
    m("qwen", "qwen3.5-35b-a3b", "Qwen3.5 35B A3B", "deepinfra/Qwen/Qwen3.5-35B-A3B"),
    m("qwen", "qwen3.5-27b", "Qwen3.5 27B", "deepinfra/Qwen/Qwen3.5-27B"),
    m("qwen", "qwen3.5-9b", "Qwen3.5 9B", "together_ai/Qwen/Qwen3.5-9B", "deepinfra/Qwen/Qwen3.5-9B"),
    m("qwen", "qwen3.6-35b-a3b", "Qwen3.6 35B A3B", "deepinfra/Qwen/Qwen3.6-35B-A3B"),
    m("qwen", "qwen3.6-27b", "Qwen3.6 27B", "deepinfra/Qwen/Qwen3.6-27B"),
    m("qwen", "qwen3.8-27b", "Qwen3.8 27B", "groq/qwen/qwen3.8-27b", "deepinfra/Qwen/Qwen3.8-27B",
      "cerebras/qwen-3.8-27b"),
    m("qwen", "qwen3.8-2.4t-a95b", "Qwen3.8 2.4T A95B", "together_ai/Qwen/Qwen3.8-2.4T-A95B",
      "deepinfra/Qwen/Qwen3.8-2.4T-A95B"),
    m("qwen", "qwq-32b", "QwQ 32B", FW + "qwq-32b", "deepinfra/Qwen/QwQ-32B"),
    m("qwen", "qwq-plus", "QwQ Plus", "dashscope/qwq-plus"),
    m("qwen", "qwen2.5-72b-instruct", "Qwen2.5 72B Instruct", "together_ai/Qwen/Qwen2.5-72B-Instruct",
      FW + "qwen2p5-72b-instruct", "deepinfra/Qwen/Qwen2.5-72B-Instruct"),
    m("qwen", "qwen3-embedding-8b", "Qwen3 Embedding 8B", FW + "qwen3-embedding-8b"),
    m("qwen", "qwen3-reranker-8b", "Qwen3 Reranker 8B", FW + "qwen3-reranker-8b"),

    # ---------------------------------------------------------------- alibaba (Tongyi Wan video)
    m("alibaba", "wan-3.0", "Wan 3.0", "dashscope/wan3.0-video"),
    m("alibaba", "wan-2.7-t2v", "Wan 2.7 Text-to-Video", "dashscope/wan2.7-t2v"),

    # ---------------------------------------------------------------- meta
    m("meta", "llama-3.3-70b-instruct", "Llama 3.3 70B Instruct", FW + "llama-v3p3-70b-instruct",
      "deepinfra/meta-llama/Llama-3.3-70B-Instruct", "cerebras/llama-3.3-70b",
      "sambanova/Meta-Llama-3.3-70B-Instruct", "meta.llama3-3-70b-instruct-v1:0",
      "azure_ai/Llama-3.3-70B-Instruct"),
    m("meta", "llama-4-maverick", "Llama 4 Maverick", FW + "llama4-maverick-instruct-basic",
      "deepinfra/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
      "sambanova/Llama-4-Maverick-17B-128E-Instruct", "meta.llama4-maverick-17b-instruct-v1:0",
      "azure_ai/Llama-4-Maverick-17B-128E-Instruct-FP8"),
    m("meta", "llama-4-scout", "Llama 4 Scout", FW + "llama4-scout-instruct-basic",
      "deepinfra/meta-llama/Llama-4-Scout-17B-16E-Instruct", "meta.llama4-scout-17b-instruct-v1:0",
      "azure_ai/Llama-4-Scout-17B-16E-Instruct"),
    m("meta", "llama-3.1-405b-instruct", "Llama 3.1 405B Instruct", FW + "llama-v3p1-405b-instruct",
      "together_ai/meta-llama/Llama-3.1-405B-Instruct"),
    m("meta", "llama-3.1-70b-instruct", "Llama 3.1 70B Instruct", FW + "llama-v3p1-70b-instruct",
      "deepinfra/meta-llama/Meta-Llama-3.1-70B-Instruct", "cerebras/llama3.1-70b",
      "meta.llama3-1-70b-instruct-v1:0"),
    m("meta", "llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", FW + "llama-v3p1-8b-instruct",
      "deepinfra/meta-llama/Meta-Llama-3.1-8B-Instruct", "cerebras/llama3.1-8b",
      "meta.llama3-1-8b-instruct-v1:0"),
    m("meta", "llama-3.2-3b-instruct", "Llama 3.2 3B Instruct",
      "together_ai/meta-llama/Llama-3.2-3B-Instruct", FW + "llama-v3p2-3b-instruct",
      "deepinfra/meta-llama/Llama-3.2-3B-Instruct"),
    m("meta", "llama-3.2-1b-instruct", "Llama 3.2 1B Instruct",
      "together_ai/meta-llama/Llama-3.2-1B-Instruct", FW + "llama-v3p2-1b-instruct"),
    m("meta", "llama-3.2-11b-vision-instruct", "Llama 3.2 11B Vision Instruct",
      FW + "llama-v3p2-11b-vision-instruct", "deepinfra/meta-llama/Llama-3.2-11B-Vision-Instruct"),
    m("meta", "llama-3.2-90b-vision-instruct", "Llama 3.2 90B Vision Instruct",
      FW + "llama-v3p2-90b-vision-instruct"),
    m("meta", "llama-guard-4-12b", "Llama Guard 4 12B", "deepinfra/meta-llama/Llama-Guard-4-12B"),
    m("meta", "llama-guard-3-8b", "Llama Guard 3 8B", FW + "llama-guard-3-8b",
      "deepinfra/meta-llama/Llama-Guard-3-8B", "cloudflare/@cf/meta/llama-guard-3-8b"),
    m("meta", "llama-prompt-guard-2-86m", "Llama Prompt Guard 2 86M",
      "groq/meta-llama/llama-prompt-guard-2-86m"),
    m("meta", "muse-spark-open", "Muse Spark Open", "together_ai/meta-models/Muse-Spark-Open-816B-A42B",
      FW + "muse-spark-open"),
    m("meta", "muse-glimmer-30b", "Muse Glimmer 30B", "together_ai/meta-models/Muse-Glimmer-30B",
      "deepinfra/meta-models/Muse-Glimmer-30B"),

    # ---------------------------------------------------------------- microsoft
    m("microsoft", "phi-4", "Phi-4", "azure_ai/Phi-4", "deepinfra/microsoft/phi-4"),
    m("microsoft", "phi-4-mini-instruct", "Phi-4 mini", "azure_ai/Phi-4-mini-instruct"),
    m("microsoft", "phi-4-multimodal-instruct", "Phi-4 multimodal", "azure_ai/Phi-4-multimodal-instruct"),
    m("microsoft", "phi-4-reasoning", "Phi-4 reasoning", "azure_ai/Phi-4-reasoning"),
    m("microsoft", "phi-4-mini-reasoning", "Phi-4 mini reasoning", "azure_ai/Phi-4-mini-reasoning"),
    m("microsoft", "mai-thinking-1", "MAI Thinking 1", "azure_ai/MAI-Thinking-1"),
    m("microsoft", "mai-cyber-1-flash", "MAI Cyber 1 Flash", "azure_ai/MAI-Cyber-1-Flash"),
    m("microsoft", "mai-image-2.6", "MAI Image 2.6", "azure_ai/MAI-Image-2.6"),
    m("microsoft", "mai-image-2.6-flash", "MAI Image 2.6 Flash", "azure_ai/MAI-Image-2.6-Flash"),
    m("microsoft", "wizardlm-2-8x22b", "WizardLM-2 8x22B", "deepinfra/microsoft/WizardLM-2-8x22B"),

    # ---------------------------------------------------------------- nvidia
    m("nvidia", "nemotron-3-ultra-550b-a55b", "Nemotron 3 Ultra 550B A55B",
      "deepinfra/nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B", "azure_ai/FW-Nemotron-3-Ultra-NVFP4"),
    m("nvidia", "nemotron-3-super-120b-a12b", "Nemotron 3 Super 120B A12B",
      "deepinfra/nvidia/NVIDIA-Nemotron-3-Super-120B-A12B", "nvidia.nemotron-super-3-120b"),
    m("nvidia", "nemotron-3-nano-30b-a3b", "Nemotron 3 Nano 30B A3B",
      "deepinfra/nvidia/Nemotron-3-Nano-30B-A3B", "nvidia.nemotron-nano-3-30b"),
    m("nvidia", "nemotron-3.5-lightning", "Nemotron 3.5 Lightning 30B A3B",
      "deepinfra/nvidia/NVIDIA-Nemotron-3.5-Lightning", "azure_ai/FW-Nemotron-Lightning-3.5-30B-A3B"),
    m("nvidia", "nemotron-3.5-super-vl", "Nemotron 3.5 Super VL",
      "together_ai/nvidia/NVIDIA-Nemotron-3.5-Super-VL"),
    m("nvidia", "llama-3.3-nemotron-super-49b-v1.5", "Llama 3.3 Nemotron Super 49B v1.5",
      "deepinfra/nvidia/Llama-3.3-Nemotron-Super-49B-v1.5"),
    m("nvidia", "llama-3.1-nemotron-70b-instruct", "Llama 3.1 Nemotron 70B Instruct",
      FW + "llama-v3p1-nemotron-70b-instruct", "deepinfra/nvidia/Llama-3.1-Nemotron-70B-Instruct"),
    m("nvidia", "nemotron-nano-9b-v2", "Nemotron Nano 9B v2", FW + "nvidia-nemotron-nano-9b-v2",
      "deepinfra/nvidia/NVIDIA-Nemotron-Nano-9B-v2", "nvidia.nemotron-nano-9b-v2"),
    m("nvidia", "nemotron-nano-12b-v2-vl", "Nemotron Nano 12B v2 VL", FW + "nemotron-nano-v2-12b-vl",
      "nvidia.nemotron-nano-12b-v2"),
    m("nvidia", "nemotron-content-safety-3.5", "Nemotron Content Safety 3.5",
      "deepinfra/nvidia/Nemotron-Content-Safety-3.5"),

    # ---------------------------------------------------------------- cohere
    m("cohere", "command-a", "Command A", "command-a-03-2025", "azure_ai/cohere-command-a"),
    m("cohere", "command-r-plus", "Command R+", "command-r-plus-08-2024"),
    m("cohere", "command-r", "Command R", "command-r-08-2024"),
    m("cohere", "command-r7b", "Command R7B", "command-r7b-12-2024"),
    m("cohere", "aya-expanse-32b", "Aya Expanse 32B", "c4ai-aya-expanse-32b"),
    m("cohere", "embed-v5.0-pro", "Embed v5 Pro", "cohere/embed-v5.0-pro", "azure_ai/Cohere-Embed-V5-Pro"),
    m("cohere", "embed-v5.0-fast", "Embed v5 Fast", "cohere/embed-v5.0-fast",
      "azure_ai/Cohere-Embed-V5-Fast"),
    m("cohere", "embed-v4.0", "Embed v4", "cohere/embed-v4.0", "cohere.embed-v4:0", "azure_ai/embed-v-4-0"),
    m("cohere", "embed-english-v3.0", "Embed English v3", "embed-english-v3.0", "cohere.embed-english-v3",
      "azure_ai/Cohere-embed-v3-english"),
    m("cohere", "embed-multilingual-v3.0", "Embed Multilingual v3", "embed-multilingual-v3.0",
      "cohere.embed-multilingual-v3", "azure_ai/Cohere-embed-v3-multilingual"),
    m("cohere", "rerank-v4.0-pro", "Rerank v4 Pro", "rerank-v4.0-pro"),
    m("cohere", "rerank-v4.0-fast", "Rerank v4 Fast", "rerank-v4.0-fast"),
    m("cohere", "rerank-v3.5", "Rerank v3.5", "rerank-v3.5", "cohere.rerank-v3-5:0"),

    # ---------------------------------------------------------------- ai21
    m("ai21", "jamba-large-1.7", "Jamba Large 1.7", "jamba-large-1.7"),
    m("ai21", "jamba-mini-1.7", "Jamba Mini 1.7", "jamba-mini-1.7"),

    # ---------------------------------------------------------------- amazon
    m("amazon", "nova-2-pro-preview", "Nova 2 Pro (preview)", "amazon.nova-2-pro-preview-20251202-v1:0"),
    m("amazon", "nova-2-lite", "Nova 2 Lite", "amazon.nova-2-lite-v1:0"),
    m("amazon", "nova-premier", "Nova Premier", "amazon.nova-premier-v1:0"),
    m("amazon", "nova-pro", "Nova Pro", "amazon.nova-pro-v1:0"),
    m("amazon", "nova-lite", "Nova Lite", "amazon.nova-lite-v1:0"),
    m("amazon", "nova-micro", "Nova Micro", "amazon.nova-micro-v1:0"),
    m("amazon", "nova-2-multimodal-embeddings", "Nova 2 Multimodal Embeddings",
      "amazon.nova-2-multimodal-embeddings-v1:0"),
    m("amazon", "titan-embed-text-v2", "Titan Text Embeddings V2", "amazon.titan-embed-text-v2:0"),
    m("amazon", "titan-image-generator-v1", "Titan Image Generator G1", "amazon.titan-image-generator-v1"),
    m("amazon", "rerank-v1", "Amazon Rerank 1", "amazon.rerank-v1:0"),

    # ---------------------------------------------------------------- perplexity
    m("perplexity", "sonar", "Sonar", "perplexity/sonar"),
    m("perplexity", "sonar-pro", "Sonar Pro", "perplexity/sonar-pro"),
    m("perplexity", "sonar-reasoning", "Sonar Reasoning", "perplexity/sonar-reasoning"),
    m("perplexity", "sonar-reasoning-pro", "Sonar Reasoning Pro", "perplexity/sonar-reasoning-pro"),
    m("perplexity", "sonar-deep-research", "Sonar Deep Research", "perplexity/sonar-deep-research"),
    m("perplexity", "pplx-embed-v1-4b", "pplx-embed v1 4B", "perplexity/pplx-embed-v1-4b"),
    m("perplexity", "pplx-embed-v1-0.6b", "pplx-embed v1 0.6B", "perplexity/pplx-embed-v1-0.6b"),
    m("perplexity", "pplx-embed-context-v1-4b", "pplx-embed-context v1 4B",
      "perplexity/pplx-embed-context-v1-4b"),

    # ---------------------------------------------------------------- voyage
    m("voyage", "voyage-4-large", "Voyage 4 Large", "voyage/voyage-4-large"),
    m("voyage", "voyage-4", "Voyage 4", "voyage/voyage-4"),
    m("voyage", "voyage-4-lite", "Voyage 4 Lite", "voyage/voyage-4-lite"),
    m("voyage", "voyage-code-4", "Voyage Code 4", "voyage/voyage-code-4"),
    m("voyage", "voyage-context-4", "Voyage Context 4", "voyage/voyage-context-4"),
    m("voyage", "voyage-multimodal-3.5", "Voyage Multimodal 3.5", "voyage/voyage-multimodal-3.5"),
    m("voyage", "voyage-3.5", "Voyage 3.5", "voyage/voyage-3.5"),
    m("voyage", "voyage-3.5-lite", "Voyage 3.5 Lite", "voyage/voyage-3.5-lite"),
    m("voyage", "voyage-3-large", "Voyage 3 Large", "voyage/voyage-3-large"),
    m("voyage", "voyage-code-3", "Voyage Code 3", "voyage/voyage-code-3"),
    m("voyage", "voyage-finance-2", "Voyage Finance 2", "voyage/voyage-finance-2"),
    m("voyage", "voyage-law-2", "Voyage Law 2", "voyage/voyage-law-2"),
    m("voyage", "rerank-3", "Voyage Rerank 3", "voyage/rerank-3"),
    m("voyage", "rerank-3-lite", "Voyage Rerank 3 Lite", "voyage/rerank-3-lite"),
    m("voyage", "rerank-2.5", "Voyage Rerank 2.5", "voyage/rerank-2.5"),
    m("voyage", "rerank-2.5-lite", "Voyage Rerank 2.5 Lite", "voyage/rerank-2.5-lite"),

    # ---------------------------------------------------------------- jina
    m("jina", "jina-reranker-v2-base-multilingual", "Jina Reranker v2 Base Multilingual",
      "jina-reranker-v2-base-multilingual"),

    # ---------------------------------------------------------------- deepgram
    m("deepgram", "nova-3", "Deepgram Nova-3", "deepgram/nova-3"),
    m("deepgram", "nova-3-medical", "Deepgram Nova-3 Medical", "deepgram/nova-3-medical"),
    m("deepgram", "nova-2", "Deepgram Nova-2", "deepgram/nova-2"),

    # ---------------------------------------------------------------- elevenlabs
    m("elevenlabs", "scribe-v2", "ElevenLabs Scribe v2", "elevenlabs/scribe_v2"),
    m("elevenlabs", "scribe-v1", "ElevenLabs Scribe v1", "elevenlabs/scribe_v1"),
    m("elevenlabs", "eleven-v3", "Eleven v3", "elevenlabs/eleven_v3"),
    m("elevenlabs", "eleven-multilingual-v2", "Eleven Multilingual v2", "elevenlabs/eleven_multilingual_v2"),

    # ---------------------------------------------------------------- stability
    m("stability", "stable-diffusion-3.5-large", "Stable Diffusion 3.5 Large", "stability.sd3-5-large-v1:0"),
    m("stability", "stable-image-ultra", "Stable Image Ultra", "stability.stable-image-ultra-v1:1"),
    m("stability", "stable-image-core", "Stable Image Core", "stability.stable-image-core-v1:1"),

    # ---------------------------------------------------------------- black-forest-labs
    m("black-forest-labs", "flux-2-pro", "FLUX.2 [pro]", "azure_ai/flux.2-pro"),
    m("black-forest-labs", "flux-1.1-pro", "FLUX1.1 [pro]", "black_forest_labs/flux-pro-1.1",
      "azure_ai/FLUX-1.1-pro"),
    m("black-forest-labs", "flux-1-kontext-pro", "FLUX.1 Kontext [pro]", "black_forest_labs/flux-kontext-pro",
      "azure_ai/FLUX.1-Kontext-pro"),

    # ---------------------------------------------------------------- other labs (open weights, hosted)
    m("bytedance", "seed-2.0-pro", "Seed 2.0 Pro", "deepinfra/ByteDance/Seed-2.0-pro"),
    m("bytedance", "seed-2.0-code", "Seed 2.0 Code", "deepinfra/ByteDance/Seed-2.0-code"),
    m("bytedance", "seed-2.0-mini", "Seed 2.0 Mini", "deepinfra/ByteDance/Seed-2.0-mini"),
    m("bytedance", "seed-1.8", "Seed 1.8", "deepinfra/ByteDance/Seed-1.8"),
    m("tencent", "hy3", "Hunyuan 3 (Hy3)", "deepinfra/tencent/Hy3"),
    m("stepfun", "step-3.7-flash", "Step 3.7 Flash", "deepinfra/stepfun-ai/Step-3.7-Flash"),
    m("xiaomi", "mimo-v2.5-pro", "MiMo V2.5 Pro", "deepinfra/XiaomiMiMo/MiMo-V2.5-Pro"),
    m("xiaomi", "mimo-v2.5", "MiMo V2.5", "deepinfra/XiaomiMiMo/MiMo-V2.5"),
    m("inclusionai", "ling-3.0-flash", "Ling 3.0 Flash", "deepinfra/inclusionAI/Ling-3.0-flash"),
    m("thinkingmachines", "inkling", "Inkling", "together_ai/thinkingmachines/Inkling",
      "deepinfra/thinkingmachines/Inkling", "azure_ai/FW-Inkling"),
    m("thinkingmachines", "inkling-small", "Inkling Small", "deepinfra/thinkingmachines/Inkling-Small"),
    m("nous", "hermes-3-llama-3.1-405b", "Hermes 3 Llama 3.1 405B",
      "deepinfra/NousResearch/Hermes-3-Llama-3.1-405B"),
    m("nous", "hermes-3-llama-3.1-70b", "Hermes 3 Llama 3.1 70B",
      "deepinfra/NousResearch/Hermes-3-Llama-3.1-70B"),
    m("writer", "palmyra-x5", "Palmyra X5", "writer.palmyra-x5-v1:0"),
    m("writer", "palmyra-x4", "Palmyra X4", "writer.palmyra-x4-v1:0"),
    m("01-ai", "yi-large", "Yi Large", FW + "yi-large"),
    m("baidu", "ernie-4.5-300b-a47b", "ERNIE 4.5 300B A47B", FW + "ernie-4p5-300b-a47b-pt"),
    m("baidu", "ernie-4.5-21b-a3b", "ERNIE 4.5 21B A3B", FW + "ernie-4p5-21b-a3b-pt"),
    m("databricks", "dbrx-instruct", "DBRX Instruct", FW + "dbrx-instruct"),
    m("allenai", "olmocr-7b", "olmOCR 7B", "deepinfra/allenai/olmOCR-7B-0725-FP8"),
    m("arcee", "trinity-mini", "Trinity Mini", "together_ai/arcee-ai/trinity-mini"),
    m("reflection", "beam-1.0", "Beam 1.0 501B A23B", "together_ai/reflection/Beam-1.0-501B-A23B"),
    m("deepcogito", "cogito-v2.1-671b", "Cogito v2.1 671B", FW + "cogito-671b-v2-p1"),
    m("kwaipilot", "kat-coder", "KAT-Coder", FW + "kat-coder"),
    m("opengvlab", "internvl3-78b", "InternVL3 78B", FW + "internvl3-78b"),
    m("fireworks", "firefunction-v2", "FireFunction v2", FW + "firefunction-v2"),
    m("sao10k", "l3.3-euryale-70b", "Llama 3.3 Euryale 70B v2.3", "deepinfra/Sao10K/L3.3-70B-Euryale-v2.3"),
    m("gryphe", "mythomax-l2-13b", "MythoMax L2 13B", "deepinfra/Gryphe/MythoMax-L2-13b",
      FW + "mythomax-l2-13b"),
    m("canopylabs", "orpheus-v1-english", "Orpheus v1 English", "groq/canopylabs/orpheus-v1-english"),
    m("canopylabs", "orpheus-arabic-saudi", "Orpheus Arabic (Saudi)", "groq/canopylabs/orpheus-arabic-saudi"),
    m("nomic", "nomic-embed-text-v1.5", "Nomic Embed Text v1.5",
      "fireworks_ai/nomic-ai/nomic-embed-text-v1.5"),
    m("baai", "bge-base-en-v1.5", "BGE Base EN v1.5", "together_ai/BAAI/bge-base-en-v1.5"),
)
# fmt: on
