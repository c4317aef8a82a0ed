"""The Gemini API wire format (generativelanguage v1beta ``generateContent``): OpenAI chat -> Gemini.

Pure translation; the answer side lives in gemini_stream.py. Requests go to
``{base}/models/{model}:generateContent`` or ``:streamGenerateContent?alt=sse`` with the key in
``x-goog-api-key``. How the OpenAI request maps (decisions the docs state):

* Messages: ``system``/``developer`` text -> ``systemInstruction`` (all of them, in order; when there
  is nothing else the text becomes the user turn). ``user`` -> role ``user``; ``assistant`` -> role
  ``model`` (text, then one ``functionCall`` part per tool call; ``reasoning_content`` sent back is
  dropped: Gemini's thoughts live in signatures). ``tool`` -> ``functionResponse`` parts; consecutive
  results are merged into one user turn, ordered like the calls they answer; the function name is
  looked up from the assistant tool call with that ``tool_call_id``. A result that is a JSON object
  is sent as the response object, anything else as ``{"result": ...}``.
* Tool call ids: ids Gemini issued (``functionCall.id``) are echoed as ``functionCall.id`` /
  ``functionResponse.id``; ids the gateway minted (``call_`` + 24 hex) are not sent, Gemini matches
  those by order and name.
* Thought signatures: the tool call's ``extra_content.google.thought_signature`` goes back as the
  part's ``thoughtSignature``. For Gemini 3+ models, a first call of an assistant turn without one
  (a history from another model) gets Google's documented ``skip_thought_signature_validator``.
* Images: ``data:`` URLs -> ``inlineData``; http(s)/gs URLs -> ``fileData`` with the MIME type guessed
  from the path (``image/jpeg`` when unknown); ``detail`` is ignored. ``input_audio`` and ``file``
  parts with ``file_data`` -> ``inlineData``; ``file_id`` is refused (no Files API bridge).
* Tools: ``parameters`` when the schema fits Gemini's OpenAPI subset (types upper-cased), else
  ``parametersJsonSchema`` with the schema untouched ($ref, additionalProperties, const, oneOf, type
  lists, ... need it). ``tool_choice`` -> ``toolConfig.functionCallingConfig.mode`` AUTO / NONE / ANY,
  a named function -> ANY + ``allowedFunctionNames``; ``allowed_tools`` -> the same with its names.
* Sampling: temperature, top_p, ``top_k`` (an extension some clients send), n -> candidateCount,
  seed, penalties, stop -> stopSequences, max_completion_tokens (else max_tokens) -> maxOutputTokens.
* Output format: ``json_object`` -> ``responseMimeType: application/json``; ``json_schema`` -> that
  plus ``responseJsonSchema`` (full JSON Schema, key order kept; ``strict`` is implied).
* Reasoning: Gemini 2.x takes ``thinkingBudget`` (none 0 or 128 on Pro, which cannot turn thinking
  off; minimal/low 1024, medium 8192, high/xhigh 24576); Gemini 3+ and unversioned aliases take
  ``thinkingLevel`` (none/minimal MINIMAL, low LOW, medium MEDIUM, high/xhigh HIGH; Pro models lack
  MINIMAL and MEDIUM, so LOW and HIGH). ``includeThoughts`` is set unless effort is ``none``, and
  also when no effort is given but the model is a reasoning model, so thoughts come back as
  ``reasoning_content``.
* Refused with a 400: ``logprobs``, audio output, ``web_search_options``, legacy ``functions`` /
  ``function_call`` / role ``function``, non-function tools, unknown content parts.
* Dropped: ``user``, ``metadata``, ``store``, ``service_tier``, ``logit_bias``,
  ``parallel_tool_calls`` (Gemini has no switch), ``prediction``, ``prompt_cache_key``,
  ``safety_identifier``, ``verbosity``, ``stream_options`` (Gemini always reports usage) and the
  gateway's own fields.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
import urllib.parse
from typing import Any

import orjson

from aigateway.core.errors import InvalidRequest
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import Target, TranslatedResponse, UpstreamFailure, UpstreamRequest
from aigateway.providers.wire.gemini_stream import (
    GeminiStreamTranslator,
    completion_from,
    error_of,
    retry_after_of,
)
from aigateway.providers.wire.openai import auth_headers

DUMMY_SIGNATURE = "skip_thought_signature_validator"
GENERATED_ID = re.compile(r"call_[0-9a-f]{24}")
# The keys of Gemini's OpenAPI 3.0 schema subset (``parameters``); anything else needs JSON Schema.
_SUBSET = "type format title description nullable enum maxItems minItems properties required minProperties \
maxProperties minLength maxLength pattern example anyOf propertyOrdering default items minimum maximum"
SCHEMA_KEYS = frozenset(_SUBSET.split())
_FORMATS = {"string": {"enum", "date-time"}, "number": {"float", "double"}, "integer": {"int32", "int64"}}
_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 8192, "high": 24576, "xhigh": 24576}
_LEVELS = {"none": "MINIMAL", "minimal": "MINIMAL", "low": "LOW", "medium": "MEDIUM", "high": "HIGH"}
_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mp3", "flac": "audio/flac", "ogg": "audio/ogg"}
_VERSION = re.compile(r"gemini-(\d+)")
_DATA_URL = re.compile(r"data:([^;,]*)((?:;[^;,]*)*),(.*)", re.DOTALL)


# -- schemas ------------------------------------------------------------------------------------
def fits_openapi_subset(schema: Any) -> bool:
    """Whether a JSON Schema can go to Gemini as ``parameters`` (its OpenAPI 3.0 subset) unchanged."""
    if not isinstance(schema, dict) or not set(schema) <= SCHEMA_KEYS:
        return False
    kind = schema.get("type")
    if kind is not None and not (isinstance(kind, str) and kind.lower() in _TYPES):
        return False
    fmt = schema.get("format")
    if fmt is not None and fmt not in _FORMATS.get(str(kind or "").lower(), ()):
        return False
    enum = schema.get("enum")
    if enum is not None and not (isinstance(enum, list) and all(isinstance(v, str) for v in enum)):
        return False
    props = schema.get("properties")
    if props is not None and not (
        isinstance(props, dict) and all(fits_openapi_subset(s) for s in props.values())
    ):
        return False
    if "items" in schema and not fits_openapi_subset(schema["items"]):
        return False
    any_of = schema.get("anyOf")
    return any_of is None or (isinstance(any_of, list) and all(fits_openapi_subset(s) for s in any_of))


def to_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema that fits the subset, with its types in Gemini's canonical (upper-case) form."""
    out = dict(schema)
    if isinstance(out.get("type"), str):
        out["type"] = out["type"].upper()
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: to_openapi(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = to_openapi(out["items"])
    if isinstance(out.get("anyOf"), list):
        out["anyOf"] = [to_openapi(s) for s in out["anyOf"]]
    return out


# -- the model ----------------------------------------------------------------------------------
def generation(model: str) -> int | None:
    """The major Gemini version named by an upstream model id (None for aliases like ...-latest)."""
    found = _VERSION.search(model.lower())
    return int(found.group(1)) if found else None


def thinking_config(effort: Any, model: str, capabilities: frozenset[str]) -> dict[str, Any] | None:
    if effort is None:
        return {"includeThoughts": True} if "reasoning" in capabilities else None
    if effort not in ("none", *_BUDGETS):
        raise InvalidRequest(
            "Invalid 'reasoning_effort': none, minimal, low, medium, high or xhigh.", param="reasoning_effort"
        )
    pro = "-pro" in model.lower()
    version = generation(model)
    if version is not None and version < 3:
        if effort == "none":
            return {"thinkingBudget": 128 if pro else 0}
        return {"thinkingBudget": _BUDGETS[effort], "includeThoughts": True}
    level = _LEVELS.get(effort, "HIGH")
    if pro:
        level = {"MINIMAL": "LOW", "MEDIUM": "HIGH"}.get(level, level)
    config: dict[str, Any] = {"thinkingLevel": level}
    if effort != "none":
        config["includeThoughts"] = True
    return config


# -- content ------------------------------------------------------------------------------------
def _text(content: Any, where: str) -> str:
    """The text of a content that may only hold text (system, tool, refusal parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces: list[str] = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, dict) and part.get("type") == "text":
            pieces.append(str(part.get("text") or ""))
        elif isinstance(part, dict) and part.get("type") == "refusal":
            pieces.append(str(part.get("refusal") or ""))
        else:
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise InvalidRequest(f"Gemini takes only text in {where}, not '{kind}' parts.", param="messages")
    return "".join(pieces)


def _data_url(url: str) -> dict[str, Any]:
    found = _DATA_URL.fullmatch(url)
    if found is None:
        raise InvalidRequest("A data: URL in the request is malformed.", param="messages")
    mime = found.group(1) or "application/octet-stream"
    payload = found.group(3)
    if ";base64" not in found.group(2).lower():
        payload = base64.b64encode(urllib.parse.unquote_to_bytes(payload)).decode()
    return {"inlineData": {"mimeType": mime, "data": payload}}


def _image(part: dict[str, Any]) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise InvalidRequest("An image_url part needs image_url.url.", param="messages")
    if url.startswith("data:"):
        return _data_url(url)
    mime = mimetypes.guess_type(urllib.parse.urlsplit(url).path)[0]
    return {"fileData": {"mimeType": mime if mime else "image/jpeg", "fileUri": url}}


def _user_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append({"text": str(part.get("text") or "")})
        elif kind == "image_url":
            parts.append(_image(part))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            mime = _AUDIO_TYPES.get(str(audio.get("format") or "").lower())
            if mime is None or not isinstance(audio.get("data"), str):
                raise InvalidRequest("An input_audio part needs data and a wav/mp3 format.", param="messages")
            parts.append({"inlineData": {"mimeType": mime, "data": audio["data"]}})
        elif kind == "file":
            file = part.get("file") or {}
            data = file.get("file_data")
            if not isinstance(data, str) or not data.startswith("data:"):
                raise InvalidRequest(
                    "Gemini takes files inline: give file.file_data as a data: URL (not file_id).",
                    param="messages",
                )
            parts.append(_data_url(data))
        else:
            raise InvalidRequest(f"Content part type '{kind}' is not supported for Gemini.", param="messages")
    return parts or [{"text": ""}]


def _args(raw: Any, name: str) -> dict[str, Any]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        value = orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequest(
            f"The arguments of the earlier call to '{name}' are not a JSON object; Gemini needs one.",
            param="messages",
        )
    return value


def _signature(call: dict[str, Any]) -> str | None:
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    return signature if isinstance(signature, str) and signature else None


def _echoed(call_id: Any) -> bool:
    """Whether a tool call id is sent upstream (Gemini's own ids are; the gateway's are not)."""
    return isinstance(call_id, str) and bool(call_id) and GENERATED_ID.fullmatch(call_id) is None


def _model_parts(message: dict[str, Any], needs_signature: bool) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    text = _text(message.get("content"), "assistant messages")
    if text:
        parts.append({"text": text})
    for position, call in enumerate(message.get("tool_calls") or []):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or call.get("type", "function") != "function":
            raise InvalidRequest("Only function tool calls can be sent to Gemini.", param="messages")
        name = str(fn.get("name") or "")
        fc: dict[str, Any] = {"name": name, "args": _args(fn.get("arguments"), name)}
        if _echoed(call.get("id")):
            fc["id"] = call["id"]
        part: dict[str, Any] = {"functionCall": fc}
        signature = _signature(call) or (DUMMY_SIGNATURE if needs_signature and position == 0 else None)
        if signature:
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def _result(message: dict[str, Any], name: str) -> dict[str, Any]:
    text = _text(message.get("content"), "tool results")
    try:
        value: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = text
    response = value if isinstance(value, dict) else {"result": value}
    fr: dict[str, Any] = {"name": name, "response": response}
    if _echoed(message.get("tool_call_id")):
        fr["id"] = message["tool_call_id"]
    return {"functionResponse": fr}


def contents_of(messages: list[Any], model: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(contents, systemInstruction) for the OpenAI ``messages``."""
    calls: dict[str, tuple[int, int, str]] = {}
    for i, message in enumerate(messages):
        for k, call in enumerate(message.get("tool_calls") or []):
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict) and isinstance(call.get("id"), str):
                calls[call["id"]] = (i, k, str(fn.get("name") or ""))
    needs_signature = (generation(model) or 0) >= 3
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    results: list[tuple[tuple[int, int], dict[str, Any]]] = []

    def flush() -> None:
        if results:
            results.sort(key=lambda r: r[0])
            contents.append({"role": "user", "parts": [part for _, part in results]})
            results.clear()

    for i, message in enumerate(messages):
        role = message.get("role")
        if role in ("system", "developer"):
            system.append({"text": _text(message.get("content"), "system messages")})
        elif role == "tool":
            call_id = message.get("tool_call_id")
            known = calls.get(call_id) if isinstance(call_id, str) else None
            name = known[2] if known else message.get("name")
            if not isinstance(name, str) or not name:
                raise InvalidRequest(
                    f"The tool message for tool_call_id '{call_id}' answers no tool call of an earlier "
                    "assistant message; Gemini needs the function's name.",
                    param="messages",
                )
            results.append(((known[0], known[1]) if known else (len(messages), i), _result(message, name)))
        else:
            flush()
            if role == "user":
                contents.append({"role": "user", "parts": _user_parts(message.get("content"))})
            elif role == "assistant":
                parts = _model_parts(message, needs_signature)
                if parts:
                    contents.append({"role": "model", "parts": parts})
            else:
                raise InvalidRequest(
                    f"Messages with role '{role}' are not supported for Gemini; use tools.", param="messages"
                )
    flush()
    if not contents and system:
        return [{"role": "user", "parts": system}], None
    return contents, ({"parts": system} if system else None)


