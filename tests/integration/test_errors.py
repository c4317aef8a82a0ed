"""One test per error type: the OpenAI-shaped envelope, the right status, the ledger row left."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from tests.integration.conftest import MISSING_KEY_ENV, UPSTREAM_KEY, Gateway

USER = [{"role": "user", "content": "hello"}]


def _post(
    gateway: Gateway, body: bytes | str, *, key: str | None = None, rid: str, **headers: str
) -> httpx.Response:
    with gateway.http() as http:
        return http.post(
            "/v1/chat/completions",
            content=body,
            headers={
                "Authorization": f"Bearer {key or gateway.admin_key}",
                "Content-Type": "application/json",
                "X-Request-Id": rid,
                **headers,
            },
        )


def _envelope(response: httpx.Response, status: int, kind: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    err = response.json()["error"]
    assert set(err) >= {"message", "type", "code"}
    assert err["type"] == kind and err["code"] == status
    assert "Traceback" not in response.text
    return err  # type: ignore[no-any-return]


def _error_row(gateway: Gateway, rid: str, status: int, kind: str) -> dict[str, object]:
    row = gateway.ledger_row(rid)
    assert row["status"] == "error" and row["http_status"] == status and row["error_type"] == kind
    assert row["cost_nanousd"] == 0
    return row


def test_400_malformed_json(gateway: Gateway) -> None:
    err = _envelope(
        _post(gateway, b'{"model": "sim/gpt", "messages": [', rid="e-json"), 400, "invalid_request_error"
    )
    assert "JSON" in str(err["message"])
    _error_row(gateway, "e-json", 400, "invalid_request_error")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('{"messages": [{"role": "user", "content": "x"}]}', "model"),
        ('{"model": "sim/gpt"}', "messages"),
        ('{"model": "sim/gpt", "messages": "hi"}', "messages"),
        (
            '{"model": "sim/gpt", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}',
            "temperature",
        ),
        (
            '{"model": "sim/gpt", "messages": [{"role": "user", "content": "x"}], "max_tokens": -1}',
            "max_tokens",
        ),
        ('{"model": "sim/gpt", "messages": [{"role": "tool", "content": "x"}]}', "tool_call_id"),
        ("[1, 2]", "object"),
    ],
)
def test_400_missing_or_mistyped_fields(gateway: Gateway, body: str, needle: str) -> None:
    rid = f"e-field-{abs(hash(body))}"
    err = _envelope(_post(gateway, body, rid=rid), 400, "invalid_request_error")
    assert needle in str(err["message"])
    _error_row(gateway, rid, 400, "invalid_request_error")


def test_400_unsupported_parameter_for_model(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        gateway.client().chat.completions.create(
            model="sim/text-only",
            messages=USER,
            tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            extra_headers={"X-Request-Id": "e-unsupported"},
        )
    assert "does not support tools" in exc.value.message
    _error_row(gateway, "e-unsupported", 400, "invalid_request_error")


def test_413_oversized_body(gateway: Gateway) -> None:
    big = '{"model": "sim/gpt", "messages": [{"role": "user", "content": "' + "x" * (3 * 1024 * 1024) + '"}]}'
    _envelope(_post(gateway, big, rid="e-413"), 413, "invalid_request_error")
    _error_row(gateway, "e-413", 413, "invalid_request_error")


def test_401_missing_invalid_and_revoked_keys(gateway: Gateway) -> None:
    with gateway.http() as http:
        none = http.post("/v1/chat/completions", json={"model": "sim/gpt", "messages": USER})
    _envelope(none, 401, "authentication_error")
    with pytest.raises(openai.AuthenticationError):
        gateway.client("sk-aig-not-a-real-key-000000000000").chat.completions.create(
            model="sim/gpt", messages=USER
        )
    account, _first = gateway.new_account("revoked", usd="1")
    key_id, key = gateway.new_key(account)
    ok = gateway.client(key).chat.completions.create(model="sim/gpt", messages=USER)
    assert ok.choices
    gateway.cli("keys", "revoke", key_id)
    # The key cache TTL in tests is 0.5 s: poll until the revocation is seen, never a fixed sleep.
    deadline = time.monotonic() + 60
    while True:
        try:
            gateway.client(key).chat.completions.create(model="sim/gpt", messages=USER)
        except openai.AuthenticationError as exc:
            assert "revoked" in exc.message
            break
        assert time.monotonic() < deadline, "the revoked key kept working"
        time.sleep(0.05)
    # A request that never authenticated belongs to no account and leaves no ledger row.
    assert gateway.ledger_count(request_id=none.headers["x-request-id"]) == 0


def test_402_wallet_exhausted(gateway: Gateway) -> None:
    _account, key = gateway.new_account("broke")
    with pytest.raises(openai.APIStatusError) as exc:
        gateway.client(key).chat.completions.create(
            model="sim/gpt", messages=USER, extra_headers={"X-Request-Id": "e-402"}
        )
    assert exc.value.status_code == 402
    assert exc.value.body["type"] == "budget_exceeded"  # type: ignore[index]
    _error_row(gateway, "e-402", 402, "budget_exceeded")
    assert all(r["headers"].get("X-Request-Id") != "e-402" for r in gateway.simulator.requests("sim-gpt"))


def test_402_after_spending_down(gateway: Gateway) -> None:
    # A call's worst case here is ~$0.0005 (a 40-token limit at $10/M plus the prompt's bound).
    account, key = gateway.new_account("spender", usd="0.002")
    client = gateway.client(key)
    outcomes = []
    for _ in range(60):
        try:
            client.chat.completions.create(model="sim/gpt", messages=USER, max_tokens=40)
            outcomes.append(200)
        except openai.APIStatusError as exc:
            outcomes.append(exc.status_code)
            break
    assert outcomes[-1] == 402 and outcomes.count(200) >= 1
    assert "balance" in gateway.cli("balance", "show", "--account", account)
    # Credit the wallet: calls go through again once the gateway re-reads balances (every 0.2 s here).
    gateway.cli("balance", "add", "--account", account, "--usd", "1")
    deadline = time.monotonic() + 60
    while True:
        try:
            assert client.chat.completions.create(model="sim/gpt", messages=USER).choices
            break
        except openai.APIStatusError as exc:
            assert exc.status_code == 402 and time.monotonic() < deadline
            time.sleep(0.1)


def test_404_model_not_found_with_suggestions(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        gateway.client().chat.completions.create(
            model="anthropic/claude-opus-4-7x", messages=USER, extra_headers={"X-Request-Id": "e-404"}
        )
    assert exc.value.body["type"] == "model_not_found"  # type: ignore[index]
    assert "anthropic/claude-opus-4.7" in exc.value.message
    _error_row(gateway, "e-404", 404, "model_not_found")


def test_429_passes_retry_after(gateway: Gateway) -> None:
    gateway.simulator.add_faults(
        "fault-e429", [{"kind": "status", "status": 429, "retry_after": "7"}], sticky=True
    )
    with pytest.raises(openai.RateLimitError) as exc:
        gateway.client().chat.completions.create(
            model="sim/e429", messages=USER, extra_headers={"X-Request-Id": "e-429"}
        )
    assert exc.value.response.headers["retry-after"] == "7"
    assert exc.value.body["type"] == "rate_limit_error"  # type: ignore[index]
    row = _error_row(gateway, "e-429", 429, "rate_limit_error")
    assert row["provider"] == "sim"


@pytest.mark.parametrize(("fault", "model"), [(500, "e500"), (503, "e503")])
def test_502_upstream_5xx(gateway: Gateway, fault: int, model: str) -> None:
    gateway.simulator.add_faults(f"fault-{model}", [{"kind": "status", "status": fault}], sticky=True)
    rid = f"e-5xx-{fault}"
    with pytest.raises(openai.APIStatusError) as exc:
        gateway.client().chat.completions.create(
            model=f"sim/{model}", messages=USER, extra_headers={"X-Request-Id": rid}
        )
    assert exc.value.status_code == 502
    assert exc.value.body["type"] == "provider_error"  # type: ignore[index]
    assert str(fault) in exc.value.message
    _error_row(gateway, rid, 502, "provider_error")


def test_upstream_400_passed_on_as_invalid_request(gateway: Gateway) -> None:
    gateway.simulator.add_faults(
        "fault-e400",
        [
            {
                "kind": "status",
                "status": 400,
                "body": {"error": {"message": "Unsupported value: 'x'", "type": "invalid_request_error"}},
            }
        ],
        sticky=True,
    )
    with pytest.raises(openai.BadRequestError) as exc:
        gateway.client().chat.completions.create(
            model="sim/e400", messages=USER, extra_headers={"X-Request-Id": "e-up400"}
        )
    assert "Unsupported value: 'x'" in exc.value.message
    _error_row(gateway, "e-up400", 400, "invalid_request_error")


def test_502_connection_refused_and_reset(gateway: Gateway) -> None:
    with pytest.raises(openai.APIStatusError) as exc:
        gateway.client().chat.completions.create(
            model="sim/refused", messages=USER, extra_headers={"X-Request-Id": "e-refused"}
        )
    assert exc.value.status_code == 502 and "connect" in exc.value.message.lower()
    _error_row(gateway, "e-refused", 502, "provider_error")
    gateway.simulator.add_faults("fault-reset", [{"kind": "reset"}], sticky=True)
    with pytest.raises(openai.APIStatusError) as exc2:
        gateway.client().chat.completions.create(
            model="sim/reset", messages=USER, extra_headers={"X-Request-Id": "e-reset"}
        )
    assert exc2.value.status_code == 502
    _error_row(gateway, "e-reset", 502, "provider_error")


def test_502_provider_not_configured_names_the_variable(gateway: Gateway) -> None:
    with pytest.raises(openai.APIStatusError) as exc:
        gateway.client().chat.completions.create(
            model="sim/unconfigured", messages=USER, extra_headers={"X-Request-Id": "e-nokey"}
        )
    assert exc.value.status_code == 502
    assert MISSING_KEY_ENV in exc.value.message
    _error_row(gateway, "e-nokey", 502, "provider_error")


def test_504_upstream_timeout(gateway: Gateway) -> None:
    gateway.simulator.add_faults("sim-slow", [{"kind": "hang"}], sticky=True)
    with pytest.raises(openai.APIStatusError) as exc:
        gateway.client(timeout=20).chat.completions.create(
            model="sim/slow", messages=USER, extra_headers={"X-Request-Id": "e-504"}
        )
    assert exc.value.status_code == 504
    assert exc.value.body["type"] == "timeout_error"  # type: ignore[index]
    _error_row(gateway, "e-504", 504, "timeout_error")


def test_upstream_error_messages_are_scrubbed(gateway: Gateway) -> None:
    leak = f"Incorrect API key provided: {UPSTREAM_KEY}. Authorization: Bearer {UPSTREAM_KEY}"
    gateway.simulator.add_faults(
        "fault-scrub",
        [
            {
                "kind": "status",
                "status": 401,
                "body": {"error": {"message": leak, "type": "invalid_request_error"}},
            }
        ],
        sticky=True,
    )
    with pytest.raises(openai.APIStatusError) as exc:
        gateway.client().chat.completions.create(
            model="sim/scrub", messages=USER, extra_headers={"X-Request-Id": "e-scrub"}
        )
    assert exc.value.status_code == 502  # the gateway's credentials, not the client's
    assert UPSTREAM_KEY not in exc.value.message and UPSTREAM_KEY[:12] not in exc.value.message
    assert "SIM_UPSTREAM_KEY" in exc.value.message
    row = _error_row(gateway, "e-scrub", 502, "provider_error")
    assert UPSTREAM_KEY not in str(row["detail"])
    log = (gateway.workdir / "gateway.log").read_text()
    assert UPSTREAM_KEY not in log and gateway.admin_key not in log


def test_unknown_route_and_method(gateway: Gateway) -> None:
    with gateway.http() as http:
        auth = {"Authorization": f"Bearer {gateway.admin_key}"}
        _envelope(http.get("/v1/nope", headers=auth), 404, "invalid_request_error")
        _envelope(http.get("/v1/chat/completions", headers=auth), 405, "invalid_request_error")
