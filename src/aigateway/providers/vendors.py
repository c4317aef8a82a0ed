"""Vendor profiles: where an upstream lives, how it authenticates, which wire format it speaks.

A vendor that speaks the OpenAI wire format is a profile of a few lines, not a module. Base URLs are
overridable per vendor with ``AIGATEWAY_<VENDOR>_BASE_URL`` (that is how tests point the gateway at
simulators) or in the config file's ``[providers.NAME]`` table, which can also add new vendors
(Ollama, vLLM, a private endpoint).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aigateway.settings import ProviderConfig


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one operation of a vendor lives: the wire it speaks there, and a path under base_url."""

    wire: str
    path: str = ""


@dataclass(frozen=True, slots=True)
class VendorProfile:
    name: str
    base_url: str
    key_envs: tuple[str, ...]
    wire: str = "openai"
    auth: str = "bearer"  # "bearer", "x-api-key", "x-goog-api-key", "api-key", "token", "xi-api-key", "none"
    headers: Mapping[str, str] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)
    key_required: bool = True
    sends_reasoning_content: bool = False
    timeout_s: float | None = None
    # Implements OpenAI's embeddings in full (base64 answers, token-id input): requests go as sent.
    openai_embeddings: bool = False
    # Operations served at another wire or path than the vendor's default (Cohere's chat is its
    # OpenAI-compatible API under /compatibility/v1; its embed and rerank are its own v2 API).
    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)

    def for_operation(self, operation: str) -> VendorProfile:
        """This vendor as one operation sees it: that operation's wire, and base URL with its path."""
        endpoint = self.endpoints.get(operation)
        if endpoint is None:
            return self
        base = self.base_url.rstrip("/") + endpoint.path if self.base_url else ""
        return replace(self, wire=endpoint.wire, base_url=base, endpoints={})

    def credential(self) -> str | None:
        if self.api_key:
            return self.api_key
        for env in self.key_envs:
            value = os.environ.get(env)
            if value:
                return value
        return None

    @property
    def base_url_hint(self) -> str:
        return f"AIGATEWAY_{self.name.upper()}_BASE_URL"

    @property
    def key_hint(self) -> str:
        return self.key_envs[0] if self.key_envs else f"providers.{self.name}.api_key"


def _p(name: str, base_url: str, *envs: str, **kw: Any) -> VendorProfile:
    return VendorProfile(name=name, base_url=base_url, key_envs=envs, **kw)


