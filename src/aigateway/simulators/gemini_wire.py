"""Gemini wire of the simulator: `POST .../models/{model}:generateContent` and `:streamGenerateContent`.

Any path prefix is accepted (`/v1beta/models/...`, `/models/...`). The key goes in `x-goog-api-key`
(or `?key=`); without one the answer is Gemini's 403 PERMISSION_DENIED. Streams are SSE with
`?alt=sse` (events separated by CRLF CRLF, as Google sends them) and otherwise one JSON array written
element by element.

A model named `rec.<provider>.<file>` replays the recording `<provider>/<file>` (dots, because the
model sits in the URL path where `:` starts the method): e.g. `rec.gemini.stream-sse-text`. The
recording's status, content type and body are sent as recorded, SSE event by event and JSON-array
streams element by element. Any other model gets a native Gemini answer synthesized from
`providers/simulated`: text, thought parts when `thinkingConfig.includeThoughts` is set, functionCall
parts (the first with a thoughtSignature), usageMetadata (prompts over 1024 tokens report
`cachedContentTokenCount` = the largest multiple of 1024 below the prompt, an implicit-cache hit).

Requests are checked the way the real API checks them where adapters go wrong: unknown top-level or
generationConfig fields, empty contents or parts, both thinkingBudget and thinkingLevel, a function
call turn not answered by as many functionResponse parts, and (for `gemini-3...` models) a function
call turn whose first call carries no thoughtSignature. Faults and the request log work as for the
OpenAI wire.

Embeddings: ``POST .../models/{model}:batchEmbedContents`` (and ``:embedContent``) answer from
synth_embeddings (``outputDimensionality`` per request, 1024 values by default; no usage, like the
real API); a model ``rec:<key>`` (``models/rec:gemini/batch-embed-contents:batchEmbedContents``) or
``rec.<provider>.<file>`` replays that recording.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import orjson
from aiohttp import web

from aigateway.providers.simulated import synthesize_completion
from aigateway.simulators import synth_embeddings
from aigateway.simulators.answers import gemini_error
from aigateway.simulators.json_endpoint import JsonWire, serve
from aigateway.simulators.responder import JSON_TYPE, Reply, deliver, guarded, json_reply, request_id
from aigateway.simulators.state import STATE_KEY, RequestRecord, SimulatorState

WIRE = "gemini"
PATH = r"/{prefix:(?:.*/)?}models/{target}"
EMBED_PATH = r"/{prefix:(?:.*/)?}models/{model:.+}:{method:(?:batchEmbedContents|embedContent)}"
RECORDING_PREFIX = "rec."
METHODS = ("generateContent", "streamGenerateContent")
SSE_HEADERS = {"Content-Type": "text/event-stream", "Content-Disposition": "attachment"}
_SKIPPED = frozenset({"content-length", "content-encoding", "content-type", "transfer-encoding", "date"})
_STATUS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission."),
    404: ("NOT_FOUND", "Requested entity was not found."),
    408: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report in the troubleshooting guide."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}
NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_TOP_TEXT = "contents systemInstruction tools toolConfig generationConfig safetySettings cachedContent"
_CONFIG_TEXT = """stopSequences responseMimeType responseSchema responseJsonSchema responseModalities
candidateCount maxOutputTokens temperature topP topK seed presencePenalty frequencyPenalty
responseLogprobs logprobs enableEnhancedCivicAnswers speechConfig thinkingConfig imageConfig
mediaResolution"""
_PART_DATA = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
)


def _both_cases(names: list[str]) -> frozenset[str]:
    return frozenset(names) | {_CAMEL.sub("_", n).lower() for n in names}


TOP_FIELDS = _both_cases(_TOP_TEXT.split())
CONFIG_FIELDS = _both_cases(_CONFIG_TEXT.split())


def error_payload(code: int, message: str, status: str | None = None) -> dict[str, Any]:
    name = status or _STATUS.get(code, ("INTERNAL" if code >= 500 else "INVALID_ARGUMENT", ""))[0]
    return {"error": {"code": code, "message": message, "status": name}}


def default_error_body(code: int) -> bytes:
    """Gemini-shaped error body for an injected status fault."""
    name, message = _STATUS.get(code, ("INTERNAL" if code >= 500 else "INVALID_ARGUMENT", f"Error {code}."))
    payload = error_payload(code, message + " (simulated)", name)
    if code == 429:
        payload["error"]["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}
        ]
    return orjson.dumps(payload)


def register(app: web.Application) -> None:
    app.router.add_post(EMBED_PATH, embed)  # first: PATH would take ``models/x:batchEmbedContents`` too
    app.router.add_post(PATH, generate)


def _get(doc: dict[str, Any], camel: str) -> Any:
    value = doc.get(camel)
    return value if value is not None else doc.get(_CAMEL.sub("_", camel).lower())


def _parts(content: Any) -> list[dict[str, Any]]:
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _calls(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in _parts(content) if isinstance(_get(p, "functionCall"), dict)]


def validate(body: dict[str, Any], model: str) -> str | None:
    """The INVALID_ARGUMENT message the real API would give this request, or None."""
    for key in body:
        if key not in TOP_FIELDS:
            return f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for i, content in enumerate(contents):
        if not isinstance(content, dict) or content.get("role", "user") not in ("user", "model"):
            return f"* GenerateContentRequest.contents[{i}].role: Please use a valid role: user, model."
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            return f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
        for k, part in enumerate(parts):
            if not isinstance(part, dict) or sum(_get(part, f) is not None for f in _PART_DATA) != 1:
                return f"* GenerateContentRequest.contents[{i}].parts[{k}].data: required oneof field 'data'."
    config = _get(body, "generationConfig")
    for key in config if isinstance(config, dict) else {}:
        if key not in CONFIG_FIELDS:
            return f"Invalid JSON payload received. Unknown name \"{key}\" at 'generation_config'."
    thinking = _get(config, "thinkingConfig") if isinstance(config, dict) else None
    if isinstance(thinking, dict) and None not in (
        _get(thinking, "thinkingBudget"),
        _get(thinking, "thinkingLevel"),
    ):
        return "You can only set one of thinking budget and thinking level."
    gemini3 = re.search(r"gemini-([3-9]|\d{2,})", model) is not None
    for i, content in enumerate(contents):
        calls = _calls(content) if content.get("role") == "model" else []
        if not calls:
            continue
        if gemini3 and not _get(calls[0], "thoughtSignature"):
            name = _get(calls[0], "functionCall").get("name")
            return (
                f"Function call is missing a thought_signature in functionCall parts. Additional data, "
                f"function call `{name}` , position {i + 1}."
            )
        if i + 1 < len(contents):
            answers = [p for p in _parts(contents[i + 1]) if _get(p, "functionResponse") is not None]
            if len(answers) != len(calls):
                return (
                    "Please ensure that the number of function response parts is equal to the number of "
                    "function call parts of the function call turn."
                )
    return None


# -- synthesis -------------------------------------------------------------------------------------
def _lower_types(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def openai_body(body: dict[str, Any]) -> dict[str, Any]:
    """The Gemini request restated as an OpenAI chat body, for the deterministic synthesizer."""
    messages: list[dict[str, Any]] = []
    system = _get(body, "systemInstruction")
    if isinstance(system, dict):
        messages.append(
            {"role": "system", "content": "".join(str(p.get("text") or "") for p in _parts(system))}
        )
    for content in body.get("contents") or []:
        parts = _parts(content)
        if content.get("role") == "model":
            calls = [_get(p, "functionCall") for p in parts if isinstance(_get(p, "functionCall"), dict)]
            text = "".join(str(p.get("text") or "") for p in parts if not p.get("thought"))
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                message["tool_calls"] = [
                    {
                        "id": f"call_{k}",
                        "type": "function",
                        "function": {"name": c.get("name"), "arguments": "{}"},
                    }
                    for k, c in enumerate(calls)
                ]
            messages.append(message)
            continue
        pieces: list[dict[str, Any]] = []
        for part in parts:
            answer = _get(part, "functionResponse")
            if isinstance(answer, dict):
                result = json.dumps(answer.get("response"), sort_keys=True)
                messages.append({"role": "tool", "tool_call_id": str(answer.get("name")), "content": result})
            elif isinstance(part.get("text"), str):
                pieces.append({"type": "text", "text": part["text"]})
            else:
                pieces.append({"type": "image_url", "image_url": {"url": "inline"}})
        if pieces:
            messages.append({"role": "user", "content": pieces})
    out: dict[str, Any] = {"messages": messages}
    tools = [
        {
            "type": "function",
            "function": {
                "name": d.get("name"),
                "parameters": _lower_types(_get(d, "parameters"))
                or _get(d, "parametersJsonSchema")
                or {"type": "object"},
            },
        }
        for tool in body.get("tools") or []
        for d in _get(tool, "functionDeclarations") or []
    ]
    if tools:
        out["tools"] = tools
        calling = _get(_get(body, "toolConfig") or {}, "functionCallingConfig") or {}
        mode = str(calling.get("mode") or "AUTO").upper()
        names = _get(calling, "allowedFunctionNames") or []
        if mode == "NONE":
            out["tool_choice"] = "none"
        elif mode == "ANY" and len(names) == 1:
            out["tool_choice"] = {"type": "function", "function": {"name": names[0]}}
        elif mode == "ANY":
            out["tool_choice"] = "required"
    config = _get(body, "generationConfig") or {}
    for theirs, ours in (
        ("maxOutputTokens", "max_tokens"),
        ("stopSequences", "stop"),
        ("candidateCount", "n"),
    ):
        if _get(config, theirs) is not None:
            out[ours] = _get(config, theirs)
    if _get(config, "responseMimeType") == "application/json":
        schema = _get(config, "responseJsonSchema") or _lower_types(_get(config, "responseSchema"))
        out["response_format"] = (
            {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
            if isinstance(schema, dict)
            else {"type": "json_object"}
        )
    thinking = _get(config, "thinkingConfig") or {}
    if _get(thinking, "includeThoughts") is True:
        out["reasoning_effort"] = str(_get(thinking, "thinkingLevel") or "medium").lower()
    return out


def _signature(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(f"signature:{seed}".encode()).digest()).decode()


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    prompt = int(usage.get("prompt_tokens") or 0)
    thoughts = int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
    candidates = int(usage.get("completion_tokens") or 0) - thoughts
    meta: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": candidates}
    meta["totalTokenCount"] = prompt + candidates + thoughts
    cached = ((prompt - 1) // 1024) * 1024 if prompt > 1024 else 0
    if cached:
        meta["cachedContentTokenCount"] = cached
    meta["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    return meta


def _pieces(text: str) -> list[str]:
    words = re.findall(r"\s*\S+|\s+$", text)
    return ["".join(words[i : i + 3]) for i in range(0, len(words), 3)]


def synthesize(body: dict[str, Any], model: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A native Gemini answer to ``body``: (the whole response, the same answer as stream chunks)."""
    completion = synthesize_completion(openai_body(body), model=model)
    response_id = completion["id"].removeprefix("chatcmpl-")
    head = {"modelVersion": model, "responseId": response_id}
    candidates: list[dict[str, Any]] = []
    streams: list[list[dict[str, Any]]] = []
    for choice in completion["choices"]:
        message = choice["message"]
        thought = message.get("reasoning_content") or ""
        calls: list[dict[str, Any]] = [
            {"functionCall": {"name": c["function"]["name"], "args": json.loads(c["function"]["arguments"])}}
            for c in message.get("tool_calls") or []
        ]
        if calls:
            calls[0]["thoughtSignature"] = _signature(f"{response_id}:{choice['index']}")
        reason = "MAX_TOKENS" if choice["finish_reason"] == "length" else "STOP"
        parts: list[dict[str, Any]] = [{"text": thought, "thought": True}] if thought else []
        parts += [{"text": message["content"]}] if message.get("content") else []
        candidate = {"content": {"parts": parts + calls, "role": "model"}, "finishReason": reason}
        candidates.append({**candidate, "index": choice["index"]})
        pieces: list[list[dict[str, Any]]] = [[{"text": p, "thought": True}] for p in _pieces(thought)]
        pieces += [[{"text": p}] for p in _pieces(message.get("content") or "")]
        pieces += [calls] if calls else []
        streams.append(
            [{"content": {"parts": p, "role": "model"}, "index": choice["index"]} for p in pieces or [[]]]
        )
        streams[-1][-1]["finishReason"] = reason
    usage = _usage(completion["usage"])
    whole = {"candidates": candidates, "usageMetadata": usage, **head}
    partial = {k: usage[k] for k in ("promptTokenCount", "promptTokensDetails")}
    chunks = []
    for step in range(max(len(s) for s in streams)):
        found = [s[step] for s in streams if step < len(s)]
        last = step == max(len(s) for s in streams) - 1
        chunks.append({"candidates": found, "usageMetadata": usage if last else partial, **head})
    return whole, chunks


