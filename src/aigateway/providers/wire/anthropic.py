"""The Anthropic Messages API wire format (``POST {base}/messages``): pure translation, no I/O.

Headers: the vendor's key as ``x-api-key``, ``anthropic-version: 2023-06-01`` (unless the vendor
profile sets its own) and ``Content-Type: application/json``. No ``anthropic-beta`` header is needed
for anything mapped here (prompt caching, URL images, PDFs, structured outputs and thinking are all
generally available); an operator can add one with ``[providers.anthropic] headers``.

Request mapping (OpenAI chat body -> Anthropic), with the decisions the docs state:

* ``system`` and ``developer`` messages, wherever they stand, are lifted in order into ``system``:
  a string, or text blocks when a client put ``cache_control`` on a part (kept as given).
* user content: text parts, ``image_url`` (``data:`` URLs -> base64 source with the media type; only
  JPEG, PNG, GIF and WebP; http(s) URLs -> url source; ``detail`` dropped), ``file`` parts carrying a
  PDF as a ``data:`` URL -> a document block. ``cache_control`` on any part is kept. Audio parts and
  OpenAI file ids: 400.
* assistant ``tool_calls`` -> ``tool_use`` blocks (``input`` = the parsed arguments, which must be a
  JSON object: 400 otherwise); ``tool`` messages -> ``tool_result`` blocks. Consecutive same-role turns
  are merged (tool results and a following user message become one user turn, results first, as
  Anthropic requires); whitespace-only assistant text is skipped; a final assistant message (prefill)
  loses its trailing whitespace, which Anthropic rejects.
* ``max_tokens`` is always sent: ``max_completion_tokens`` or ``max_tokens``, else
  ``min(model's max_output_tokens or 8192, 64000)``.
* ``stop`` -> ``stop_sequences`` without whitespace-only sequences (Anthropic rejects them);
  ``temperature`` clamped to Anthropic's 0..1; ``top_p`` sent only without ``temperature`` (recent
  models reject both); ``user`` (or ``safety_identifier``) -> ``metadata.user_id``.
* tools -> ``{name, description, input_schema}`` (``strict: true`` kept); ``tool_choice`` auto / none /
  required (-> any) / a named function (-> tool); ``parallel_tool_calls: false`` ->
  ``disable_parallel_tool_use``.
* ``response_format`` json_schema: native ``output_config.format`` when the model has the
  ``json_schema`` capability, else a tool named after the schema whose ``tool_use`` input becomes the
  message ``content`` (forced; ``any`` when the client's own tools are also offered). ``json_object``
  always uses such a tool (``json_object``, any object) - more reliable than an instruction.
  A non-object schema is wrapped as ``{"value": ...}`` for the tool and unwrapped in the answer.
* ``reasoning_effort`` -> ``thinking: {"type": "enabled", "budget_tokens": B}`` with B = 1024
  (minimal, low), 4096 (medium), 16384 (high), 32768 (xhigh); ``none`` -> no thinking. ``max_tokens``
  counts thinking (as OpenAI's ``max_completion_tokens`` counts reasoning); when it is not above B it
  is raised to B + that value (capped at the model's limit). Models with the ``adaptive_thinking``
  capability (Claude Opus 4.7 and later reject budgets) get ``{"type": "adaptive", "display":
  "summarized"}`` (they omit the thinking text by default) and ``output_config.effort`` instead.
  With thinking, ``temperature`` and ``top_p`` are dropped (Anthropic rejects them), as they are
  for models with the ``no_sampling`` capability (models after Claude Opus 4.6 accept no sampling
  changes; API version 2026-10-21 removed the parameters for all models). Thinking is left out of a
  request that continues a tool call (the last assistant turn has ``tool_use``): the gateway cannot
  send back the signed thinking blocks Anthropic then requires. Otherwise thinking with a forced tool
  (tool_choice required / named, or JSON via a tool) is refused with a 400: Anthropic cannot do both.
* ``n`` > 1 -> 400. Dropped (no Anthropic equivalent; Anthropic rejects unknown fields):
  ``frequency_penalty``, ``presence_penalty``, ``seed``, ``logprobs``, ``top_logprobs``,
  ``logit_bias``, ``metadata``, ``store``, ``service_tier``, ``modalities``, ``audio``, ``prediction``,
  ``web_search_options``, ``verbosity``, ``prompt_cache_key``, ``stream_options`` and any other field
  not named above. The names dropped are listed in ``UpstreamRequest.context["dropped"]``.

Answers (non-stream and stream) are translated in ``anthropic_stream.py``.
"""

from __future__ import annotations

from typing import Any

import orjson

