"""Deterministic images for test mode and the simulator: real PNGs, and each image wire's answer.

Pure functions, no I/O. ``png(width, height, seed)`` encodes a valid 8-bit RGB PNG (zlib + struct,
no imaging library): a grid of coloured tiles picked from sha256(seed), so the same prompt always
gives the same picture and different prompts different ones. Each wire's answer follows the
provider's published shape:

* OpenAI ``/images/generations`` (gpt-image, dall-e, xAI, Together): ``{"created", "data": [{"b64_json"
  | "url", "revised_prompt"?}], "usage"?}``; gpt-image always answers base64 and reports tokens.
* Google Imagen ``models/{m}:predict``: ``{"predictions": [{"bytesBase64Encoded", "mimeType"}]}``.
* Gemini image models ``generateContent`` with ``responseModalities: ["IMAGE"]``: ``inlineData`` parts.
* Black Forest Labs: ``POST /{model}`` answers ``{"id", "polling_url"}``; ``GET polling_url`` answers
  ``{"id", "status": "Ready", "result": {"sample": <url>}}`` (the simulator serves the sample).
* Cloudflare Workers AI ``/ai/run/@cf/...``: SDXL-style models answer the PNG itself, FLUX-style
  models ``{"result": {"image": <base64>}, "success": true}``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zlib
from typing import Any

from aigateway.simulators.answers import Answer, cloudflare_error, gemini_error, openai_error

MAX_SIDE = 4096
DEFAULT_SIZE = (1024, 1024)
TILES = 8
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_ASPECTS = {
    "1:1": (1024, 1024),
    "3:4": (896, 1280),
    "4:3": (1280, 896),
    "9:16": (768, 1408),
    "16:9": (1408, 768),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "4:5": (864, 1184),
    "5:4": (1184, 864),
    "21:9": (1536, 672),
}
FIXED_CREATED = 1_767_225_600  # 2026-01-01: answers are reproducible byte for byte


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, seed: str) -> bytes:
    """A valid RGB PNG of ``width`` x ``height``: TILES x TILES coloured tiles picked from the seed."""
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ValueError(f"image size {width}x{height} is outside 1..{MAX_SIDE}")
    digest = hashlib.sha256(seed.encode()).digest()
    palette = [digest[i : i + 3] for i in range(0, 30, 3)]  # ten colours
    columns = [min(TILES - 1, x * TILES // width) for x in range(width)]
    rows: list[bytes] = []
    for band in range(TILES):
        pixels = b"".join(palette[(band * 3 + column) % len(palette)] for column in columns)
        rows.append(b"\x00" + pixels)  # filter type 0 (none)
    raw = b"".join(rows[min(TILES - 1, y * TILES // height)] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, truecolour
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height of a PNG (from its IHDR chunk)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def parse_size(size: Any) -> tuple[int, int] | None:
    """``"1024x768"`` as (1024, 768); ``"auto"``/None as the default; anything else None."""
    if size is None or size == "auto":
        return DEFAULT_SIZE
    found = _SIZE.match(size) if isinstance(size, str) else None
    if found is None:
        return None
    width, height = int(found[1]), int(found[2])
    return (width, height) if 1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE else None


def aspect_size(aspect: Any) -> tuple[int, int] | None:
    if aspect is None:
        return DEFAULT_SIZE
    return _ASPECTS.get(aspect) if isinstance(aspect, str) else None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _count(value: Any, default: int = 1, most: int = 10) -> int | None:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= most:
        return value
    return None


def _seed(model: str, prompt: str, index: int) -> str:
    return f"{model}\x00{prompt}\x00{index}"


# -- OpenAI-wire /images/generations ----------------------------------------------------------------
def openai_images(body: Any, url_for: Any = None) -> Answer:
    """OpenAI's ImagesResponse. ``url_for(png_bytes) -> url`` serves ``response_format: url``."""
    if not isinstance(body, dict):
        return openai_error(400, "We could not parse the JSON body of your request.")
    model, prompt = body.get("model"), body.get("prompt")
    if not isinstance(model, str) or not model:
        return openai_error(400, "you must provide a model parameter", param="model")
    if not isinstance(prompt, str) or not prompt:
        return openai_error(
            400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
        )
    n = _count(body.get("n"))
    if n is None:
        return openai_error(400, f"Invalid 'n': {body.get('n')!r}; expected 1 to 10.", param="n")
    size = parse_size(body.get("size"))
    if size is None:
        return openai_error(
            400, f"Invalid value: {body.get('size')!r}. Supported sizes are WxH.", param="size"
        )
    gpt_image = model.startswith("gpt-image")
    wants = body.get("response_format")
    if gpt_image and wants is not None:
        return openai_error(
            400, "Unknown parameter: 'response_format'.", param="response_format", code="unknown_parameter"
        )
    if wants == "base64":  # Together's name for it
        wants = "b64_json"
    if wants not in (None, "url", "b64_json"):
        return openai_error(
            400,
            f"Invalid value: {wants!r}. Supported values are: 'url' and 'b64_json'.",
            param="response_format",
        )
    as_url = not gpt_image and wants != "b64_json" and url_for is not None
    data: list[dict[str, Any]] = []
    for index in range(n):
        image = png(size[0], size[1], _seed(model, prompt, index))
        item: dict[str, Any] = {"url": url_for(image)} if as_url else {"b64_json": b64(image)}
        if model.startswith("dall-e-3"):
            item["revised_prompt"] = f"A detailed picture of {prompt}"
        data.append(item)
    payload: dict[str, Any] = {"created": FIXED_CREATED, "data": data}
    if gpt_image:
        tokens = max(1, (len(prompt.encode()) + 3) // 4)
        per_image = max(16, size[0] * size[1] // 256)
        payload["usage"] = {
            "input_tokens": tokens,
            "input_tokens_details": {"text_tokens": tokens, "image_tokens": 0},
            "output_tokens": per_image * n,
            "total_tokens": tokens + per_image * n,
        }
        for key in ("background", "output_format", "quality", "size"):
            if isinstance(body.get(key), str):
                payload[key] = body[key] if key != "size" else f"{size[0]}x{size[1]}"
    return Answer(200, payload)


# -- Google -----------------------------------------------------------------------------------------
def imagen_predict(body: Any, model: str) -> Answer:
    """Imagen's ``:predict``: one instance with a prompt; ``parameters.sampleCount`` images."""
    instances = body.get("instances") if isinstance(body, dict) else None
    first = instances[0] if isinstance(instances, list) and instances else None
    prompt = first.get("prompt") if isinstance(first, dict) else None
    if not isinstance(prompt, str) or not prompt:
        return gemini_error(400, "Invalid JSON payload: instances[0].prompt is required.")
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        return gemini_error(400, "Invalid JSON payload: parameters must be an object.")
    count = _count(params.get("sampleCount"), most=4)
    size = aspect_size(params.get("aspectRatio"))
    if count is None or size is None:
        return gemini_error(400, "Invalid sampleCount or aspectRatio.")
    predictions = [
        {"mimeType": "image/png", "bytesBase64Encoded": b64(png(size[0], size[1], _seed(model, prompt, i)))}
        for i in range(count)
    ]
    return Answer(200, {"predictions": predictions})


def gemini_image(body: Any, model: str) -> Answer:
    """``generateContent`` for an image model: a short text part and one ``inlineData`` PNG."""
    contents = body.get("contents") if isinstance(body, dict) else None
    texts = [
        part["text"]
        for content in (contents if isinstance(contents, list) else [])
        if isinstance(content, dict)
        for part in content.get("parts") or []
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    if not texts:
        return gemini_error(400, "* GenerateContentRequest.contents: contents is not specified")
    config = body.get("generationConfig") or {}
    modalities = config.get("responseModalities") if isinstance(config, dict) else None
    if not isinstance(modalities, list) or "IMAGE" not in modalities:
        return gemini_error(400, "This model only supports responseModalities including IMAGE.")
    image_config = config.get("imageConfig") or {}
    size = aspect_size(image_config.get("aspectRatio") if isinstance(image_config, dict) else None)
    if size is None:
        return gemini_error(400, "Invalid aspect ratio.")
    prompt = " ".join(texts)
    image = png(size[0], size[1], _seed(model, prompt, 0))
    prompt_tokens = max(1, (len(prompt.encode()) + 3) // 4)
    parts = [{"text": "Here is the image."}, {"inlineData": {"mimeType": "image/png", "data": b64(image)}}]
    return Answer(
        200,
        {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": 1295,
                "totalTokenCount": prompt_tokens + 1295,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
                "candidatesTokensDetails": [
                    {"modality": "TEXT", "tokenCount": 5},
                    {"modality": "IMAGE", "tokenCount": 1290},
                ],
            },
            "modelVersion": model,
        },
    )


# -- Black Forest Labs ------------------------------------------------------------------------------
def bfl_task_id(model: str, body: Any) -> str:
    digest = hashlib.sha256(model.encode() + b"\x00" + repr(sorted(body.items())).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def bfl_check(body: Any) -> str | None:
    """What BFL's validation refuses, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("prompt"), str) or not body["prompt"]:
        return "prompt: Field required"
    for key in ("width", "height"):
        value = body.get(key)
        if value is not None and not (isinstance(value, int) and 256 <= value <= 1440 and value % 32 == 0):
            return f"{key}: must be a multiple of 32 between 256 and 1440"
    return None


def bfl_image(model: str, body: dict[str, Any]) -> bytes:
    return png(
        int(body.get("width") or 1024), int(body.get("height") or 768), _seed(model, body["prompt"], 0)
    )


# -- Cloudflare Workers AI --------------------------------------------------------------------------
def cloudflare_binary(model: str) -> bool:
    """Workers AI models that answer the PNG itself (SDXL family), not JSON base64 (FLUX)."""
    return "flux" not in model.lower()


def cloudflare_image(body: Any, model: str) -> tuple[Answer | None, bytes]:
    """(error answer, b"") or (None, PNG) for a text-to-image run."""
    prompt = body.get("prompt") if isinstance(body, dict) else None
    if not isinstance(prompt, str) or not prompt:
        return cloudflare_error(400, "AiError: Bad input: Error: Required properties missing: prompt"), b""
    width = body.get("width") or 1024
    height = body.get("height") or 1024
    if not (
        isinstance(width, int) and isinstance(height, int) and 256 <= width <= 2048 and 256 <= height <= 2048
    ):
        return cloudflare_error(400, "AiError: Bad input: width and height must be 256 to 2048"), b""
    return None, png(width, height, _seed(model, prompt, 0))
