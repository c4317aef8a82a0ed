"""Shared state of one simulator app: recordings, fault queue, request log, response cache."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from aiohttp import web

from aigateway.simulators.faults import FaultQueue
from aigateway.simulators.recordings import Recording

LOG_LIMIT = 10_000
CACHE_SIZE = 1_000
_BODY_TEXT_LIMIT = 10_000

PENDING = "pending"
COMPLETED = "completed"
CLIENT_DISCONNECTED = "client_disconnected"
ABORTED = "aborted"  # the simulator closed the connection on purpose (reset / cut faults)


@dataclass(slots=True)
class RequestRecord:
    """One request the simulator received, and what happened to its response."""

    seq: int
    wire: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    body_text: str | None
    model: str | None
    time: float
    stream: bool = False
    status: int | None = None
    outcome: str = PENDING
    client_disconnected: bool = False
    chunks_sent: int = 0
    fault: dict[str, Any] | None = None
    duration_ms: float | None = None
    _started: float = field(default_factory=perf_counter, repr=False)

    def finish(self, outcome: str, *, override_completed: bool = False) -> None:
        """Set the outcome once; a failed final write may still turn "completed" into a disconnect."""
        if self.outcome != PENDING and not (override_completed and self.outcome == COMPLETED):
            return
        self.outcome = outcome
        self.client_disconnected = outcome == CLIENT_DISCONNECTED
        self.duration_ms = round((perf_counter() - self._started) * 1000.0, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "wire": self.wire,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "body_text": self.body_text,
            "model": self.model,
            "time": self.time,
            "stream": self.stream,
            "status": self.status,
            "outcome": self.outcome,
            "client_disconnected": self.client_disconnected,
            "chunks_sent": self.chunks_sent,
            "fault": self.fault,
            "duration_ms": self.duration_ms,
        }


class RequestLog:
    """The last `limit` requests, oldest first."""

    def __init__(self, limit: int = LOG_LIMIT) -> None:
        self._lock = threading.Lock()
        self._items: deque[RequestRecord] = deque(maxlen=limit)
        self._seq = 0

    def add(
        self, request: web.BaseRequest, *, wire: str, body: Any, raw: bytes, model: str | None
    ) -> RequestRecord:
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = str(name)  # aiohttp gives `istr` keys; keep plain str for JSON encoders
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        body_text = None
        if body is None and raw:
            body_text = raw[:_BODY_TEXT_LIMIT].decode("utf-8", errors="replace")
        with self._lock:
            self._seq += 1
            record = RequestRecord(
                seq=self._seq,
                wire=wire,
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers=headers,
                body=body,
                body_text=body_text,
                model=model,
                time=time.time(),
            )
            self._items.append(record)
        return record

    def list(self, model: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._items)
        return [r.to_json() for r in items if model is None or r.model == model]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class ResponseCache:
    """A small LRU of synthesized response bytes, keyed by a hash of the request body."""

    def __init__(self, maxsize: int = CACHE_SIZE) -> None:
        self._maxsize = maxsize
        self._items: OrderedDict[bytes, Any] = OrderedDict()

    def get(self, key: bytes) -> Any:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: bytes, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class SimulatorState:
    recordings: dict[str, Recording]
    faults: FaultQueue = field(default_factory=FaultQueue)
    log: RequestLog = field(default_factory=RequestLog)
    cache: ResponseCache = field(default_factory=ResponseCache)
    closing: asyncio.Event = field(default_factory=asyncio.Event)


STATE_KEY = web.AppKey("aigateway_simulator_state", SimulatorState)
