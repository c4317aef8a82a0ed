"""The classification operation: POST /v1/classifications (docs/modalities.md).

Request: ``input`` (a string or a list of strings), optional ``labels`` (zero-shot: the labels to
choose from; without them the model's own labels, sentiment for SST-2), ``model`` (when absent: the
operator's ``default_classification_model``). Answer::

    {"object": "list", "model", "data": [{"object": "classification", "index", "label", "score",
      "labels": [{"label", "score"}, ...]}], "usage": {...}}

``label``/``score`` are the best label of each input; ``labels`` every label, highest score first.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aigateway.core.errors import InvalidRequest
from aigateway.services.operations.translations import TaskOperation, TaskUsage

MAX_INPUTS = 100
MAX_LABELS = 50


class ClassificationRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str | None = Field(default=None, min_length=1, max_length=256)
    input: str | list[str] = Field()
    labels: list[str] | None = Field(default=None, min_length=1, max_length=MAX_LABELS)


class LabelScore(BaseModel):
    label: str
    score: float


class Classification(BaseModel):
    object: str = "classification"
    index: int
    label: str
    score: float
    labels: list[LabelScore]


class ClassificationResponse(BaseModel):
    object: str = "list"
    model: str
    data: list[Classification]
    usage: TaskUsage


class ClassificationsOperation(TaskOperation):
    name = "classifications"
    endpoint = "classifications"
    modalities = frozenset({"classification", "text"})
    schema = ClassificationRequest
    priced_by = ("input_per_mtok", "per_query")

    def cross_check(self, req: Any) -> None:
        texts = [req.input] if isinstance(req.input, str) else req.input
        if not texts or len(texts) > MAX_INPUTS:
            raise InvalidRequest(f"'input' takes 1 to {MAX_INPUTS} texts.", param="input")
        if any(not t for t in texts):
            raise InvalidRequest("'input' must not hold empty texts.", param="input")
        if req.labels is not None and (
            any(not x for x in req.labels) or len(set(req.labels)) != len(req.labels)
        ):
            raise InvalidRequest("'labels' must be distinct, non-empty strings.", param="labels")

    def texts(self, body: dict[str, Any]) -> list[str]:
        value = body.get("input")
        texts = [value] if isinstance(value, str) else [str(v) for v in value or []]
        return texts + [str(x) for x in body.get("labels") or []]
