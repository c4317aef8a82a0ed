"""Translation, classification, detection, OCR and Llama Guard moderation by a chat model.

`ChatTaskAdapter` turns the operation's request into a chat request (a documented prompt plus
structured output: ``response_format`` json_schema, strict) and runs it through the chat adapter of
the model's deployment (OpenAI wire, Anthropic, Gemini, Cloudflare's OpenAI-compatible /v1, ...),
so the call is billed in tokens at the chat model's price. The chat answer is parsed by that same
chat adapter, then its JSON becomes the operation's answer (chat_tasks_answers.py).

The prompts (docs/modalities.md repeats them):

* translations: system "You are a translation engine. Translate the user's text from {source_lang}
  to {target_lang}. Answer with JSON {"translation": "..."} only; keep formatting, translate
  nothing else." and the text as the user message.
* classifications: system "Classify each numbered text into exactly one of these labels: {labels}.
  Give every label a probability (scores of one text sum to 1)." and the numbered texts.
* detections: system "Detect the objects in the image. For each give a short lower-case label, a
  confidence in [0, 1] and its bounding box in pixels of the original image ({w}x{h} when known):
  x_min, y_min, x_max, y_max." and the image.
* ocr: system "Transcribe all text in the image exactly, as Markdown (tables as Markdown tables).
  Do not describe the image." and the image.
* moderations (Llama Guard): the input as the user turn of a conversation; Llama Guard's own
  template does the rest, and it answers ``safe`` or ``unsafe\\n<codes>`` (moderation.py maps them).

Requests carry ``operation="chat_task"`` and the task's input in ``context["chat_task"]``, which is
how the simulated transport answers a test key with the task's deterministic answer.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from aigateway.core.errors import InvalidRequest, ProviderError
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire import chat_tasks_answers as answers
from aigateway.providers.wire.base import (
    Adapter,
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)

CHAT_TASK_MAX_OUTPUT = 8192  # output tokens a chat model may spend on one task (reasoning included)
DEFAULT_LABELS = ("NEGATIVE", "POSITIVE")  # classification without labels: sentiment, as SST-2
_MAX_COMPLETION_VENDORS = frozenset({"openai", "azure"})


def image_mime(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:2] == b"\xff\xd8":
        return "image/jpeg"
    if data[:4] == b"GIF8":
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:5] == b"%PDF-":
        return "application/pdf"
    return "application/octet-stream"


def decode_b64(value: str, param: str = "image_b64") -> bytes:
    raw = value.partition(",")[2] if value.startswith("data:") else value
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"'{param}' is not valid base64.", param=param) from None


def image_data_url(body: dict[str, Any]) -> str:
    """The image as a chat model takes it: the client's URL, or a data: URL of the base64 bytes."""
    if isinstance(body.get("image_url"), str):
        return str(body["image_url"])
    data = decode_b64(str(body.get("image_b64") or ""))
    return f"data:{image_mime(data)};base64,{base64.b64encode(data).decode()}"


def labels_of(body: dict[str, Any]) -> list[str]:
    labels = body.get("labels")
    return [str(x) for x in labels] if isinstance(labels, list) and labels else list(DEFAULT_LABELS)


def inputs_of(body: dict[str, Any]) -> list[str]:
    value = body.get("input")
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


# -- the tasks -------------------------------------------------------------------------------------
def _translation_prompt(body: dict[str, Any], size: tuple[int, int] | None) -> list[dict[str, Any]]:
    system = (
        f"You are a translation engine. Translate the user's text from {body['source_lang']} to "
        f'{body["target_lang"]}. Answer with JSON {{"translation": "..."}} only; keep formatting, '
        "translate nothing else."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": body["text"]}]


def _classification_prompt(body: dict[str, Any], size: tuple[int, int] | None) -> list[dict[str, Any]]:
    labels = labels_of(body)
    system = (
        f"Classify each numbered text into exactly one of these labels: {orjson.dumps(labels).decode()}. "
        "Give every label a probability (scores of one text sum to 1). Answer with JSON "
        '{"results": [{"index": <text number>, "labels": [{"label": ..., "score": ...}]}]} only.'
    )
    texts = "\n".join(f"{i}: {t}" for i, t in enumerate(inputs_of(body)))
    return [{"role": "system", "content": system}, {"role": "user", "content": texts}]


def _image_message(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [
            {"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": image_data_url(body)}},
        ],
    }


