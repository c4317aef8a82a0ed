"""Deterministic simulated chat provider: OpenAI-shaped answers computed from the request alone.

Pure functions, no I/O. The same body and model always give the same output (ids come from a
sha256 of the canonical body), so replies are reproducible in tests and benchmarks.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CREATED = 1767225600  # 2026-01-01T00:00:00Z, used when `created` is not given
SYSTEM_FINGERPRINT = "fp_simulated"
IMAGE_TOKENS = 85
MAX_CHOICES = 128
_MAX_DEPTH = 8
_WORDS_PER_DELTA = 3
_ARG_FRAGMENT_CHARS = 16
_PIECE_RE = re.compile(r"\s*\S+|\s+$")


# --------------------------------------------------------------------------- token estimates


def estimate_tokens(text: str) -> int:
    """Roughly len/4, at least 1 for non-empty text."""
    if not text:
        return 0
    return max(1, (len(text) + 3) // 4)


def _content_parts(content: Any) -> tuple[list[str], int]:
    """Text pieces and image count of a message `content` (string or list of parts)."""
    if isinstance(content, str):
        return [content], 0
    texts: list[str] = []
    images = 0
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict):
                kind = part.get("type")
                if kind in ("image_url", "input_image", "image"):
                    images += 1
                elif isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts, images


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimate of the prompt size: message texts, tool calls/results, tool definitions, images."""
    total = 0
    messages = body.get("messages")
    for msg in messages if isinstance(messages, list) else []:
        if not isinstance(msg, dict):
            continue
        total += 4  # per-message framing
        texts, images = _content_parts(msg.get("content"))
        total += sum(estimate_tokens(t) for t in texts) + images * IMAGE_TOKENS
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                total += estimate_tokens(str(fn.get("name") or "")) + estimate_tokens(
                    str(fn.get("arguments") or "")
                )
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        total += estimate_tokens(json.dumps(tools, sort_keys=True, default=str))
    return max(1, total)


# --------------------------------------------------------------------------- JSON Schema -> value


def _resolve(schema: Any, root: Any) -> Any:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#"):
        return schema
    node: Any = root
    for token in ref.lstrip("#").strip("/").split("/"):
        if not token:
            continue
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return {}
        node = node[token]
    return node


