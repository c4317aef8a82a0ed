"""The README's path: `aigateway serve` on a fresh directory, keys printed once, the SDK works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.integration.conftest import free_port


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIGATEWAY_", "OPENAI_"))}
    env.update({"AIGATEWAY_DATA_DIR": str(tmp / "data"), **extra})
    return env


def _aig(tmp: Path, *args: str, **extra: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "aigateway", *args],
        cwd=tmp,
        env=_env(tmp, **extra),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    return out.stdout


def _serve(tmp: Path, *args: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = tmp / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aigateway", "serve", "--port", str(port), *args],
        cwd=tmp,
        env=_env(tmp),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url, log
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(log.read_text())


@pytest.mark.parametrize("workers", ["1", "2"])
def test_fresh_start_prints_keys_once_and_serves_the_sdk(tmp_path: Path, workers: str) -> None:
    proc, url, log = _serve(tmp_path, "--workers", workers)
    try:
        out = log.read_text()
        admin = re.search(r"admin key:\s+(sk-aig-\S+)", out)
        test = re.search(r"test-mode key:\s+(sk-aig-test-\S+)", out)
        assert admin and test, out
        assert (tmp_path / "data" / "aigateway.db").is_file()
        client = openai.OpenAI(base_url=url + "/v1", api_key=test.group(1), max_retries=0)
        for _ in range(4):  # spread over the workers
            done = client.chat.completions.create(
                model="anthropic/claude-sonnet-4.6", messages=[{"role": "user", "content": "Hello"}]
            )
            assert done.choices[0].message.content
        chunks = list(
            client.chat.completions.create(
                model="openai/gpt-5.4-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        balance = httpx.get(url + "/v1/balance", headers={"Authorization": f"Bearer {admin.group(1)}"}).json()
        assert balance["cents"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # A second start finds the admin account and prints no keys.
    proc, url, log = _serve(tmp_path)
    try:
        assert "admin key" not in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_admin_commands(tmp_path: Path) -> None:
    assert "migrated" in _aig(tmp_path, "migrate")
    account = _aig(tmp_path, "accounts", "create", "--name", "acme").strip()
    assert account.startswith("acct_")
    created = _aig(tmp_path, "keys", "create", "--account", account, "--name", "ci").strip().splitlines()
    key_id, key = created[0].split()[0], created[-1]
    assert key.startswith("sk-aig-") and not key.startswith("sk-aig-test-")
    listing = _aig(tmp_path, "keys", "list", "--account", account)
    assert key_id in listing and key not in listing
    assert "revoked" in _aig(tmp_path, "keys", "revoke", key_id)
    assert "$12.5" in _aig(tmp_path, "balance", "add", "--account", account, "--usd", "12.50")
    assert "$12.5" in _aig(tmp_path, "balance", "show", "--account", account)
    models = _aig(tmp_path, "models", "--provider", "anthropic")
    assert "anthropic/claude-opus-4.7" in models
    bad = subprocess.run(
        [sys.executable, "-m", "aigateway", "balance", "add", "--usd", "ten"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "not an amount" in bad.stderr + bad.stdout
