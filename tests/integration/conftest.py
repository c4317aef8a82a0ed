"""Integration fixtures: the gateway as a real server on a port, upstream simulators, real databases.

Every test module here runs against SQLite and against PostgreSQL (a fresh database per run).
Under CI=true a missing PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import create_engine, select, text

from aigateway.simulators.server import SimulatorServer
from aigateway.storage.db import normalise_url
from aigateway.storage.schema import ledger
from tests.integration.models_images import IMAGE_MODELS
from tests.integration.models_ml import ML_MODELS, ml_providers
from tests.integration.models_native import ANTHROPIC_MODELS, GEMINI_MODELS
from tests.integration.models_stt import STT_MODELS
from tests.integration.models_tts import TTS_MODELS
from tests.integration.models_vectors import EMBEDDING_MODELS, RERANK_MODELS, vector_providers

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "tests" / "fixtures" / "provider-recordings"
PG_ADMIN_URL = os.environ.get("AIGATEWAY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_KEY = "sk-aig-" + "integration" + "A" * 24
UPSTREAM_KEY = "sk-upstream-secret-key-0123456789abcdef"
MISSING_KEY_ENV = "AIG_TEST_KEY_THAT_IS_NOT_SET"
# How long a gateway may take to answer /health after it was started (a busy CI machine is slow).
START_TIMEOUT_S = float(os.environ.get("AIGATEWAY_TEST_START_TIMEOUT_S", "180"))
# How long a stopped gateway may take to drain (uvicorn's graceful shutdown is 30 s) before a kill.
STOP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the upstream simulator --------------------------------------------------------------------
@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(RECORDINGS).start()
    try:
        yield server
    finally:
        server.stop()


# -- databases ---------------------------------------------------------------------------------
def _postgres_database() -> tuple[str, str]:
    name = "aig_test_" + secrets.token_hex(6)
    try:
        engine = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def _drop_postgres(name: str) -> None:
    engine = create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database URL for a fresh, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "gateway.db"
        yield f"sqlite:///{path}"
        return
    name, url = _postgres_database()
    try:
        yield url
    finally:
        _drop_postgres(name)


# -- the gateway -------------------------------------------------------------------------------
SIM_MODELS: list[dict[str, Any]] = [
    # A capable model served by the simulator's synthesizer; faults are injected per upstream name.
    {
        "id": "sim/gpt",
        "capabilities": ["tools", "parallel_tools", "vision", "json_mode", "json_schema", "reasoning"],
        "context_window": 128000,
        "max_output_tokens": 16384,
        "pricing": {"input_per_mtok": "2.5", "output_per_mtok": "10", "cached_input_per_mtok": "1.25"},
        "deployments": [{"provider": "sim", "upstream_model": "sim-gpt"}],
    },
    {
        "id": "sim/text-only",
        "capabilities": [],
        "pricing": {"input_per_mtok": "0.1", "output_per_mtok": "0.2"},
        "deployments": [{"provider": "sim", "upstream_model": "sim-text-only"}],
    },
    {
        "id": "sim/unconfigured",
        "pricing": {"input_per_mtok": "1", "output_per_mtok": "1"},
        "deployments": [{"provider": "nokey", "upstream_model": "whatever"}],
    },
    {
        "id": "sim/refused",
        "pricing": {"input_per_mtok": "1", "output_per_mtok": "1"},
        "deployments": [{"provider": "closed", "upstream_model": "whatever"}],
    },
    {
        "id": "sim/slow",
        "pricing": {"input_per_mtok": "1", "output_per_mtok": "1"},
        "deployments": [{"provider": "impatient", "upstream_model": "sim-slow"}],
    },
]
# One model per fault so concurrent tests never share a fault queue.
FAULT_MODELS = (
    "e429",
    "e500",
    "e503",
    "e400",
    "reset",
    "cut",
    "slowchunks",
    "scrub",
    "hang",
    "midstream",
    "badshape",
    "e503ra",
)
for _name in FAULT_MODELS:
    SIM_MODELS.append(
        {
            "id": f"sim/{_name}",
            "capabilities": ["tools"],
            "pricing": {"input_per_mtok": "2", "output_per_mtok": "8"},
            "deployments": [{"provider": "sim", "upstream_model": f"fault-{_name}"}],
        }
    )
# Real recorded traffic replayed by the simulator (model "rec:<provider>/<file>").
RECORDED = {
    "openai-basic": "openai/chat-basic",
    "openai-tools": "openai/chat-tools",
    "openai-tools-parallel": "openai/chat-tools-parallel",
    "openai-stream-usage": "openai/chat-stream-include-usage",
    "openai-stream-no-usage": "openai/chat-stream-no-usage",
    "openai-tools-stream": "openai/chat-tools-stream",
    "openai-json-schema": "openai/chat-json-schema",
    "openai-reasoning": "openai/chat-reasoning-gpt5-nano",
    "openai-vision": "openai/chat-vision-base64-image",
    "deepseek-reasoning": "deepseek/chat-reasoning-content",
    "deepseek-stream-reasoning": "deepseek/chat-stream-reasoning-content",
    "groq-stream": "groq/chat-stream",
    "mistral-stream": "mistral/chat-stream",
    "openrouter-stream-reasoning": "openrouter/chat-stream-reasoning",
    "groq-json-reasoning": "groq/chat-json-schema-reasoning",
    "cerebras-reasoning": "cerebras/chat-reasoning",
    "mistral-magistral": "mistral/chat-thinking-magistral",
    "openai-400-param": "openai/error-400-unsupported-value",
}
for _slug, _rec in RECORDED.items():
    SIM_MODELS.append(
        {
            "id": f"rec/{_slug}",
            "capabilities": ["tools", "parallel_tools", "vision", "json_mode", "json_schema", "reasoning"],
            "pricing": {"input_per_mtok": "3", "output_per_mtok": "15", "cached_input_per_mtok": "0.3"},
            "deployments": [{"provider": "sim", "upstream_model": f"rec:{_rec}"}],
        }
    )


SIM_MODELS.extend(ANTHROPIC_MODELS)
SIM_MODELS.extend(GEMINI_MODELS)
SIM_MODELS.extend(EMBEDDING_MODELS)
SIM_MODELS.extend(RERANK_MODELS)
SIM_MODELS.extend(STT_MODELS)
SIM_MODELS.extend(TTS_MODELS)
SIM_MODELS.extend(IMAGE_MODELS)
SIM_MODELS.extend(ML_MODELS)


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_config(path: Path, sim_url: str, closed_port: int) -> None:
    lines = [
        "[providers.sim]",
        f'base_url = "{sim_url}/v1"',
        'api_key_env = "SIM_UPSTREAM_KEY"',
        "[providers.nokey]",
        f'base_url = "{sim_url}/v1"',
        f'api_key_env = "{MISSING_KEY_ENV}"',
        "[providers.closed]",
        f'base_url = "http://127.0.0.1:{closed_port}/v1"',
        'api_key = "sk-closed-port"',
        "[providers.impatient]",
        f'base_url = "{sim_url}/v1"',
        'api_key_env = "SIM_UPSTREAM_KEY"',
        "timeout_s = 1.0",
        "",
        *vector_providers(sim_url),
        *ml_providers(sim_url),
    ]
    for model in SIM_MODELS:
        lines.append("[[models]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in model.items())
        lines.append("")
    path.write_text("\n".join(lines))


@dataclass
class Gateway:
    url: str
    db_url: str
    admin_key: str
    test_key: str
    workdir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    simulator: SimulatorServer
    engine: Any = field(default=None)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def client(self, key: str | None = None, **kw: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=key or self.admin_key, max_retries=0, **kw)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "aigateway", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
        if result.returncode != 0:
            raise AssertionError(f"aigateway {' '.join(args)} failed: {result.stderr}\n{result.stdout}")
        return result.stdout

    def ledger_row(self, request_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """The ledger row a request left (the gateway writes rows off the response path).

        Returns as soon as the row is there; ``timeout`` only bounds how long a missing row is
        waited for, so it is generous for a busy machine.
        """
        if self.engine is None:
            self.engine = create_engine(normalise_url(self.db_url))
        deadline = time.monotonic() + timeout
        delays = _backoff(first=0.02, longest=0.25)
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(select(ledger).where(ledger.c.request_id == request_id)).mappings().all()
            if rows:
                assert len(rows) == 1, f"{len(rows)} ledger rows for {request_id}"
                return dict(rows[0])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no ledger row for {request_id} after {timeout:g} s")
            time.sleep(min(next(delays), remaining))

    def ledger_count(self, **where: Any) -> int:
        if self.engine is None:
            self.engine = create_engine(normalise_url(self.db_url))
        query = select(ledger.c.id)
        for key, value in where.items():
            query = query.where(ledger.c[key] == value)
        with self.engine.connect() as conn:
            return len(conn.execute(query).all())

    def new_account(self, name: str, usd: str | None = None) -> tuple[str, str]:
        """A fresh account (optionally funded) and a live key for it."""
        account_id = self.cli("accounts", "create", "--name", name).strip().splitlines()[-1]
        if usd is not None:
            self.cli("balance", "add", "--account", account_id, "--usd", usd)
        _key_id, key = self.new_key(account_id, name)
        return account_id, key

    def new_key(self, account_id: str, name: str = "key", *, test: bool = False) -> tuple[str, str]:
        """(key id, plain key) of a new key: ``keys create`` prints the id first and the key last."""
        args = ["keys", "create", "--account", account_id, "--name", name] + (["--test"] if test else [])
        lines = self.cli(*args).strip().splitlines()
        return lines[0].split()[0], lines[-1]


def _backoff(first: float = 0.05, longest: float = 1.0, factor: float = 1.5) -> Iterator[float]:
    """Delays between polls: quick at first, then no more often than every ``longest`` seconds."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, longest)