def _split_array(body: bytes) -> tuple[bytes, ...]:
    """A JSON-array body cut after each element (so b"".join() == body), to be written piece by piece."""
    pieces: list[bytes] = []
    depth, start, in_string, escaped = 0, 0, False, False
    for i, ch in enumerate(body):
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == 0x5C, ch != 0x22)
        elif ch == 0x22:
            in_string = True
        elif ch == 0x7B:
            depth += 1
        elif ch == 0x7D:
            depth -= 1
            if depth == 0:
                pieces.append(body[start : i + 1])
                start = i + 1
    if start < len(body):
        pieces.append(body[start:])
    return tuple(pieces)


def _replay(state: SimulatorState, model: str, stream: bool, base: dict[str, str]) -> Reply:
    key = model[len(RECORDING_PREFIX) :].replace(".", "/", 1)
    recording = state.recordings.get(key)
    if recording is None:
        message = (
            f"models/{model} is not found for API version v1beta, or is not supported for generateContent."
        )
        return json_reply(404, error_payload(404, message), base)
    headers = {k: v for k, v in recording.headers.items() if k.lower() not in _SKIPPED}
    headers = {**base, **headers, "Content-Type": recording.content_type}
    if recording.is_sse:
        return Reply(recording.status, headers, recording.body, recording.chunks)
    if stream and recording.body.lstrip().startswith(b"["):
        return Reply(recording.status, headers, recording.body, _split_array(recording.body))
    return Reply(recording.status, headers, recording.body)


