"""The translation operation, POST /v1/translations, and what the four task operations share.

Request: ``text``, ``source_lang``, ``target_lang`` (language codes: ``en``, ``fr``, or names),
``model`` (when absent: the operator's ``default_translation_model``). Answer (docs/modalities.md)::

    {"object": "translation", "model", "source_lang", "target_lang", "translation",
     "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}

Served by dedicated translation models (Cloudflare's m2m100, Hugging Face) or any chat model
through a prompt and structured output (providers/wire/chat_tasks.py), billed at its token prices.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import ProviderError
from aigateway.core.pricing import Usage
from aigateway.providers.wire.chat_tasks import CHAT_TASK_MAX_OUTPUT
from aigateway.services.operations.chat_schema import validate_model
from aigateway.services.operations.counting import IMAGE_TOKENS_BOUND, estimate_text_tokens, text_bytes

# Tokens of the task prompt around the client's input: the instructions, the JSON schema of the
# answer (providers count it as prompt), message framing; generous, as a bound must be.
PROMPT_OVERHEAD = 2048


class TaskUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    images: int | None = None
    pages: int | None = None


class TaskOperation:
    """What /v1/translations, /v1/classifications, /v1/detections and /v1/ocr share."""

    name = ""
    endpoint = ""
    modalities: frozenset[str] = frozenset()
    streams = False
    multipart = False
    schema: type[BaseModel] = BaseModel
    # The price keys a dedicated model's usage can bill (its adapters' meters): a model priced in
    # none of them would be billed $0, so it is refused.
    priced_by: tuple[str, ...] = ("input_per_mtok", "output_per_mtok", "per_query")

    def __init__(self, default_model: str) -> None:
        self.default_model = default_model

    def validate(self, body: Any) -> Any:
        req = validate_model(self.schema, body)
        self.cross_check(req)
        if getattr(req, "model", None) is None:
            body["model"] = self.default_model
            req.model = self.default_model  # type: ignore[attr-defined]
        return req

    def cross_check(self, req: Any) -> None:
        return None

    def wants_stream(self, parsed: Any) -> bool:
        return False

    def check(self, entry: ModelEntry, parsed: Any) -> None:
        if entry.modality == "text":
            return
        prices = [entry.pricing, *(d.pricing for d in entry.deployments if d.pricing)]
        if any(not any(k in p.prices for k in self.priced_by) for p in prices):
            raise ProviderError(
                f"'{entry.id}' is priced in units {self.endpoint} does not meter "
                f"(it needs one of {', '.join(self.priced_by)}); it is refused rather than billed $0."
            )

    def texts(self, body: dict[str, Any]) -> list[str]:
        return []

    def images(self, body: dict[str, Any]) -> int:
        return 0

    def bound(self, entry: ModelEntry, body: dict[str, Any], parsed: Any) -> Usage:
        """Chat models: the prompt's bytes and the task's output limit; dedicated models: the same
        meters, plus a query, each image and each page (whatever the model is priced in)."""
        texts = self.texts(body)
        images = self.images(body)
        size = text_bytes(texts)
        output = min(CHAT_TASK_MAX_OUTPUT, entry.max_output_tokens or CHAT_TASK_MAX_OUTPUT)
        return Usage(
            input_tokens=size + PROMPT_OVERHEAD + images * IMAGE_TOKENS_BOUND,
            output_tokens=max(output, 4 * size + 64),
            input_images=images,
            characters=sum(len(t) for t in texts),
            queries=1,
            pages=self.pages_bound(body),
        )

    def pages_bound(self, body: dict[str, Any]) -> int:
        return 0

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        return False

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        texts = self.texts(body)
        return Usage(
            input_tokens=estimate_text_tokens(texts),
            output_tokens=generated,
            input_images=self.images(body),
            characters=sum(len(t) for t in texts),
            queries=1,
            estimated=True,
        )


class TranslationRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = Field(default=None, min_length=1, max_length=256)
    text: str = Field(min_length=1, max_length=100_000)
    source_lang: str = Field(min_length=2, max_length=64)
    target_lang: str = Field(min_length=2, max_length=64)


class TranslationResponse(BaseModel):
    object: str = "translation"
    model: str
    source_lang: str
    target_lang: str
    translation: str
    usage: TaskUsage


class TranslationsOperation(TaskOperation):
    name = "text_translations"
    endpoint = "translations"
    modalities = frozenset({"translation", "text"})
    schema = TranslationRequest
    priced_by = ("input_per_mtok", "output_per_mtok", "per_query", "per_mchar")

    def texts(self, body: dict[str, Any]) -> list[str]:
        return [str(body.get("text") or "")]
