"""Deterministic answers for moderation, translation, classification, detection and OCR.

Pure functions shared by the simulator server (ml_wire.py) and the in-process SimulatedTransport:
the same request always gets the same answer, and every answer is plausible for its task:

* moderation: categories flagged from a keyword list (``kill`` -> violence, ...), scores 0.9 for a
  flagged category and a small hash-derived value otherwise; Llama Guard answers ``safe`` or
  ``unsafe\\nS1,S10`` from the same list.
* translation: a deterministic transformation of the text (each word reversed, tagged with the
  target language), so a test can tell the answer came from the translator.
* classification: scores from positive and negative word lists (zero-shot labels score by how many
  of their letters' words appear), normalised to sum to 1.
* detection: boxes inside the image's real dimensions, read from its PNG, JPEG, GIF or WebP header.
* OCR: text derived from the image's SHA-256, the same image always reading the same.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from aigateway.providers.wire.base import UpstreamRequest
from aigateway.providers.wire.chat_tasks_answers import image_size
from aigateway.simulators.answers import Answer, cloudflare_error

OPENAI_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# Words that flag a category (lower case, whole words).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "violence": ("kill", "murder", "attack", "shoot", "stab"),
    "harassment": ("idiot", "stupid", "loser"),
    "harassment/threatening": ("kill", "hurt"),
    "hate": ("hate",),
    "illicit": ("steal", "drugs", "hack"),
    "illicit/violent": ("bomb", "weapon"),
    "self-harm": ("suicide", "self-harm"),
    "sexual": ("sex", "nude"),
}
MISTRAL_CATEGORIES = (
    "sexual",
    "hate_and_discrimination",
    "violence_and_threats",
    "dangerous_and_criminal_content",
    "selfharm",
    "health",
    "financial",
    "law",
    "pii",
)
_MISTRAL_FROM_OPENAI = {
    "sexual": "sexual",
    "hate": "hate_and_discrimination",
    "harassment": "hate_and_discrimination",
    "violence": "violence_and_threats",
    "harassment/threatening": "violence_and_threats",
    "illicit": "dangerous_and_criminal_content",
    "illicit/violent": "dangerous_and_criminal_content",
    "self-harm": "selfharm",
}
_GUARD_FROM_OPENAI = {
    "violence": "S1",
    "illicit": "S2",
    "sexual": "S12",
    "harassment": "S5",
    "hate": "S10",
    "self-harm": "S11",
    "illicit/violent": "S9",
}
POSITIVE_WORDS = frozenset(
    ["good", "great", "love", "excellent", "happy", "wonderful", "best", "nice", "amazing", "like"]
)
NEGATIVE_WORDS = frozenset(
    ["bad", "terrible", "hate", "awful", "sad", "worst", "poor", "boring", "horrible", "dislike"]
)
DETECTION_LABELS = ("person", "cat", "dog", "car", "bicycle", "chair", "bottle", "cup")
R = TypeVar("R")
_WORD = re.compile(r"[\w'-]+", re.UNICODE)


def _unit(*parts: str) -> float:
    """A deterministic number in [0, 1) from the parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).digest()
    return int.from_bytes(digest[:6], "big") / float(1 << 48)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def flagged_categories(text: str) -> set[str]:
    found = set(words(text))
    return {cat for cat, keys in KEYWORDS.items() if found.intersection(keys)}


def moderation_result(text: str) -> dict[str, Any]:
    """One OpenAI moderation result for a text."""
    flagged = flagged_categories(text)
    scores = {
        cat: round(0.9 + _unit(text, cat) * 0.09, 6) if cat in flagged else round(_unit(text, cat) * 0.01, 6)
        for cat in OPENAI_CATEGORIES
    }
    return {
        "flagged": bool(flagged),
        "categories": {cat: cat in flagged for cat in OPENAI_CATEGORIES},
        "category_scores": scores,
        "category_applied_input_types": {cat: ["text"] for cat in OPENAI_CATEGORIES},
    }


def input_texts(value: Any) -> list[str]:
    """The texts of a moderation ``input``: a string, strings, or content parts (images skipped)."""
    if isinstance(value, str):
        return [value]
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and item.get("type") == "text":
                out.append(str(item.get("text", "")))
    return out


