"""The object detection operation: POST /v1/detections (docs/modalities.md), and image inputs.

Request: ``image_url`` (http(s) or a ``data:`` URL) or ``image_b64``, ``model`` (when absent: the
operator's ``default_detection_model``). Answer::

    {"object": "detection", "model", "width"?, "height"?,
     "data": [{"label", "score", "box": {"x_min", "y_min", "x_max", "y_max"}}], "usage": {...}}

Boxes are in pixels of the image, highest score first. A chat model needs the vision capability.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aigateway.core.catalog import ModelEntry
from aigateway.core.errors import InvalidRequest
from aigateway.providers.wire.chat_tasks import decode_b64
from aigateway.services.operations.translations import TaskOperation, TaskUsage

MAX_IMAGE_B64 = 28 * 1024 * 1024  # about 20 MB of image


class ImageRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = Field(default=None, min_length=1, max_length=256)
    image_url: str | None = Field(default=None, min_length=1)
    image_b64: str | None = Field(default=None, min_length=1, max_length=MAX_IMAGE_B64)


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

    def images(self, body: dict[str, Any]) -> int:
        return 1 if body.get("image_url") or body.get("image_b64") else 0


class DetectionsOperation(ImageTaskOperation):
    name = "detections"
    endpoint = "detections"
    modalities = frozenset({"detection", "text"})
    schema = ImageRequest
    priced_by = ("input_per_image", "per_query")