from aigateway.core.errors import InvalidRequest
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.anthropic_stream import AnthropicStreamTranslator, translate_message
from aigateway.providers.wire.base import (
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.openai import auth_headers

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 8192
DEFAULT_MAX_TOKENS_CAP = 64000
THINKING_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384, "xhigh": 32768}
ADAPTIVE_EFFORTS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh"}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
JSON_OBJECT_TOOL = "json_object"
JSON_TOOL_DESCRIPTION = "Give your final answer by calling this tool; its input is the answer."
# Fields of the OpenAI request this adapter translates; every other field is dropped.
MAPPED_FIELDS = frozenset(
    {"model", "messages", "stream", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop"}
    | {"user", "safety_identifier", "tools", "tool_choice", "parallel_tool_calls", "response_format"}
    | {"reasoning_effort", "n"}
)

Block = dict[str, Any]


# -- messages ----------------------------------------------------------------------------------
def _with_cache(block: Block, part: dict[str, Any]) -> Block:
    if isinstance(part.get("cache_control"), dict):
        block["cache_control"] = part["cache_control"]
    return block


def _text_blocks(content: Any, where: str) -> list[Block]:
    """Text blocks of a system / developer message (string or text parts)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[Block] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, dict) or part.get("type") != "text":
            raise InvalidRequest(f"Only text parts can be sent as Anthropic system content ({where}).")
        blocks.append(_with_cache({"type": "text", "text": part.get("text", "")}, part))
    return blocks


def _image(part: dict[str, Any], where: str) -> Block:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise InvalidRequest(f"An image_url part needs image_url.url ({where}).", param=where)
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[5:].split(";", 1)[0].lower()
        if ";base64" not in header.lower() or media_type not in IMAGE_TYPES:
            raise InvalidRequest(
                f"Anthropic takes base64 data: URLs of JPEG, PNG, GIF or WebP images ({where}).", param=where
            )
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequest(f"An image URL must be http(s) or a data: URL ({where}).", param=where)


def _document(part: dict[str, Any], where: str) -> Block:
    file = part.get("file")
    data = file.get("file_data") if isinstance(file, dict) else None
    prefix = "data:application/pdf;base64,"
    if not isinstance(data, str) or not data.startswith(prefix):
        raise InvalidRequest(
            f"Anthropic takes file parts only as PDF data: URLs in file.file_data ({where}).", param=where
        )
    source = {"type": "base64", "media_type": "application/pdf", "data": data[len(prefix) :]}
    return {"type": "document", "source": source}


def _content_blocks(content: Any, where: str) -> list[Block]:
    """Blocks of user / tool content (a string, or text, image and file parts)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[Block] = []
    for i, part in enumerate(content if isinstance(content, list) else []):
        at = f"{where}.content[{i}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            blocks.append(_with_cache({"type": "text", "text": part.get("text", "")}, part))
        elif kind == "image_url":
            blocks.append(_with_cache(_image(part, at), part))
        elif kind == "file":
            blocks.append(_with_cache(_document(part, at), part))
        else:
            raise InvalidRequest(f"Content part type '{kind}' cannot be sent to Anthropic ({at}).", param=at)
    return blocks


def _assistant_blocks(msg: dict[str, Any], where: str) -> list[Block]:
    blocks: list[Block] = []
    content = msg.get("content")
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, dict) and part.get("type") in ("text", "refusal"):
            text = part.get("text") if part.get("type") == "text" else part.get("refusal")
            if isinstance(text, str) and text.strip():
                blocks.append(_with_cache({"type": "text", "text": text}, part))
    for k, call in enumerate(msg.get("tool_calls") or []):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict):
            raise InvalidRequest(f"{where}.tool_calls[{k}] needs a function.", param=where)
        raw = fn.get("arguments") or "{}"
        try:
            arguments = orjson.loads(raw)
        except orjson.JSONDecodeError:
            arguments = None
        if not isinstance(arguments, dict):
            raise InvalidRequest(
                f"{where}.tool_calls[{k}].function.arguments must be a JSON object for Anthropic.",
                param=f"{where}.tool_calls",
            )
        blocks.append({"type": "tool_use", "id": call.get("id"), "name": fn.get("name"), "input": arguments})
    return blocks


