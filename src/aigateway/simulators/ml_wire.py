"""Simulator routes for moderation and the task models (answers from synth_ml, deterministic).

* ``POST .../moderations``: OpenAI's moderation; Mistral's under a prefix containing "mistral"
  (``/mistral/v1/moderations``).
* ``POST .../ocr``: Mistral OCR.
* ``POST .../ai/run/{model}`` for Cloudflare's task models (``@cf/meta/m2m100*`` translation,
  ``@cf/huggingface/distilbert*`` classification, ``@cf/facebook/detr*`` detection); other Workers
  AI models stay with rerank_wire (this module registers first).
* ``POST .../hf-inference/models/{org}/{model}``: the Hugging Face Inference API; the task comes from
  the model's name (``trocr`` OCR, ``detr``/``yolo`` detection, ``m2m``/``opus-mt``/``nllb``
  translation, ``distilbert``/``bert``/``bart-large-mnli``/``sst`` classification; other models,
  image generation among them, are left to their own wires). Images are the raw request body.
* ``POST .../llama-guard/v1/chat/completions``: a vendor serving Llama Guard as a chat model; it
  answers ``safe`` or ``unsafe\\nS..`` for the last user turn.

``rec:<key>`` replays a recording (``rec:openai/moderations``); keys are ``Authorization: Bearer``;
faults and the request log work as on every wire (json_endpoint.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web

from aigateway.simulators import synth_ml
from aigateway.simulators.answers import Answer, openai_error
from aigateway.simulators.json_endpoint import CLOUDFLARE, OPENAI, JsonWire, serve

MODERATIONS_PATH = r"/{prefix:(?:.*/)?}moderations"
OCR_PATH = r"/{prefix:(?:.*/)?}ocr"
CLOUDFLARE_TASK_PATH = (
    r"/{prefix:(?:.*/)?}ai/run/{model:@cf/(?:meta/m2m100|huggingface/distilbert|facebook/detr)[^/]*}"
)
HUGGINGFACE_PATH = (
    r"/{prefix:(?:.*/)?}hf-inference/models/"
    r"{model:[^/]+/[^/]*(?:trocr|detr|yolo|m2m|opus-mt|nllb|distilbert|bert|bart-large-mnli|sst)[^/]*}"
)
GUARD_CHAT_PATH = r"/{prefix:(?:.*/)?}llama-guard/v1/chat/completions"
HUGGINGFACE = JsonWire(
    "huggingface",
    lambda status: b'{"error": "simulated error %d"}' % status,
    Answer(401, {"error": "Invalid credentials in Authorization header"}),
    lambda model: Answer(404, {"error": f"Model {model} does not exist"}),
)


def register(app: web.Application) -> None:
    app.router.add_post(GUARD_CHAT_PATH, guard_chat)
    app.router.add_post(CLOUDFLARE_TASK_PATH, cloudflare_task)
    app.router.add_post(HUGGINGFACE_PATH, huggingface_task)
    app.router.add_post(MODERATIONS_PATH, moderations)
    app.router.add_post(OCR_PATH, ocr)


def _moderation(body: Any, mistral: bool) -> Answer:
    if not isinstance(body, dict) or "input" not in body:
        return openai_error(400, "'input' is a required property", param="input")
    return Answer(200, synth_ml.mistral_moderation(body) if mistral else synth_ml.openai_moderation(body))


async def moderations(request: web.Request) -> web.StreamResponse:
    mistral = "mistral" in request.match_info.get("prefix", "").lower()
    return await serve(request, OPENAI, partial(_moderation, mistral=mistral))


async def ocr(request: web.Request) -> web.StreamResponse:
    return await serve(request, OPENAI, synth_ml.mistral_ocr)


def cloudflare_task_of(model: str) -> str:
    if "m2m100" in model:
        return "text_translations"
    return "classifications" if "distilbert" in model else "detections"


async def cloudflare_task(request: web.Request) -> web.StreamResponse:
    model = request.match_info["model"]
    synthesize = partial(synth_ml.cloudflare_task, cloudflare_task_of(model), model=model)
    return await serve(request, CLOUDFLARE, synthesize, model=model)


def huggingface_task_of(model: str) -> str:
    lowered = model.lower()
    if "trocr" in lowered:
        return "ocr"
    if "detr" in lowered or "yolo" in lowered:
        return "detections"
    if any(k in lowered for k in ("m2m", "opus-mt", "nllb")):
        return "text_translations"
    return "classifications"


async def huggingface_task(request: web.Request) -> web.StreamResponse:
    model = request.match_info["model"]
    raw = await request.read()  # read once here; serve() gets the same (cached) bytes
    task = huggingface_task_of(model)
    return await serve(
        request, HUGGINGFACE, lambda body: synth_ml.huggingface_task(task, raw, body), model=model
    )


def _guard(body: Any) -> Answer:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return openai_error(400, "'messages' is a required property", param="messages")
    turns = [m for m in body["messages"] if isinstance(m, dict) and m.get("role") == "user"]
    content = turns[-1].get("content") if turns else ""
    task_body = {"input": content if isinstance(content, str | list) else ""}
    return synth_ml.chat_task_answer("openai", body, "moderations", task_body)


async def guard_chat(request: web.Request) -> web.StreamResponse:
    return await serve(request, OPENAI, _guard)
