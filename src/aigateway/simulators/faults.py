"""Fault model of the upstream simulator and the per-model fault queue.

A fault is registered for the model name the upstream receives, so concurrent tests that use
different model names never see each other's faults. Each request pops at most one fault.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

LATENCY = "latency"
STATUS = "status"
RESET = "reset"
CUT = "cut"
SLOW_CHUNKS = "slow_chunks"
HANG = "hang"
FAULT_KINDS = frozenset({LATENCY, STATUS, RESET, CUT, SLOW_CHUNKS, HANG})


class FaultError(ValueError):
    """A fault description that cannot be understood."""


def _number(data: dict[str, Any], key: str, default: float = 0.0) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"fault field {key!r} must be a non-negative number")
    return float(value)


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected misbehaviour.

    JSON shapes (every kind may also carry `latency_ms`, a delay before the fault itself):
    `{"kind": "latency", "ms": 200}`, `{"kind": "status", "status": 429, "retry_after": "3", "body": {...}}`,
    `{"kind": "reset"}`, `{"kind": "cut", "after_chunks": 3}`, `{"kind": "slow_chunks", "ms": 100}`,
    `{"kind": "hang"}`.
    """

    kind: str
    ms: float = 0.0
    latency_ms: float = 0.0
    status: int = 500
    retry_after: str | None = None
    body: Any = None
    after_chunks: int = 0

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise FaultError("a fault must be a JSON object")
        kind = data.get("kind")
        if kind not in FAULT_KINDS:
            raise FaultError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        status = data.get("status", 500)
        if kind == STATUS and (
            isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
        ):
            raise FaultError("fault field 'status' must be an HTTP status code")
        retry_after = data.get("retry_after")
        after_chunks = data.get("after_chunks", 0)
        if isinstance(after_chunks, bool) or not isinstance(after_chunks, int) or after_chunks < 0:
            raise FaultError("fault field 'after_chunks' must be a non-negative integer")
        return cls(
            kind=kind,
            ms=_number(data, "ms"),
            latency_ms=_number(data, "latency_ms"),
            status=status if kind == STATUS else 500,
            retry_after=None if retry_after is None else str(retry_after),
            body=data.get("body"),
            after_chunks=after_chunks,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def delay_before(self) -> float:
        """Seconds to wait before answering (or before misbehaving)."""
        return ((self.ms if self.kind == LATENCY else 0.0) + self.latency_ms) / 1000.0

    @property
    def chunk_delay(self) -> float:
        """Seconds to wait between stream chunks."""
        return self.ms / 1000.0 if self.kind == SLOW_CHUNKS else 0.0


def parse_faults(items: Any) -> list[Fault]:
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise FaultError("'faults' must be a list of fault objects")
    return [Fault.from_json(item) for item in items]


class FaultQueue:
    """Per-model queues. One-shot faults are popped in order; sticky ones repeat (round-robin)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, deque[Fault]] = {}
        self._sticky: dict[str, deque[Fault]] = {}

    def add(self, model: str, faults: Iterable[Fault], *, sticky: bool = False) -> None:
        with self._lock:
            target = self._sticky if sticky else self._queued
            target.setdefault(model, deque()).extend(faults)

    def pop(self, model: str | None) -> Fault | None:
        if model is None or (not self._queued and not self._sticky):
            return None
        with self._lock:
            queue = self._queued.get(model)
            if queue:
                fault = queue.popleft()
                if not queue:
                    del self._queued[model]
                return fault
            sticky = self._sticky.get(model)
            if sticky:
                fault = sticky[0]
                sticky.rotate(-1)
                return fault
            return None

    def clear(self, model: str | None = None) -> None:
        with self._lock:
            if model is None:
                self._queued.clear()
                self._sticky.clear()
            else:
                self._queued.pop(model, None)
                self._sticky.pop(model, None)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "queued": {m: [f.to_json() for f in q] for m, q in self._queued.items()},
                "sticky": {m: [f.to_json() for f in q] for m, q in self._sticky.items()},
            }