def _merge_all_of(schema: dict[str, Any], root: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for sub in schema.get("allOf") or []:
        sub = _resolve(sub, root)
        if not isinstance(sub, dict):
            continue
        for key, value in sub.items():
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _num_bounds(schema: dict[str, Any], step: float) -> tuple[float | None, float | None]:
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    ex_lo = schema.get("exclusiveMinimum")
    ex_hi = schema.get("exclusiveMaximum")
    if isinstance(ex_lo, bool):  # draft-4 style boolean flags
        ex_lo = lo if ex_lo else None
        lo = None if ex_lo is not None else lo
    if isinstance(ex_hi, bool):
        ex_hi = hi if ex_hi else None
        hi = None if ex_hi is not None else hi
    if isinstance(ex_lo, int | float):
        lo = max(lo, ex_lo + step) if isinstance(lo, int | float) else ex_lo + step
    if isinstance(ex_hi, int | float):
        hi = min(hi, ex_hi - step) if isinstance(hi, int | float) else ex_hi - step
    return (lo if isinstance(lo, int | float) else None, hi if isinstance(hi, int | float) else None)


def _gen_number(schema: dict[str, Any], integer: bool, variant: int) -> int | float:
    lo, hi = _num_bounds(schema, 1 if integer else 0.5)
    value: float = (1 if integer else 1.5) + variant
    if lo is not None and value < lo:
        value = lo + variant
    if hi is not None and value > hi:
        value = hi - variant if lo is None or hi - variant >= lo else hi
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0:
        value = math.ceil(value / multiple) * multiple
        if hi is not None and value > hi:
            value = math.floor(hi / multiple) * multiple
    if not integer:
        return float(value)
    out = math.ceil(value)
    return math.floor(hi) if hi is not None and out > hi else out


_FORMATS = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "iri": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _gen_string(schema: dict[str, Any], name: str, variant: int) -> str:
    fmt = schema.get("format")
    value = _FORMATS.get(fmt, "") if isinstance(fmt, str) else ""
    if not value:
        value = f"example {name}" if name else "example"
        if variant:
            value += f" {variant + 1}"
    min_len = schema.get("minLength")
    max_len = schema.get("maxLength")
    if isinstance(min_len, int) and len(value) < min_len:
        value = value + "x" * (min_len - len(value))
    if isinstance(max_len, int) and len(value) > max_len:
        value = value[: max(max_len, 0)]
    return value


def _int_key(schema: dict[str, Any], key: str) -> int | None:
    value = schema.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _gen_array(schema: dict[str, Any], root: Any, depth: int) -> list[Any]:
    prefix: Any = schema.get("prefixItems")
    items: Any = schema.get("items", {})
    if isinstance(items, list):  # draft-4 tuple form
        prefix, items = items, schema.get("additionalItems", {})
    prefix = prefix if isinstance(prefix, list) else []
    count = max(_int_key(schema, "minItems") or 0, len(prefix), 1 if depth < _MAX_DEPTH else 0)
    if items is False:
        count = min(count, len(prefix))
    max_items = _int_key(schema, "maxItems")
    if max_items is not None:
        count = min(count, max_items)
    subs = [prefix[i] if i < len(prefix) else items for i in range(count)]
    return [_gen(sub, root, depth + 1, "item", i) for i, sub in enumerate(subs)]


def _gen_object(schema: dict[str, Any], root: Any, depth: int) -> dict[str, Any]:
    props: dict[str, Any] = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
    required = [r for r in schema.get("required") or [] if isinstance(r, str)]
    names = list(props) if depth < _MAX_DEPTH else [n for n in props if n in required]
    out: dict[str, Any] = {name: _gen(props[name], root, depth + 1, name, 0) for name in names}
    for name in required:
        if name not in out:
            extra = schema.get("additionalProperties")
            out[name] = _gen(extra if isinstance(extra, dict) else {}, root, depth + 1, name, 0)
    return out


def _pick_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        kind = non_null[0] if non_null else (kind[0] if kind else None)
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if "minimum" in schema or "maximum" in schema:
        return "number"
    return "string"


def _gen(schema: Any, root: Any, depth: int, name: str, variant: int) -> Any:
    schema = _resolve(schema, root)
    if schema is True or not isinstance(schema, dict):
        return f"example {name}" if name else "example"
    if "allOf" in schema:
        schema = _merge_all_of(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[variant % len(enum)]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            resolved = [_resolve(b, root) for b in branches]
            usable = [b for b in resolved if not (isinstance(b, dict) and b.get("type") == "null")]
            branch = (usable or resolved)[0]
            merged = {**base, **branch} if isinstance(branch, dict) else base
            return _gen(merged, root, depth, name, variant)
    kind = _pick_type(schema)
    if kind == "object":
        return _gen_object(schema, root, depth)
    if kind == "array":
        return _gen_array(schema, root, depth)
    if kind in ("integer", "number"):
        return _gen_number(schema, kind == "integer", variant)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _gen_string(schema, name, variant)


def generate_from_schema(schema: Any) -> Any:
    """A deterministic value that validates against `schema` (common JSON Schema subset)."""
    return _gen(schema, schema, 0, "", 0)


# --------------------------------------------------------------------------- the answer


@dataclass
class _ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class _Choice:
    index: int
    content: str | None
    finish_reason: str
    reasoning: str | None = None
    tool_calls: list[_ToolCall] = field(default_factory=list)

    def completion_tokens(self) -> int:
        if self.tool_calls:
            body = sum(estimate_tokens(c.arguments) for c in self.tool_calls)
        else:
            body = estimate_tokens(self.content or "")
        return body + self.reasoning_tokens()

    def reasoning_tokens(self) -> int:
        return estimate_tokens(self.reasoning or "")


def _digest(body: dict[str, Any], model: str) -> str:
    try:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        canonical = repr(body)
    return hashlib.sha256(f"{model}\n{canonical}".encode()).hexdigest()


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    msgs = body.get("messages")
    return [m for m in msgs if isinstance(m, dict)] if isinstance(msgs, list) else []


def _snippet(text: str, words: int = 6) -> str:
    parts = text.split()
    short = " ".join(parts[:words]).strip(" ?!.,;:'\"")
    return short + ("..." if len(parts) > words else "")


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str) and fn["name"]:
            out.append(fn)
    return out


def _tool_targets(body: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tools = _tools(body)
    choice = body.get("tool_choice")
    if not tools or choice == "none" or (messages and messages[-1].get("role") == "tool"):
        return []
    if isinstance(choice, dict):
        fn = choice.get("function")
        wanted = fn.get("name") if isinstance(fn, dict) else None
        if isinstance(wanted, str) and wanted:
            found = [t for t in tools if t["name"] == wanted]
            return found[:1] or [{"name": wanted, "parameters": {"type": "object"}}]
    parallel = body.get("parallel_tool_calls") is not False
    if parallel and len(tools) >= 2 and choice in (None, "auto", "required"):
        return tools[:2]
    return tools[:1]


def _base_text(model: str, messages: list[dict[str, Any]], index: int) -> str:
    images = sum(_content_parts(m.get("content"))[1] for m in messages)
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        result = " ".join(_content_parts(last.get("content"))[0])
        text = f"Simulated reply from {model}: the tool returned '{_snippet(result, 8)}'."
    else:
        users = [m for m in messages if m.get("role") == "user"]
        asked = _snippet(" ".join(_content_parts(users[-1].get("content"))[0])) if users else ""
        text = f"Simulated reply from {model}: " + (f"you asked about '{asked}'." if asked else "hello.")
    if images:
        text += f" I saw {images} image{'s' if images != 1 else ''}."
    text += " This answer was generated locally without calling an upstream model."
    if index:
        text += f" (variant {index + 1})"
    return text


def _json_content(body: dict[str, Any], text: str, model: str) -> str | None:
    fmt = body.get("response_format")
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_object":
        return json.dumps({"answer": text, "model": model})
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema", {}) if isinstance(spec, dict) else {}
        return json.dumps(generate_from_schema(schema))
    return None


def _apply_limits(text: str, body: dict[str, Any], budget: int | None) -> tuple[str, str]:
    finish = "stop"
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    cuts = [text.find(s) for s in stops if isinstance(s, str) and s and s in text]
    if cuts:
        text = text[: min(cuts)]
    if budget is not None and estimate_tokens(text) > budget:
        text = text[: max(budget, 0) * 4].rstrip()
        finish = "length"
    return text, finish


def _token_budget(body: dict[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _build_choices(body: dict[str, Any], model: str, digest: str) -> list[_Choice]:
    messages = _messages(body)
    n = body.get("n")
    count = min(max(n, 1), MAX_CHOICES) if isinstance(n, int) and not isinstance(n, bool) else 1
    targets = _tool_targets(body, messages)
    effort = body.get("reasoning_effort")
    choices: list[_Choice] = []
    for index in range(count):
        budget = _token_budget(body)
        reasoning: str | None = None
        if effort is not None:
            reasoning = (
                f"Thinking ({effort} effort): read the last message, decide how to answer, "
                f"and keep the reply short for {model}."
            )
            if budget is not None:
                reasoning = reasoning[: budget * 4]
                budget = max(budget - estimate_tokens(reasoning), 0)
        if targets:
            calls = [
                _ToolCall(
                    id="call_" + hashlib.sha256(f"{digest}:{index}:{k}".encode()).hexdigest()[:24],
                    name=str(t["name"]),
                    arguments=json.dumps(generate_from_schema(t.get("parameters", {"type": "object"}))),
                )
                for k, t in enumerate(targets)
            ]
            choices.append(_Choice(index, None, "tool_calls", reasoning, calls))
            continue
        text = _base_text(model, messages, index)
        content = _json_content(body, text, model)
        content, finish = _apply_limits(content if content is not None else text, body, budget)
        choices.append(_Choice(index, content, finish, reasoning))
    return choices


def _usage(body: dict[str, Any], choices: list[_Choice]) -> dict[str, Any]:
    prompt = prompt_tokens(body)
    completion = sum(c.completion_tokens() for c in choices)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": sum(c.reasoning_tokens() for c in choices)},
    }


def _message(choice: _Choice) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": choice.content, "refusal": None}
    if choice.reasoning is not None:
        msg["reasoning_content"] = choice.reasoning
    if choice.tool_calls:
        msg["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in choice.tool_calls
        ]
    return msg


def synthesize_completion(body: dict[str, Any], *, model: str, created: int | None = None) -> dict[str, Any]:
    """An OpenAI `chat.completion` object answering `body`."""
    body = body if isinstance(body, dict) else {}
    digest = _digest(body, model)
    choices = _build_choices(body, model, digest)
    return {
        "id": f"chatcmpl-sim{digest[:24]}",
        "object": "chat.completion",
        "created": DEFAULT_CREATED if created is None else created,
        "model": model,
        "choices": [
            {"index": c.index, "message": _message(c), "logprobs": None, "finish_reason": c.finish_reason}
            for c in choices
        ],
        "usage": _usage(body, choices),
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _split_words(text: str) -> list[str]:
    pieces = _PIECE_RE.findall(text)
    return ["".join(pieces[i : i + _WORDS_PER_DELTA]) for i in range(0, len(pieces), _WORDS_PER_DELTA)]


def _choice_deltas(choice: _Choice) -> list[tuple[dict[str, Any], str | None]]:
    deltas: list[tuple[dict[str, Any], str | None]] = [
        ({"role": "assistant", "content": None if choice.tool_calls else ""}, None)
    ]
    deltas += [({"reasoning_content": piece}, None) for piece in _split_words(choice.reasoning or "")]
    deltas += [({"content": piece}, None) for piece in _split_words(choice.content or "")]
    for k, call in enumerate(choice.tool_calls):
        fn_head = {"name": call.name, "arguments": ""}
        head = {"index": k, "id": call.id, "type": "function", "function": fn_head}
        deltas.append(({"tool_calls": [head]}, None))
        args = call.arguments
        for i in range(0, len(args), _ARG_FRAGMENT_CHARS):
            frag = args[i : i + _ARG_FRAGMENT_CHARS]
            deltas.append(({"tool_calls": [{"index": k, "function": {"arguments": frag}}]}, None))
    deltas.append(({}, choice.finish_reason))
    return deltas


def synthesize_chunks(
    body: dict[str, Any], *, model: str, created: int | None = None
) -> list[dict[str, Any]]:
    """The same answer as `synthesize_completion`, as OpenAI `chat.completion.chunk` objects."""
    body = body if isinstance(body, dict) else {}
    digest = _digest(body, model)
    choices = _build_choices(body, model, digest)
    head = {
        "id": f"chatcmpl-sim{digest[:24]}",
        "object": "chat.completion.chunk",
        "created": DEFAULT_CREATED if created is None else created,
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    chunks: list[dict[str, Any]] = []
    for choice in choices:
        for delta, finish in _choice_deltas(choice):
            entry = {"index": choice.index, "delta": delta, "logprobs": None, "finish_reason": finish}
            chunks.append({**head, "choices": [entry]})
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        chunks.append({**head, "choices": [], "usage": _usage(body, choices)})
    return chunks