def _synthesize(
    state: SimulatorState, body: dict[str, Any], model: str, stream: bool, sse: bool, base: dict[str, str]
) -> Reply:
    key = hashlib.sha256(orjson.dumps([model, stream, sse, body], option=orjson.OPT_SORT_KEYS)).digest()
    payload: bytes | tuple[bytes, ...] | None = state.cache.get(key)
    if payload is None:
        whole, chunks = synthesize(body, model)
        if not stream:
            payload = orjson.dumps(whole)
        elif sse:
            payload = tuple(b"data: " + orjson.dumps(c) + b"\r\n\r\n" for c in chunks)
        else:
            elements = [(b"[" if i == 0 else b",\r\n") + orjson.dumps(c) for i, c in enumerate(chunks)]
            payload = (*elements, b"]")
        state.cache.put(key, payload)
    if isinstance(payload, tuple):
        headers = {**base, **SSE_HEADERS} if sse else {**base, "Content-Type": JSON_TYPE}
        return Reply(200, headers, chunks=payload)
    return Reply(200, {**base, "Content-Type": JSON_TYPE}, payload)


async def _reject(request: web.Request, state: SimulatorState, record: RequestRecord, reply: Reply) -> Any:
    return await deliver(request, record, reply, None, closing=state.closing, error_body=default_error_body)


