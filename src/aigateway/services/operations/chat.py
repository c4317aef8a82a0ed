"""The chat operation: POST /v1/chat/completions (see docs/chat.md for the parameter policy)."""

from __future__ import annotations

from typing import Any

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.services.operations.chat_schema import ChatRequest, validate_chat
from aigateway.services.operations.counting import chat_prompt

# Bound of the output of a model whose catalog entry gives no limit (documented in docs/chat.md).
UNKNOWN_MODEL_OUTPUT_BOUND = 32_768
# Vendors whose newer models take only max_completion_tokens (max_tokens is refused on reasoning models).
_COMPLETION_TOKENS_VENDORS = frozenset({"openai", "azure"})


class ChatOperation:
    name = "chat"
    endpoint = "chat.completions"
    modalities = frozenset({"text"})
    streams = True
    multipart = False

    def validate(self, body: Any) -> ChatRequest:
        parsed = validate_chat(body)
        if parsed.model_extra and "webhook_url" in parsed.model_extra:
            raise InvalidRequest(
                "webhook_url (async delivery) is not available on this gateway yet.", param="webhook_url"
            )
        return parsed

    def wants_stream(self, parsed: ChatRequest) -> bool:
        return bool(parsed.stream)

    def check(self, entry: ModelEntry, req: ChatRequest) -> None:
        """Refuse, with a clear 400, what the model certainly cannot do (see docs/chat.md)."""
        if req.tools and not entry.supports("tools"):
            raise InvalidRequest(f"'{entry.id}' does not support tools.", param="tools")
        wants_schema = req.response_format is not None and req.response_format.type == "json_schema"
        if wants_schema and not (entry.supports("json_schema") or entry.supports("tools")):
            raise InvalidRequest(
                f"'{entry.id}' does not support response_format json_schema.", param="response_format"
            )
        if req.reasoning_effort is not None and not entry.supports("reasoning"):
            raise InvalidRequest(
                f"'{entry.id}' is not a reasoning model; reasoning_effort is not supported.",
                param="reasoning_effort",
            )
        if not entry.supports("vision"):
            for message in req.messages:
                if isinstance(message.content, list) and any(
                    p.get("type") == "image_url" for p in message.content
                ):
                    raise InvalidRequest(f"'{entry.id}' does not accept image input.", param="messages")
        limit = entry.max_output_tokens
        for field in ("max_completion_tokens", "max_tokens"):
            asked = getattr(req, field)
            if limit is not None and asked is not None and asked > limit:
                raise InvalidRequest(
                    f"Invalid '{field}': {asked} is above the {limit}-token output limit of '{entry.id}'.",
                    param=field,
                )

    def bound(self, entry: ModelEntry, body: dict[str, Any], req: ChatRequest) -> Usage:
        prompt_bound, _ = chat_prompt(body)
        if entry.context_window:
            prompt_bound = min(prompt_bound, entry.context_window)
        out = req.max_completion_tokens or req.max_tokens or entry.max_output_tokens
        out = out or UNKNOWN_MODEL_OUTPUT_BOUND
        return Usage(input_tokens=prompt_bound, output_tokens=out * (req.n or 1))

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        n = body.get("n")
        per_choice = tokens // n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else tokens
        if per_choice < 1:
            return False
        if "max_completion_tokens" in body or vendor in _COMPLETION_TOKENS_VENDORS:
            body.pop("max_tokens", None)
            body["max_completion_tokens"] = per_choice
        else:
            body["max_tokens"] = per_choice
        return True

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        _, estimate = chat_prompt(body)
        return Usage(input_tokens=estimate, output_tokens=generated, estimated=True)