def convert_messages(messages: list[Any]) -> tuple[list[Block], list[dict[str, Any]]]:
    """OpenAI messages -> (system blocks, Anthropic turns with same-role turns merged)."""
    system: list[Block] = []
    turns: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        role = msg.get("role") if isinstance(msg, dict) else None
        if role in ("system", "developer"):
            system.extend(_text_blocks(msg.get("content"), where))
            continue
        if role == "user":
            blocks = _content_blocks(msg.get("content"), where)
        elif role == "assistant":
            blocks = _assistant_blocks(msg, where)
        elif role == "tool":
            result: Block = {"type": "tool_result", "tool_use_id": msg.get("tool_call_id")}
            content = msg.get("content")
            result["content"] = content if isinstance(content, str) else _content_blocks(content, where)
            blocks, role = [result], "user"
        else:
            raise InvalidRequest(
                f"A '{role}' message cannot be sent to Anthropic; send tool results as 'tool' messages.",
                param=f"{where}.role",
            )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if turns and turns[-1]["role"] == "assistant":  # prefill: no trailing whitespace allowed
        last = turns[-1]["content"][-1]
        if last.get("type") == "text":
            last["text"] = last["text"].rstrip()
    for turn in turns:
        if turn["role"] == "user":  # tool results must open the turn
            turn["content"].sort(key=lambda b: b.get("type") != "tool_result")
        blocks = turn["content"]
        if len(blocks) == 1 and blocks[0].get("type") == "text" and set(blocks[0]) == {"type", "text"}:
            turn["content"] = blocks[0]["text"]
    return system, turns


# -- tools and output format ---------------------------------------------------------------------
def _tools(tools: Any) -> list[Block]:
    out: list[Block] = []
    for i, tool in enumerate(tools if isinstance(tools, list) else []):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type", "function") != "function" or not isinstance(fn, dict):
            raise InvalidRequest(f"Only function tools can be sent to Anthropic (tools[{i}]).", param="tools")
        schema = fn.get("parameters")
        schema = dict(schema) if isinstance(schema, dict) else {"type": "object", "properties": {}}
        schema.setdefault("type", "object")
        entry: Block = {"name": fn.get("name"), "input_schema": schema}
        if isinstance(fn.get("description"), str):
            entry["description"] = fn["description"]
        if fn.get("strict") is True:
            entry["strict"] = True
        out.append(entry)
    return out


def _tool_choice(choice: Any, parallel: Any, has_tools: bool) -> Block | None:
    if not has_tools:
        return None
    mapped: Block | None
    if choice is None or choice == "auto":
        mapped = {"type": "auto"} if choice == "auto" or parallel is False else None
    elif choice == "none":
        return {"type": "none"}
    elif choice == "required":
        mapped = {"type": "any"}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        mapped = {"type": "tool", "name": choice["function"].get("name")}
    else:
        raise InvalidRequest("This tool_choice cannot be sent to Anthropic.", param="tool_choice")
    if mapped is not None and parallel is False:
        mapped["disable_parallel_tool_use"] = True
    return mapped


def _add_json_tool(
    name: str, schema: dict[str, Any], tools: list[Block], choice: Block | None, context: dict[str, Any]
) -> Block:
    """Offer the JSON answer as a tool and force it (or any tool when the client's tools are offered)."""
    wrapped = schema.get("type") != "object"
    input_schema = {"type": "object", "properties": {"value": schema}, "required": ["value"]}
    had_tools = bool(tools)
    tool = {"name": name, "description": JSON_TOOL_DESCRIPTION, "input_schema": schema}
    if wrapped:
        tool["input_schema"] = input_schema
    tools.append(tool)
    context["json_tool"] = name
    context["json_wrapped"] = wrapped
    if had_tools and choice is not None and choice.get("type") == "tool":
        return choice  # the client forced one of its own functions
    if had_tools and (choice is None or choice.get("type") in ("auto", "any")):
        forced: Block = {"type": "any"}
    else:
        forced = {"type": "tool", "name": name}
    if choice is not None and choice.get("disable_parallel_tool_use"):
        forced["disable_parallel_tool_use"] = True
    return forced


def _forces_tool(choice: Block | None) -> bool:
    return choice is not None and choice.get("type") in ("any", "tool")


