"""The upstream simulator app, its admin endpoints, and a threaded server handle for tests.

Wires are pluggable: each wire module exposes `register(app)` adding its routes; list it in `WIRES`.
Routes (any path prefix is accepted, so several "vendors" can point at one simulator):

* chat: `POST .../chat/completions`, `GET .../models` (openai_wire); `POST .../messages`
  (anthropic_wire); `POST .../models/{model}:generateContent` / `:streamGenerateContent` (gemini_wire).
* embeddings: `POST .../embeddings` (OpenAI; Voyage under a prefix containing "voyage", Jina under
  one containing "jina"), `POST .../v2/embed` (Cohere) (embeddings_wire);
  `POST .../models/{model}:batchEmbedContents` / `:embedContent` (gemini_wire).
* rerank: `POST .../rerank` (Cohere for `.../v2/rerank` or a prefix containing "cohere", Jina for a
  prefix containing "jina", else Voyage), `POST .../ai/run/{model}` (Cloudflare Workers AI) (rerank_wire).

Everywhere a model `rec:<recording key>` replays that recording byte for byte, and faults and the
request log apply per model. Admin endpoints (`/_sim/...`) are wire-independent:

* `POST /_sim/faults` `{"model": M, "faults": [F, ...], "sticky": false}`; `GET` shows the queues;
  `DELETE` clears them (all, or `?model=M`).
* `GET /_sim/requests?model=M` lists the request log (oldest first); `DELETE` clears it.
* `GET /_sim/health` -> `{"ok": true}`; `GET /_sim/recordings` lists the recording keys.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web

from aigateway.simulators import (
    anthropic_wire,
    embeddings_wire,
    gemini_wire,
    images_wire,
    openai_wire,
    rerank_wire,
)
from aigateway.simulators.audio_wire import register as register_transcriptions
from aigateway.simulators.audio_wire import register_speech
from aigateway.simulators.faults import FaultError, parse_faults
from aigateway.simulators.ml_wire import register as register_ml
from aigateway.simulators.recordings import load_recordings
from aigateway.simulators.state import STATE_KEY, SimulatorState

WIRES: tuple[Callable[[web.Application], None], ...] = (
    register_ml,  # first: its Cloudflare task models and Llama Guard chat come before the general routes
    images_wire.register,  # before gemini_wire: its models/{target} would take Imagen's :predict
    openai_wire.register,
    anthropic_wire.register,
    gemini_wire.register,
    rerank_wire.register,
    embeddings_wire.register,
    register_speech,
    register_transcriptions,
)
MAX_BODY_BYTES = 64 * 1024 * 1024
SHUTDOWN_TIMEOUT = 2.0


def default_recordings_dir() -> Path | None:
    """The project's tests/fixtures/provider-recordings when running from a checkout, else None."""
    candidate = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "provider-recordings"
    return candidate if candidate.is_dir() else None


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


async def _add_faults(request: web.Request) -> web.Response:
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return _json({"error": "body must be JSON"}, 400)
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, str) or not model:
        return _json({"error": "'model' (the model name the upstream receives) is required"}, 400)
    try:
        faults = parse_faults(data.get("faults", []))
    except FaultError as exc:
        return _json({"error": str(exc)}, 400)
    sticky = data.get("sticky") is True
    request.app[STATE_KEY].faults.add(model, faults, sticky=sticky)
    return _json({"ok": True, "model": model, "added": len(faults), "sticky": sticky})


async def _list_faults(request: web.Request) -> web.Response:
    return _json(request.app[STATE_KEY].faults.snapshot())


async def _clear_faults(request: web.Request) -> web.Response:
    request.app[STATE_KEY].faults.clear(request.query.get("model"))
    return _json({"ok": True})


async def _list_requests(request: web.Request) -> web.Response:
    return _json(request.app[STATE_KEY].log.list(request.query.get("model")))


async def _clear_requests(request: web.Request) -> web.Response:
    request.app[STATE_KEY].log.clear()
    return _json({"ok": True})


async def _health(request: web.Request) -> web.Response:
    return _json({"ok": True})


async def _list_recordings(request: web.Request) -> web.Response:
    recordings = request.app[STATE_KEY].recordings
    return _json({key: {"status": r.status, "content_type": r.content_type} for key, r in recordings.items()})


async def _on_shutdown(app: web.Application) -> None:
    app[STATE_KEY].closing.set()  # wakes "hang" faults so shutdown is quick


def create_simulator_app(recordings_dir: Path | None = None) -> web.Application:
    """Build the simulator. `recordings_dir` defaults to the project's provider recordings if present."""
    directory = recordings_dir if recordings_dir is not None else default_recordings_dir()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = SimulatorState(recordings=load_recordings(directory))
    router = app.router
    router.add_post("/_sim/faults", _add_faults)
    router.add_get("/_sim/faults", _list_faults)
    router.add_delete("/_sim/faults", _clear_faults)
    router.add_get("/_sim/requests", _list_requests)
    router.add_delete("/_sim/requests", _clear_requests)
    router.add_get("/_sim/health", _health)
    router.add_get("/_sim/recordings", _list_recordings)
    for register in WIRES:
        register(app)
    app.on_shutdown.append(_on_shutdown)
    return app


def make_runner(app: web.Application) -> web.AppRunner:
    """An AppRunner that cancels handlers whose client went away (needed for disconnect detection)."""
    return web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)


class SimulatorServer:
    """Runs the simulator on a background thread with its own event loop (for pytest).

    >>> with SimulatorServer() as sim:  # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=f"{sim.url}/v1", api_key="test")
    """

    def __init__(self, recordings_dir: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.recordings_dir = recordings_dir
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._state: SimulatorState | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> SimulatorState:
        if self._state is None:
            raise RuntimeError("simulator is not running")
        return self._state

    def start(self) -> SimulatorServer:
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="aigateway-simulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"simulator failed to start: {self._error}") from self._error
        return self

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self._setup())
            except BaseException as exc:
                self._error = exc
                return
            finally:
                ready.set()
            loop.run_forever()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    async def _setup(self) -> None:
        app = create_simulator_app(self.recordings_dir)
        self._state = app[STATE_KEY]
        runner = make_runner(app)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        address = runner.addresses[0]
        self.port = int(address[1])

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop)
            future.result(timeout=SHUTDOWN_TIMEOUT + 10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Conveniences that skip the HTTP admin API (thread-safe: the queue and log are locked).
    def add_faults(self, model: str, faults: list[dict[str, Any]], *, sticky: bool = False) -> None:
        self.state.faults.add(model, parse_faults(faults), sticky=sticky)

    def clear_faults(self, model: str | None = None) -> None:
        self.state.faults.clear(model)

    def requests(self, model: str | None = None) -> list[dict[str, Any]]:
        return self.state.log.list(model)

    def clear_requests(self) -> None:
        self.state.log.clear()
