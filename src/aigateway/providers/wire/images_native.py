"""Image generation on Black Forest Labs' FLUX API and Cloudflare Workers AI.

* Black Forest Labs (``bfl`` wire, ``x-key`` header): ``POST {base}/{model}`` with ``prompt`` and
  ``width``/``height`` (multiples of 32, 256..1440; ``aspect_ratio`` for the ultra and kontext
  models) submits a task and answers ``{"id", "polling_url"}``; ``GET polling_url`` answers
  ``{"status": "Pending" | "Ready" | "Error" | "Request Moderated" | "Content Moderated" | "Task not
  found", "result": {"sample": <url>}}``. ``parse_response`` of the submit answer gives a body with
  ``"pending"``; the images operation sleeps and calls ``poll_request`` / ``parse_poll`` until the
  task is ready, over the same transport. A ``polling_url`` outside the vendor's own domain is not
  followed: the gateway polls ``{base}/get_result?id=...`` instead. One image a request.
* Cloudflare Workers AI (``cloudflare`` wire): ``POST {base}/run/@cf/...`` with ``prompt`` (and
  ``width``/``height`` where given), JSON, or a multipart form for the FLUX.2 models; SDXL-family
  models answer the PNG itself, FLUX-family models ``{"result": {"image": <base64>}}``. One image a
  request.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from aigateway.core.errors import InvalidRequest, ProviderError
from aigateway.core.pricing import Usage
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import (
    Target,
    TranslatedResponse,
    UpstreamFailure,
    UpstreamRequest,
    error_from_json,
)
from aigateway.providers.wire.images import (
    OPERATION,
    images_body,
    nearest_aspect,
    one_image_only,
    parse_size,
    wanted_format,
)
from aigateway.providers.wire.openai import auth_headers

# The client's fields the gateway maps itself; others (seed, safety_tolerance, steps, ...) go as sent.
_OPENAI_FIELDS = frozenset(
    {"model", "prompt", "n", "size", "quality", "style", "response_format", "user", "background"}
    | {"output_format", "output_compression", "moderation"}
)
BFL_ASPECTS = ("1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "21:9", "9:21")
READY = "Ready"
WAITING = frozenset({"Pending", "Queued", "Processing"})
TEXT = "text/plain; charset=utf-8"  # a typed part makes aiohttp send multipart, not urlencoded


def _extra(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _OPENAI_FIELDS}


def _side(value: int) -> int:
    return max(256, min(1440, round(value / 32) * 32))


def bfl_headers(vendor: VendorProfile, credential: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json", **vendor.headers}
    if credential:
        headers["x-key"] = credential
    return headers


def _same_site(url: str, base_url: str) -> bool:
    """Whether ``url`` is on the vendor's host or its registered domain (api.us1.bfl.ai for api.bfl.ai)."""
    there, here = urlsplit(url), urlsplit(base_url)
    if there.scheme != here.scheme or not there.hostname or not here.hostname:
        return False
    if there.netloc == here.netloc:
        return True
    domain = ".".join(here.hostname.split(".")[-2:])
    return here.hostname.count(".") >= 1 and (
        there.hostname == domain or there.hostname.endswith("." + domain)
    )


