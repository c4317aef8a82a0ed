"""Hard caps under concurrency (issue 8): sub-account caps, tag budgets and wallets are never overshot,
in one process, in `--workers 2` without Redis (the documented bound), and in two processes sharing
Postgres and Redis. RPM limits answer 429 with the rate-limit headers and hold across processes.

Every test sends 200 concurrent calls through the real gateway to the upstream simulator (live keys:
the simulator answers as the provider would, and the gateway bills it) and then compares what the
ledger charged with the cap.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from aigateway.storage.db import normalise_url
from aigateway.storage.schema import ledger
from tests.integration.conftest import (
    Gateway,
    SimulatorServer,
    _drop_postgres,
    _postgres_database,
    start_gateway,
    stop_gateway,
)

USER = [{"role": "user", "content": "What is the capital of France?"}]
CENT = 10_000_000  # nano-dollars
REDIS_URL = os.environ.get("AIGATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(
    not os.environ.get("CI") and not _redis_up(), reason="Redis is not running (CI=true never skips)"
)


def _mgmt(gateway: Gateway, method: str, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
    with httpx.Client(base_url=gateway.base_url, timeout=60) as http:
        return http.request(
            method, path, headers={"Authorization": f"Bearer {key or gateway.admin_key}"}, **kw
        )


def _sub_account(gateway: Gateway, parent_key: str, **fields: Any) -> dict[str, Any]:
    answer = _mgmt(gateway, "POST", "/sub-accounts", parent_key, json={"name": "acme", **fields})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _fire(
    urls: list[str], key: str, count: int = 200, headers: dict[str, str] | None = None, max_tokens: int = 100
) -> list[httpx.Response]:
    """``count`` concurrent chat calls, spread round-robin over ``urls``."""

    async def run() -> list[httpx.Response]:
        clients = [httpx.AsyncClient(base_url=u, timeout=120) for u in urls]
        try:

            async def one(i: int) -> httpx.Response:
                return await clients[i % len(clients)].post(
                    "/chat/completions",
                    json={"model": "sim/gpt", "messages": USER, "max_tokens": max_tokens},
                    headers={"Authorization": f"Bearer {key}", **(headers or {})},
                )

            return await asyncio.gather(*(one(i) for i in range(count)))
        finally:
            for client in clients:
                await client.aclose()

    return asyncio.run(run())


def _charged(db_url: str, count: int, **where: Any) -> int:
    """The live cost the ledger holds for ``where`` once ``count`` rows are stored (waits for them)."""
    engine = create_engine(normalise_url(db_url))
    deadline = time.monotonic() + 120
    try:
        while True:
            with engine.connect() as conn:
                filters = [ledger.c[k] == v for k, v in where.items()]
                rows, cost = conn.execute(
                    select(func.count(), func.coalesce(func.sum(ledger.c.cost_nanousd), 0)).where(*filters)
                ).one()
            if rows >= count:
                return int(cost)
            assert time.monotonic() < deadline, f"only {rows} of {count} ledger rows"
            time.sleep(0.05)
    finally:
        engine.dispose()


def _statuses(answers: list[httpx.Response]) -> list[int]:
    return [a.status_code for a in answers]


def test_200_concurrent_calls_never_pass_a_sub_accounts_cap(gateway: Gateway) -> None:
    _account, parent = gateway.new_account("cap-parent", usd="10")
    sub = _sub_account(gateway, parent, spend_cap_cents=1)
    answers = _fire([gateway.base_url], sub["key"])
    statuses = _statuses(answers)
    assert set(statuses) <= {200, 402}, statuses
    served = statuses.count(200)
    assert served >= 3, statuses
    refused = next(a for a in answers if a.status_code == 402)
    assert refused.json()["error"]["type"] == "budget_exceeded"
    assert "Sub-account 'acme' (monthly cap) has too little left" in refused.json()["error"]["message"]
    spent = _charged(gateway.db_url, 200, sub_account_id=sub["id"])
    assert 0 < spent <= 1 * CENT, spent


def test_a_tag_budget_holds_across_the_account_and_its_sub_accounts(gateway: Gateway) -> None:
    _account, parent = gateway.new_account("budget-parent", usd="10")
    tag = f"team-{uuid.uuid4().hex[:8]}"
    answer = _mgmt(gateway, "POST", "/budgets", parent, json={"tag": tag, "cap_cents": 1})
    assert answer.status_code == 200, answer.text
    sub = _sub_account(gateway, parent, spend_cap_cents=1000, default_tag=tag)
    # Half the calls carry the tag from the parent's key, half take it as the sub-account's default.
    first = _fire([gateway.base_url], parent, 100, headers={"x-aig-tag": tag})
    second = _fire([gateway.base_url], sub["key"], 100)
    statuses = _statuses(first + second)
    assert set(statuses) <= {200, 402} and 402 in statuses, statuses
    refused = next(a for a in first + second if a.status_code == 402)
    assert f"Budget for tag '{tag}' has too little left" in refused.json()["error"]["message"]
    spent = _charged(gateway.db_url, 200, tag=tag)
    assert 0 < spent <= 1 * CENT, spent


def test_a_sub_accounts_rpm_limit_answers_429_with_the_rate_limit_headers(gateway: Gateway) -> None:
    _account, parent = gateway.new_account("rpm-parent", usd="10")
    sub = _sub_account(gateway, parent, spend_cap_cents=1000, rate_limit_rpm=5)
    answers = _fire([gateway.base_url], sub["key"], 8)
    statuses = _statuses(answers)
    # A minute boundary may fall inside the burst: then the new window admits up to 5 more.
    assert 5 <= statuses.count(200) <= 8 and set(statuses) <= {200, 429}, statuses
    ok = next(a for a in answers if a.status_code == 200)
    assert ok.headers["x-ratelimit-limit-requests"] == "5"
    if 429 in statuses:
        limited = next(a for a in answers if a.status_code == 429)
        assert limited.json()["error"]["type"] == "rate_limit_error"
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["x-ratelimit-remaining-requests"] == "0"
        assert limited.headers["x-ratelimit-reset-requests"]


def test_a_sub_accounts_live_calls_show_in_its_usage_and_its_balance(gateway: Gateway) -> None:
    _account, parent = gateway.new_account("sub-usage", usd="10")
    sub = _sub_account(gateway, parent, spend_cap_cents=100, default_tag="acme-default")
    answers = _fire([gateway.base_url], sub["key"], 5)
    assert _statuses(answers) == [200] * 5
    cost = _charged(gateway.db_url, 5, sub_account_id=sub["id"])
    month = time.strftime("%Y-%m", time.gmtime())
    deadline = time.monotonic() + 60
    while True:  # the ledger writer's flush updates the rollups in the same transaction as the rows
        report = _mgmt(
            gateway, "GET", f"/sub-accounts/{sub['id']}/usage", sub["key"], params={"month": month}
        )
        assert report.status_code == 200, report.text
        data = report.json()["data"]
        if data and data[0]["requests"] == 5:
            break
        assert time.monotonic() < deadline, report.text
        time.sleep(0.05)
    assert data[0]["cost_nanousd"] == cost > 0
    by_tag = _mgmt(gateway, "GET", "/usage/by-tag", parent, params={"month": month}).json()
    tagged = next(e for e in by_tag["data"] if e["tag"] == "acme-default")  # the sub-account's default tag
    assert tagged["requests"] == 5 and tagged["cost_nanousd"] == cost
    balance = _mgmt(gateway, "GET", "/balance", sub["key"]).json()
    assert balance["sub_account_id"] == sub["id"] and balance["spent_nanousd"] == cost
    assert balance["remaining_nanousd"] == 100 * CENT - cost


# -- several processes -------------------------------------------------------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name, url = _postgres_database()
    try:
        yield url
    finally:
        _drop_postgres(name)


def _pair(
    tmp_path: Path, db_url: str, simulator: SimulatorServer, env: dict[str, str]
) -> tuple[Gateway, Gateway]:
    first = start_gateway(tmp_path / "a", db_url, simulator, extra_env=env)
    try:
        second = start_gateway(tmp_path / "b", db_url, simulator, extra_env=env, test_key=first.test_key)
    except BaseException:
        stop_gateway(first)
        raise
    return first, second


def _make_dirs(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir(exist_ok=True)


@needs_redis
def test_two_processes_on_postgres_and_redis_hold_a_five_cent_wallet_and_a_cap(
    tmp_path: Path, postgres_url: str, simulator: SimulatorServer
) -> None:
    _make_dirs(tmp_path)
    prefix = f"aigtest-{uuid.uuid4().hex[:10]}"
    env = {"AIGATEWAY_REDIS_URL": REDIS_URL, "AIGATEWAY_REDIS_PREFIX": prefix}
    first, second = _pair(tmp_path, postgres_url, simulator, env)
    try:
        account, key = first.new_account("two-procs", usd="0.05")
        answers = _fire([first.base_url, second.base_url], key)
        statuses = _statuses(answers)
        assert set(statuses) <= {200, 402} and statuses.count(200) > 10, statuses
        spent = _charged(postgres_url, 200, account_id=account)
        assert spent <= 5 * CENT, f"two processes billed {spent / CENT} cents against a 5-cent wallet"
        # A top-up through the CLI reaches the wallet Redis counts: both processes admit again.
        first.cli("balance", "add", "--account", account, "--usd", "1")
        again = _fire([first.base_url, second.base_url], key, 4)
        assert _statuses(again) == [200] * 4, [a.text for a in again]

        _acct, parent = first.new_account("two-procs-cap", usd="10")
        sub = _sub_account(first, parent, spend_cap_cents=1, rate_limit_rpm=100_000)
        answers = _fire([first.base_url, second.base_url], sub["key"])
        assert set(_statuses(answers)) <= {200, 402}
        spent = _charged(postgres_url, 200, sub_account_id=sub["id"])
        assert 0 < spent <= 1 * CENT, spent
        # Both processes flushed spend that crossed 80% of the cap: the event is in the outbox once.
        events = _events(postgres_url, sub["id"])
        assert events.count("subaccount.created") == 1
        if spent >= 8 * CENT // 10:
            assert events.count("usage.threshold.exceeded") == 1 + (spent >= CENT), events
    finally:
        stop_gateway(first)
        stop_gateway(second)
        _flush_prefix(prefix)


def _events(db_url: str, sub_id: str) -> list[str]:
    from aigateway.storage.schema import outbox

    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(outbox.c.type).where(outbox.c.payload.contains(sub_id))).all()
    finally:
        engine.dispose()
    return [r[0] for r in rows]


def test_redis_unreachable_fails_closed_with_a_clear_503(tmp_path: Path, simulator: SimulatorServer) -> None:
    from tests.integration.conftest import free_port

    env = {"AIGATEWAY_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}  # nothing listens there
    gw = start_gateway(tmp_path, f"sqlite:///{tmp_path / 'down.db'}", simulator, extra_env=env)
    try:
        answer = _fire([gw.base_url], gw.admin_key, 1)[0]
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert "limits_unavailable" in error["message"] and "Redis" in error["message"]
        # Test-mode keys are never charged, so they do not need the spend counters.
        assert _fire([gw.base_url], gw.test_key, 1)[0].status_code == 200
    finally:
        stop_gateway(gw)


@needs_redis
def test_two_processes_share_one_rpm_window_through_redis(
    tmp_path: Path, postgres_url: str, simulator: SimulatorServer
) -> None:
    _make_dirs(tmp_path)
    prefix = f"aigtest-{uuid.uuid4().hex[:10]}"
    env = {"AIGATEWAY_REDIS_URL": REDIS_URL, "AIGATEWAY_REDIS_PREFIX": prefix}
    first, second = _pair(tmp_path, postgres_url, simulator, env)
    try:
        _acct, parent = first.new_account("rpm-two", usd="10")
        sub = _sub_account(first, parent, spend_cap_cents=1000, rate_limit_rpm=10)
        statuses = _statuses(_fire([first.base_url, second.base_url], sub["key"], 30))
        # One shared window: 10 calls pass (20 if a minute boundary falls inside the burst), not 20/40.
        assert 10 <= statuses.count(200) <= 20, statuses
        assert set(statuses) <= {200, 429}
    finally:
        stop_gateway(first)
        stop_gateway(second)
        _flush_prefix(prefix)


def test_two_workers_without_redis_hold_the_documented_bound(
    tmp_path: Path, simulator: SimulatorServer
) -> None:
    """`--workers 2` on one SQLite file, no Redis: each worker may spend 1/2 of the headroom it last
    read, so together they stay within the cap plus the documented bound (docs/accounts.md)."""
    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    gw = start_gateway(tmp_path, db_url, simulator, extra_env={"AIGATEWAY_WORKERS": "2"})
    try:
        account, key = gw.new_account("two-workers", usd="0.05")
        answers = _fire([gw.base_url], key)
        assert set(_statuses(answers)) <= {200, 402}
        spent = _charged(db_url, 200, account_id=account)
        # The bound: one worker's refresh interval of spending by the other, at most half the wallet.
        assert spent <= 5 * CENT + 5 * CENT // 2, f"{spent / CENT} cents against a 5-cent wallet"
        print(f"--workers 2 without Redis: {spent / CENT:.4f} cents charged against a 5-cent wallet")
    finally:
        stop_gateway(gw)
        shutil.rmtree(tmp_path / "data", ignore_errors=True)


def _flush_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
    finally:
        client.close()
