"""One ledger entry per model call: who, what, how much, how it ended.

``call_id`` is the gateway's own id for the call, unique, minted for every call; it is the row's
key. ``request_id`` is the client's correlation id (its ``X-Request-Id``, or one the gateway made up
when it sent none): clients and their retries reuse them, so it is stored beside the call id and is
not unique.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Stored lengths of the free-text fields that come from the client (validated at the edge).
MAX_REQUEST_ID = 128
MAX_TAG = 200

ORIGINS = ("http", "batch", "eval", "replay", "job")
PRICE_BASES = ("standard", "batch", "cache_hit")


def utcnow() -> datetime:
    return datetime.now(UTC)


# Ids are unique, not secret (they are handed to clients): a generator seeded once from the OS is
# enough, and it saves a getrandom system call per id (measured on the hot path).
_ids = random.Random(secrets.randbits(128))


def new_call_id() -> str:
    """A unique call id: ``call_`` + 12 hex digits of the millisecond clock + 12 random hex digits.

    Time first, so the ledger's unique index takes new ids at its right edge (a random id costs a
    random B-tree page on every insert: measured, it slowed the ledger writer); 48 random bits tell
    apart the calls of one millisecond.
    """
    return f"call_{time.time_ns() // 1_000_000:012x}{_ids.getrandbits(48):012x}"


@dataclass(slots=True)
class LedgerEntry:
    request_id: str
    account_id: str
    key_id: str
    endpoint: str  # the route the call came in on, e.g. "chat.completions", "embeddings"
    model: str
    provider: str
    upstream_model: str
    mode: str  # "live" or "test"
    status: str  # ok | error | client_cancelled | stream_error
    http_status: int
    call_id: str = field(default_factory=new_call_id)
    operation: str = "chat"  # chat | embeddings | rerank | ...
    unit_kind: str = "tokens"  # the unit input_units/output_units are counted in
    price_basis: str = "standard"  # standard | batch | cache_hit
    origin: str = "http"  # http | batch | eval | replay | job
    parent_id: str | None = None  # the batch, eval, replay or job this call belongs to
    sub_account_id: str | None = None
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
    meters: dict[str, int] | None = None  # every non-zero meter of the call's usage (JSON in storage)
    created_at: datetime = field(default_factory=utcnow)

    @property
    def chargeable(self) -> int:
        """What the wallet is debited: test traffic is recorded but never charged."""
        return self.cost_nanousd if self.mode == "live" else 0

    def as_row(self) -> dict[str, object]:
        return {
            "call_id": self.call_id,
            "request_id": self.request_id,
            "account_id": self.account_id,
            "sub_account_id": self.sub_account_id,
            "key_id": self.key_id,
            "tag": self.tag,
            "endpoint": self.endpoint,
            "operation": self.operation,
            "origin": self.origin,
            "parent_id": self.parent_id,
            "model": self.model,
            "provider": self.provider,
            "upstream_model": self.upstream_model,
            "mode": self.mode,
            "status": self.status,
            "http_status": self.http_status,
            "error_type": self.error_type,
            "stream": self.stream,
            "unit_kind": self.unit_kind,
            "price_basis": self.price_basis,
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
            "meters": _meters_text(self.meters),
        }

    def to_json_dict(self) -> dict[str, Any]:
        """A plain-JSON form (journal and spill files); ``from_json_dict`` reads it back."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self.__slots__}
        out["created_at"] = self.created_at.isoformat()
        return out

    @classmethod
    def from_json_dict(cls, raw: dict[str, Any]) -> LedgerEntry:
        data = dict(raw)
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        known = set(cls.__slots__)
        return cls(**{k: v for k, v in data.items() if k in known})


def _meters_text(meters: dict[str, int] | None) -> str | None:
    if not meters:
        return None
    return "{" + ",".join(f'"{k}":{int(v)}' for k, v in sorted(meters.items())) + "}"
