"""The moderation operation: POST /v1/moderations (OpenAI's shape; docs/modalities.md).

Request: ``input`` (a string, a list of strings, or a list of ``{"type": "text"|"image_url"}``
parts) and ``model`` (when absent: the operator's ``default_moderation_model``). Served by OpenAI's
omni-moderation (passed through), Mistral's moderation (mapped to OpenAI's categories) and Llama
Guard chat models (their verdict mapped the same way; billed at the chat model's token prices).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.providers.wire.moderation import GUARD_MAX_OUTPUT, has_images, texts_of
from aigateway.services.operations.chat_schema import validate_model
from aigateway.services.operations.counting import IMAGE_TOKENS_BOUND, estimate_text_tokens, text_bytes

MAX_INPUTS = 32
# Llama Guard's providers wrap the input in its template (the hazard list and instructions, a few
# hundred tokens) and bill it as prompt: the bound covers it.
GUARD_TEMPLATE_TOKENS = 1024


class ImageURL(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    url: str = Field(min_length=1)


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["text"]
    text: str


class ImagePart(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    type: Literal["image_url"]
    image_url: ImageURL


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = Field(default=None, min_length=1, max_length=256)
    input: str | list[str] | list[TextPart | ImagePart] = Field()


class ModerationResult(BaseModel):
    """One result of the answer (OpenAI's shape, plus the upstream's own categories when mapped)."""

    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]
    provider_categories: dict[str, bool] | None = None
    provider_category_scores: dict[str, float] | None = None


class ModerationResponse(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]


def is_guard(entry: ModelEntry) -> bool:
    """A Llama Guard model (not Prompt Guard, a prompt-injection classifier, nor gpt-oss-safeguard)."""
    return "llama-guard" in entry.id.lower() or any(
        "llama-guard" in d.upstream_model.lower() for d in entry.deployments
    )


class ModerationsOperation:
    name = "moderations"
    endpoint = "moderations"
    modalities = frozenset({"moderation", "text"})
    streams = False
    multipart = False

    def __init__(self, default_model: str) -> None:
        self.default_model = default_model

    def validate(self, body: Any) -> ModerationRequest:
        req = validate_model(ModerationRequest, body)
        value = req.input
        if isinstance(value, list) and not value:
            raise InvalidRequest("'input' must not be empty.", param="input")
        if isinstance(value, list) and len(value) > MAX_INPUTS:
            raise InvalidRequest(f"'input' takes at most {MAX_INPUTS} items.", param="input")
        if req.model is None:
            body["model"] = req.model = self.default_model
        return req

    def wants_stream(self, parsed: ModerationRequest) -> bool:
        return False

    def check(self, entry: ModelEntry, req: ModerationRequest) -> None:
        if entry.modality == "text" and not is_guard(entry):
            raise InvalidRequest(
                f"'{entry.id}' is a chat model; /v1/moderations takes a moderation model "
                "(omni-moderation, Mistral moderation or a Llama Guard model).",
                param="model",
            )

    def bound(self, entry: ModelEntry, body: dict[str, Any], req: ModerationRequest) -> Usage:
        value = body.get("input")
        images = (
            sum(1 for p in value if isinstance(p, dict) and p.get("type") == "image_url")
            if isinstance(value, list)
            else 0
        )
        tokens = text_bytes(texts_of(value)) + images * IMAGE_TOKENS_BOUND + GUARD_TEMPLATE_TOKENS
        return Usage(input_tokens=tokens, output_tokens=GUARD_MAX_OUTPUT, input_images=images, queries=1)

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        return False

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        value = body.get("input")
        images = 1 if has_images(value) else 0
        return Usage(
            input_tokens=estimate_text_tokens(texts_of(value)), input_images=images, queries=1, estimated=True
        )
