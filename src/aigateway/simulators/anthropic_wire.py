"""Anthropic Messages wire of the simulator: ``POST .../messages`` (``/v1/messages`` like the real API).

Requests need ``x-api-key`` (401 otherwise) and ``anthropic-version`` (400), and are checked the way
the API checks them where an adapter is likely to go wrong: required ``model`` / ``max_tokens`` /
``messages``, no unknown top-level fields, roles, temperature range, whitespace-only stop sequences,
and the thinking rules (budget of at least 1024 and below ``max_tokens``, no forced tool, no sampling
changes). Errors use Anthropic's shape ``{"type": "error", "error": {"type", "message"}}``.

A model named ``rec:<key>`` replays that recording (status, content type, exact body; streams event by
event). Any other model is answered natively: the request is read back as an OpenAI request, answered
by the deterministic simulated provider, and that answer written as an Anthropic message (thinking,
text and ``tool_use`` blocks) or event stream. Prompt caching is simulated: the prompt up to the last
``cache_control`` marker is a cache write the first time this simulator sees it and a cache read after
(no minimum length).

Faults are the simulator's usual per-model faults (see faults.py). One addition on this wire: a
``cut`` fault with a ``body`` ends the stream after ``after_chunks`` events with an ``error`` event
carrying that body (e.g. ``{"type": "error", "error": {"type": "overloaded_error", ...}}``) instead
of dropping the connection, as the API does when it fails mid-stream.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any

import orjson
from aiohttp import web

from aigateway.providers.simulated import estimate_tokens, synthesize_completion
from aigateway.simulators.faults import CUT
from aigateway.simulators.openai_wire import RECORDING_PREFIX
from aigateway.simulators.responder import (
    JSON_TYPE,
    SSE_TYPE,
    Reply,
    deliver,
    guarded,
    json_reply,
    request_id,
)
from aigateway.simulators.state import STATE_KEY, RequestRecord, SimulatorState

WIRE = "anthropic"
MESSAGES_PATH = r"/{prefix:(?:.*/)?}messages"
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {429: "Number of requests has exceeded your rate limit (simulated).", 529: "Overloaded"}
KNOWN_FIELDS = frozenset(
    {"model", "messages", "max_tokens", "system", "stop_sequences", "stream", "temperature", "top_p", "top_k"}
    | {"metadata", "tools", "tool_choice", "thinking", "output_config", "service_tier", "cache_control"}
    | {"container", "inference_geo", "context_management", "mcp_servers"}
)
_SKIPPED_REPLAY_HEADERS = frozenset(
    {"content-length", "content-encoding", "content-type", "transfer-encoding", "connection", "keep-alive"}
    | {"date", "server"}
)
_PIECE_RE = re.compile(r"\s*\S+|\s+$")
_SIGNATURE = "c2ltdWxhdGVkIHRoaW5raW5nIHNpZ25hdHVyZQ=="


def error_payload(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id()}


def default_error_body(status: int) -> bytes:
    """Anthropic-shaped error body for an injected status fault."""
    kind = ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
    message = ERROR_MESSAGES.get(status, f"Simulated error {status} ({kind}).")
    return orjson.dumps(error_payload(kind, message))


class PromptCache:
    """Prompt prefixes this simulator has seen (so the next identical prefix is a cache read)."""

    def __init__(self, limit: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._seen: dict[bytes, None] = {}
        self._limit = limit

    def seen_before(self, key: bytes) -> bool:
        with self._lock:
            if key in self._seen:
                return True
            if len(self._seen) >= self._limit:
                self._seen.pop(next(iter(self._seen)))
            self._seen[key] = None
            return False


PROMPT_CACHE_KEY = web.AppKey("aigateway_simulator_anthropic_prompt_cache", PromptCache)


def register(app: web.Application) -> None:
    app[PROMPT_CACHE_KEY] = PromptCache()
    app.router.add_post(MESSAGES_PATH, messages)


# -- request checks -----------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_request(body: Any) -> str | None:
    """The message the API would answer 400 with, or None when the request is acceptable."""
    if not isinstance(body, dict):
        return "The request body is not valid JSON."
    for key in body:
        if key not in KNOWN_FIELDS:
            return f"{key}: Extra inputs are not permitted"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not _is_int(body.get("max_tokens")) or body["max_tokens"] < 0:
        return "max_tokens: Field required (an integer)"
    turns = body.get("messages")
    if not isinstance(turns, list) or not turns:
        return "messages: Field required (a non-empty list)"
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = turn.get("content")
        if not isinstance(content, str | list) or (
            isinstance(content, list) and not all(isinstance(b, dict) and "type" in b for b in content)
        ):
            return f"messages.{i}: Input does not match the expected shape."
    temperature = body.get("temperature")
    if temperature is not None and not (isinstance(temperature, int | float) and 0 <= temperature <= 1):
        return "temperature: Input should be less than or equal to 1"
    stops = body.get("stop_sequences")
    if isinstance(stops, list) and any(not isinstance(s, str) or not s.strip() for s in stops):
        return "stop_sequences: each stop sequence must contain non-whitespace"
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        if budget >= body["max_tokens"]:
            return "`max_tokens` must be greater than `thinking.budget_tokens`."
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
            return "Thinking may not be enabled when tool_choice forces tool use."
        if temperature not in (None, 1, 1.0) or body.get("top_k") is not None:
            return "`temperature` may only be set to 1 when thinking is enabled."
    return None


# -- Anthropic request -> OpenAI request (for the simulated provider) -----------------------------
def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return " ".join(str(b.get("text", "")) for b in parts if isinstance(b, dict) and b.get("type") == "text")


def to_openai(body: dict[str, Any]) -> dict[str, Any]:
    """Read an Anthropic request back as the OpenAI request the simulated provider understands."""
    messages: list[dict[str, Any]] = []
    system = _text_of(body.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    for turn in body["messages"]:
        content = turn["content"]
        if isinstance(content, str):
            messages.append({"role": turn["role"], "content": content})
            continue
        parts: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        for block in content:
            kind = block.get("type")
            if kind == "text":
                parts.append({"type": "text", "text": block.get("text", "")})
            elif kind == "image":
                parts.append({"type": "image_url", "image_url": {"url": "image"}})
            elif kind == "tool_result":
                result = {"role": "tool", "tool_call_id": block.get("tool_use_id")}
                messages.append({**result, "content": _text_of(block.get("content"))})
            elif kind == "tool_use":
                fn = {"name": block.get("name"), "arguments": orjson.dumps(block.get("input")).decode()}
                calls.append({"id": block.get("id"), "type": "function", "function": fn})
        if parts or calls:
            message: dict[str, Any] = {"role": turn["role"], "content": parts or None}
            if calls:
                message["tool_calls"] = calls
            messages.append(message)
    out: dict[str, Any] = {"messages": messages, "max_tokens": body["max_tokens"]}
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t]
    if tools:
        out["tools"] = [
            {"type": "function", "function": {"name": t.get("name"), "parameters": t["input_schema"]}}
            for t in tools
        ]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "tool":
            out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
        else:
            out["tool_choice"] = {"any": "required", "none": "none"}.get(str(kind), "auto")
        if choice.get("disable_parallel_tool_use") is True:
            out["parallel_tool_calls"] = False
    if body.get("stop_sequences"):
        out["stop"] = body["stop_sequences"]
    given = body.get("output_config")
    config: dict[str, Any] = given if isinstance(given, dict) else {}
    fmt = config.get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        out["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": fmt["schema"]},
        }
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        budget = thinking.get("budget_tokens")
        effort = config.get("effort") or (f"budget {budget}" if _is_int(budget) else "adaptive")
        out["reasoning_effort"] = effort
    return out


# -- the answer ---------------------------------------------------------------------------------
def _cached_prefix(body: dict[str, Any]) -> tuple[int, bytes | None]:
    """Tokens of the prompt up to the last cache_control marker (tools, system, messages order)."""
    pieces: list[Any] = []
    tokens = marked = 0
    key: bytes | None = None
    system = body.get("system")
    blocks: list[Any] = [
        *(body.get("tools") or []),
        *(system if isinstance(system, list) else [system or ""]),
    ]
    for turn in body["messages"]:
        blocks.extend(turn["content"] if isinstance(turn["content"], list) else [turn["content"]])
    for block in blocks:
        pieces.append(block)
        tokens += estimate_tokens(_text_of([block]) if isinstance(block, dict) else str(block))
        if isinstance(block, dict) and "input_schema" in block:
            tokens += estimate_tokens(orjson.dumps(block).decode())
        if isinstance(block, dict) and isinstance(block.get("cache_control"), dict):
            marked = tokens
            key = hashlib.sha256(orjson.dumps([body["model"], pieces], option=orjson.OPT_SORT_KEYS)).digest()
    return marked, key


def _stop(body: dict[str, Any], openai: dict[str, Any], text: str | None) -> tuple[str, str | None]:
    stops = [s for s in openai.get("stop") or [] if isinstance(s, str) and s]
    if not stops or text is None:
        return "end_turn", None
    full = synthesize_completion({**openai, "stop": None}, model=body["model"])["choices"][0]["message"]
    whole = str(full.get("content") or "")
    found = [(whole.find(s), s) for s in stops if s in whole]
    return ("stop_sequence", min(found)[1]) if found and len(whole) > len(text) else ("end_turn", None)


def synthesize_message(body: dict[str, Any], prompt_cache: PromptCache) -> dict[str, Any]:
    """A native Anthropic message answering ``body`` (thinking tokens itemised when there are any)."""
    openai = to_openai(body)
    completion = synthesize_completion(openai, model=body["model"])
    choice = completion["choices"][0]
    answer = choice["message"]
    content: list[dict[str, Any]] = []
    if answer.get("reasoning_content"):
        content.append({"type": "thinking", "thinking": answer["reasoning_content"], "signature": _SIGNATURE})
    if answer.get("content"):
        content.append({"type": "text", "text": answer["content"]})
    for call in answer.get("tool_calls") or []:
        tool_id = "toolu_" + call["id"].removeprefix("call_")
        arguments = orjson.loads(call["function"]["arguments"])
        content.append(
            {"type": "tool_use", "id": tool_id, "name": call["function"]["name"], "input": arguments}
        )
    finish = choice["finish_reason"]
    stop_reason, sequence = {"tool_calls": ("tool_use", None), "length": ("max_tokens", None)}.get(
        finish, ("end_turn", None)
    )
    if finish == "stop":
        stop_reason, sequence = _stop(body, openai, answer.get("content"))
    usage = completion["usage"]
    prompt = usage["prompt_tokens"]
    prefix, key = _cached_prefix(body)
    prefix = min(prefix, max(prompt - 1, 0))
    read = prefix if key is not None and prompt_cache.seen_before(key) else 0
    message = {
        "id": "msg_sim" + completion["id"].removeprefix("chatcmpl-sim"),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": sequence,
        "usage": {
            "input_tokens": prompt - prefix,
            "cache_creation_input_tokens": prefix - read,
            "cache_read_input_tokens": read,
            "output_tokens": usage["completion_tokens"],
        },
    }
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    if reasoning:
        message["usage"]["output_tokens_details"] = {"thinking_tokens": reasoning}
    return message


def _event(data: dict[str, Any]) -> bytes:
    return b"event: " + str(data["type"]).encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _pieces(text: str, words: int = 3) -> list[str]:
    found = _PIECE_RE.findall(text)
    return ["".join(found[i : i + words]) for i in range(0, len(found), words)] or [text]


def stream_events(message: dict[str, Any]) -> list[bytes]:
    """The event stream the API would send for ``message``."""
    usage = message["usage"]
    head = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    opening = {k: v for k, v in usage.items() if k != "output_tokens_details"} | {"output_tokens": 1}
    events = [_event({"type": "message_start", "message": {**head, "usage": opening}})]
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        deltas: list[dict[str, Any]]
        start: dict[str, Any]
        if kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"])]
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = orjson.dumps(block["input"]).decode()
            deltas = [
                {"type": "input_json_delta", "partial_json": raw[i : i + 16]} for i in range(0, len(raw), 16)
            ]
        events.append(_event({"type": "content_block_start", "index": index, "content_block": start}))
        if index == 0:
            events.append(_event({"type": "ping"}))
        events += [_event({"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        events.append(_event({"type": "content_block_stop", "index": index}))
    stop = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    events.append(_event({"type": "message_delta", "delta": stop, "usage": usage}))
    events.append(_event({"type": "message_stop"}))
    return events


def _synthesize(
    request: web.Request, state: SimulatorState, body: dict[str, Any], base: dict[str, str]
) -> Reply:
    stream = body.get("stream") is True
    cacheable = b"cache_control" not in orjson.dumps(body)  # prompt caching makes answers stateful
    key = hashlib.sha256(b"anthropic\n" + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
    payload = state.cache.get(key) if cacheable else None
    if payload is None:
        message = synthesize_message(body, request.app[PROMPT_CACHE_KEY])
        payload = tuple(stream_events(message)) if stream else orjson.dumps(message)
        if cacheable:
            state.cache.put(key, payload)
    if isinstance(payload, tuple):
        return Reply(200, {**base, "Content-Type": SSE_TYPE, "Cache-Control": "no-cache"}, chunks=payload)
    return Reply(200, {**base, "Content-Type": JSON_TYPE}, payload)


def _replay(state: SimulatorState, model: str, base: dict[str, str]) -> Reply:
    recording = state.recordings.get(model[len(RECORDING_PREFIX) :])
    if recording is None:
        return json_reply(404, error_payload("not_found_error", f"model: {model}"), base)
    headers = {k: v for k, v in recording.headers.items() if k.lower() not in _SKIPPED_REPLAY_HEADERS}
    headers = {**base, **headers, "Content-Type": recording.content_type}
    return Reply(recording.status, headers, recording.body, recording.chunks if recording.is_sse else None)


async def _answer(
    request: web.Request, state: SimulatorState, record: RequestRecord, body: Any
) -> web.StreamResponse:
    base = {"request-id": request_id()}
    problem: tuple[int, str, str] | None = None
    if not request.headers.get("x-api-key", "").strip():
        problem = (401, "authentication_error", "x-api-key header is required")
    elif not request.headers.get("anthropic-version", "").strip():
        problem = (400, "invalid_request_error", "anthropic-version: header is required")
    else:
        message = check_request(body)
        if message is not None:
            problem = (400, "invalid_request_error", message)
    if problem is not None:
        reply = json_reply(problem[0], error_payload(problem[1], problem[2]), base)
        return await deliver(
            request, record, reply, None, closing=state.closing, error_body=default_error_body
        )
    fault = state.faults.pop(record.model)
    model = str(record.model)
    reply = (
        _replay(state, model, base)
        if model.startswith(RECORDING_PREFIX)
        else _synthesize(request, state, body, base)
    )
    if fault is not None and fault.kind == CUT and fault.body is not None and reply.chunks is not None:
        record.fault = fault.to_json()
        failure = fault.body if isinstance(fault.body, dict) else error_payload("api_error", str(fault.body))
        reply.chunks = (*reply.chunks[: fault.after_chunks], _event({**failure, "type": "error"}))
        fault = None
    return await deliver(request, record, reply, fault, closing=state.closing, error_body=default_error_body)


async def messages(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = None
    model = body.get("model") if isinstance(body, dict) else None
    model = model if isinstance(model, str) and model else None
    record = state.log.add(request, wire=WIRE, body=body, raw=raw, model=model)
    record.stream = isinstance(body, dict) and body.get("stream") is True
    return await guarded(record, _answer(request, state, record, body))
