"""The object detection operation: POST /v1/detections (docs/modalities.md), and image inputs.

Request: ``image_url`` (http(s) or a ``data:`` URL) or ``image_b64``, ``model`` (when absent: the
operator's ``default_detection_model``). Answer::

    {"object": "detection", "model", "width"?, "height"?,
     "data": [{"label", "score", "box": {"x_min", "y_min", "x_max", "y_max"}}], "usage": {...}}

Boxes are in pixels of the image, highest score first. A chat model needs the vision capability.

A model priced per compute second (the Hugging Face Inference API bills hf-inference by compute time)
is metered by the gateway's measured upstream time, as HF's answer body reports none; the reservation
holds the most that can be: the upstream read timeout's worth of seconds, and the meter is capped there.
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.providers.wire.chat_tasks import decode_b64
from aigateway.providers.wire.chat_tasks_answers import image_size
from aigateway.services.operations.translations import TaskOperation, TaskUsage

MAX_IMAGE_B64 = 28 * 1024 * 1024  # about 20 MB of image


class ImageRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = Field(default=None, min_length=1, max_length=256)
    image_url: str | None = Field(default=None, min_length=1)
    image_b64: str | None = Field(default=None, min_length=1, max_length=MAX_IMAGE_B64)
    _fetch: bool = PrivateAttr(default=False)  # the image URL is downloaded for the upstream
    _providers: tuple[str, ...] = PrivateAttr(default=())  # who may serve it (their timeouts bound it)
    _compute_ceiling_ms: int = PrivateAttr(default=0)  # the most compute time the call can be billed


class Box(BaseModel):
    x_min: float
    y_min: float
    x_max: float
    y_max: float


class DetectedObject(BaseModel):
    label: str
    score: float
    box: Box


class DetectionResponse(BaseModel):
    object: str = "detection"
    model: str
    width: int | None = None
    height: int | None = None
    data: list[DetectedObject]
    usage: TaskUsage


def check_image(req: Any, *, document: bool = False) -> None:
    given = [k for k in ("image_url", "image_b64", "document_url") if getattr(req, k, None) is not None]
    if len(given) != 1:
        names = "'image_url', 'image_b64'" + (" or 'document_url'" if document else "")
        raise InvalidRequest(f"Give exactly one of {names}.", param="image_url")
    url = req.image_url
    if url is not None and not url.startswith(("https://", "http://", "data:")):
        raise InvalidRequest("'image_url' must be an http(s) or data: URL.", param="image_url")
    if url is not None and url.startswith("data:"):
        decode_b64(url, "image_url")
    if req.image_b64 is not None:
        decode_b64(req.image_b64)


class ImageTaskOperation(TaskOperation):
    def cross_check(self, req: Any) -> None:
        check_image(req)

    def check(self, entry: ModelEntry, parsed: Any) -> None:
        super().check(entry, parsed)
        if entry.modality == "text" and not entry.supports("vision"):
            raise InvalidRequest(
                f"'{entry.id}' cannot read images; {self.endpoint} by a chat model needs one with vision.",
                param="model",
            )

        parsed._fetch = needs_bytes(entry, parsed)
        if "per_compute_second" in entry.pricing.prices or any(
            d.pricing is not None and "per_compute_second" in d.pricing.prices for d in entry.deployments
        ):
            parsed._providers = tuple(d.provider for d in entry.deployments)

    async def prepare(self, body: dict[str, Any], parsed: Any, ctx: Any) -> None:
        """Work out the compute ceiling of a model billed by compute time, then download an http(s)
        ``image_url`` for an upstream that takes images inline only (Workers AI, Hugging Face),
        through the gateway's SSRF-guarded fetcher (providers/fetch.py)."""
        if parsed._providers and ctx is not None:
            parsed._compute_ceiling_ms = compute_ceiling_ms(ctx, parsed._providers)
        if not parsed._fetch:
            return
        fetcher = getattr(ctx, "fetcher", None)
        if fetcher is None:
            return  # the adapter asks for image_b64
        from aigateway.providers.fetch import FetchRefused

        try:
            fetched = await fetcher.get(str(body["image_url"]))
        except FetchRefused as exc:
            raise InvalidRequest(f"Invalid 'image_url': {exc}.", param="image_url") from None
        if image_size(fetched.data) is None:
            raise InvalidRequest(
                "Invalid 'image_url': it is not a PNG, JPEG, GIF or WebP image.", param="image_url"
            )
        body.pop("image_url", None)
        body["image_b64"] = base64.b64encode(fetched.data).decode()

    def images(self, body: dict[str, Any]) -> int:
        return 1 if body.get("image_url") or body.get("image_b64") else 0

    def bound(self, entry: ModelEntry, body: dict[str, Any], parsed: Any) -> Usage:
        bound = super().bound(entry, body, parsed)
        bound.compute_ms = getattr(parsed, "_compute_ceiling_ms", 0)
        return bound

    async def finish(self, translated: Any, finishing: Any) -> Any:
        """Meter the compute time of a call priced by it: the upstream's time as the gateway measured
        it (from the request sent to the answer read), at least 1 ms, at most the reserved ceiling."""
        call = finishing.call
        pricing = call.pricing
        usage = translated.usage
        if pricing is None or "per_compute_second" not in pricing.prices or usage is None:
            return translated
        if not usage.compute_ms:
            ceiling = compute_ceiling_ms(finishing.ctx, (finishing.route.deployment.provider,))
            usage.compute_ms = min(max(1, call.upstream_ms), ceiling)
        return translated


def compute_ceiling_ms(ctx: Any, providers: tuple[str, ...]) -> int:
    """The longest an upstream call can run: its vendor's read timeout, else the gateway's."""
    default = float(ctx.settings.upstream_timeout_s)
    vendors = getattr(ctx, "vendors", {}) or {}
    timeouts = [getattr(vendors.get(p), "timeout_s", None) or default for p in providers] or [default]
    return int(max(timeouts) * 1000)


def needs_bytes(entry: ModelEntry, parsed: Any) -> bool:
    """A dedicated model whose upstream takes the image inline, given an http(s) URL.

    Chat models and Mistral OCR take URLs as they are.
    """
    url = getattr(parsed, "image_url", None)
    if entry.modality == "text" or not isinstance(url, str) or url.startswith("data:"):
        return False
    return not all(d.provider == "mistral" for d in entry.deployments)


class DetectionsOperation(ImageTaskOperation):
    name = "detections"
    endpoint = "detections"
    modalities = frozenset({"detection", "text"})
    schema = ImageRequest
    priced_by = ("input_per_image", "per_query", "per_compute_second")