def openai_moderation(body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    raw = body.get("input")
    texts = input_texts(raw)
    if isinstance(raw, list) and raw and all(isinstance(i, dict) for i in raw):
        texts = [" ".join(texts)]  # multi-modal parts are one input
    model = str(body.get("model") or "omni-moderation-latest")
    ident = "modr-" + hashlib.sha256(repr(texts).encode()).hexdigest()[:24]
    return {"id": ident, "model": model, "results": [moderation_result(t) for t in texts or [""]]}


def mistral_moderation(body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    texts = input_texts(body.get("input"))
    results = []
    for text in texts or [""]:
        flagged = {_MISTRAL_FROM_OPENAI[c] for c in flagged_categories(text) if c in _MISTRAL_FROM_OPENAI}
        results.append(
            {
                "categories": {c: c in flagged for c in MISTRAL_CATEGORIES},
                "category_scores": {
                    c: round(0.95, 6) if c in flagged else round(_unit(text, c) * 0.01, 6)
                    for c in MISTRAL_CATEGORIES
                },
            }
        )
    tokens = sum(max(1, len(t) // 4) for t in texts)
    return {
        "id": "mod-" + hashlib.sha256(repr(texts).encode()).hexdigest()[:24],
        "model": str(body.get("model") or "mistral-moderation-latest"),
        "results": results,
        "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens},
    }


def llama_guard_answer(text: str) -> str:
    """What Llama Guard answers for a conversation's text: ``safe`` or ``unsafe\\nS1,S10``."""
    codes = sorted({_GUARD_FROM_OPENAI[c] for c in flagged_categories(text) if c in _GUARD_FROM_OPENAI})
    return "unsafe\n" + ",".join(codes) if codes else "safe"


# -- translation and classification ---------------------------------------------------------------
def translate(text: str, source_lang: str, target_lang: str) -> str:
    """The simulated translation: each word reversed, marked with the target language."""
    turned = _WORD.sub(lambda m: m.group(0)[::-1], text)
    return f"[{target_lang}] {turned}"


def classify(text: str, labels: list[str] | None = None) -> list[tuple[str, float]]:
    """(label, score) pairs, highest first, scores summing to 1."""
    found = words(text)
    if not labels:
        pos = sum(w in POSITIVE_WORDS for w in found)
        neg = sum(w in NEGATIVE_WORDS for w in found)
        p = (pos + 0.5 + _unit(text) * 0.1) / (pos + neg + 1.0 + _unit(text) * 0.1)
        pairs = [("POSITIVE", p), ("NEGATIVE", 1.0 - p)]
    else:
        weights = []
        for label in labels:
            hits = sum(w in words(label) for w in found)
            weights.append(hits * 2.0 + 0.2 + _unit(text, label) * 0.5)
        total = sum(weights)
        pairs = [(label, w / total) for label, w in zip(labels, weights, strict=True)]
    return sorted(((label, round(score, 6)) for label, score in pairs), key=lambda p: (-p[1], p[0]))


# -- images -----------------------------------------------------------------------------------------
def image_bytes(image_url: str | None, image_b64: str | None) -> bytes | None:
    """The bytes of an inline image (base64, or a ``data:`` URL); None for a remote URL."""
    raw = image_b64
    if raw is None and image_url and image_url.startswith("data:"):
        raw = image_url.partition(",")[2]
    if raw is None:
        return None
    try:
        return base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError):
        return None


def image_key(data: bytes | None, image_url: str | None) -> str:
    """What an image's simulated answers derive from: its bytes' hash, else its URL."""
    return hashlib.sha256(data).hexdigest() if data is not None else (image_url or "")


def detect(data: bytes | None, image_url: str | None = None) -> tuple[int, int, list[dict[str, Any]]]:
    """(width, height, objects): 1-3 boxes in pixels inside the image, highest score first."""
    size = image_size(data) if data is not None else None
    width, height = size or (640, 480)
    key = image_key(data, image_url)
    objects = []
    for i in range(1 + int(_unit(key, "count") * 3)):
        x0 = int(_unit(key, str(i), "x") * width * 0.6)
        y0 = int(_unit(key, str(i), "y") * height * 0.6)
        x1 = min(width, x0 + max(1, int(width * (0.2 + _unit(key, str(i), "w") * 0.35))))
        y1 = min(height, y0 + max(1, int(height * (0.2 + _unit(key, str(i), "h") * 0.35))))
        label = DETECTION_LABELS[int(_unit(key, str(i), "label") * len(DETECTION_LABELS))]
        score = round(0.99 - i * 0.17 - _unit(key, str(i), "s") * 0.05, 6)
        objects.append({"label": label, "score": score, "box": [x0, y0, x1, y1]})
    return width, height, objects


_OCR_WORDS = [
    "invoice",
    "total",
    "amount",
    "date",
    "order",
    "item",
    "quantity",
    "price",
    "paid",
    "receipt",
    "number",
    "customer",
]


def ocr_text(data: bytes | None, image_url: str | None = None, page: int = 0) -> str:
    """A short deterministic text for an image (or one page of a document)."""
    key = image_key(data, image_url)
    count = 3 + int(_unit(key, str(page), "n") * 5)
    picked = [_OCR_WORDS[int(_unit(key, str(page), str(i)) * len(_OCR_WORDS))] for i in range(count)]
    number = int(_unit(key, str(page), "num") * 100000)
    return " ".join(picked).capitalize() + f" {number:05d}"


# -- answers in each upstream's wire format ------------------------------------------------------------
def _ok(payload: dict[str, Any] | list[Any]) -> Answer:
    return Answer(200, payload)  # type: ignore[arg-type]


def _cloudflare(result: Any) -> Answer:
    return Answer(200, {"result": result, "success": True, "errors": [], "messages": []})


def hf_box(box: list[int]) -> dict[str, int]:
    return {"xmin": box[0], "ymin": box[1], "xmax": box[2], "ymax": box[3]}


def cloudflare_task(task: str, body: Any, model: str) -> Answer:
    """Workers AI's answer to ``POST /run/{model}`` for a translation, classification or detection model."""
    if not isinstance(body, dict):
        return cloudflare_error(400, "AiError: the input is not a JSON object")
    if task == "text_translations":
        if not isinstance(body.get("text"), str) or not isinstance(body.get("target_lang"), str):
            return cloudflare_error(
                400, "AiError: Input must have required property 'text' and 'target_lang'"
            )
        source = str(body.get("source_lang") or "en")
        return _cloudflare({"translated_text": translate(body["text"], source, body["target_lang"])})
    if task == "classifications":
        if not isinstance(body.get("text"), str):
            return cloudflare_error(400, "AiError: Input must have required property 'text'")
        return _cloudflare([{"label": label, "score": score} for label, score in classify(body["text"])])
    image = body.get("image")
    if not isinstance(image, list) or not image:
        return cloudflare_error(400, "AiError: Input must have required property 'image'")
    data = bytes(int(b) & 0xFF for b in image)
    _w, _h, objects = detect(data)
    return _cloudflare([{"label": o["label"], "score": o["score"], "box": hf_box(o["box"])} for o in objects])


def huggingface_task(task: str, raw: bytes, body: Any) -> Answer:
    """The Inference API's answer for a translation, classification, detection or image-to-text model."""
    if task in ("detections", "ocr"):
        if image_size(raw) is None:
            return Answer(400, {"error": "Invalid image: the body is not an image"})
        if task == "ocr":
            return _ok([{"generated_text": ocr_text(raw)}])
        _w, _h, objects = detect(raw)
        return _ok([{"label": o["label"], "score": o["score"], "box": hf_box(o["box"])} for o in objects])
    if not isinstance(body, dict) or "inputs" not in body:
        return Answer(400, {"error": "Input should have 'inputs'"})
    inputs, params = body["inputs"], body.get("parameters") or {}
    if task == "text_translations":
        target = str(params.get("tgt_lang") or "fr")
        return _ok(
            [{"translation_text": translate(str(inputs), str(params.get("src_lang") or "en"), target)}]
        )
    labels = params.get("candidate_labels")
    if isinstance(labels, list) and labels:
        pairs = classify(str(inputs), [str(x) for x in labels])
        return _ok({"sequence": inputs, "labels": [p[0] for p in pairs], "scores": [p[1] for p in pairs]})
    texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
    return _ok([[{"label": label, "score": score} for label, score in classify(t)] for t in texts])


def mistral_ocr(body: Any) -> Answer:
    """Mistral's ``POST /v1/ocr`` answer: a page per requested page (3 for a PDF by default)."""
    doc = body.get("document") if isinstance(body, dict) else None
    if not isinstance(doc, dict) or doc.get("type") not in ("image_url", "document_url"):
        return Answer(422, {"detail": [{"loc": ["body", "document"], "msg": "Field required"}]})
    url = str(doc.get(doc["type"]) or "")
    data = image_bytes(url, None) if url.startswith("data:") else None
    size = image_size(data) if data else None
    if doc["type"] == "image_url":
        numbers = [0]
    else:
        asked = body.get("pages")
        numbers = [int(p) for p in asked] if isinstance(asked, list) and asked else [0, 1, 2]
    width, height = size or (1700, 2200)
    pages = [
        {
            "index": n,
            "markdown": "# " + ocr_text(data, url, n),
            "images": [],
            "dimensions": {"dpi": 200, "height": height, "width": width},
        }
        for n in numbers
    ]
    info = {"pages_processed": len(pages), "doc_size_bytes": len(data) if data else None}
    return _ok({"pages": pages, "model": str(body.get("model") or "mistral-ocr-latest"), "usage_info": info})


def task_content(task: str, body: dict[str, Any]) -> str:
    """What a chat model asked to do a task answers, deterministically (JSON, or Llama Guard's verdict)."""
    if task == "moderations":
        return llama_guard_answer(" ".join(input_texts(body.get("input"))))
    if task == "text_translations":
        translated = translate(
            str(body.get("text")), str(body.get("source_lang")), str(body.get("target_lang"))
        )
        return json_text({"translation": translated})
    if task == "classifications":
        value = body.get("input")
        texts = [value] if isinstance(value, str) else [str(v) for v in value or []]
        labels = body.get("labels") if isinstance(body.get("labels"), list) else None
        results = [
            {"index": i, "labels": [{"label": label, "score": score} for label, score in classify(t, labels)]}
            for i, t in enumerate(texts)
        ]
        return json_text({"results": results})
    data = image_bytes(body.get("image_url"), body.get("image_b64"))
    url = body.get("image_url") if isinstance(body.get("image_url"), str) else None
    if task == "detections":
        _w, _h, objects = detect(data, url)
        boxes = [
            {
                "label": o["label"],
                "score": o["score"],
                "box": dict(zip(("x_min", "y_min", "x_max", "y_max"), o["box"], strict=True)),
            }
            for o in objects
        ]
        return json_text({"objects": boxes})
    return json_text({"markdown": ocr_text(data, url)})


def json_text(doc: Any) -> str:
    import orjson

    return orjson.dumps(doc).decode()


def chat_task_answer(
    wire: str, request_body: Any, task: str, task_body: dict[str, Any], model: str | None = None
) -> Answer:
    """A chat model's answer to a task prompt, in the chat wire's own format."""
    content = task_content(task, task_body)
    body = request_body if isinstance(request_body, dict) else {}
    model = model or str(body.get("model") or "sim-chat")
    prompt = max(1, len(json_text(body.get("messages") or body.get("contents") or body)) // 4)
    completion = max(1, len(content) // 4)
    ident = hashlib.sha256(json_text(body).encode()).hexdigest()[:24]
    if wire == "anthropic":
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "tool":
            import orjson

            blocks: list[dict[str, Any]] = [
                {
                    "type": "tool_use",
                    "id": f"toolu_{ident}",
                    "name": choice.get("name"),
                    "input": orjson.loads(content),
                }
            ]
            stop = "tool_use"
        else:
            blocks, stop = [{"type": "text", "text": content}], "end_turn"
        return _ok(
            {
                "id": f"msg_{ident}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": blocks,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": prompt, "output_tokens": completion},
            }
        )
    if wire == "gemini":
        return _ok(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": content}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": prompt,
                    "candidatesTokenCount": completion,
                    "totalTokenCount": prompt + completion,
                },
                "modelVersion": model,
            }
        )
    return _ok(
        {
            "id": f"chatcmpl-{ident}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
    )


def simulated_handlers(
    respond: Callable[[Answer], R],
) -> dict[tuple[str, str], Callable[[UpstreamRequest, Any], R]]:
    """The in-process simulated transport's handlers, by (wire, operation) (simulators/transport.py);
    ``respond`` turns an `Answer` into its response."""
    answers = transport_answers()
    return {key: _responding(fn, respond) for key, fn in answers.items()}


def _responding(
    fn: Callable[[UpstreamRequest, Any], Answer], respond: Callable[[Answer], R]
) -> Callable[[UpstreamRequest, Any], R]:
    return lambda request, body: respond(fn(request, body))


def transport_answers() -> dict[tuple[str, str], Callable[[UpstreamRequest, Any], Answer]]:
    """What the in-process simulated transport answers, by (wire, operation) (simulators/transport.py)."""

    def chat_task(request: UpstreamRequest, body: Any) -> Answer:
        spec = request.context["chat_task"]
        return chat_task_answer(request.wire, body, spec["task"], spec["body"], spec.get("model"))

    def cloudflare(task: str) -> Callable[[UpstreamRequest, Any], Answer]:
        return lambda request, body: cloudflare_task(task, body, request.context.get("model", ""))

    def huggingface(task: str) -> Callable[[UpstreamRequest, Any], Answer]:
        return lambda request, body: huggingface_task(task, request.body or b"", body)

    out: dict[tuple[str, str], Callable[[UpstreamRequest, Any], Answer]] = {
        ("openai", "moderations"): lambda request, body: _ok(openai_moderation(body)),
        ("mistral", "moderations"): lambda request, body: _ok(mistral_moderation(body)),
        ("mistral", "ocr"): lambda request, body: mistral_ocr(body),
    }
    for wire in ("openai", "anthropic", "gemini"):
        out[(wire, "chat_task")] = chat_task
    for task in ("text_translations", "classifications", "detections"):
        out[("cloudflare", task)] = cloudflare(task)
    for task in ("text_translations", "classifications", "detections", "ocr"):
        out[("huggingface", task)] = huggingface(task)
    return out
