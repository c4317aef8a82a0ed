"""The README's path: `aigateway serve` on a fresh directory, keys printed once, the SDK works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest

from tests.integration.conftest import START_TIMEOUT_S, free_port, stop_process, wait_until_healthy

# A CLI call is a fresh interpreter: seconds on a busy machine, never minutes.
CLI_TIMEOUT_S = max(120.0, START_TIMEOUT_S)
NO_ACCOUNT = "No account 'acct_doesnotexist'. `aigateway accounts list` shows them."


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIGATEWAY_", "OPENAI_"))}
    env.update({"AIGATEWAY_DATA_DIR": str(tmp / "data"), **extra})
    return env


def _run(tmp: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aigateway", *args],
        cwd=tmp,
        env=_env(tmp, **extra),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )


def _aig(tmp: Path, *args: str, **extra: str) -> str:
    out = _run(tmp, *args, **extra)
    assert out.returncode == 0, out.stderr + out.stdout
    return out.stdout


def _fails(tmp: Path, code: int, *args: str, **extra: str) -> str:
    """Run a command that must fail with ``code`` and no traceback; returns its stderr."""
    out = _run(tmp, *args, **extra)
    where = f"aigateway {' '.join(args)}: exit {out.returncode}\nstderr: {out.stderr}\nstdout: {out.stdout}"
    assert out.returncode == code, where
    assert "Traceback" not in out.stderr + out.stdout, where
    assert out.stderr.strip(), where
    return out.stderr


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _serve(tmp: Path, *args: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aigateway", "serve", "--port", str(port), *args],
            cwd=tmp,
            env=_env(tmp),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(proc, url, log)
    return proc, url, log


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
        stop_process(proc)
    # A second start finds the admin account and prints no keys.
    proc, url, log = _serve(tmp_path)
    try:
        assert "admin key" not in log.read_text()
    finally:
        stop_process(proc)


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
    assert "not an amount" in _fails(tmp_path, 2, "balance", "add", "--usd", "ten")


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "create", "--account", "acct_doesnotexist"),
        ("keys", "create", "--account", "acct_doesnotexist", "--test", "--name", "ci"),
        ("keys", "list", "--account", "acct_doesnotexist"),
        ("balance", "add", "--account", "acct_doesnotexist", "--usd", "5"),
        ("balance", "show", "--account", "acct_doesnotexist"),
    ],
)
def test_unknown_account_is_one_line_and_exit_1(tmp_path: Path, args: tuple[str, ...]) -> None:
    assert _one_line(_fails(tmp_path, 1, *args)) == NO_ACCOUNT


def test_unknown_account_creates_nothing(tmp_path: Path) -> None:
    _fails(tmp_path, 1, "keys", "create", "--account", "acct_doesnotexist")
    _fails(tmp_path, 1, "balance", "add", "--account", "acct_doesnotexist", "--usd", "5")
    assert "acct_" not in _aig(tmp_path, "accounts", "list"), "no account was created on the way"
    assert "key_" not in _aig(tmp_path, "keys", "list")


def test_keys_revoke_unknown_or_revoked_key(tmp_path: Path) -> None:
    line = _one_line(_fails(tmp_path, 1, "keys", "revoke", "key_doesnotexist"))
    assert line == "No key 'key_doesnotexist'. `aigateway keys list` shows them."
    key_id = _aig(tmp_path, "keys", "create", "--name", "once").splitlines()[0].split()[0]
    assert f"revoked {key_id}" in _aig(tmp_path, "keys", "revoke", key_id)
    again = _one_line(_fails(tmp_path, 1, "keys", "revoke", key_id))
    assert again.startswith(f"Key '{key_id}' is already revoked"), again


@pytest.mark.parametrize(
    ("usd", "says"),
    [
        ("ten", "not an amount"),
        ("", "not an amount"),
        ("NaN", "not an amount"),
        ("-inf", "not an amount"),
        ("1,50", "not an amount"),
        ("-5", "more than $0"),
        ("0", "more than $0"),
        ("-0.000", "more than $0"),
        ("0.0000000001", "less than a nano-dollar"),
        ("1e30", "more than a wallet can hold"),
        ("9999999999", "more than a wallet can hold"),
    ],
)
def test_invalid_amounts_are_usage_errors(tmp_path: Path, usd: str, says: str) -> None:
    err = _fails(tmp_path, 2, "balance", "add", "--usd", usd)
    assert says in " ".join(err.replace("│", " ").split()), err
    assert "--usd" in err


def test_refused_debit_leaves_the_balance(tmp_path: Path) -> None:
    assert "$2" in _aig(tmp_path, "balance", "add", "--usd", "2")
    _fails(tmp_path, 2, "balance", "add", "--usd", "-5")
    assert "balance $2" in _aig(tmp_path, "balance", "show")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("accounts", "create", "--name", " "), "must not be empty"),
        (("keys", "create", "--name", ""), "must not be empty"),
        (("balance", "add"), "--usd"),
        (("keys", "revoke"), "key_id"),
        (("serve", "--port", "0"), "--port"),
        (("serve", "--port", "http"), "--port"),
        (("serve", "--workers", "0"), "--workers"),
        (("nosuchcommand",), "nosuchcommand"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    assert says in _fails(tmp_path, 2, *args)


# Every command that touches the database, each with what it needs to get that far.
DB_COMMANDS = [
    ("migrate",),
    ("accounts", "create", "--name", "acme"),
    ("accounts", "list"),
    ("keys", "create"),
    ("keys", "create", "--account", "acct_x"),
    ("keys", "list"),
    ("keys", "revoke", "key_x"),
    ("balance", "add", "--usd", "1"),
    ("balance", "show"),
    ("serve",),
]


@pytest.mark.parametrize("args", DB_COMMANDS, ids=lambda args: "-".join(args[:2]))
def test_unreachable_postgres_is_one_line_and_exit_1(tmp_path: Path, args: tuple[str, ...]) -> None:
    url = f"postgresql://aig:hunter2pw@127.0.0.1:{free_port()}/nowhere"  # nothing listens there
    line = _one_line(_fails(tmp_path, 1, *args, AIGATEWAY_DATABASE_URL=url))
    assert line.startswith("Cannot use the database postgresql"), line
    assert "127.0.0.1" in line and "AIGATEWAY_DATABASE_URL" in line
    assert "hunter2pw" not in line, "the password is not printed"


@pytest.mark.parametrize("args", DB_COMMANDS, ids=lambda args: "-".join(args[:2]))
def test_unusable_sqlite_location_is_one_line_and_exit_1(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    line = _one_line(_fails(tmp_path, 1, *args, AIGATEWAY_DATA_DIR=str(tmp_path / "a-file" / "data")))
    assert "database" in line and "Not a directory" in line, line


@pytest.mark.parametrize(
    ("url", "says"),
    [("not a url at all", "Not a usable database URL"), ("nosuchdb://h/x", "Not a usable database URL")],
)
def test_invalid_database_url(tmp_path: Path, url: str, says: str) -> None:
    for args in (("accounts", "list"), ("migrate",)):
        assert _one_line(_fails(tmp_path, 1, *args, AIGATEWAY_DATABASE_URL=url)).startswith(says)


def test_invalid_settings_and_config(tmp_path: Path) -> None:
    line = _one_line(_fails(tmp_path, 1, "keys", "list", AIGATEWAY_BALANCE_REFRESH_S="soon"))
    assert line.startswith("Invalid settings") and "balance_refresh_s" in line, line
    line = _one_line(_fails(tmp_path, 1, "serve", AIGATEWAY_PORT="70000"))
    assert "70000" in line and "AIGATEWAY_PORT" in line
    assert "not found" in _one_line(_fails(tmp_path, 1, "models", "--config", str(tmp_path / "none.toml")))
    (tmp_path / "broken.toml").write_text("[gateway\nport = 1\n")
    assert "not valid TOML" in _one_line(_fails(tmp_path, 1, "accounts", "list", "--config", "broken.toml"))
    (tmp_path / "models.toml").write_text('[[models]]\nid = "no-slash"\n')
    line = _one_line(_fails(tmp_path, 1, "models", "--config", "models.toml"))
    assert "no-slash" in line, line