# -- tools and generation config ------------------------------------------------------------------
def declarations_of(tools: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or tool.get("type", "function") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise InvalidRequest(f"Tool type '{kind}' is not supported for Gemini.", param="tools")
        decl: dict[str, Any] = {"name": fn.get("name")}
        if isinstance(fn.get("description"), str) and fn["description"]:
            decl["description"] = fn["description"]
        params = fn.get("parameters")
        if isinstance(params, dict) and params:
            if fits_openapi_subset(params):
                decl["parameters"] = to_openapi(params)
            else:
                decl["parametersJsonSchema"] = params
        out.append(decl)
    return out


def tool_config_of(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    modes = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    config: dict[str, Any]
    if isinstance(choice, str) and choice in modes:
        config = {"mode": modes[choice]}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        if not isinstance(name, str) or not name:
            raise InvalidRequest("A named tool_choice needs function.name.", param="tool_choice")
        config = {"mode": "ANY", "allowedFunctionNames": [name]}
    elif (allowed := _allowed(choice)) is not None:
        config = {"mode": allowed[0]}
        if allowed[0] == "ANY" and allowed[1]:
            config["allowedFunctionNames"] = allowed[1]
    else:
        raise InvalidRequest("Invalid 'tool_choice' for Gemini.", param="tool_choice")
    return {"functionCallingConfig": config}


def _allowed(choice: Any) -> tuple[str, list[str]] | None:
    """(mode, function names) of an ``allowed_tools`` tool_choice."""
    if not isinstance(choice, dict) or choice.get("type") != "allowed_tools":
        return None
    allowed = choice.get("allowed_tools") or {}
    tools = [t.get("function") for t in allowed.get("tools") or [] if isinstance(t, dict)]
    names = [str(fn["name"]) for fn in tools if isinstance(fn, dict) and fn.get("name")]
    return ("ANY" if allowed.get("mode") == "required" else "AUTO"), names


def generation_config_of(body: dict[str, Any], target: Target) -> dict[str, Any]:
    config: dict[str, Any] = {}
    simple = (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("top_k", "topK"),
        ("n", "candidateCount"),
        ("seed", "seed"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    )
    for ours, theirs in simple:
        if body.get(ours) is not None:
            config[theirs] = body[ours]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None:
        config["maxOutputTokens"] = limit
    stop = body.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    fmt = body.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
    if kind == "json_schema":
        spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if isinstance(schema, dict):
            config["responseJsonSchema"] = schema
    thinking = thinking_config(body.get("reasoning_effort"), target.upstream_model, target.capabilities)
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def _refuse_unsupported(body: dict[str, Any]) -> None:
    if body.get("logprobs") is True or body.get("top_logprobs"):
        raise InvalidRequest("logprobs are not supported for Gemini models.", param="logprobs")
    if body.get("audio") is not None or "audio" in (body.get("modalities") or []):
        raise InvalidRequest("Audio output is not supported for Gemini chat models.", param="modalities")
    if body.get("web_search_options") is not None:
        raise InvalidRequest("web_search_options is not supported for Gemini.", param="web_search_options")
    if body.get("functions") is not None or body.get("function_call") is not None:
        raise InvalidRequest("Legacy 'functions' are not supported: use 'tools'.", param="functions")


def gemini_body(body: dict[str, Any], target: Target) -> dict[str, Any]:
    """The Gemini GenerateContentRequest for an OpenAI chat request body."""
    _refuse_unsupported(body)
    messages = body.get("messages")
    contents, system = contents_of(messages if isinstance(messages, list) else [], target.upstream_model)
    out: dict[str, Any] = {"contents": contents}
    if system is not None:
        out["systemInstruction"] = system
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        declarations = declarations_of(tools)
        allowed = _allowed(body.get("tool_choice"))
        if allowed is not None and allowed[0] == "AUTO":  # Gemini restricts names only under ANY
            declarations = [d for d in declarations if d["name"] in allowed[1]]
        if declarations:
            out["tools"] = [{"functionDeclarations": declarations}]
            config = tool_config_of(body.get("tool_choice"))
            if config is not None:
                out["toolConfig"] = config
    generation_config = generation_config_of(body, target)
    if generation_config:
        out["generationConfig"] = generation_config
    return out


def model_path(upstream_model: str) -> str:
    name = upstream_model.strip("/")
    return name if "/" in name else f"models/{name}"


class GeminiWire:
    name = "gemini"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        stream = body.get("stream") is True
        payload = orjson.dumps(gemini_body(body, target))
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        n = body.get("n")
        return UpstreamRequest(
            url=f"{vendor.base_url.rstrip('/')}/{model_path(target.upstream_model)}:{method}",
            headers=auth_headers(vendor, credential),
            body=payload,
            stream=stream,
            context={
                "model": target.upstream_model,
                "n": n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1,
                "seed": hashlib.sha256(payload).hexdigest()[:24],
            },
            wire="gemini",
            operation="chat",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        completion, usage = completion_from(doc, request.context)
        upstream_id = doc.get("responseId") if isinstance(doc, dict) else None
        return TranslatedResponse(body=orjson.dumps(completion), usage=usage, upstream_id=upstream_id)

    def stream_translator(self, request: UpstreamRequest, include_usage: bool) -> GeminiStreamTranslator:
        return GeminiStreamTranslator(request.context, include_usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        message, code = error_of(status, raw)
        return UpstreamFailure(message, code)

    def retry_after(self, raw: bytes) -> str | None:
        """Gemini says when to retry in the error body (RetryInfo), not in a header."""
        return retry_after_of(raw)