BUILTIN_VENDORS: tuple[VendorProfile, ...] = (
    _p("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", openai_embeddings=True),
    _p("anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", wire="anthropic", auth="x-api-key"),
    _p(
        "google",
        "https://generativelanguage.googleapis.com/v1beta",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        wire="gemini",
        auth="x-goog-api-key",
    ),
    _p("xai", "https://api.x.ai/v1", "XAI_API_KEY", sends_reasoning_content=True),
    _p("moonshot", "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY", sends_reasoning_content=True),
    _p(
        "minimax",
        "https://api.minimax.io/v1",
        "MINIMAX_API_KEY",
        endpoints={"speech": Endpoint("minimax")},  # text to speech is its own t2a_v2 API
    ),
    _p("deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", sends_reasoning_content=True),
    _p(
        "mistral",
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        # Voxtral answers JSON only (transcripts, and speech as base64): its own adapters.
        endpoints={"transcriptions": Endpoint("mistral"), "speech": Endpoint("mistral")},
    ),
    _p("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    _p("together", "https://api.together.xyz/v1", "TOGETHER_API_KEY", "TOGETHERAI_API_KEY"),
    _p("fireworks", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
    _p("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", sends_reasoning_content=True),
    _p("cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"),
    _p("deepinfra", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"),
    _p("perplexity", "https://api.perplexity.ai", "PERPLEXITY_API_KEY"),
    _p(
        "cohere",
        "https://api.cohere.com",
        "COHERE_API_KEY",
        "CO_API_KEY",
        wire="cohere",
        endpoints={"chat": Endpoint("openai", "/compatibility/v1")},
    ),
    _p("zai", "https://api.z.ai/api/paas/v4", "ZAI_API_KEY"),
    _p("dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "DASHSCOPE_API_KEY"),
    _p("sambanova", "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"),
    _p("nvidia_nim", "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY", "NVIDIA_API_KEY"),
    _p("ai21", "https://api.ai21.com/studio/v1", "AI21_API_KEY"),
    _p("voyage", "https://api.voyageai.com/v1", "VOYAGE_API_KEY", wire="voyage"),
    _p("jina", "https://api.jina.ai/v1", "JINA_API_KEY", wire="jina"),
    _p("deepgram", "https://api.deepgram.com/v1", "DEEPGRAM_API_KEY", wire="deepgram", auth="token"),
    _p(
        "elevenlabs",
        "https://api.elevenlabs.io/v1",
        "ELEVENLABS_API_KEY",
        wire="elevenlabs",
        auth="xi-api-key",
    ),
    _p(
        "bedrock",
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        "AWS_BEARER_TOKEN_BEDROCK",
        wire="bedrock",
    ),
    # Azure endpoints are per resource: no default, AIGATEWAY_AZURE_BASE_URL (or config) must say where.
    _p("azure", "", "AZURE_OPENAI_API_KEY", "AZURE_API_KEY", auth="api-key", openai_embeddings=True),
    _p("ollama", "http://127.0.0.1:11434/v1", "OLLAMA_API_KEY", key_required=False),
    # Novita's OpenAI-compatible API (chat, /embeddings): novita.ai/docs/api-reference.
    _p("novita", "https://api.novita.ai/openai/v1", "NOVITA_API_KEY"),
    # Cloudflare Workers AI: OpenAI-compatible chat and embeddings under /v1, native /run/{model} otherwise
    # (rerank). The account id placeholder is expanded by build_vendors.
    _p(
        "cloudflare",
        "https://api.cloudflare.com/client/v4/accounts/${CLOUDFLARE_ACCOUNT_ID}/ai",
        "CLOUDFLARE_API_TOKEN",
        wire="cloudflare",
        endpoints={"chat": Endpoint("openai", "/v1"), "embeddings": Endpoint("openai", "/v1")},
    ),
    # Black Forest Labs' FLUX API (docs.bfl.ai): POST /v1/{model}, key in the x-key header.
    _p("bfl", "https://api.bfl.ai/v1", "BFL_API_KEY", wire="bfl", auth="x-key"),
    # Hugging Face Inference Providers, the hf-inference provider: POST /{org}/{model}.
    # 60 s read timeout: HF bills compute time, and the reservation of a compute-billed call is its
    # vendor's timeout (services/operations/detections.compute_ceiling_ms); 600 s would hold 7.2 cents.
    _p(
        "huggingface",
        "https://router.huggingface.co/hf-inference/models",
        "HF_TOKEN",
        wire="huggingface",
        timeout_s=60.0,
    ),
)


# How each wire format authenticates by default (a new vendor of that wire inherits it).
WIRE_AUTH = {"openai": "bearer", "anthropic": "x-api-key", "gemini": "x-goog-api-key"}


def build_vendors(
    configured: Mapping[str, ProviderConfig], environ: Mapping[str, str] | None = None
) -> dict[str, VendorProfile]:
    """Built-in profiles, with environment and config-file overrides applied, plus new vendors."""
    env = os.environ if environ is None else environ
    vendors = {v.name: v for v in BUILTIN_VENDORS}
    for name, cfg in configured.items():
        base = vendors.get(name)
        if base is None:
            if not cfg.base_url:
                raise ValueError(f"provider {name!r} in config needs a base_url")
            base = VendorProfile(
                name=name,
                base_url=cfg.base_url,
                key_envs=(cfg.api_key_env,) if cfg.api_key_env else (),
                key_required=bool(cfg.api_key or cfg.api_key_env),
                auth=WIRE_AUTH.get(cfg.wire or "openai", "bearer"),
            )
        vendors[name] = replace(
            base,
            base_url=cfg.base_url or base.base_url,
            key_envs=(cfg.api_key_env,) if cfg.api_key_env else base.key_envs,
            api_key=cfg.api_key or base.api_key,
            wire=cfg.wire or base.wire,
            auth=cfg.auth or base.auth,
            headers={**base.headers, **cfg.headers},
            timeout_s=cfg.timeout_s or base.timeout_s,
        )
    for name, profile in list(vendors.items()):
        override = env.get(f"AIGATEWAY_{name.upper()}_BASE_URL")
        if override:
            vendors[name] = replace(profile, base_url=override)
        elif "${" in profile.base_url:
            vendors[name] = replace(profile, base_url=expand_base_url(profile.base_url, env))
    return vendors


_PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


def expand_base_url(url: str, env: Mapping[str, str]) -> str:
    """Fill ``${VAR}`` placeholders (Cloudflare's account id) from the environment.

    A placeholder whose variable is unset leaves the vendor unconfigured (an empty base URL), so a
    call says which variable to set instead of reaching a URL with a hole in it.
    """
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = env.get(match.group(1), "")
        missing = missing or not value
        return value

    expanded = _PLACEHOLDER.sub(fill, url)
    return "" if missing else expanded