class BflImages:
    name = "bfl"
    wire = "bfl"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        one_image_only(body, vendor.name)
        model = target.upstream_model
        out: dict[str, Any] = {"prompt": body["prompt"], **_extra(body)}
        size = parse_size(body.get("size"))
        if "ultra" in model or "kontext" in model:
            aspect = nearest_aspect(body.get("size"), BFL_ASPECTS)
            if aspect:
                out["aspect_ratio"] = aspect
        elif size is not None:
            out["width"], out["height"] = _side(size[0]), _side(size[1])
        fmt = body.get("output_format")
        out["output_format"] = fmt if fmt in ("png", "jpeg") else "png"
        base = vendor.base_url.rstrip("/")
        return UpstreamRequest(
            url=f"{base}/{quote(model)}",
            headers=bfl_headers(vendor, credential),
            body=orjson.dumps(out),
            context={"response_format": wanted_format(body, target), "base_url": base},
            wire=self.wire,
            operation=OPERATION,
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        doc = orjson.loads(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
            raise ValueError("BFL answered its submit without a task id")
        base = str(request.context["base_url"])
        polling = doc.get("polling_url")
        if not isinstance(polling, str) or not _same_site(polling, base):
            polling = f"{base}/get_result?id={quote(doc['id'])}"
        return TranslatedResponse(
            body=images_body([], pending={"id": doc["id"], "polling_url": polling}), usage=None
        )

    def poll_request(
        self, pending: dict[str, Any], request: UpstreamRequest, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        headers = bfl_headers(vendor, credential)
        headers.pop("Content-Type", None)
        return UpstreamRequest(
            url=str(pending["polling_url"]),
            headers=headers,
            body=None,
            method="GET",
            context={**request.context, "poll": True},
            wire=self.wire,
            operation=OPERATION,
        )

    def parse_poll(self, raw: bytes, request: UpstreamRequest, pending: dict[str, Any]) -> TranslatedResponse:
        doc = orjson.loads(raw)
        status = doc.get("status") if isinstance(doc, dict) else None
        if status in WAITING:
            return TranslatedResponse(body=images_body([], pending=pending), usage=None)
        if status == READY:
            result = doc.get("result")
            sample = result.get("sample") if isinstance(result, dict) else None
            if not isinstance(sample, str):
                raise ValueError("BFL said Ready without a sample URL")
            return TranslatedResponse(body=images_body([{"url": sample}]), usage=Usage(output_images=1))
        if status in ("Request Moderated", "Content Moderated"):
            raise InvalidRequest(f"Black Forest Labs refused this request ({status}).", param="prompt")
        detail = doc.get("details") or doc.get("error") if isinstance(doc, dict) else None
        raise ProviderError(
            f"Black Forest Labs' task ended as {status!r}" + (f": {detail}" if detail else "") + "."
        )

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        """BFL answers FastAPI-style ``{"detail": ...}`` (a string, or a list of validation errors)."""
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        detail = doc.get("detail") if isinstance(doc, dict) else None
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            where = ".".join(str(p) for p in detail[0].get("loc", [])[1:])
            return UpstreamFailure(f"{where}: {detail[0].get('msg')}", param=where or None)
        return error_from_json(status, raw, ("code",))


def sniff_image(data: bytes) -> str | None:
    """The media type of PNG, JPEG, WebP or GIF bytes, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


class CloudflareImages:
    name = "cloudflare"
    wire = "cloudflare"

    def build_request(
        self, body: dict[str, Any], target: Target, vendor: VendorProfile, credential: str | None
    ) -> UpstreamRequest:
        one_image_only(body, vendor.name)
        out: dict[str, Any] = {"prompt": body["prompt"], **_extra(body)}
        size = parse_size(body.get("size"))
        if size is not None:
            out["width"], out["height"] = size
        headers = auth_headers(vendor, credential)
        form: list[tuple[str, bytes | str, str | None, str | None]] | None = None
        if "flux-2" in target.upstream_model:  # FLUX.2 models take a multipart form, even for a prompt
            headers.pop("Content-Type", None)
            form = [
                (k, v if isinstance(v, str) else orjson.dumps(v).decode(), None, TEXT) for k, v in out.items()
            ]
        return UpstreamRequest(
            url=f"{vendor.base_url.rstrip('/')}/run/{target.upstream_model}",
            headers=headers,
            body=None if form is not None else orjson.dumps(out),
            form=form,
            context={"response_format": wanted_format(body, target)},
            wire=self.wire,
            operation=OPERATION,
        )

    def parse_response(self, raw: bytes, request: UpstreamRequest) -> TranslatedResponse:
        image: Any
        if sniff_image(raw) is not None:
            image = base64.b64encode(raw).decode("ascii")
        else:
            doc = orjson.loads(raw)
            result = doc.get("result") if isinstance(doc, dict) else None
            image = result.get("image") if isinstance(result, dict) else None
            if not isinstance(image, str):
                raise ValueError("Workers AI answered neither an image nor result.image")
        return TranslatedResponse(body=images_body([{"b64_json": image}]), usage=Usage(output_images=1))

    def parse_error(self, status: int, raw: bytes, headers: dict[str, str]) -> UpstreamFailure:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = errors[0].get("code")
            return UpstreamFailure(str(errors[0].get("message") or status), str(code) if code else None)
        return error_from_json(status, raw, ("code",))
