"""The sub-account, budget and usage routes against a real gateway, on SQLite and PostgreSQL.

Usage rows are written with the ledger's own writer (LedgerSink) into the gateway's database, in a
month of their own, so the reports can be checked to the nano-dollar against rows whose sums are
known; one test also goes through a real call and the gateway's own ledger flush.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from aigateway.core.ledger import LedgerEntry
from aigateway.storage.db import normalise_url
from aigateway.storage.ledger import LedgerSink
from tests.integration.conftest import Gateway

CENT = 10_000_000
OLD_MONTH = "2025-01"
OLD = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def http(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.http() as client:
        yield client


def _auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _json(response: httpx.Response) -> Any:
    """The body with exact decimals (the money fields are decimals written as JSON numbers)."""
    return json.loads(response.content, parse_float=Decimal)


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["x-request-id"]
    return _json(response)


def _create(http: httpx.Client, key: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "acme", "spend_cap_cents": 500, **fields}
    created: dict[str, Any] = _ok(http.post("/v1/sub-accounts", headers=_auth(key), json=body))
    return created


def _write(gateway: Gateway, entries: list[LedgerEntry]) -> None:
    engine = create_engine(normalise_url(gateway.db_url))
    try:
        LedgerSink(engine).write(entries)
    finally:
        engine.dispose()


def _row(account: str, cost: int, **kw: Any) -> LedgerEntry:
    entry = LedgerEntry(
        request_id="r",
        account_id=account,
        key_id="key_test",
        endpoint="chat.completions",
        model="sim/gpt",
        provider="sim",
        upstream_model="sim-gpt",
        mode="live",
        status="ok",
        http_status=200,
        input_units=10,
        output_units=4,
        cost_nanousd=cost,
        created_at=OLD,
    )
    for name, value in kw.items():
        setattr(entry, name, value)
    return entry


def test_a_sub_account_is_created_read_listed_changed_and_deleted(
    gateway: Gateway, http: httpx.Client
) -> None:
    _account, key = gateway.new_account("sub-crud", usd="1")
    sub = _create(http, key, external_ref="cus_1", rate_limit_rpm=60, default_tag="acme")
    assert sub["object"] == "sub_account" and sub["id"].startswith("sub_")
    assert sub["key"].startswith("sk-aig-") and not sub["key"].startswith("sk-aig-test-")
    expected = {
        "name": "acme",
        "external_ref": "cus_1",
        "spend_cap_cents": 500,
        "cap_period": "month",
        "rate_limit_rpm": 60,
        "default_tag": "acme",
        "mode": "live",
        "spent_cents": 0,
        "spent_nanousd": 0,
    }
    assert {k: sub[k] for k in expected} == expected
    assert abs(sub["created_at"] - time.time()) < 3600
    record = _ok(http.get(f"/v1/sub-accounts/{sub['id']}", headers=_auth(key)))
    assert "key" not in record and record == {k: v for k, v in sub.items() if k != "key"}

    second = _create(http, key, name="beta", cap_period="lifetime")
    assert second["cap_period"] == "lifetime" and second["period"] == "lifetime"
    page = _ok(http.get("/v1/sub-accounts", headers=_auth(key), params={"limit": 1}))
    assert [s["id"] for s in page["data"]] == [sub["id"]] and page["has_more"] is True
    rest = _ok(http.get("/v1/sub-accounts", headers=_auth(key), params={"limit": 1, "after": sub["id"]}))
    assert [s["id"] for s in rest["data"]] == [second["id"]] and rest["has_more"] is False

    changed = _ok(
        http.patch(
            f"/v1/sub-accounts/{sub['id']}",
            headers=_auth(key),
            json={"spend_cap_cents": 900, "rate_limit_rpm": None, "default_tag": None, "name": "Acme"},
        )
    )
    assert (changed["spend_cap_cents"], changed["rate_limit_rpm"], changed["default_tag"]) == (
        900,
        None,
        None,
    )
    assert changed["name"] == "Acme" and changed["external_ref"] == "cus_1" and "key" not in changed

    deleted = _ok(http.delete(f"/v1/sub-accounts/{second['id']}", headers=_auth(key)))
    assert deleted == {"id": second["id"], "object": "sub_account", "deleted": True}
    assert http.get(f"/v1/sub-accounts/{second['id']}", headers=_auth(key)).status_code == 404
    assert http.delete(f"/v1/sub-accounts/{second['id']}", headers=_auth(key)).status_code == 404
    listed = _ok(http.get("/v1/sub-accounts", headers=_auth(key)))
    assert [s["id"] for s in listed["data"]] == [sub["id"]]


def test_rotation_keeps_the_old_key_for_its_grace_and_delete_revokes_at_once(
    gateway: Gateway, http: httpx.Client
) -> None:
    _account, key = gateway.new_account("sub-rotate", usd="1")
    sub = _create(http, key)
    first = sub["key"]
    assert _ok(http.get("/v1/balance", headers=_auth(first)))["sub_account_id"] == sub["id"]

    rotated = _ok(
        http.patch(
            f"/v1/sub-accounts/{sub['id']}",
            headers=_auth(key),
            json={"rotate_key": True, "grace_period_s": 3600},
        )
    )
    second = rotated["key"]
    assert second != first and abs(rotated["old_key_expires_at"] - (time.time() + 3600)) < 120
    for each in (first, second):  # the old key works through its grace period
        assert http.get("/v1/balance", headers=_auth(each)).status_code == 200

    now = _ok(http.patch(f"/v1/sub-accounts/{sub['id']}", headers=_auth(key), json={"rotate_key": True}))
    assert now["old_key_expires_at"] is None  # the default grace is 0: the others stop at once
    for each in (first, second):
        answer = http.get("/v1/balance", headers=_auth(each))
        assert answer.status_code == 401 and answer.json()["error"]["type"] == "authentication_error"
    third = now["key"]
    assert http.get("/v1/balance", headers=_auth(third)).status_code == 200

    too_long = http.patch(
        f"/v1/sub-accounts/{sub['id']}",
        headers=_auth(key),
        json={"rotate_key": True, "grace_period_s": 10**9},
    )
    assert too_long.status_code == 400 and too_long.json()["error"]["param"] == "grace_period_s"

    _ok(http.delete(f"/v1/sub-accounts/{sub['id']}", headers=_auth(key)))
    # This process forgets the key at once (no wait for the key cache's TTL).
    gone = http.get("/v1/balance", headers=_auth(third))
    assert gone.status_code == 401, gone.text


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"spend_cap_cents": 5}, "name"),
        ({"name": "", "spend_cap_cents": 5}, "name"),
        ({"name": "   ", "spend_cap_cents": 5}, "name"),
        ({"name": "x" * 201, "spend_cap_cents": 5}, "name"),
        ({"name": "a"}, "spend_cap_cents"),
        ({"name": "a", "spend_cap_cents": -1}, "spend_cap_cents"),
        ({"name": "a", "spend_cap_cents": "5"}, "spend_cap_cents"),
        ({"name": "a", "spend_cap_cents": 1.5}, "spend_cap_cents"),
        ({"name": "a", "spend_cap_cents": 10**30}, "spend_cap_cents"),
        ({"name": "a", "spend_cap_cents": 5, "rate_limit_rpm": 0}, "rate_limit_rpm"),
        ({"name": "a", "spend_cap_cents": 5, "default_tag": ""}, "default_tag"),
        ({"name": "a", "spend_cap_cents": 5, "default_tag": "a\tb"}, "default_tag"),
        ({"name": "a", "spend_cap_cents": 5, "cap_period": "year"}, "cap_period"),
        ({"name": "a", "spend_cap_cents": 5, "spend_cap": 5}, "spend_cap"),
    ],
)
def test_bad_fields_are_400_naming_the_field(
    gateway: Gateway, http: httpx.Client, body: dict[str, Any], param: str
) -> None:
    answer = http.post("/v1/sub-accounts", headers=_auth(gateway.admin_key), json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert answer.json()["error"]["param"] == param


def test_bad_patches_and_bodies_are_400(gateway: Gateway, http: httpx.Client) -> None:
    sub = _create(http, gateway.admin_key)
    url = f"/v1/sub-accounts/{sub['id']}"
    for body, param in (
        ({"name": None}, "name"),
        ({"spend_cap_cents": None}, "spend_cap_cents"),
        ({"cap_period": None}, "cap_period"),
        ({"grace_period_s": 5}, "grace_period_s"),
        ({"rotate_key": "yes"}, "rotate_key"),
    ):
        answer = http.patch(url, headers=_auth(gateway.admin_key), json=body)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == param, (body, answer.text)
    for raw in (b"{not json", b"[1, 2]", b""):
        answer = http.post("/v1/sub-accounts", headers=_auth(gateway.admin_key), content=raw)
        assert answer.status_code == 400 and answer.json()["error"]["type"] == "invalid_request_error"
    for query in ({"limit": "0"}, {"limit": "101"}, {"limit": "x"}):
        answer = http.get("/v1/sub-accounts", headers=_auth(gateway.admin_key), params=query)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == "limit"


def test_a_test_mode_parent_key_makes_a_test_mode_sub_account(gateway: Gateway, http: httpx.Client) -> None:
    sub = _create(http, gateway.test_key, name="sandbox")
    assert sub["mode"] == "test" and sub["key"].startswith("sk-aig-test-")
    chat = http.post(
        "/v1/chat/completions",
        headers=_auth(sub["key"]),
        json={"model": "anthropic/claude-opus-4.7", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert chat.status_code == 200, chat.text
    assert chat.headers["x-provider"] == "simulated"


def test_a_sub_account_key_calls_models_and_its_balance_is_its_cap(
    gateway: Gateway, http: httpx.Client
) -> None:
    account, key = gateway.new_account("sub-balance", usd="1")
    sub = _create(http, key, spend_cap_cents=250)
    chat = http.post(
        "/v1/chat/completions",
        headers=_auth(sub["key"]),
        json={"model": "sim/gpt", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20},
    )
    assert chat.status_code == 200, chat.text
    listed = http.get("/v1/models", headers=_auth(sub["key"]))
    assert listed.status_code == 200 and listed.json()["data"]

    # Spend written by the ledger writer this month counts against the cap, exactly.
    _write(gateway, [_row(account, 12_345_678, sub_account_id=sub["id"], created_at=datetime.now(UTC))])
    balance = _ok(http.get("/v1/balance", headers=_auth(sub["key"])))
    assert set(balance) == {
        "object",
        "sub_account_id",
        "cap_cents",
        "spent_cents",
        "spent_nanousd",
        "remaining_cents",
        "remaining_nanousd",
        "period",
    }
    assert balance["sub_account_id"] == sub["id"] and balance["cap_cents"] == 250
    assert balance["period"] == datetime.now(UTC).strftime("%Y-%m")
    spent = balance["spent_nanousd"]
    assert spent >= 12_345_678  # the call itself may have been flushed too
    assert balance["spent_cents"] == Decimal(spent) / CENT
    assert balance["remaining_nanousd"] == 250 * CENT - spent
    assert balance["remaining_cents"] == Decimal(250 * CENT - spent) / CENT
    parent = _ok(http.get("/v1/balance", headers=_auth(key)))
    assert parent["account_id"] == account and "sub_account_id" not in parent


def _expected(rows: list[LedgerEntry], field: str, mode: str) -> dict[Any, tuple[int, int, int]]:
    out: dict[Any, tuple[int, int, int]] = {}
    for row in rows:
        if row.mode != mode:
            continue
        key = getattr(row, field)
        requests, errors, cost = out.get(key, (0, 0, 0))
        out[key] = (requests + 1, errors + (row.status != "ok"), cost + row.cost_nanousd)
    return out


def _got(entries: list[dict[str, Any]], field: str) -> dict[Any, tuple[int, int, int]]:
    out = {}
    for entry in entries:
        assert entry["cost_cents"] == Decimal(entry["cost_nanousd"]) / CENT
        out[entry[field]] = (entry["requests"], entry["errors"], entry["cost_nanousd"])
    return out


def test_usage_reports_equal_the_ledger_rows(gateway: Gateway, http: httpx.Client) -> None:
    account, key = gateway.new_account("usage", usd="5")
    one = _create(http, key, name="one")
    two = _create(http, key, name="two")
    rows = [
        _row(account, 1_234_567, sub_account_id=one["id"], tag="prod"),
        _row(account, 3, sub_account_id=one["id"], tag="dev", model="sim/text-only"),
        _row(account, 0, sub_account_id=one["id"], status="error", http_status=502),
        _row(account, 7 * CENT + 1, sub_account_id=two["id"], tag="prod"),
        _row(account, 2 * CENT, tag="prod", created_at=datetime(2025, 1, 31, 23, 59, tzinfo=UTC)),
        _row(account, 5 * CENT, sub_account_id=one["id"], tag="prod", mode="test"),
        _row(account, 9 * CENT, tag="other-month", created_at=datetime(2025, 2, 1, tzinfo=UTC)),
    ]
    _write(gateway, rows)
    in_month = [r for r in rows if r.created_at.strftime("%Y-%m") == OLD_MONTH]
    by_tag = _ok(http.get("/v1/usage/by-tag", headers=_auth(key), params={"month": OLD_MONTH}))
    assert by_tag["object"] == "usage.report" and by_tag["group_by"] == "tag" and by_tag["month"] == OLD_MONTH
    assert _got(by_tag["data"], "tag") == _expected(in_month, "tag", "live")
    assert _got(by_tag["test"], "tag") == _expected(in_month, "tag", "test")
    live_cost = sum(r.cost_nanousd for r in in_month if r.mode == "live")
    assert by_tag["total"]["cost_nanousd"] == live_cost and by_tag["total"]["requests"] == 5
    assert by_tag["test_total"]["cost_nanousd"] == 5 * CENT
    prod = next(e for e in by_tag["data"] if e["tag"] == "prod")
    assert prod["units"] == {"tokens": {"input": 30, "output": 12}}
    assert [d["day"] for d in prod["by_day"]] == ["2025-01-15", "2025-01-31"]
    assert [m["model"] for m in prod["by_model"]] == ["sim/gpt"]

    by_sub = _ok(http.get("/v1/usage/by-sub-account", headers=_auth(key), params={"month": OLD_MONTH}))
    assert _got(by_sub["data"], "sub_account_id") == _expected(in_month, "sub_account_id", "live")
    assert _got(by_sub["test"], "sub_account_id") == _expected(in_month, "sub_account_id", "test")

    own = _ok(
        http.get(
            f"/v1/sub-accounts/{one['id']}/usage", headers=_auth(one["key"]), params={"month": OLD_MONTH}
        )
    )
    assert own["group_by"] == "sub_account"
    assert _got(own["data"], "sub_account_id") == {one["id"]: (3, 1, 1_234_570)}
    assert _got(own["test"], "sub_account_id") == {one["id"]: (1, 0, 5 * CENT)}
    models = {m["model"]: m["requests"] for m in own["data"][0]["by_model"]}
    assert models == {"sim/gpt": 2, "sim/text-only": 1}

    later = _ok(http.get("/v1/usage/by-tag", headers=_auth(key), params={"month": "2025-02"}))
    assert _got(later["data"], "tag") == {"other-month": (1, 0, 9 * CENT)}
    current = _ok(http.get("/v1/usage/by-tag", headers=_auth(key)))
    assert current["month"] == datetime.now(UTC).strftime("%Y-%m")
    for bad in ("2025-13", "2025-1", "january", ""):
        answer = http.get("/v1/usage/by-tag", headers=_auth(key), params={"month": bad})
        assert answer.status_code == 400 and answer.json()["error"]["param"] == "month", bad


def test_a_real_call_shows_in_the_usage_report(gateway: Gateway, http: httpx.Client) -> None:
    _account, key = gateway.new_account("usage-live", usd="1")
    chat = http.post(
        "/v1/chat/completions",
        headers={**_auth(key), "x-aig-tag": "live-report"},
        json={"model": "sim/gpt", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20},
    )
    assert chat.status_code == 200, chat.text
    row = gateway.ledger_row(chat.headers["x-request-id"])
    deadline = time.monotonic() + 60
    while True:
        report = _ok(http.get("/v1/usage/by-tag", headers=_auth(key)))
        if report["data"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert _got(report["data"], "tag") == {"live-report": (1, 0, row["cost_nanousd"])}


def test_budgets_are_set_replaced_listed_and_deleted(gateway: Gateway, http: httpx.Client) -> None:
    account, key = gateway.new_account("budgets", usd="1")
    budget = _ok(http.post("/v1/budgets", headers=_auth(key), json={"tag": "research", "cap_cents": 1000}))
    assert budget["object"] == "budget" and budget["id"].startswith("bud_")
    assert (budget["tag"], budget["cap_cents"], budget["spent_cents"]) == ("research", 1000, 0)
    assert budget["period"] == datetime.now(UTC).strftime("%Y-%m")
    _write(gateway, [_row(account, 3 * CENT + 5, tag="research", created_at=datetime.now(UTC))])
    again = _ok(http.post("/v1/budgets", headers=_auth(key), json={"tag": "research", "cap_cents": 2000}))
    assert again["id"] == budget["id"] and again["cap_cents"] == 2000
    assert again["spent_nanousd"] == 3 * CENT + 5 and again["spent_cents"] == Decimal("3.0000005")
    other = _ok(http.post("/v1/budgets", headers=_auth(key), json={"tag": "dev", "cap_cents": 0}))
    listed = _ok(http.get("/v1/budgets", headers=_auth(key)))
    assert [b["tag"] for b in listed["data"]] == ["dev", "research"] and listed["has_more"] is False
    gone = _ok(http.delete(f"/v1/budgets/{other['id']}", headers=_auth(key)))
    assert gone == {"id": other["id"], "object": "budget", "deleted": True}
    again_gone = http.delete(f"/v1/budgets/{other['id']}", headers=_auth(key))
    assert again_gone.status_code == 404 and again_gone.json()["error"]["param"] == "id"
    assert [b["tag"] for b in _ok(http.get("/v1/budgets", headers=_auth(key)))["data"]] == ["research"]
    for body, param in (
        ({"cap_cents": 5}, "tag"),
        ({"tag": "", "cap_cents": 5}, "tag"),
        ({"tag": "x"}, "cap_cents"),
        ({"tag": "x", "cap_cents": -5}, "cap_cents"),
        ({"tag": "x", "cap_cents": 5, "period": "week"}, "period"),
    ):
        answer = http.post("/v1/budgets", headers=_auth(key), json=body)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == param, (body, answer.text)