async def _answer(
    request: web.Request, state: SimulatorState, record: RequestRecord, body: Any, method: str
) -> web.StreamResponse:
    base = {"x-request-id": request_id()}
    model = record.model or ""
    if method not in METHODS or not model:
        message = f"Method {method or '(none)'} of models/{model} is not found (simulated)."
        return await _reject(request, state, record, json_reply(404, error_payload(404, message), base))
    if not has_key(request):
        return await _reject(request, state, record, json_reply(403, error_payload(403, NO_KEY), base))
    if not isinstance(body, dict):
        message = "Invalid JSON payload received. Expected an object (simulated)."
        return await _reject(request, state, record, json_reply(400, error_payload(400, message), base))
    problem = validate(body, model)
    if problem is not None:
        return await _reject(request, state, record, json_reply(400, error_payload(400, problem), base))
    fault = state.faults.pop(model)
    stream = method == "streamGenerateContent"
    if model.startswith(RECORDING_PREFIX):
        reply = _replay(state, model, stream, base)
    else:
        reply = _synthesize(state, body, model, stream, request.query.get("alt") == "sse", base)
    return await deliver(request, record, reply, fault, closing=state.closing, error_body=default_error_body)


def has_key(request: web.BaseRequest) -> bool:
    return bool(request.headers.get("x-goog-api-key", "").strip() or request.query.get("key", "").strip())


EMBED_WIRE = JsonWire(
    WIRE,
    default_error_body,
    gemini_error(403, NO_KEY),
    lambda model: gemini_error(
        404, f"models/{model} is not found for API version v1beta, or is not supported for embedding."
    ),
    authorized=has_key,
)


async def embed(request: web.Request) -> web.StreamResponse:
    model = request.match_info["model"]
    if request.match_info["method"] == "embedContent":
        return await serve(
            request, EMBED_WIRE, lambda b: synth_embeddings.gemini_embed_content(b, model), model
        )
    return await serve(request, EMBED_WIRE, lambda b: synth_embeddings.gemini_batch_embed(b, model), model)


async def generate(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    model, _, method = request.match_info["target"].rpartition(":")
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = None
    record = state.log.add(request, wire=WIRE, body=body, raw=raw, model=model or None)
    record.stream = method == "streamGenerateContent"
    return await guarded(record, _answer(request, state, record, body, method))
