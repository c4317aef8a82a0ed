"""The adapters of moderations and the four task operations, per wire (providers/registry.py adds them).

Every wire with a chat adapter serves each task by chat models (chat_tasks.py); a wire with the
task's own API serves its dedicated models too: Cloudflare Workers AI (translation, classification,
detection), Hugging Face (all four), Mistral OCR (on the OpenAI wire, for the mistral vendor), and
OpenAI and Mistral moderation.
"""

from __future__ import annotations

from collections.abc import Mapping

from aigateway.providers.wire.base import Adapter
from aigateway.providers.wire.chat_tasks import ChatTaskAdapter, TaskRouter
from aigateway.providers.wire.cloudflare_ml import (
    CloudflareClassification,
    CloudflareDetection,
    CloudflareTranslation,
)
from aigateway.providers.wire.huggingface import (
    HuggingFaceClassification,
    HuggingFaceDetection,
    HuggingFaceOcr,
    HuggingFaceTranslation,
)
from aigateway.providers.wire.mistral_ocr import MistralOcr
from aigateway.providers.wire.moderation import moderation_router

TASKS = ("text_translations", "classifications", "detections", "ocr")
CHAT_WIRES = ("openai", "anthropic", "gemini")


def task_adapters(chat: Mapping[str, Adapter]) -> dict[tuple[str, str], Adapter]:
    cloudflare: dict[str, Adapter] = {
        "text_translations": CloudflareTranslation(),
        "classifications": CloudflareClassification(),
        "detections": CloudflareDetection(),
    }
    huggingface: dict[str, Adapter] = {
        "text_translations": HuggingFaceTranslation(),
        "classifications": HuggingFaceClassification(),
        "detections": HuggingFaceDetection(),
        "ocr": HuggingFaceOcr(),
    }
    out: dict[tuple[str, str], Adapter] = {
        ("openai", "moderations"): moderation_router(chat, openai=True),
        ("cloudflare", "moderations"): moderation_router(chat, openai=False),
        ("huggingface", "moderations"): moderation_router(chat, openai=False),
    }
    for task in TASKS:
        for wire in CHAT_WIRES:
            by_vendor: dict[str, Adapter] = (
                {"mistral": MistralOcr()} if (wire, task) == ("openai", "ocr") else {}
            )
            out[(wire, task)] = TaskRouter(ChatTaskAdapter(task, chat), by_vendor=by_vendor)
        out[("cloudflare", task)] = TaskRouter(ChatTaskAdapter(task, chat), native=cloudflare.get(task))
        out[("huggingface", task)] = TaskRouter(ChatTaskAdapter(task, chat), native=huggingface[task])
    return out
