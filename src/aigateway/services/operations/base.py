"""What an operation adds to the pipeline: its request's validation, the modalities it serves, how to
bound its cost before dispatch, and how to count its usage when the provider reports none.

Everything else (authentication, resolving the model, routing, admission, dispatch, metering,
pricing, settling, headers) is the pipeline's (services/pipeline.py), the same for every operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from aigateway.core.catalog import ModelEntry
from aigateway.core.pricing import Usage


class Operation(Protocol):
    name: str  # "chat", "embeddings", "rerank": the adapter registry's key and the ledger's operation
    endpoint: str  # the route's name in the ledger ("chat.completions", "embeddings", "rerank")
    modalities: frozenset[str]  # catalog modalities this operation can be served by
    streams: bool  # whether a call may ask for a stream
    multipart: bool  # whether the body may come as multipart/form-data (uploads) besides JSON

    def validate(self, body: Any) -> Any:
        """Check the client's body (a clear InvalidRequest if it is wrong); returns the parsed form."""
        ...

    def check(self, entry: ModelEntry, parsed: Any) -> None:
        """Refuse what the resolved model certainly cannot do (InvalidRequest)."""
        ...

    def wants_stream(self, parsed: Any) -> bool: ...

    def bound(self, entry: ModelEntry, body: dict[str, Any], parsed: Any) -> Usage:
        """The most the call can consume: what the wallet reserves before dispatch."""
        ...

    def lower_output(self, body: dict[str, Any], tokens: int, vendor: str) -> bool:
        """Limit the call's output to ``tokens`` (a thin wallet); False if the operation cannot."""
        ...

    def counted(self, body: dict[str, Any], generated: int) -> Usage:
        """The gateway's own count, for a call whose provider never reported usage."""
        ...


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart body, read whole (the body size limit applies to the whole form)."""

    filename: str
    content_type: str
    data: bytes


def model_of(body: Any) -> str | None:
    """The ``model`` field of a body, if it has a usable one (for the ledger of a refused call)."""
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        return str(body["model"])[:200]
    return None
