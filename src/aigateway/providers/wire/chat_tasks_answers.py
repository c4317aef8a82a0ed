"""The answers of /v1/translations, /v1/classifications, /v1/detections and /v1/ocr, whichever
upstream served them (a dedicated model's API or a chat model): one builder per operation, so every
adapter answers the same shape (docs/modalities.md).
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

from aigateway.core.pricing import Usage


def usage_doc(usage: Usage | None) -> dict[str, int]:
    usage = usage or Usage()
    doc = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }
    if usage.input_images:
        doc["images"] = usage.input_images
    if usage.pages:
        doc["pages"] = usage.pages
    return doc


def estimate(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


def translation(body: dict[str, Any], model: str, text: str, usage: Usage | None) -> bytes:
    return orjson.dumps(
        {
            "object": "translation",
            "model": model,
            "source_lang": body.get("source_lang"),
            "target_lang": body.get("target_lang"),
            "translation": text,
            "usage": usage_doc(usage),
        }
    )


def classification(model: str, per_input: list[list[tuple[str, float]]], usage: Usage | None) -> bytes:
    data = []
    for index, pairs in enumerate(per_input):
        ordered = sorted(pairs, key=lambda p: (-p[1], p[0]))
        top = ordered[0] if ordered else ("", 0.0)
        data.append(
            {
                "object": "classification",
                "index": index,
                "label": top[0],
                "score": top[1],
                "labels": [{"label": label, "score": score} for label, score in ordered],
            }
        )
    return orjson.dumps({"object": "list", "model": model, "data": data, "usage": usage_doc(usage)})


def box(x_min: float, y_min: float, x_max: float, y_max: float) -> dict[str, float]:
    return {"x_min": x_min, "y_min": y_min, "x_max": x_max, "y_max": y_max}


def detection(
    model: str, objects: list[dict[str, Any]], usage: Usage | None, size: tuple[int, int] | None = None
) -> bytes:
    ordered = sorted(objects, key=lambda o: -float(o["score"]))
    doc: dict[str, Any] = {"object": "detection", "model": model, "data": ordered, "usage": usage_doc(usage)}
    if size is not None:
        doc["width"], doc["height"] = size
    return orjson.dumps(doc)


def ocr(model: str, pages: list[tuple[int, str, str]], usage: Usage | None) -> bytes:
    """``pages``: (index, text, markdown) per page, in order."""
    doc = {
        "object": "ocr",
        "model": model,
        "pages": [{"index": i, "text": text, "markdown": md} for i, text, md in pages],
        "text": "\n\n".join(text for _, text, _ in pages),
        "usage": usage_doc(usage),
    }
    return orjson.dumps(doc)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF, WebP or JPEG header; None if it is none of them."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        kind = data[12:16]
        if kind == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if kind == b"VP8 " and len(data) >= 30:
            width, height = struct.unpack("<HH", data[26:30])
            return int(width) & 0x3FFF, int(height) & 0x3FFF
        if kind == b"VP8L" and len(data) >= 25:
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + length
    return None


def translated_text(request_context: dict[str, Any], text: str) -> tuple[bytes, Usage]:
    """The answer and estimated usage of a dedicated translation model that reports no usage: the
    text in and out counted by the gateway, one query, the characters translated."""
    body = request_context["body"]
    usage = Usage(
        input_tokens=estimate(body["text"]),
        output_tokens=estimate(text),
        characters=len(body["text"]),
        queries=1,
        estimated=True,
    )
    return translation(body, request_context["model"], text, usage), usage