def _log_text(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else "(no log)"


def wait_until_healthy(
    process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = START_TIMEOUT_S
) -> None:
    """Poll ``GET {url}/health`` until it answers 200.

    Fails at once when the process exits, and after ``timeout`` seconds otherwise (the process
    is then stopped); either way the server's log is in the error.
    """
    deadline = time.monotonic() + timeout
    delays = _backoff()
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"gateway exited with status {process.returncode} before it was ready:\n{_log_text(log)}"
            )
        remaining = deadline - time.monotonic()
        try:
            if httpx.get(url + "/health", timeout=max(1.0, min(10.0, remaining))).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            stop_process(process)
            raise RuntimeError(
                f"gateway did not answer {url}/health within {timeout:g} s "
                f"(AIGATEWAY_TEST_START_TIMEOUT_S):\n{_log_text(log)}"
            )
        time.sleep(min(next(delays), remaining))


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM, wait up to ``timeout`` seconds for a graceful exit, then SIGKILL (and reap)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def start_gateway(
    workdir: Path,
    db_url: str,
    simulator: SimulatorServer,
    extra_env: dict[str, str] | None = None,
    test_key: str | None = None,
) -> Gateway:
    """A gateway process on ``db_url``; ``test_key`` for a database that is already bootstrapped."""
    port = free_port()
    config = workdir / "aigateway.toml"
    write_config(config, simulator.url, free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIGATEWAY_", "OPENAI_"))}
    env.update(
        {
            "AIGATEWAY_PORT": str(port),
            "AIGATEWAY_DATABASE_URL": db_url,
            "AIGATEWAY_DATA_DIR": str(workdir / "data"),
            "AIGATEWAY_CONFIG": str(config),
            "AIGATEWAY_ADMIN_KEY": ADMIN_KEY,
            "AIGATEWAY_BALANCE_REFRESH_S": "0.2",
            "AIGATEWAY_KEY_CACHE_TTL_S": "0.5",
            "AIGATEWAY_MAX_BODY_BYTES": str(2 * 1024 * 1024),
            "SIM_UPSTREAM_KEY": UPSTREAM_KEY,
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "AIGATEWAY_OPENAI_BASE_URL": simulator.url + "/v1",
            # The native wires: the simulator answers Anthropic at /v1/messages and Gemini at
            # /v1beta/models/{model}:generateContent, like the real APIs.
            "ANTHROPIC_API_KEY": UPSTREAM_KEY,
            "AIGATEWAY_ANTHROPIC_BASE_URL": simulator.url + "/v1",
            "GEMINI_API_KEY": UPSTREAM_KEY,
            "AIGATEWAY_GOOGLE_BASE_URL": simulator.url + "/v1beta",
            **(extra_env or {}),
        }
    )
    env.pop(MISSING_KEY_ENV, None)
    log_path = workdir / "gateway.log"
    with log_path.open("wb") as log:  # the child keeps its own handle
        process = subprocess.Popen(
            [sys.executable, "-m", "aigateway", "serve"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, url, log_path)
    output = _log_text(log_path)
    test_key = test_key or next((w for w in output.split() if w.startswith("sk-aig-test-")), None)
    if test_key is None:
        stop_process(process)
        raise RuntimeError(f"gateway printed no test-mode key on first start:\n{output}")
    return Gateway(url, db_url, ADMIN_KEY, test_key, workdir, env, process, simulator)


def stop_gateway(gateway: Gateway) -> None:
    try:
        stop_process(gateway.process)
    finally:
        if gateway.engine is not None:
            gateway.engine.dispose()


@pytest.fixture(scope="session")
def gateway(
    backend: str, simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("gateway")
    gw = start_gateway(workdir, backend, simulator)
    gw.cli("balance", "add", "--usd", "100")
    try:
        yield gw
    finally:
        stop_gateway(gw)
        shutil.rmtree(workdir / "data", ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of each kind, for storage contract tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    name, url = _postgres_database()
    try:
        yield url
    finally:
        _drop_postgres(name)
