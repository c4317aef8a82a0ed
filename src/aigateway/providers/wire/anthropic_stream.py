"""Anthropic answers -> OpenAI: a message -> a ChatCompletion, stream events -> chat.completion.chunk.

A message: text blocks joined into ``content``; ``thinking`` blocks -> ``reasoning_content``
(``redacted_thinking`` is not readable and is left out); ``tool_use`` -> ``tool_calls`` with the
arguments as a JSON string and the tool_use id as the call id, except the forced JSON tool (see
anthropic.py), whose input becomes ``content``; ``stop_reason`` -> ``finish_reason`` (``FINISH_REASONS``);
usage as ``convert_usage`` says. ``id`` and ``model`` are the upstream's, ``created`` is now.

Anthropic streams typed events (the type is also in each JSON payload's ``type`` field):
``message_start`` (id, model, input-side usage), then per content block ``content_block_start`` /
``content_block_delta`` / ``content_block_stop``, then ``message_delta`` (stop reason, cumulative
usage) and ``message_stop``. ``ping`` events come at any time; an ``error`` event may replace the rest
of the stream. No ``[DONE]``.

The translator emits, all sharing one id / created / model:

* at ``message_start``: ``{"role": "assistant", "content": ""}`` (the first chunk carries the role);
* ``text_delta`` -> ``content``; ``thinking_delta`` -> ``reasoning_content``; ``signature_delta``,
  ``citations_delta``, ``redacted_thinking`` blocks and server-tool blocks -> nothing;
* a ``tool_use`` block -> ``tool_calls`` deltas with an OpenAI ``index`` counting tool calls (0, 1, ..)
  rather than Anthropic's block index; its first delta carries id, type and name, then
  ``input_json_delta`` fragments become argument fragments. A call whose input never streamed (the API
  sends ``{}`` inputs without fragments) gets ``"{}"`` at ``content_block_stop``, so every call's
  arguments parse as JSON;
* the forced JSON tool (``context["json_tool"]``, see anthropic.py) streams as ``content`` instead;
* ``message_delta`` -> the finish-reason chunk; ``message_stop`` -> the usage chunk (``choices: []``)
  when the client asked for it, the usage for billing in every case, and the end of the stream.

A usage is reported only at ``message_stop``: a stream cut before it is billed by the relay's
estimate (``generated_units``), like any other broken stream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from aigateway.core.errors import ProviderError
from aigateway.core.pricing import Usage
from aigateway.providers.wire.base import StreamOutput, TranslatedResponse, openai_usage

# Anthropic stop_reason -> OpenAI finish_reason ("pause_turn": a server tool paused a long turn; the
# client sees an ordinary stop and may continue the conversation).
FINISH_REASONS: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Anthropic error types worth retrying on another deployment or later.
RETRYABLE_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def finish_reason(stop_reason: Any, *, json_answer: bool = False) -> str:
    """OpenAI finish_reason for an Anthropic stop_reason (a forced JSON tool's use is a normal stop)."""
    if stop_reason == "tool_use" and json_answer:
        return "stop"
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def convert_usage(raw: Any) -> tuple[dict[str, Any], Usage]:
    """Anthropic usage -> (OpenAI usage object, Usage for billing).

    Anthropic reports the uncached input, cache writes and cache reads separately; OpenAI's
    ``prompt_tokens`` is their sum, with the reads as ``cached_tokens``. Thinking tokens are part of
    ``output_tokens``; the API itemises them (``output_tokens_details.thinking_tokens``) only
    sometimes, and ``reasoning_tokens`` is 0 when it did not.
    """
    usage = raw if isinstance(raw, dict) else {}
    written = _int(usage.get("cache_creation_input_tokens"))
    read = _int(usage.get("cache_read_input_tokens"))
    prompt = _int(usage.get("input_tokens")) + written + read
    output = _int(usage.get("output_tokens"))
    details = usage.get("output_tokens_details")
    reasoning = _int(details.get("thinking_tokens")) if isinstance(details, dict) else 0
    billed = Usage(
        input_tokens=prompt,
        cached_input_tokens=read,
        cache_write_tokens=written,
        output_tokens=output,
        reasoning_tokens=reasoning,
    )
    return openai_usage(billed), billed


def error_output(error: Any) -> StreamOutput:
    """An Anthropic ``error`` event (mid-stream) -> the OpenAI-style error event that ends the stream."""
    err = error if isinstance(error, dict) else {}
    kind = err.get("type") if isinstance(err.get("type"), str) else "api_error"
    message = err.get("message") if isinstance(err.get("message"), str) else "unknown error"
    failure = ProviderError(
        f"The provider reported an error mid-stream ({kind}): {message}", retryable=kind in RETRYABLE_ERRORS
    )
    chunk = {"error": {"message": failure.message, "type": failure.error_type, "code": failure.status}}
    return StreamOutput(chunks=[chunk], done=True, error=failure)


def translate_message(raw: bytes, context: dict[str, Any]) -> TranslatedResponse:
    """An Anthropic message (non-stream answer) -> an OpenAI ChatCompletion and the usage to bill."""
    doc = orjson.loads(raw)
    if not isinstance(doc, dict) or not isinstance(doc.get("content"), list):
        raise ValueError("upstream answered 200 without an Anthropic message")
    json_tool = context.get("json_tool")
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[dict[str, Any]] = []
    answer: str | None = None
    for block in doc["content"]:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            thoughts.append(block["thinking"])
        elif kind == "tool_use":
            value = block.get("input") if isinstance(block.get("input"), dict) else {}
            if json_tool is not None and block.get("name") == json_tool:
                answer = orjson.dumps(value.get("value") if context.get("json_wrapped") else value).decode()
                continue
            function = {"name": block.get("name"), "arguments": orjson.dumps(value).decode()}
            calls.append({"id": block.get("id"), "type": "function", "function": function})
    content = answer if answer is not None else "".join(texts)
    message: dict[str, Any] = {"role": "assistant", "content": content if content or not calls else None}
    message["refusal"] = None
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if calls:
        message["tool_calls"] = calls
    finish = finish_reason(doc.get("stop_reason"), json_answer=answer is not None and not calls)
    client_usage, usage = convert_usage(doc.get("usage"))
    completion = {
        "id": doc.get("id"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": doc.get("model"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": client_usage,
    }
    upstream_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    return TranslatedResponse(body=orjson.dumps(completion), usage=usage, upstream_id=upstream_id)


@dataclass(slots=True)
class _Block:
    kind: str  # "text", "thinking", "tool", "json" (the forced JSON tool) or "other"
    tool_index: int = -1
    sent: bool = False  # a non-empty argument / JSON fragment went out
    initial: Any = None  # the tool input given at content_block_start
    buffer: str = ""  # JSON of a wrapped (non-object) JSON answer, sent whole at the block's end


class AnthropicStreamTranslator:
    """Turns each Anthropic stream event payload into OpenAI chunks (see the module docstring)."""

    def __init__(
        self, include_usage: bool, *, json_tool: str | None = None, json_wrapped: bool = False
    ) -> None:
        self.include_usage = include_usage
        self.json_tool = json_tool
        self.json_wrapped = json_wrapped
        self.generated_units = 0
        self.id = ""
        self.model = ""
        self.created = int(time.time())
        self._usage: dict[str, Any] = {}
        self._blocks: dict[int, _Block] = {}
        self._tools = 0
        self._json_used = False
        self._finished = False

    # -- chunk building ------------------------------------------------------------------------
    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    def _delta(self, delta: dict[str, Any]) -> StreamOutput:
        self.generated_units += 1
        return StreamOutput(chunks=[self._chunk(delta)])

    def _block(self, event: dict[str, Any]) -> _Block | None:
        index = event.get("index")
        return self._blocks.get(index) if isinstance(index, int) else None

    def _args(self, block: _Block, fragment: str) -> dict[str, Any]:
        if block.kind == "json":
            return {"content": fragment}
        call = {"index": block.tool_index, "function": {"arguments": fragment}}
        return {"tool_calls": [call]}

    # -- events --------------------------------------------------------------------------------
    def feed(self, data: bytes) -> StreamOutput:
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            return StreamOutput()
        if not isinstance(event, dict):
            return StreamOutput()
        kind = event.get("type")
        if kind == "content_block_delta":
            return self._block_delta(event)
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "content_block_stop":
            return self._block_stop(event)
        if kind == "message_start":
            return self._message_start(event)
        if kind == "message_delta":
            return self._message_delta(event)
        if kind == "message_stop":
            return self._message_stop()
        if kind == "error":
            return error_output(event.get("error"))
        return StreamOutput()  # ping, and event types this translator does not know

    def _message_start(self, event: dict[str, Any]) -> StreamOutput:
        message = event.get("message")
        message = message if isinstance(message, dict) else {}
        self.id = str(message.get("id") or self.id)
        self.model = str(message.get("model") or self.model)
        if isinstance(message.get("usage"), dict):
            self._usage.update(message["usage"])
        return StreamOutput(chunks=[self._chunk({"role": "assistant", "content": ""})])

    def _block_start(self, event: dict[str, Any]) -> StreamOutput:
        index = event.get("index")
        block = event.get("content_block")
        if not isinstance(index, int) or not isinstance(block, dict):
            return StreamOutput()
        kind = block.get("type")
        if kind == "tool_use":
            name = str(block.get("name") or "")
            if self.json_tool is not None and name == self.json_tool:
                self._json_used = True
                self._blocks[index] = _Block("json", initial=block.get("input"))
                return StreamOutput()
            state = _Block("tool", tool_index=self._tools, initial=block.get("input"))
            self._tools += 1
            self._blocks[index] = state
            head = {
                "index": state.tool_index,
                "id": str(block.get("id") or ""),
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            return self._delta({"tool_calls": [head]})
        if kind == "text":
            self._blocks[index] = _Block("text")
            text = block.get("text")
            return self._delta({"content": text}) if isinstance(text, str) and text else StreamOutput()
        if kind == "thinking":
            self._blocks[index] = _Block("thinking")
            text = block.get("thinking")
            if isinstance(text, str) and text:
                return self._delta({"reasoning_content": text})
            return StreamOutput()
        self._blocks[index] = _Block("other")  # redacted_thinking, server tools: nothing readable
        return StreamOutput()

    def _block_delta(self, event: dict[str, Any]) -> StreamOutput:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            return StreamOutput()
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return self._delta({"content": text}) if isinstance(text, str) and text else StreamOutput()
        if kind == "thinking_delta":
            text = delta.get("thinking")
            if isinstance(text, str) and text:
                return self._delta({"reasoning_content": text})
            return StreamOutput()
        if kind == "input_json_delta":
            block = self._block(event)
            fragment = delta.get("partial_json")
            if block is None or block.kind not in ("tool", "json") or not isinstance(fragment, str):
                return StreamOutput()
            if not fragment:
                return StreamOutput()
            if block.kind == "json" and self.json_wrapped:
                block.buffer += fragment
                return StreamOutput()
            block.sent = True
            return self._delta(self._args(block, fragment))
        return StreamOutput()  # signature_delta, citations_delta

    def _block_stop(self, event: dict[str, Any]) -> StreamOutput:
        block = self._block(event)
        if block is None or block.kind not in ("tool", "json") or block.sent:
            return StreamOutput()
        block.sent = True
        if block.kind == "json" and self.json_wrapped:
            try:
                whole = orjson.loads(block.buffer) if block.buffer else block.initial
            except orjson.JSONDecodeError:
                whole = None
            value = whole.get("value") if isinstance(whole, dict) else whole
            return self._delta({"content": orjson.dumps(value).decode()})
        initial = block.initial if isinstance(block.initial, dict) else {}
        return self._delta(self._args(block, orjson.dumps(initial).decode()))

    def _message_delta(self, event: dict[str, Any]) -> StreamOutput:
        usage = event.get("usage")
        if isinstance(usage, dict):  # cumulative counts: later values replace earlier ones
            self._usage.update({k: v for k, v in usage.items() if v is not None})
        delta = event.get("delta")
        stop = delta.get("stop_reason") if isinstance(delta, dict) else None
        if stop is None:
            return StreamOutput()
        self._finished = True
        finish = finish_reason(stop, json_answer=self._json_used and self._tools == 0)
        return StreamOutput(chunks=[self._chunk({}, finish)])

    def _message_stop(self) -> StreamOutput:
        chunks: list[dict[str, Any] | bytes] = []
        if not self._finished:
            self._finished = True
            chunks.append(self._chunk({}, "stop"))
        client_usage, usage = convert_usage(self._usage)
        if self.include_usage:
            chunk = self._chunk({})
            chunk["choices"] = []
            chunk["usage"] = client_usage
            chunks.append(chunk)
        return StreamOutput(chunks=chunks, usage=usage, done=True)
