"""The embeddings operation: POST /v1/embeddings in OpenAI's shape.

``input`` is a string, a list of strings, a list of token ids, or a list of lists of token ids;
``encoding_format`` is ``float`` (default) or ``base64`` (little-endian float32, as OpenAI sends it:
the openai SDK asks for base64 by default and decodes it); ``dimensions`` shortens the vectors where
the model can. Token-id input only reaches upstreams that take it (the OpenAI wire).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.services.operations.chat_schema import validate_model
from aigateway.services.operations.counting import estimate_text_tokens, text_bytes

MAX_INPUTS = 2048

EmbeddingInput = str | list[str] | list[int] | list[list[int]]


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(min_length=1, max_length=256)
    input: EmbeddingInput
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, ge=1, le=65536)
    user: str | None = Field(default=None, max_length=256)

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: EmbeddingInput) -> EmbeddingInput:
        if isinstance(value, str):
            if not value:
                raise ValueError("must not be an empty string")
            return value
        if not value:
            raise ValueError("must not be an empty list")
        if len(value) > MAX_INPUTS:
            raise ValueError(f"at most {MAX_INPUTS} inputs per request")
        for item in value:
            if isinstance(item, str) and not item:
                raise ValueError("inputs must not be empty strings")
            if isinstance(item, list) and not item:
                raise ValueError("token-id inputs must not be empty")
            if (isinstance(item, int) and item < 0) or (isinstance(item, list) and any(t < 0 for t in item)):
                raise ValueError("token ids are non-negative integers")
        return value

    def texts(self) -> list[str]:
        """The text inputs (empty when the input is token ids)."""
        if isinstance(self.input, str):
            return [self.input]
        return [item for item in self.input if isinstance(item, str)]

    def token_ids(self) -> list[list[int]]:
        """Token-id inputs as a list of lists (empty for text input)."""
        if isinstance(self.input, str) or not self.input:
            return []
        first = self.input[0]
        if isinstance(first, int):
            return [[t for t in self.input if isinstance(t, int)]]
        return [item for item in self.input if isinstance(item, list)]


class EmbeddingsOperation:
    name = "embeddings"
    endpoint = "embeddings"
    modalities = frozenset({"embedding"})
    streams = False
    multipart = False

    def validate(self, body: Any) -> EmbeddingsRequest:
        return validate_model(EmbeddingsRequest, body)

    def wants_stream(self, parsed: EmbeddingsRequest) -> bool:
        return False

    def check(self, entry: ModelEntry, req: EmbeddingsRequest) -> None:
        if req.dimensions is not None and entry.dimensions is not None and req.dimensions > entry.dimensions:
            raise InvalidRequest(
                f"Invalid 'dimensions': {req.dimensions} is above the {entry.dimensions} dimensions "
                f"of '{entry.id}'.",
                param="dimensions",
            )

    def bound(self, entry: ModelEntry, body: dict[str, Any], req: EmbeddingsRequest) -> Usage:
        tokens = text_bytes(req.texts()) + sum(len(ids) for ids in req.token_ids())
        return Usage(input_tokens=max(1, tokens))

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        return False

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        req = EmbeddingsRequest.model_validate(body)
        tokens = estimate_text_tokens(req.texts()) + sum(len(ids) for ids in req.token_ids())
        return Usage(input_tokens=tokens, estimated=True)
