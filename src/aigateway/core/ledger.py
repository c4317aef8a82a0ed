"""One ledger entry per model call: who, what, how much, how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class LedgerEntry:
    request_id: str
    account_id: str
    key_id: str
    endpoint: str
    model: str
    provider: str
    upstream_model: str
    mode: str  # "live" or "test"
    status: str  # ok | error | client_cancelled | stream_error
    http_status: int
    stream: bool = False
    tag: str | None = None
    error_type: str | None = None
    input_units: int = 0
    cached_input_units: int = 0
    cache_write_units: int = 0
    output_units: int = 0
    reasoning_units: int = 0
    usage_estimated: bool = False
    cost_nanousd: int = 0
    latency_ms: int = 0
    detail: str | None = None
    created_at: datetime = field(default_factory=utcnow)

    @property
    def chargeable(self) -> int:
        """What the wallet is debited: test traffic is recorded but never charged."""
        return self.cost_nanousd if self.mode == "live" else 0

    def as_row(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "account_id": self.account_id,
            "key_id": self.key_id,
            "tag": self.tag,
            "endpoint": self.endpoint,
            "model": self.model,
            "provider": self.provider,
            "upstream_model": self.upstream_model,
            "mode": self.mode,
            "status": self.status,
            "http_status": self.http_status,
            "error_type": self.error_type,
            "stream": self.stream,
            "input_units": self.input_units,
            "cached_input_units": self.cached_input_units,
            "cache_write_units": self.cache_write_units,
            "output_units": self.output_units,
            "reasoning_units": self.reasoning_units,
            "usage_estimated": self.usage_estimated,
            "cost_nanousd": self.cost_nanousd,
            "latency_ms": self.latency_ms,
            "created_at": self.created_at,
            "detail": self.detail,
        }