def _detection_prompt(body: dict[str, Any], size: tuple[int, int] | None) -> list[dict[str, Any]]:
    known = f" ({size[0]}x{size[1]})" if size else ""
    system = (
        "Detect the objects in the image. For each give a short lower-case label, a confidence in "
        f"[0, 1] and its bounding box in pixels of the original image{known}: x_min, y_min, x_max, "
        'y_max. Answer with JSON {"objects": [...]} only.'
    )
    return [{"role": "system", "content": system}, _image_message(body, "Detect the objects.")]


def _ocr_prompt(body: dict[str, Any], size: tuple[int, int] | None) -> list[dict[str, Any]]:
    system = (
        "Transcribe all text in the image exactly, as Markdown (tables as Markdown tables). Do not "
        'describe the image. Answer with JSON {"markdown": "..."} only.'
    )
    return [{"role": "system", "content": system}, _image_message(body, "Transcribe the text.")]


def _moderation_prompt(body: dict[str, Any], size: tuple[int, int] | None) -> list[dict[str, Any]]:
    value = body.get("input")
    if isinstance(value, list) and value and isinstance(value[0], str):
        value = value[0]
    return [{"role": "user", "content": value}]


def _obj(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_NUM = {"type": "number"}
_SCHEMAS: dict[str, dict[str, Any] | None] = {
    "text_translations": _obj({"translation": {"type": "string"}}),
    "classifications": _obj(
        {
            "results": {
                "type": "array",
                "items": _obj(
                    {
                        "index": {"type": "integer"},
                        "labels": {
                            "type": "array",
                            "items": _obj({"label": {"type": "string"}, "score": _NUM}),
                        },
                    }
                ),
            }
        }
    ),
    "detections": _obj(
        {
            "objects": {
                "type": "array",
                "items": _obj(
                    {
                        "label": {"type": "string"},
                        "score": _NUM,
                        "box": _obj({"x_min": _NUM, "y_min": _NUM, "x_max": _NUM, "y_max": _NUM}),
                    }
                ),
            }
        }
    ),
    "ocr": _obj({"markdown": {"type": "string"}}),
    "moderations": None,  # Llama Guard answers in its own plain-text format
}
_PROMPTS: dict[str, Callable[[dict[str, Any], tuple[int, int] | None], list[dict[str, Any]]]] = {
    "text_translations": _translation_prompt,
    "classifications": _classification_prompt,
    "detections": _detection_prompt,
    "ocr": _ocr_prompt,
    "moderations": _moderation_prompt,
}


def image_size_of(body: dict[str, Any]) -> tuple[int, int] | None:
    if isinstance(body.get("image_b64"), str):
        return answers.image_size(decode_b64(body["image_b64"]))
    url = body.get("image_url")
    if isinstance(url, str) and url.startswith("data:"):
        return answers.image_size(decode_b64(url, "image_url"))
    return None


def _unfenced(content: str) -> str:
    """The JSON of an answer, without the Markdown code fence some models wrap it in."""
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text


def build_answer(task: str, content: str, body: dict[str, Any], model: str, usage: Usage | None) -> bytes:
    """The operation's answer from the chat model's JSON content."""
    doc = orjson.loads(_unfenced(content))
    if not isinstance(doc, dict):
        raise ValueError("the chat model's answer is not a JSON object")
    if task == "text_translations":
        return answers.translation(body, model, str(doc["translation"]), usage)
    if task == "classifications":
        allowed = labels_of(body)
        per_input: list[list[tuple[str, float]]] = [[] for _ in inputs_of(body)]
        for item in doc.get("results") or []:
            index = int(item.get("index", -1))
            if 0 <= index < len(per_input):
                per_input[index] = [
                    (str(p["label"]), float(p["score"]))
                    for p in item.get("labels") or []
                    if p.get("label") in allowed
                ]
        for pairs in per_input:  # every label gets a score, 0 where the model gave none
            pairs.extend((label, 0.0) for label in allowed if label not in {p[0] for p in pairs})
        return answers.classification(model, per_input, usage)
    if task == "detections":
        size = image_size_of(body)
        width, height = (float(size[0]), float(size[1])) if size else (float("inf"), float("inf"))

        def clamp(value: Any, limit: float) -> float:  # boxes inside the image, whatever the model said
            return min(max(float(value), 0.0), limit)

        objects = []
        for o in doc.get("objects") or []:
            b = o["box"]
            box = answers.box(
                clamp(b["x_min"], width),
                clamp(b["y_min"], height),
                clamp(b["x_max"], width),
                clamp(b["y_max"], height),
            )
            objects.append({"label": str(o["label"]), "score": float(o["score"]), "box": box})
        return answers.detection(model, objects, usage, size)
    markdown = str(doc["markdown"])
    return answers.ocr(model, [(0, markdown, markdown)], usage)


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    """What the chat adapter read: the first choice's text, the usage, the upstream model."""

    content: str
    usage: Usage | None
    model: str


class ChatTaskAdapter:
    """One operation served by a chat model, through the chat adapter of its deployment's wire."""

    name = "chat_task"
    max_output = CHAT_TASK_MAX_OUTPUT

    def __init__(self, task: str, chat_adapters: Mapping[str, Adapter]) -> None:
        self.task = task
        self.chat_adapters = chat_adapters

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        chat_vendor = vendor.for_operation("chat")
        chat = self.chat_adapters.get(chat_vendor.wire)
        if chat is None:
            raise ProviderError(
                f"Provider '{vendor.name}' has no chat adapter for {self.task} by a chat model."
            )
        limit = min(self.max_output, target.max_output_tokens or self.max_output)
        chat_body: dict[str, Any] = {
            "model": target.upstream_model,
            "messages": _PROMPTS[self.task](body, image_size_of(body) if self.task == "detections" else None),
        }
        chat_body["max_completion_tokens" if vendor.name in _MAX_COMPLETION_VENDORS else "max_tokens"] = limit
        schema = _SCHEMAS[self.task]
        if schema is not None:
            chat_body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": f"{self.task}_result", "strict": True, "schema": schema},
            }
        request = chat.build_request(chat_body, target, chat_vendor, credential)
        request.operation = "chat_task"
        request.context["chat_task"] = {
            "task": self.task,
            "body": body,
            "wire": chat_vendor.wire,
            "model": target.upstream_model,
        }
        return request

    def completion(self, raw: bytes, request: UpstreamRequest) -> ChatCompletion:
        chat = self.chat_adapters[request.context["chat_task"]["wire"]]
        translated = chat.parse_response(raw, request)
        doc = orjson.loads(translated.body)
        message = doc["choices"][0]["message"]
        content = message.get("content")
        if not isinstance(content, str) or not content:
            refusal = message.get("refusal")
            raise ProviderError(f"The chat model gave no answer{f': {refusal}' if refusal else ''}.")
        usage = translated.usage
        if usage is None and isinstance(doc.get("usage"), dict):
            from aigateway.providers.wire.openai import usage_from

            usage = usage_from(doc["usage"])
        return ChatCompletion(content, usage, str(doc.get("model") or ""))

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        done = self.completion(raw, request)
        body = request.context["chat_task"]["body"]
        model = done.model or request.context["chat_task"]["model"]
        return TranslatedResponse(build_answer(self.task, done.content, body, model, done.usage), done.usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type", "status"))


def is_chat_model(target: Target) -> bool:
    """A catalog chat (text) model: parse_entry gives every one the ``chat`` capability."""
    return "chat" in target.capabilities


class TaskRouter:
    """The adapter of one (wire, operation): a chat model goes to `ChatTaskAdapter`, a dedicated
    model to its vendor's own API (``by_vendor``, else ``native``).

    ``use_chat`` decides which models are served as chat models (Llama Guard is one, though the
    catalog lists it as a moderation model).
    """

    name = "task"

    def __init__(
        self,
        chat: ChatTaskAdapter,
        native: Adapter | None = None,
        by_vendor: Mapping[str, Adapter] | None = None,
        use_chat: Callable[[Target], bool] = is_chat_model,
    ) -> None:
        self.routes: dict[str, Adapter] = {"chat": chat, **(by_vendor or {})}
        if native is not None:
            self.routes["native"] = native
        self.use_chat = use_chat
        self.task = chat.task

    def pick(self, target: Target, vendor: VendorProfile) -> str:
        if self.use_chat(target):
            return "chat"
        if vendor.name in self.routes:
            return vendor.name
        if "native" in self.routes:
            return "native"
        raise ProviderError(
            f"Provider '{vendor.name}' serves {self.task} only by chat models; "
            f"'{target.upstream_model}' is not one."
        )

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        route = self.pick(target, vendor)
        request = self.routes[route].build_request(body, target, vendor, credential)
        request.context["task_route"] = route
        return request

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        return self.routes[request.context["task_route"]].parse_response(raw, request)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return cloudflare_or_json_error(status, raw)


def cloudflare_or_json_error(status: int, raw: bytes) -> UpstreamFailure:
    """Cloudflare's ``{"errors": [{"code", "message"}]}`` envelope, else the common JSON error shapes."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        doc = None
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        message = str(errors[0].get("message") or f"upstream answered HTTP {status}")
        return UpstreamFailure(message, str(code) if code else None)
    return error_from_json(status, raw, ("code", "type", "status"))