def _continues_tool_call(turns: list[dict[str, Any]]) -> bool:
    """Whether the last assistant turn called a tool (its signed thinking would be required)."""
    for turn in reversed(turns):
        if turn["role"] == "assistant":
            content = turn["content"]
            return isinstance(content, list) and any(b.get("type") == "tool_use" for b in content)
    return False


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# -- the adapter ------------------------------------------------------------------------------------
class AnthropicWire:
    name = "anthropic"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        n = body.get("n")
        if n is not None and n != 1:
            raise InvalidRequest("Anthropic models give one choice per request: 'n' must be 1.", param="n")
        stream = body.get("stream") is True
        context: dict[str, Any] = {
            "json_tool": None,
            "json_wrapped": False,
            "dropped": sorted(k for k in body if k not in MAPPED_FIELDS),
        }
        system, messages = convert_messages(body.get("messages") or [])
        tools = _tools(body.get("tools")) if body.get("tools") else []
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"), bool(tools))
        output_config: dict[str, Any] = {}

        fmt = body.get("response_format")
        fmt_type = fmt.get("type") if isinstance(fmt, dict) else None
        if fmt_type == "json_schema":
            spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
            spec = spec if isinstance(spec, dict) else {}
            given = spec.get("schema")
            schema = given if isinstance(given, dict) else {"type": "object"}
            if "json_schema" in target.capabilities:
                output_config["format"] = {"type": "json_schema", "schema": schema}
            else:
                choice = _add_json_tool(str(spec.get("name") or "response"), schema, tools, choice, context)
        elif fmt_type == "json_object":
            schema = {"type": "object", "additionalProperties": True}
            choice = _add_json_tool(JSON_OBJECT_TOOL, schema, tools, choice, context)

        max_tokens = _positive_int(body.get("max_completion_tokens")) or _positive_int(body.get("max_tokens"))
        if max_tokens is None:
            max_tokens = min(target.max_output_tokens or DEFAULT_MAX_TOKENS, DEFAULT_MAX_TOKENS_CAP)
        thinking: dict[str, Any] | None = None
        effort = body.get("reasoning_effort")
        if effort is not None and effort != "none":
            if effort not in THINKING_BUDGETS:
                raise InvalidRequest(
                    f"reasoning_effort '{effort}' is not one of {', '.join(['none', *THINKING_BUDGETS])}.",
                    param="reasoning_effort",
                )
            if _continues_tool_call(messages):
                context["thinking_omitted"] = "the conversation continues a tool call"
            elif _forces_tool(choice):
                raise InvalidRequest(
                    "Anthropic cannot think while a tool call is forced (tool_choice 'required' or a named "
                    "function, or a JSON answer given through a tool): drop reasoning_effort or the forcing.",
                    param="reasoning_effort",
                )
            elif "adaptive_thinking" in target.capabilities:
                thinking = {"type": "adaptive", "display": "summarized"}
                output_config["effort"] = ADAPTIVE_EFFORTS[effort]
            else:
                budget = THINKING_BUDGETS[effort]
                if max_tokens <= budget:
                    max_tokens += budget
                    if target.max_output_tokens:
                        max_tokens = min(max_tokens, target.max_output_tokens)
                    budget = min(budget, max_tokens - 1)
                thinking = {"type": "enabled", "budget_tokens": budget}
                context["thinking_budget"] = budget

        out: dict[str, Any] = {"model": target.upstream_model, "max_tokens": max_tokens}
        context["max_output_tokens"] = max_tokens  # what the call may now produce, for the wallet
        if system:
            plain = all(set(b) == {"type", "text"} for b in system)
            out["system"] = "\n\n".join(b["text"] for b in system) if plain else system
        out["messages"] = messages
        stop = body.get("stop")
        sequences = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
        sequences = [s for s in sequences if isinstance(s, str) and s.strip()]
        if sequences:
            out["stop_sequences"] = sequences
        temperature, top_p = body.get("temperature"), body.get("top_p")
        if thinking is not None or "no_sampling" in target.capabilities:
            context["dropped"] += [k for k in ("temperature", "top_p") if body.get(k) is not None]
        elif isinstance(temperature, int | float) and not isinstance(temperature, bool):
            out["temperature"] = min(max(float(temperature), 0.0), 1.0)
            if top_p is not None:
                context["dropped"].append("top_p")
        elif isinstance(top_p, int | float) and not isinstance(top_p, bool):
            out["top_p"] = top_p
        user = body.get("user") or body.get("safety_identifier")
        if isinstance(user, str) and user:
            out["metadata"] = {"user_id": user}
        if tools:
            out["tools"] = tools
        if choice is not None:
            out["tool_choice"] = choice
        if thinking is not None:
            out["thinking"] = thinking
        if output_config:
            out["output_config"] = output_config
        if stream:
            out["stream"] = True

        headers = auth_headers(vendor, credential)
        if not any(k.lower() == "anthropic-version" for k in headers):
            headers["anthropic-version"] = ANTHROPIC_VERSION
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/messages",
            headers=headers,
            body=orjson.dumps(out),
            stream=stream,
            context=context,
            wire="anthropic",
            operation="chat",
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        return translate_message(raw, request.context)

    def stream_translator(self, request: UpstreamRequest, include_usage: bool) -> AnthropicStreamTranslator:
        return AnthropicStreamTranslator(
            include_usage,
            json_tool=request.context.get("json_tool"),
            json_wrapped=bool(request.context.get("json_wrapped")),
        )

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        """Anthropic's ``{"type": "error", "error": {"type", "message"}}`` (the code is its type)."""
        return error_from_json(status, raw, ("type",))
