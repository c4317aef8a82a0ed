"""`aigateway sub-accounts ...`, `aigateway usage` and `keys create --inference-only`, on the gateway's
database while it runs: what the CLI makes, the API sees (and the other way round)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from decimal import Decimal

from tests.integration.conftest import START_TIMEOUT_S, Gateway


def _run(gateway: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aigateway", *args],
        cwd=gateway.workdir,
        env=gateway.env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_sub_accounts_made_by_the_cli_work_in_the_api(gateway: Gateway) -> None:
    account, manage = gateway.new_account("cli-subs", usd="1")
    out = gateway.cli(
        "sub-accounts", "create", "--account", account, "--name", "acme", "--cap-cents", "750",
        "--rpm", "30", "--default-tag", "acme", "--external-ref", "cus_9",
    )  # fmt: skip
    lines = out.strip().splitlines()
    sub_id, key = lines[0].split()[0], lines[-1]
    assert sub_id.startswith("sub_") and key.startswith("sk-aig-") and "750 cents per month" in out
    with gateway.http() as http:
        record = http.get(f"/v1/sub-accounts/{sub_id}", headers=_auth(manage)).json()
        assert (record["spend_cap_cents"], record["rate_limit_rpm"], record["default_tag"]) == (
            750,
            30,
            "acme",
        )
        assert http.get("/v1/balance", headers=_auth(key)).json()["cap_cents"] == 750
        made = http.post(
            "/v1/sub-accounts", headers=_auth(manage), json={"name": "beta", "spend_cap_cents": 5}
        )
        beta = made.json()["id"]

    listed = gateway.cli("sub-accounts", "list", "--account", account)
    assert sub_id in listed and beta in listed and "2 sub-account(s)" in listed
    shown = gateway.cli("sub-accounts", "show", sub_id)  # the account is found from the id
    assert "acme" in shown and "cus_9" in shown and "30 rpm" in shown

    updated = gateway.cli(
        "sub-accounts", "update", sub_id, "--cap-cents", "900", "--clear-rpm", "--period", "lifetime",
        "--rotate-key",
    )  # fmt: skip
    new_key = updated.strip().splitlines()[-1]
    assert new_key.startswith("sk-aig-") and new_key != key and "900 cents per lifetime" in updated
    with gateway.http() as http:
        record = http.get(f"/v1/sub-accounts/{sub_id}", headers=_auth(manage)).json()
        assert (record["spend_cap_cents"], record["rate_limit_rpm"], record["cap_period"]) == (
            900,
            None,
            "lifetime",
        )
        assert http.get("/v1/balance", headers=_auth(new_key)).status_code == 200

    assert "deleted" in gateway.cli("sub-accounts", "delete", beta)
    assert beta not in gateway.cli("sub-accounts", "list", "--account", account)
    gone = _run(gateway, "sub-accounts", "show", beta)
    assert (
        gone.returncode == 1 and f"No sub-account '{beta}'" in gone.stderr and "Traceback" not in gone.stderr
    )


def test_cli_refuses_bad_options_with_one_line(gateway: Gateway) -> None:
    for args in (
        ("sub-accounts", "create", "--name", "x", "--cap-cents", "-1"),
        ("sub-accounts", "create", "--name", "x", "--cap-cents", "1", "--period", "year"),
        ("sub-accounts", "create", "--name", "x", "--cap-cents", "1", "--rpm", "0"),
        ("sub-accounts", "create", "--name", " ", "--cap-cents", "1"),
        ("sub-accounts", "update", "sub_x", "--grace-s", "5"),
        ("usage", "--month", "2026-13"),
        ("usage", "--by", "model"),
    ):
        out = _run(gateway, *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr + out.stdout
    missing = _run(gateway, "sub-accounts", "update", "sub_" + "0" * 24, "--name", "x")
    assert missing.returncode == 1 and "No sub-account" in missing.stderr


def test_inference_only_keys_and_the_usage_table(gateway: Gateway) -> None:
    account, manage = gateway.new_account("cli-usage", usd="1")
    lines = gateway.cli("keys", "create", "--account", account, "--inference-only").strip().splitlines()
    assert lines[0].split()[-1] == "inference"
    inference = lines[-1]
    with gateway.http() as http:
        assert http.get("/v1/balance", headers=_auth(inference)).status_code == 200
        refused = http.get("/v1/sub-accounts", headers=_auth(inference))
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_error"
        chat = http.post(
            "/v1/chat/completions",
            headers={**_auth(inference), "x-aig-tag": "cli-tag"},
            json={"model": "sim/gpt", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10},
        )
        assert chat.status_code == 200, chat.text
    row = gateway.ledger_row(chat.headers["x-request-id"])
    month = row["created_at"].strftime("%Y-%m")
    with gateway.http() as http:  # the rollups are written by the gateway's ledger flush: poll the API
        deadline = time.monotonic() + 60
        while not http.get("/v1/usage/by-tag", headers=_auth(manage), params={"month": month}).json()["data"]:
            assert time.monotonic() < deadline, "the call never reached the usage rollups"
            time.sleep(0.1)
    table = gateway.cli("usage", "--account", account, "--month", month)
    assert "cli-tag" in table and "sim/gpt (1)" in table
    cost = re.search(r"cli-tag\s*│\s*1\s*│\s*0\s*│\s*([0-9.]+)", table)
    assert cost is not None, table
    assert Decimal(cost.group(1)) == Decimal(row["cost_nanousd"]) / 10_000_000
    by_sub = gateway.cli("usage", "--account", account, "--month", month, "--by", "sub-account")
    assert "(parent's own keys)" in by_sub
