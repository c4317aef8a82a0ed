"""``kill -9`` during webhook delivery: after a restart every event arrives, with the same delivery id.

A real gateway (SQLite and PostgreSQL) has a webhook endpoint pointing at a receiver that stalls.
Sub-accounts are created through the API (each writes subaccount.created in its transaction); once
the receiver holds a request for each event, the gateway is killed with SIGKILL mid-delivery. A new
gateway on the same database must send each event again, after the dead process's claims run out,
as the next attempt with the delivery id the first attempt carried, correctly signed.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from aigateway.simulators.server import SimulatorServer
from aigateway.webhooks_verify import verify
from tests.integration.conftest import Gateway, start_gateway, stop_gateway
from tests.integration.test_crash_ledger import _restart
from tests.integration.webhook_receiver import Receiver

EVENTS = 3
ENV = {
    "AIGATEWAY_ALLOW_PRIVATE_FETCH": "true",  # the receiver is on 127.0.0.1
    "AIGATEWAY_WEBHOOK_TIMEOUT_S": "5",  # a claim's lease is this + 5 s: the restart waits that out
    "AIGATEWAY_WEBHOOK_POLL_S": "0.1",
}


def _wait(condition, what: str, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    delay = 0.02
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_kill_9_during_delivery_delivers_every_event_with_the_same_id(
    fresh_db: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    gw = start_gateway(tmp_path, fresh_db, simulator, extra_env=ENV)
    revived: Gateway | None = None
    with Receiver() as receiver:
        try:
            _account, key = gw.new_account("hooks")
            with httpx.Client(base_url=gw.url, timeout=30) as http:
                put = http.put("/v1/webhook-endpoint", headers=_auth(key), json={"url": receiver.url})
                assert put.status_code == 200, put.text
                secret = http.get("/v1/webhook-secret", headers=_auth(key)).json()["secret"]
                receiver.stall = True
                subs = []
                for n in range(EVENTS):
                    made = http.post(
                        "/v1/sub-accounts", headers=_auth(key), json={"name": f"s{n}", "spend_cap_cents": 1}
                    )
                    assert made.status_code == 200, made.text
                    subs.append(made.json()["id"])
            _wait(lambda: receiver.count() >= EVENTS, "every event's first attempt to reach the receiver")
            gw.process.send_signal(signal.SIGKILL)
            gw.process.wait(timeout=30)
            assert gw.process.returncode == -signal.SIGKILL
            first = {r.delivery_id: r for r in receiver.snapshot()}
            assert len(first) == EVENTS and all(r.attempt == 1 for r in first.values())

            receiver.stall = False
            revived = _restart(gw)

            def answered() -> bool:
                return {r.delivery_id for r in receiver.snapshot() if r.attempt >= 2} == set(first)

            _wait(answered, "every delivery to be sent again after the restart")
        finally:
            for g in (revived, gw):
                if g is not None and g.process.poll() is None:
                    stop_gateway(g)
        got = receiver.snapshot()
    again = [r for r in got if r.attempt >= 2]
    assert {r.delivery_id for r in again} == set(first)
    events = {verify(secret, r.headers, r.body)["data"]["sub_account_id"] for r in again}
    assert events == set(subs)
    for r in again:
        assert r.body == first[r.delivery_id].body  # the same event, byte for byte
