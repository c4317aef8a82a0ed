"""Starting and stopping what the benchmark measures: the nginx upstream, the gateway and LiteLLM.

Every process runs in its own process group, so all of it can be stopped; readiness is polled over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from common import (
    ADMIN_KEY,
    BENCH_DIR,
    DIRECT,
    GATEWAY,
    GATEWAY_ANTHROPIC,
    GATEWAY_BASELINE,
    LITELLM,
    LITELLM_KEY,
    UPSTREAM_PORT,
    WALLET_CREDIT_USD,
    StartupError,
    Target,
)

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Procs:
    """Every process the benchmark starts, each in its own process group, so all of it can be stopped."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"  (pid {proc.pid} did not stop within {timeout:.0f}s: killing it)")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group (e.g. nginx workers)
        proc.wait()
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            self.stop(proc)


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return True
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def http_ok(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes | None:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _NO_PROXY.open(request, timeout=3) as response:
            return response.read() if response.status == 200 else None
    except OSError:
        return None


def wait_ready(
    name: str, proc: subprocess.Popen[bytes], log: Path, probe: Callable[[], object], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartupError(f"{name} exited with status {proc.returncode}:\n{tail(log)}")
        if probe():
            return
        time.sleep(0.2)
    raise StartupError(f"{name} not ready after {timeout:.0f}s:\n{tail(log)}")


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- the upstream -------------------------------------------------------------------------------------------


def find_nginx() -> str | None:
    found = shutil.which("nginx")  # /usr/sbin is not on every user's PATH
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def render_nginx_conf(tmp: Path) -> Path:
    text = (BENCH_DIR / "nginx-upstream.conf").read_text()
    text, pids = re.subn(r"(?m)^pid .*;$", f"pid {tmp / 'nginx.pid'};", text)
    text, logs = re.subn(r"(?m)^error_log .*;$", f"error_log {tmp / 'nginx-error.log'} warn;", text)
    if pids != 1 or logs != 1:
        raise StartupError("bench/nginx-upstream.conf: expected one `pid` and one `error_log` line")
    conf = tmp / "nginx.conf"
    conf.write_text(text)
    return conf


def start_nginx(nginx: str, tmp: Path, procs: Procs) -> subprocess.Popen[bytes]:
    conf = render_nginx_conf(tmp)
    log = tmp / "nginx.out"
    argv = [nginx, "-p", f"{tmp}/", "-e", str(tmp / "nginx-error.log"), "-c", str(conf)]
    proc = procs.start(argv, env=dict(os.environ), cwd=tmp, log=log)
    url = f"http://127.0.0.1:{UPSTREAM_PORT}/json/v1/chat/completions"
    wait_ready("nginx", proc, tmp / "nginx-error.log", lambda: http_ok(url, data=b"{}") is not None, 15)
    return proc


def direct_target() -> Target:
    return Target(
        name=DIRECT,
        base_url=f"http://127.0.0.1:{UPSTREAM_PORT}",
        paths={
            "non-stream": "/json/v1/chat/completions",
            "stream": "/sse/v1/chat/completions",
            "embeddings": "/json/v1/embeddings",
        },
        models={"non-stream": "gpt-bench", "stream": "gpt-bench-stream", "embeddings": "embed-bench"},
        key="sk-upstream",
    )


# -- the gateway --------------------------------------------------------------------------------------------


def gateway_env(home: Path, src: Path | None = None) -> dict[str, str]:
    """The gateway's environment: its config, admin key and data directory under `home`.

    With `src` (a source tree's `src` directory) the gateway imports the `aigateway` package from there:
    PYTHONPATH comes before the venv's editable-install path. Without it, any PYTHONPATH is dropped.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIGATEWAY_")}  # no caller overrides
    env.pop("PYTHONPATH", None)
    env.update(
        AIGATEWAY_CONFIG=str(home / "gateway.toml"),
        AIGATEWAY_ADMIN_KEY=ADMIN_KEY,
        AIGATEWAY_DATA_DIR=str(home / "data"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def aigateway_module(env: dict[str, str], cwd: Path) -> str:
    """`aigateway.__file__` as `python -m aigateway` would import it with `env` in `cwd`."""
    probe = subprocess.run(
        [sys.executable, "-c", "import aigateway; print(aigateway.__file__)"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        raise StartupError(
            f"{sys.executable} cannot import aigateway: run this with the project's venv python "
            f"(pip install -e .):\n{probe.stderr}"
        )
    return probe.stdout.strip()


def git_commit(src: Path) -> str | None:
    try:
        found = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if found.returncode != 0:
        return None
    return found.stdout.strip() or None


def start_gateway(
    port: int, home: Path, procs: Procs, src: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m aigateway serve --workers 1` with its own config, data and wallet under `home`.

    Returns the process and the `aigateway.__file__` it imports (checked to lie under `src` if given).
    """
    env, cwd = gateway_env(home, src), home / "gateway"
    cwd.mkdir(parents=True)
    module = aigateway_module(env, cwd)
    if src is not None and not Path(module).resolve().is_relative_to(src.resolve()):
        raise StartupError(f"PYTHONPATH={src} still imports aigateway from {module}")
    print(f"\n  gateway on port {port} imports {module}", flush=True)
    shutil.copyfile(BENCH_DIR / "gateway.toml", home / "gateway.toml")
    cli = [sys.executable, "-m", "aigateway"]
    credit = subprocess.run(
        [*cli, "balance", "add", "--usd", str(WALLET_CREDIT_USD)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if credit.returncode != 0:
        raise StartupError(f"`aigateway balance add` failed:\n{credit.stdout}{credit.stderr}")
    log = home / "gateway.log"
    argv = [*cli, "serve", "--port", str(port), "--workers", "1"]
    proc = procs.start(argv, env=env, cwd=cwd, log=log)
    health = f"http://127.0.0.1:{port}/health"
    wait_ready(f"aigateway serve (port {port})", proc, log, lambda: _health_ok(health), 60)
    return proc, module


def _health_ok(url: str) -> bool:
    body = http_ok(url)
    try:
        return body is not None and json.loads(body).get("status") == "ok"
    except ValueError:
        return False


def gateway_target(port: int) -> Target:
    """The OpenAI-wire run: models whose upstream speaks OpenAI chat (relayed, not translated), and an
    embedding model on the same OpenAI-compatible provider."""
    return Target(
        name=GATEWAY,
        base_url=f"http://127.0.0.1:{port}",
        paths={
            "non-stream": "/v1/chat/completions",
            "stream": "/v1/chat/completions",
            "embeddings": "/v1/embeddings",
        },
        models={
            "non-stream": "bench/gpt-bench",
            "stream": "bench/gpt-bench-stream",
            "embeddings": "bench/embed-bench",
        },
        key=ADMIN_KEY,
    )


def baseline_target(port: int) -> Target:
    """The --baseline-src gateway on the OpenAI wire: chat only (older code may have no embeddings route)."""
    return Target(
        name=GATEWAY_BASELINE,
        base_url=f"http://127.0.0.1:{port}",
        paths={"non-stream": "/v1/chat/completions", "stream": "/v1/chat/completions"},
        models={"non-stream": "bench/gpt-bench", "stream": "bench/gpt-bench-stream"},
        key=ADMIN_KEY,
    )


def anthropic_target(port: int) -> Target:
    """The Anthropic-wire run: same client requests, to models whose upstream speaks Anthropic Messages."""
    return Target(
        name=GATEWAY_ANTHROPIC,
        base_url=f"http://127.0.0.1:{port}",
        paths={"non-stream": "/v1/chat/completions", "stream": "/v1/chat/completions"},
        models={"non-stream": "bench/claude-bench", "stream": "bench/claude-bench-stream"},
        key=ADMIN_KEY,
    )


# -- LiteLLM ------------------------------------------------------------------------------------------------


def ensure_litellm() -> Path | None:
    venv = BENCH_DIR / ".venv-litellm"
    exe = venv / "bin" / "litellm"
    if exe.exists():
        return exe
    print("\n== installing LiteLLM into bench/.venv-litellm (once) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        (venv / ".gitignore").write_text("*\n")
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "litellm[proxy]"]
        subprocess.run(pip, check=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"\n!! LiteLLM could not be installed ({exc}): skipping the LiteLLM target.", flush=True)
        return None
    if not exe.exists():
        print(f"\n!! {exe} missing after install: skipping the LiteLLM target.", flush=True)
        return None
    return exe


def start_litellm(exe: Path, port: int, tmp: Path, procs: Procs) -> subprocess.Popen[bytes] | None:
    """A LiteLLM proxy (one worker, no database) on `port`, or None (already reported) if it did not start."""
    cwd, log = tmp / "litellm", tmp / "litellm.log"
    cwd.mkdir()
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": LITELLM_KEY,
        "LITELLM_LOG": "ERROR",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    argv = [
        str(exe),
        "--config",
        str(BENCH_DIR / "litellm.yaml"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        "1",
    ]
    proc = procs.start(argv, env=env, cwd=cwd, log=log)
    live = f"http://127.0.0.1:{port}/health/liveliness"
    try:
        wait_ready("LiteLLM", proc, log, lambda: http_ok(live) is not None, 300)
    except StartupError as exc:
        print(f"\n!! {exc}\n!! skipping the LiteLLM target", flush=True)
        procs.stop(proc)
        return None
    return proc


def litellm_target(port: int) -> Target:
    return Target(
        name=LITELLM,
        base_url=f"http://127.0.0.1:{port}",
        paths={"non-stream": "/v1/chat/completions", "stream": "/v1/chat/completions"},
        models={"non-stream": "gpt-bench", "stream": "gpt-bench-stream"},
        key=LITELLM_KEY,
    )
