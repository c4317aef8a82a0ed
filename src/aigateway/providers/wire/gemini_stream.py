"""Gemini answers to OpenAI: a ``GenerateContentResponse`` to a ChatCompletion, stream chunks to chunks.

Pure translation (the request side is in gemini.py). Decisions:

* One choice per candidate (``candidate.index``; proto JSON omits a zero index). Text parts are joined
  into ``content``; ``thought: true`` parts into ``reasoning_content``; ``functionCall`` parts become
  ``tool_calls`` whose id is Gemini's ``functionCall.id`` when it sent one, else a deterministic
  ``call_<24 hex>`` (a sha256 of the responseId, candidate and position). A call's
  ``thoughtSignature`` rides on the tool call as ``extra_content.google.thought_signature`` (the
  shape Google's own OpenAI-compatible endpoint uses) so the client can send it back.
* ``finish_reason``: STOP -> ``stop`` (``tool_calls`` when the candidate made calls); MAX_TOKENS and
  CONTINUATION -> ``length``; the safety family (SAFETY, RECITATION, LANGUAGE, BLOCKLIST,
  PROHIBITED_CONTENT, SPII, IMAGE_*, ESCALATION, PUP_LIMITED_DISABLED, MODEL_ARMOR) ->
  ``content_filter``; everything else (MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
  TOO_MANY_TOOL_CALLS, MISSING_THOUGHT_SIGNATURE, MALFORMED_RESPONSE, OTHER, ...) -> ``stop`` with
  whatever content came (often none), or ``tool_calls`` if calls came. Gemini's own reason is kept on
  the choice as ``native_finish_reason`` so a client can tell a malformed call from a real stop.
* A prompt blocked before generation (``promptFeedback.blockReason``, no candidates) -> every choice
  ``content_filter`` with empty content.
* Usage: prompt_tokens = promptTokenCount + toolUsePromptTokenCount; completion_tokens =
  candidatesTokenCount + thoughtsTokenCount; reasoning_tokens = thoughtsTokenCount; cached_tokens =
  cachedContentTokenCount. Streams repeat usageMetadata on many chunks: the last one seen is billed,
  and the usage chunk (``choices: []``) is emitted once, when every candidate has finished.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

import orjson

from aigateway.core.errors import ProviderError
from aigateway.core.pricing import Usage
from aigateway.providers.wire.base import StreamOutput, openai_usage

FILTERED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "ESCALATION",
        "PUP_LIMITED_DISABLED",
        "MODEL_ARMOR",
    }
)
TRUNCATED = frozenset({"MAX_TOKENS", "CONTINUATION"})


def finish_reason(native: str, has_tool_calls: bool) -> str:
    """The OpenAI finish_reason for a Gemini finishReason (see the module docstring)."""
    if native in FILTERED:
        return "content_filter"
    if native in TRUNCATED:
        return "length"
    return "tool_calls" if has_tool_calls else "stop"


def _count(meta: dict[str, Any], key: str) -> int:
    value = meta.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_of(meta: Any) -> tuple[dict[str, Any], Usage] | None:
    """usageMetadata -> (the OpenAI usage object, the Usage billed)."""
    if not isinstance(meta, dict):
        return None
    prompt = _count(meta, "promptTokenCount") + _count(meta, "toolUsePromptTokenCount")
    thoughts = _count(meta, "thoughtsTokenCount")
    completion = _count(meta, "candidatesTokenCount") + thoughts
    cached = min(_count(meta, "cachedContentTokenCount"), prompt)
    usage = Usage(
        input_tokens=prompt, cached_input_tokens=cached, output_tokens=completion, reasoning_tokens=thoughts
    )
    return openai_usage(usage), usage


def call_id(seed: str, candidate: int, position: int) -> str:
    """The id given to a functionCall Gemini sent without one (stable for one answer)."""
    return "call_" + hashlib.sha256(f"{seed}:{candidate}:{position}".encode()).hexdigest()[:24]


def tool_call(part: dict[str, Any], seed: str, candidate: int, position: int) -> dict[str, Any]:
    """A functionCall part as an OpenAI tool call (without the stream's ``index``)."""
    fc = part["functionCall"]
    given = fc.get("id")
    args = fc.get("args")
    call: dict[str, Any] = {
        "id": given if isinstance(given, str) and given else call_id(seed, candidate, position),
        "type": "function",
        "function": {
            "name": str(fc.get("name") or ""),
            "arguments": orjson.dumps(args if args is not None else {}).decode(),
        },
    }
    signature = part.get("thoughtSignature")
    if isinstance(signature, str) and signature:
        call["extra_content"] = {"google": {"thought_signature": signature}}
    return call


def _parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _indexed(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The candidates with their index; proto JSON omits a zero index, so a missing one is 0 (or, when
    another candidate claims 0, its position)."""
    candidates = _candidates(doc)
    given = [c.get("index") if isinstance(c.get("index"), int) else None for c in candidates]
    return [
        (g if g is not None else (position if 0 in given else 0), c)
        for position, (g, c) in enumerate(zip(given, candidates, strict=True))
    ]


def _blocked(doc: dict[str, Any]) -> str | None:
    feedback = doc.get("promptFeedback")
    reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
    return reason if isinstance(reason, str) and reason else None


def _candidates(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = doc.get("candidates")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def _completion_id(doc: dict[str, Any], seed: str) -> str:
    response_id = doc.get("responseId")
    return f"chatcmpl-{response_id}" if isinstance(response_id, str) and response_id else f"chatcmpl-{seed}"


def _model(doc: dict[str, Any], fallback: str) -> str:
    version = doc.get("modelVersion")
    return version if isinstance(version, str) and version else fallback


def _seed(doc: dict[str, Any], context: dict[str, Any]) -> str:
    response_id = doc.get("responseId")
    if isinstance(response_id, str) and response_id:
        return response_id
    return str(context.get("seed") or "gemini")


def completion_from(doc: Any, context: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
    """A Gemini GenerateContentResponse as an OpenAI ChatCompletion, and the usage to bill."""
    if not isinstance(doc, dict) or "error" in doc:
        raise ValueError("upstream answered 200 without a GenerateContentResponse")
    candidates = _candidates(doc)
    if not candidates and _blocked(doc) is None and not isinstance(doc.get("usageMetadata"), dict):
        raise ValueError("upstream answered 200 without candidates")
    seed = _seed(doc, context)
    choices: list[dict[str, Any]] = []
    for index, candidate in _indexed(doc):
        texts: list[str] = []
        thoughts: list[str] = []
        calls: list[dict[str, Any]] = []
        for part in _parts(candidate):
            if isinstance(part.get("functionCall"), dict):
                calls.append(tool_call(part, seed, index, len(calls)))
            elif isinstance(part.get("text"), str):
                (thoughts if part.get("thought") is True else texts).append(part["text"])
        text = "".join(texts)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": text if text or not calls else None,
            "refusal": None,
        }
        if thoughts:
            message["reasoning_content"] = "".join(thoughts)
        if calls:
            message["tool_calls"] = calls
        native = candidate.get("finishReason")
        native = native if isinstance(native, str) and native else "STOP"
        choice: dict[str, Any] = {
            "index": index,
            "message": message,
            "logprobs": None,
            "finish_reason": finish_reason(native, bool(calls)),
            "native_finish_reason": native,
        }
        choices.append(choice)
    if not candidates:
        # Blocked before generation (or, rarely, an answer with no candidate at all): empty choices.
        reason = _blocked(doc)
        for index in range(max(1, int(context.get("n") or 1))):
            message = {"role": "assistant", "content": "", "refusal": None}
            choices.append(
                {
                    "index": index,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "content_filter" if reason else "stop",
                    "native_finish_reason": reason,
                }
            )
    choices.sort(key=lambda c: int(c["index"]))
    completion: dict[str, Any] = {
        "id": _completion_id(doc, seed),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _model(doc, str(context.get("model") or "")),
        "choices": choices,
    }
    usage = usage_of(doc.get("usageMetadata"))
    if usage is not None:
        completion["usage"] = usage[0]
    return completion, usage[1] if usage is not None else None


def _retry_delay(details: Any) -> str | None:
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = item.get("retryDelay")
            return delay if isinstance(delay, str) and delay else None
    return None


def retry_after_of(raw: bytes) -> str | None:
    """Whole seconds of a RetryInfo delay (``"37s"``, ``"0.5s"``) for a Retry-After header."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, list) and doc:
        doc = doc[0]
    err = doc.get("error") if isinstance(doc, dict) else None
    delay = _retry_delay(err.get("details")) if isinstance(err, dict) else None
    if not delay or not delay.endswith("s"):
        return None
    try:
        seconds = float(delay[:-1])
    except ValueError:
        return None
    return str(max(1, math.ceil(seconds)))


def error_of(status: int, raw: bytes) -> tuple[str, str | None]:
    """(message, status) of Gemini's ``{"error": {"code", "message", "status", "details"}}``.

    Streams without ``alt=sse`` wrap it in a one-element array. A RetryInfo delay (Gemini's 429s
    carry it in the body, not in a Retry-After header) is appended to the message.
    """
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw.decode("utf-8", "replace").strip()
        return (text[:500] or f"upstream answered HTTP {status}"), None
    if isinstance(doc, list) and doc:
        doc = doc[0]
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        message = str(err.get("message") or f"upstream answered HTTP {status}")
        delay = _retry_delay(err.get("details"))
        if delay:
            message += f" (retry in {delay})"
        code = err.get("status") or err.get("code")
        return message, str(code) if code else None
    if isinstance(err, str):
        return err, None
    return f"upstream answered HTTP {status}", None


class GeminiStreamTranslator:
    """Turns each streamed GenerateContentResponse into OpenAI chunks (see the module docstring)."""

    def __init__(self, context: dict[str, Any], include_usage: bool) -> None:
        self.context = context
        self.include_usage = include_usage
        self.expected = max(1, int(context.get("n") or 1))
        self.generated_units = 0
        self.id = ""
        self.model = str(context.get("model") or "")
        self.seed = str(context.get("seed") or "gemini")
        self.created = int(time.time())
        self.started: set[int] = set()
        self.finished: set[int] = set()
        self.calls: dict[int, int] = {}
        self.usage_meta: dict[str, Any] | None = None
        self.complete = False

    def feed(self, data: bytes) -> StreamOutput:
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            return self._failure("The provider sent a stream event the gateway cannot read.")
        if not isinstance(doc, dict):
            return self._failure("The provider sent a stream event the gateway cannot read.")
        if "error" in doc:
            err = doc["error"]
            message = err.get("message") if isinstance(err, dict) else err
            return self._failure(f"The provider reported an error mid-stream: {message}")
        if not self.id:
            self.seed = _seed(doc, self.context)
            self.id = _completion_id(doc, self.seed)
            self.model = _model(doc, self.model)
        chunks: list[dict[str, Any] | bytes] = []
        for index, candidate in _indexed(doc):
            self._start(index, chunks)
            for part in _parts(candidate):
                delta = self._delta(index, part)
                if delta is not None:
                    self.generated_units += 1
                    chunks.append(self._chunk(index, delta))
            native = candidate.get("finishReason")
            if isinstance(native, str) and native and index not in self.finished:
                self.finished.add(index)
                reason = finish_reason(native, self.calls.get(index, 0) > 0)
                chunks.append(self._chunk(index, {}, reason, native))
        blocked = _blocked(doc)
        if blocked is not None and not _candidates(doc):
            for index in range(self.expected):
                if index not in self.finished:
                    self._start(index, chunks)
                    self.finished.add(index)
                    chunks.append(self._chunk(index, {}, "content_filter", blocked))
        meta = doc.get("usageMetadata")
        if isinstance(meta, dict):
            self.usage_meta = meta
        out = StreamOutput(chunks=chunks)
        if self.complete:
            # A late usageMetadata (after every candidate finished) still corrects the bill.
            late = usage_of(meta)
            out.usage = late[1] if late is not None else None
            return out
        if self.started and self.finished >= self.started and len(self.finished) >= self.expected:
            self._complete(out)
        return out

    def finish(self) -> StreamOutput:
        """The upstream closed the stream. Gemini may return fewer candidates than ``n`` asked for:
        if every candidate it started has finished, the stream is complete, not cut."""
        out = StreamOutput()
        if not self.complete and self.started and self.finished >= self.started:
            self._complete(out)
        return out

    def _complete(self, out: StreamOutput) -> None:
        self.complete = True
        usage = usage_of(self.usage_meta)
        if usage is None:
            out.usage = Usage(output_tokens=self.generated_units, estimated=True)
            return
        if self.include_usage:
            out.chunks.append({**self._head(), "choices": [], "usage": usage[0]})
        out.usage = usage[1]

    def _start(self, index: int, chunks: list[dict[str, Any] | bytes]) -> None:
        if index not in self.started:
            self.started.add(index)
            chunks.append(self._chunk(index, {"role": "assistant", "content": ""}))

    def _delta(self, index: int, part: dict[str, Any]) -> dict[str, Any] | None:
        if isinstance(part.get("functionCall"), dict):
            position = self.calls.get(index, 0)
            self.calls[index] = position + 1
            call = {"index": position, **tool_call(part, self.seed, index, position)}
            return {"tool_calls": [call]}
        text = part.get("text")
        if not isinstance(text, str) or not text:
            return None
        return {"reasoning_content": text} if part.get("thought") is True else {"content": text}

    def _head(self) -> dict[str, Any]:
        return {
            "id": self.id or f"chatcmpl-{self.seed}",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }

    def _chunk(
        self, index: int, delta: dict[str, Any], finish: str | None = None, native: str | None = None
    ) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        if native is not None:
            choice["native_finish_reason"] = native
        return {**self._head(), "choices": [choice]}

    @staticmethod
    def _failure(message: str) -> StreamOutput:
        failure = ProviderError(message)
        return StreamOutput(chunks=[failure.body()], done=True, error=failure)
