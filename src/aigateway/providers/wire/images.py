"""Image generation over the OpenAI wire (OpenAI gpt-image and dall-e, xAI, Together), and what every
images adapter shares.

Every images adapter's ``parse_response`` gives OpenAI's ImagesResponse, ``{"created", "data":
[{"b64_json" | "url", "revised_prompt"?}], "usage"?}``, with the images as the provider sent them
(base64, or the provider's own URL). The images operation (services/operations/images.py) then
fetches provider URLs, stores the images and answers in the client's ``response_format``: adapters
stay pure. An adapter whose provider answers later (Black Forest Labs) puts ``"pending": {...}`` in
that body and implements ``poll_request`` / ``parse_poll`` (see images_native.py).
``request.context["response_format"]`` is what the client will receive (``url`` or ``b64_json``).
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson

from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import (
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.openai import auth_headers

OPERATION = "images"
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
ASPECTS = ("1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "4:5", "5:4", "21:9")


def parse_size(size: Any) -> tuple[int, int] | None:
    """``"1536x1024"`` as (1536, 1024); None for ``"auto"``, absent or anything else."""
    found = _SIZE.match(size) if isinstance(size, str) else None
    return (int(found[1]), int(found[2])) if found else None


def nearest_aspect(size: Any, allowed: tuple[str, ...] = ASPECTS) -> str | None:
    """The allowed aspect ratio closest to a ``WxH`` size (None when the size says none)."""
    dims = parse_size(size)
    if dims is None:
        return None
    ratio = dims[0] / dims[1]

    def distance(aspect: str) -> float:
        w, h = aspect.split(":")
        return abs(int(w) / int(h) - ratio)

    return min(allowed, key=distance)


def is_gpt_image(model: str) -> bool:
    return model.startswith("gpt-image") or "/gpt-image" in model


def wanted_format(body: dict[str, Any], target: Target) -> str:
    """What the client receives: its ``response_format``, else OpenAI's default for the model."""
    wanted = body.get("response_format")
    if wanted in ("url", "b64_json"):
        return str(wanted)
    return "b64_json" if is_gpt_image(target.upstream_model) else "url"


def one_image_only(body: dict[str, Any], provider: str) -> None:
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidRequest(
            f"Invalid 'n': this model's provider ({provider}) makes one image a request.", param="n"
        )


def images_body(items: list[dict[str, Any]], usage: dict[str, Any] | None = None, **extra: Any) -> bytes:
    doc: dict[str, Any] = {"created": int(time.time()), "data": items, **extra}
    if usage is not None:
        doc["usage"] = usage
    return orjson.dumps(doc)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _together(out: dict[str, Any]) -> None:
    """Together's /images/generations takes ``width``/``height`` and ``response_format: base64``."""
    size = parse_size(out.pop("size", None))
    if size is not None:
        out.setdefault("width", size[0])
        out.setdefault("height", size[1])
    if out.get("response_format") == "b64_json":
        out["response_format"] = "base64"


class OpenAIImages:
    """``POST {base}/images/generations``: the client's body goes as sent (unknown fields included),
    with the deployment's model; gpt-image models always answer base64 and take no
    ``response_format``, so it is not sent to them; Together gets its own size and format names."""

    name = "openai"
    wire = "openai"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        out = dict(body)
        out["model"] = target.upstream_model
        if is_gpt_image(target.upstream_model):
            out.pop("response_format", None)
        if vendor.name == "together":
            _together(out)
        return UpstreamRequest(
            url=vendor.base_url.rstrip("/") + "/images/generations",
            headers=auth_headers(vendor, credential),
            body=orjson.dumps(out),
            context={"response_format": wanted_format(body, target)},
            wire=self.wire,
            operation=OPERATION,
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ValueError("upstream answered 200 without an images list")
        images = len(doc["data"])
        reported = doc.get("usage")
        if isinstance(reported, dict):
            details = reported.get("input_tokens_details")
            cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
            usage = Usage(
                input_tokens=_int(reported.get("input_tokens")),
                cached_input_tokens=cached,
                output_tokens=_int(reported.get("output_tokens")),
                output_images=images,
            )
        else:
            usage = Usage(output_images=images)
        return TranslatedResponse(body=raw, usage=usage)

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        return error_from_json(status, raw, ("code", "type"))
