"""A real HTTP webhook receiver for the tests: records every request, answers as it is told.

It runs in its own thread with its own event loop, so it serves both tests that drive a deliverer
in-process (asyncio.run in the test) and tests against a gateway process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from tests.integration.conftest import free_port


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def delivery_id(self) -> str:
        return self.headers["x-aig-delivery-id"]

    @property
    def attempt(self) -> int:
        return int(self.headers["x-aig-attempt"])


class Receiver:
    """``answer(received) -> status``, or ``stall``: hold requests until released (or closed)."""

    def __init__(self, answer: Callable[[Received], int] | None = None) -> None:
        self.answer = answer or (lambda _r: 200)
        self.received: list[Received] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.stall = False
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._release: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the receiver did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    async def _handle(self, request: web.Request) -> web.Response:
        received = Received({k.lower(): v for k, v in request.headers.items()}, await request.read())
        with self._lock:
            self.received.append(received)
        self.arrived.set()
        if self.stall:
            assert self._release is not None
            await self._release.wait()
        return web.Response(status=self.answer(received))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self._ready.set()
        await self._stop.wait()
        self._release.set()
        await runner.cleanup()
