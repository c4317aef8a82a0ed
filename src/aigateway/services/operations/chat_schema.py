"""Validation schema for POST /v1/chat/completions (the chat operation's request).

Used to check a request and produce a clear 400, not to rebuild it: the client's JSON object is
forwarded with every field intact (unknown fields included), so provider features pass through.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aigateway.core.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)


class _Loose(BaseModel):
    # strict: the client's JSON is forwarded as sent, so "false" must not pass as a boolean here
    # and then mean true upstream. Integers are still accepted where numbers are expected.
    model_config = ConfigDict(extra="allow", strict=True)


class FunctionDef(_Loose):
    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Loose):
    type: str = "function"
    function: FunctionDef | None = None


class ToolCallFunction(_Loose):
    name: str
    arguments: str


class ToolCall(_Loose):
    id: str
    type: str = "function"
    function: ToolCallFunction


class Message(_Loose):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _content_present(self) -> Message:
        if self.content is None and self.role != "assistant":
            raise ValueError(f"a '{self.role}' message needs content")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a 'tool' message needs tool_call_id")
        if isinstance(self.content, list):
            for part in self.content:
                kind = part.get("type")
                if not isinstance(kind, str):
                    raise ValueError("every content part needs a string 'type'")
                if kind == "image_url":
                    image = part.get("image_url")
                    url = image.get("url") if isinstance(image, dict) else image
                    if not isinstance(url, str) or not url:
                        raise ValueError("an image_url part needs image_url.url")
                elif kind == "text" and not isinstance(part.get("text"), str):
                    raise ValueError("a text part needs a string 'text'")
        return self


class ResponseFormat(_Loose):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _schema_present(self) -> ResponseFormat:
        if self.type == "json_schema" and not (self.json_schema and self.json_schema.get("name")):
            raise ValueError("response_format json_schema needs json_schema.name")
        return self


class StreamOptions(_Loose):
    include_usage: bool | None = None


class ChatRequest(_Loose):
    model: str = Field(min_length=1, max_length=256)
    messages: list[Message] = Field(min_length=1)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: str | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)


def _cross_field_checks(req: ChatRequest) -> None:
    if isinstance(req.stop, list) and len(req.stop) > 4:
        raise InvalidRequest("Invalid 'stop': at most 4 sequences.", param="stop")
    if isinstance(req.tool_choice, str) and req.tool_choice not in ("auto", "none", "required"):
        raise InvalidRequest(
            "Invalid 'tool_choice': 'auto', 'none', 'required' or a named function.", param="tool_choice"
        )
    if req.tool_choice not in (None, "none", "auto") and not req.tools:
        raise InvalidRequest("Invalid 'tool_choice': it was given without tools.", param="tool_choice")


def validate_model(schema: type[M], body: object) -> M:
    """``body`` checked against a pydantic schema; any problem becomes one clear InvalidRequest."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        raise InvalidRequest(_describe(exc), param=_param(exc)) from None


def validate_chat(body: object) -> ChatRequest:
    req = validate_model(ChatRequest, body)
    _cross_field_checks(req)
    return req


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none", "Document"})


def _loc(loc: tuple[int | str, ...]) -> str:
    """A field path as a client wrote it: pydantic's union-member and validator tags left out."""
    parts = []
    for part in loc:
        text = str(part)
        if text.startswith("function-") or "[" in text or text in _TYPE_TAGS:
            continue
        parts.append(text)
    return ".".join(parts)


def _param(exc: ValidationError) -> str | None:
    errors = exc.errors()
    if not errors:
        return None
    return _loc(errors[0]["loc"]) or None


def _describe(exc: ValidationError) -> str:
    """At most three problems, one sentence each; a union's alternatives become one "or" sentence."""
    by_loc: dict[str, list[str]] = {}
    missing: list[str] = []
    for err in exc.errors():
        loc = _loc(err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            missing.append(loc)
        elif msg not in by_loc.setdefault(loc, []):
            by_loc[loc].append(msg)
    parts = [f"Missing required field '{loc}'." for loc in dict.fromkeys(missing)]
    for loc, msgs in by_loc.items():
        alternatives = [msgs[0], *(m.removeprefix("Input should be ") for m in msgs[1:])]
        text = " or ".join(alternatives)
        parts.append(f"Invalid '{loc}': {text}." if loc else f"{text}.")
    return " ".join(parts[:3])
