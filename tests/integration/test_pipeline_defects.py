"""Regression tests for the defects found when the gateway was tried as a new user would.

Each test names the defect it guards against (issue 6, "Defects found").
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import create_engine, func, select

from aigateway.storage.db import normalise_url
from aigateway.storage.schema import accounts, ledger, wallet_credits
from tests.integration.conftest import Gateway, start_gateway, stop_gateway

USER = [{"role": "user", "content": "What is the capital of France?"}]


def _post(
    gateway: Gateway, path: str, key: str, body: Any, headers: dict[str, Any] | None = None
) -> httpx.Response:
    with httpx.Client(base_url=gateway.base_url, timeout=60) as http:
        return http.post(path, json=body, headers={"Authorization": f"Bearer {key}", **(headers or {})})


def _stored(gateway: Gateway, account: str) -> tuple[int, int, int]:
    """(stored balance, credits, sum of ledger costs) of an account, in nano-dollars."""
    engine = create_engine(normalise_url(gateway.db_url))
    try:
        with engine.connect() as conn:
            balance = conn.execute(
                select(accounts.c.balance_nanousd).where(accounts.c.id == account)
            ).scalar_one()
            credits = conn.execute(
                select(func.coalesce(func.sum(wallet_credits.c.amount_nanousd), 0)).where(
                    wallet_credits.c.account_id == account
                )
            ).scalar_one()
            spent = conn.execute(
                select(func.coalesce(func.sum(ledger.c.cost_nanousd), 0)).where(
                    ledger.c.account_id == account, ledger.c.mode == "live"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(balance), int(credits), int(spent)


def _wait_rows(gateway: Gateway, count: int, **where: Any) -> None:
    deadline = time.monotonic() + 120
    while gateway.ledger_count(**where) < count:
        assert time.monotonic() < deadline, f"only {gateway.ledger_count(**where)} of {count} rows"
        time.sleep(0.05)


# 1. A reused X-Request-Id jammed the ledger (UNIQUE request_id), the balance drifted and the next
#    start failed. The gateway's own call id is now the row key; the client's id is stored beside it.
def test_a_reused_request_id_a_thousand_times_leaves_a_thousand_rows(
    gateway: Gateway, tmp_path_factory: pytest.TempPathFactory
) -> None:
    account, key = gateway.new_account("reuser", usd="5")
    rid = "dup-" + uuid.uuid4().hex[:8]
    call_ids: set[str] = set()
    with httpx.Client(base_url=gateway.base_url, timeout=60) as http:
        headers = {"Authorization": f"Bearer {key}", "X-Request-Id": rid}
        for _ in range(1000):
            answer = http.post(
                "/chat/completions", json={"model": "sim/gpt", "messages": USER}, headers=headers
            )
            assert answer.status_code == 200
            assert answer.headers["x-request-id"] == rid
            call_ids.add(answer.headers["x-call-id"])
    assert len(call_ids) == 1000
    _wait_rows(gateway, 1000, request_id=rid)
    assert gateway.ledger_count(request_id=rid) == 1000
    # The stored balance equals credits less the ledger, and what /v1/balance serves.
    deadline = time.monotonic() + 60
    while True:
        balance, credits, spent = _stored(gateway, account)
        with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
            served = http.get("/balance", headers={"Authorization": f"Bearer {key}"}).json()["nanousd"]
        if balance == credits - spent == served:
            break
        assert time.monotonic() < deadline, (balance, credits, spent, served)
        time.sleep(0.1)
    # Another gateway process starts on the same database (the jam used to block start-up).
    other = start_gateway(
        tmp_path_factory.mktemp("second"), gateway.db_url, gateway.simulator, test_key=gateway.test_key
    )
    try:
        assert httpx.get(other.url + "/health", timeout=10).status_code == 200
    finally:
        stop_gateway(other)


# 2. An x-aig-tag longer than its column poisoned a Postgres batch: stored headers are checked at the edge.
@pytest.mark.parametrize(
    ("header", "value"), [("x-aig-tag", "t" * 201), ("x-aig-tag", ""), ("X-Request-Id", "r" * 129)]
)
def test_stored_headers_are_validated_at_the_edge(gateway: Gateway, header: str, value: str) -> None:
    answer = _post(
        gateway,
        "/chat/completions",
        gateway.admin_key,
        {"model": "sim/gpt", "messages": USER},
        {header: value},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"].lower() == header.lower()
    ok = _post(
        gateway,
        "/chat/completions",
        gateway.admin_key,
        {"model": "sim/gpt", "messages": USER},
        {"x-aig-tag": "t" * 200},
    )
    assert ok.status_code == 200


# 3. Settling happened only on GatewayError: a wrong-shaped answer raised TypeError (502, no row) and
#    a tool schema nested 400 deep raised RecursionError in the estimator.
def test_an_unreadable_answer_is_a_provider_error_with_a_ledger_row(gateway: Gateway) -> None:
    gateway.simulator.add_faults(
        "fault-badshape", [{"kind": "status", "status": 200, "body": {"choices": 5}}]
    )
    rid = "bad-shape-" + uuid.uuid4().hex[:8]
    answer = _post(
        gateway,
        "/chat/completions",
        gateway.admin_key,
        {"model": "sim/badshape", "messages": USER},
        {"X-Request-Id": rid},
    )
    assert answer.status_code == 502
    assert answer.json()["error"]["type"] == "provider_error"
    row = gateway.ledger_row(rid)
    assert row["status"] == "error" and row["http_status"] == 502 and row["cost_nanousd"] == 0


def test_a_deeply_nested_tool_schema_is_a_clear_answer_with_a_ledger_row(gateway: Gateway) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(400):
        schema = {"type": "object", "properties": {"a": schema}}
    tools = [{"type": "function", "function": {"name": "deep", "parameters": schema}}]
    rid = "deep-" + uuid.uuid4().hex[:8]
    answer = _post(
        gateway,
        "/chat/completions",
        gateway.admin_key,
        {"model": "sim/gpt", "messages": USER, "tools": tools},
        {"X-Request-Id": rid},
    )
    assert answer.status_code in (200, 400), answer.text
    assert "Traceback" not in answer.text
    row = gateway.ledger_row(rid)
    assert row["http_status"] == answer.status_code


# 4. Admission checked `available <= 0` (one call could overspend by its whole estimate), reserved
#    4,096 tokens for calls without max_tokens (a 5-cent wallet refused 191 of 200 calls with two
#    thirds unspent), and took max_tokens of 2**63.
def test_a_five_cent_wallet_is_neither_overspent_nor_refused_while_it_can_pay(gateway: Gateway) -> None:
    account, key = gateway.new_account("five-cents", usd="0.05")

    async def run() -> list[int]:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as http:
            sem = asyncio.Semaphore(8)

            async def one() -> int:
                async with sem:
                    answer = await http.post(
                        "/chat/completions",
                        json={"model": "sim/gpt", "messages": USER},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    return answer.status_code

            return await asyncio.gather(*(one() for _ in range(200)))

    statuses = asyncio.run(run())
    assert set(statuses) <= {200, 402}
    served = statuses.count(200)
    _wait_rows(gateway, 200, account_id=account)
    balance, credits, spent = _stored(gateway, account)
    assert spent <= credits, "the wallet was overspent"
    assert balance == credits - spent >= 0
    # Refusals came only once the wallet could no longer pay a call: what is left is less than the
    # dearest call served (the old 4,096-token reservation refused 191 of 200 with 2/3 unspent).
    engine = create_engine(normalise_url(gateway.db_url))
    with engine.connect() as conn:
        dearest = conn.execute(
            select(func.max(ledger.c.cost_nanousd)).where(
                ledger.c.account_id == account, ledger.c.status == "ok"
            )
        ).scalar_one()
    engine.dispose()
    assert served > 100 and balance < dearest, (served, balance, dearest)

    with pytest.raises(openai.BadRequestError, match="output limit"):
        gateway.client(key).chat.completions.create(model="sim/gpt", messages=USER, max_tokens=2**63 - 1)


def test_a_thin_wallet_lowers_the_output_limit_and_never_goes_negative(gateway: Gateway) -> None:
    # $0.0005 holds ~16k output tokens of sim/gpt's $10/M less the prompt, below its 16,384 limit.
    account, key = gateway.new_account("thin", usd="0.0005")
    client = gateway.client(key)
    raw = client.chat.completions.with_raw_response.create(model="sim/gpt", messages=USER)
    lowered = int(raw.headers["x-output-limit"])
    assert 16 <= lowered < 16_384
    sent = gateway.simulator.requests("sim-gpt")[-1]["body"]
    assert sent["max_tokens"] == lowered
    outcomes = []
    for _ in range(200):
        try:
            client.chat.completions.create(model="sim/gpt", messages=USER)
            outcomes.append(200)
        except openai.APIStatusError as exc:
            outcomes.append(exc.status_code)
            if exc.status_code == 402:
                break
    _wait_rows(gateway, len(outcomes) + 1, account_id=account)
    balance, credits, spent = _stored(gateway, account)
    assert spent <= credits and balance >= 0


# 6. A 503's Retry-After was dropped; /v1/balance had no X-Request-Id; a non-ASCII X-Request-Id
#    came back garbled.
def test_a_503_passes_its_retry_after_on(gateway: Gateway) -> None:
    gateway.simulator.add_faults("fault-e503ra", [{"kind": "status", "status": 503, "retry_after": "7"}])
    answer = _post(gateway, "/chat/completions", gateway.admin_key, {"model": "sim/e503ra", "messages": USER})
    assert answer.status_code == 502 and answer.headers["retry-after"] == "7"


def test_balance_echoes_the_request_id(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {gateway.admin_key}"}
        assert (
            http.get("/balance", headers={**auth, "X-Request-Id": "bal-1"}).headers["x-request-id"] == "bal-1"
        )
        assert http.get("/balance", headers=auth).headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("stream", [False, True])
def test_a_non_ascii_request_id_comes_back_byte_for_byte(gateway: Gateway, stream: bool) -> None:
    rid = "réq-ünïcode-" + uuid.uuid4().hex[:6]
    body = {"model": "sim/gpt", "messages": USER, "stream": stream}
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        answer = http.post(
            "/chat/completions",
            json=body,
            headers=[
                (b"Authorization", f"Bearer {gateway.admin_key}".encode()),
                (b"X-Request-Id", rid.encode()),
            ],
        )
    assert answer.status_code == 200
    echoed = dict(answer.headers.raw)[b"x-request-id"]
    assert echoed == rid.encode()
    assert gateway.ledger_row(rid)["request_id"] == rid


# 7. Test mode skipped the adapters (n=2 refused live on Anthropic but served with a test key).
def test_test_mode_goes_through_the_real_adapters(gateway: Gateway) -> None:
    body = {"model": "anthropic/claude-opus-4.7", "messages": USER, "n": 2}
    live = _post(gateway, "/chat/completions", gateway.admin_key, body)
    test = _post(gateway, "/chat/completions", gateway.test_key, body)
    assert live.status_code == test.status_code == 400
    assert live.json()["error"]["message"] == test.json()["error"]["message"]


# 8. The upstream's `param` was dropped from passed-on 400s.
def test_the_upstream_param_is_passed_on(gateway: Gateway) -> None:
    body = {"model": "rec/openai-400-param", "messages": [{"role": "system", "content": "x"}, *USER]}
    answer = _post(gateway, "/chat/completions", gateway.admin_key, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "messages[0].role"


# 10. Unbuilt endpoints answered `404 No route`: the contract's paths answer a clear 501.
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/videos/generations"),
        ("POST", "/audio/music"),
        ("POST", "/batches"),
        ("DELETE", "/cache"),
    ],
)
def test_the_contracts_unbuilt_paths_answer_501(gateway: Gateway, method: str, path: str) -> None:
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        answer = http.request(method, path, headers={"Authorization": f"Bearer {gateway.admin_key}"})
    assert answer.status_code == 501
    error = answer.json()["error"]
    assert error["code"] == 501 and "not built" in error["message"] and path in error["message"]
