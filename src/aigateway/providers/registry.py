"""Which adapter serves each (wire, operation): the one table to extend with a new provider wire.

A vendor names its wire (providers/vendors.py, per operation where they differ); a deployment of a
catalog model is servable when this table has an adapter for its vendor's wire and the operation.
"""

from __future__ import annotations

from aigateway.providers.wire.anthropic import AnthropicWire
from aigateway.providers.wire.base import Adapter
from aigateway.providers.wire.chat_tasks_registry import task_adapters
from aigateway.providers.wire.embeddings import (
    CohereEmbeddings,
    GeminiEmbeddings,
    JinaEmbeddings,
    OpenAIEmbeddings,
    VoyageEmbeddings,
)
from aigateway.providers.wire.gemini import GeminiWire
from aigateway.providers.wire.images import OpenAIImages
from aigateway.providers.wire.images_google import GeminiImages
from aigateway.providers.wire.images_native import BflImages, CloudflareImages
from aigateway.providers.wire.openai import OpenAIWire
from aigateway.providers.wire.rerank import CloudflareRerank, CohereRerank, JinaRerank, VoyageRerank
from aigateway.providers.wire.speech import DeepgramSpeech, OpenAISpeech
from aigateway.providers.wire.speech_native import ElevenLabsSpeech, MiniMaxSpeech, MistralSpeech
from aigateway.providers.wire.transcription import OpenAITranscription
from aigateway.providers.wire.transcription_native import (
    DeepgramTranscription,
    ElevenLabsTranscription,
    MistralTranscription,
)


def build_adapters() -> dict[tuple[str, str], Adapter]:
    adapters: dict[tuple[str, str], Adapter] = {
        ("openai", "chat"): OpenAIWire(),
        ("anthropic", "chat"): AnthropicWire(),
        ("gemini", "chat"): GeminiWire(),
        ("openai", "embeddings"): OpenAIEmbeddings(),
        ("jina", "embeddings"): JinaEmbeddings(),
        ("voyage", "embeddings"): VoyageEmbeddings(),
        ("cohere", "embeddings"): CohereEmbeddings(),
        ("gemini", "embeddings"): GeminiEmbeddings(),
        ("cohere", "rerank"): CohereRerank(),
        ("voyage", "rerank"): VoyageRerank(),
        ("jina", "rerank"): JinaRerank(),
        ("cloudflare", "rerank"): CloudflareRerank(),
        ("openai", "transcriptions"): OpenAITranscription("transcribe"),
        ("openai", "translations"): OpenAITranscription("translate"),
        ("deepgram", "transcriptions"): DeepgramTranscription(),
        ("elevenlabs", "transcriptions"): ElevenLabsTranscription(),
        ("mistral", "transcriptions"): MistralTranscription(),
        ("openai", "speech"): OpenAISpeech(),
        ("deepgram", "speech"): DeepgramSpeech(),
        ("elevenlabs", "speech"): ElevenLabsSpeech(),
        ("minimax", "speech"): MiniMaxSpeech(),
        ("mistral", "speech"): MistralSpeech(),
        ("openai", "images"): OpenAIImages(),
        ("gemini", "images"): GeminiImages(),
        ("bfl", "images"): BflImages(),
        ("cloudflare", "images"): CloudflareImages(),
    }
    # moderations, text translations, classifications, detections, ocr (chat models and dedicated ones)
    adapters.update(task_adapters({w: adapters[(w, "chat")] for w in ("openai", "anthropic", "gemini")}))
    return adapters
