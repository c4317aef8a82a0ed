"""What a pure synthesizer answers: an HTTP status and a JSON payload, and each wire's error shape.

The embeddings and rerank synthesizers (synth_embeddings.py, synth_rerank.py) return an `Answer`
instead of raising, so the simulator server and the in-process simulated transport send the same
bytes. Error bodies follow the recordings (tests/fixtures/provider-recordings/README.md):

* OpenAI: ``{"error": {"message", "type", "param", "code"}}``
* Voyage, Jina (FastAPI servers): ``{"detail": "..."}``
* Cohere: ``{"id": "<uuid>", "message": "..."}``
* Gemini: ``{"error": {"code", "message", "status"}}``
* Cloudflare Workers AI:
  ``{"result": null, "success": false, "errors": [{"code", "message"}], "messages": []}``
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
CLOUDFLARE_INVALID_INPUT = 5006  # Workers AI: the input does not match the model's schema
CLOUDFLARE_AUTH_ERROR = 10000


@dataclass(frozen=True, slots=True)
class Answer:
    """A synthesized reply: the status and the JSON document to send."""

    status: int
    payload: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status < 400


def stable_uuid(*parts: str) -> str:
    """A UUID computed from ``parts`` (Cohere's response ids), so answers stay reproducible."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def openai_error(status: int, message: str, param: str | None = None, code: str | None = None) -> Answer:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return Answer(status, {"error": {"message": message, "type": kind, "param": param, "code": code}})


def detail_error(status: int, message: str) -> Answer:
    """Voyage's and Jina's ``{"detail": ...}`` error."""
    return Answer(status, {"detail": message})


def cohere_error(status: int, message: str, seed: str = "") -> Answer:
    return Answer(status, {"id": stable_uuid("cohere-error", message, seed), "message": message})


def gemini_error(status: int, message: str) -> Answer:
    name = _GEMINI_STATUS.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    return Answer(status, {"error": {"code": status, "message": message, "status": name}})


def cloudflare_error(status: int, message: str, code: int = CLOUDFLARE_INVALID_INPUT) -> Answer:
    payload = {
        "result": None,
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
    }
    return Answer(status, payload)


def cloudflare_success(result: dict[str, Any]) -> Answer:
    return Answer(200, {"result": result, "success": True, "errors": [], "messages": []})


def positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
