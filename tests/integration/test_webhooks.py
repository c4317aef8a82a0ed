"""The webhook deliverer against a real HTTP receiver, on SQLite and PostgreSQL.

Events are real outbox rows (a sub-account created through the store writes subaccount.created);
time is an injected clock, so the whole retry schedule (0 s, 30 s, 2 min, 10 min, 1 h, 6 h) runs in
milliseconds: each tick is one ``run_once``, nothing sleeps.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from aigateway.providers.fetch import create_fetch_session
from aigateway.services.webhooks import SCHEDULE_S, WebhookDeliverer, endpoint_problem
from aigateway.storage.accounts import AccountStore
from aigateway.storage.db import create_db_engine, migrate
from aigateway.storage.outbox import OutboxStore
from aigateway.storage.schema import webhook_endpoints
from aigateway.storage.subaccounts import SubAccountStore
from aigateway.storage.webhooks import WebhookStore
from aigateway.webhooks_verify import WebhookVerificationError, verify
from tests.integration.webhook_receiver import Receiver

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(fresh_db: str) -> Iterator[Engine]:
    engine = create_db_engine(fresh_db)
    migrate(engine)
    yield engine
    engine.dispose()


def _account(engine: Engine, url: str | None, clock: Clock) -> str:
    account = AccountStore(engine).create_account("hooks")
    if url is not None:
        WebhookStore(engine).set_endpoint(account, url, at(clock))
    return account


def at(clock: Clock) -> datetime:
    """The clock's time as the deliverer sees it."""
    return datetime.fromtimestamp(clock(), UTC)


def _event(engine: Engine, account: str, name: str = "acme") -> str:
    record, _key = SubAccountStore(engine).create(account, name=name, spend_cap_nanousd=5 * 10_000_000)
    return record.id


async def _ticks(deliverer: WebhookDeliverer, n: int = 1) -> int:
    return sum([await deliverer.run_once() for _ in range(n)])


def _run(engine: Engine, clock: Clock, body, allow_private: bool = True):  # type: ignore[no-untyped-def]
    """Run ``body(deliverer)`` in a loop with a deliverer on its own guarded session."""

    async def main():  # type: ignore[no-untyped-def]
        session = create_fetch_session(allow_private, 5.0, 10.0)
        try:
            deliverer = WebhookDeliverer(
                WebhookStore(engine), session, allow_private=allow_private, clock=clock
            )
            return await body(deliverer)
        finally:
            await session.close()

    return asyncio.run(main())


def test_a_delivery_is_signed_and_retried_on_the_whole_schedule(engine: Engine) -> None:
    clock = Clock()
    with Receiver(lambda r: 500 if r.attempt < 6 else 204) as receiver:
        account = _account(engine, receiver.url, clock)
        sub_id = _event(engine, account)
        secret = WebhookStore(engine).secret(account, at(clock)).secret

        async def body(deliverer: WebhookDeliverer) -> None:
            assert await _ticks(deliverer) == 1  # attempt 1 at once (0 s)
            for delay in SCHEDULE_S[1:]:
                clock.now += delay - 1
                assert await _ticks(deliverer, 2) == 0, "sent before its time"
                clock.now += 1
                assert await _ticks(deliverer) == 1
            clock.now += 7 * 24 * 3600
            assert await _ticks(deliverer) == 0  # delivered: never again

        _run(engine, clock, body)
        got = receiver.snapshot()
    assert [r.attempt for r in got] == [1, 2, 3, 4, 5, 6]
    assert len({r.delivery_id for r in got}) == 1
    assert {r.body for r in got} == {got[0].body}  # the same bytes every time
    elapsed = 0
    for r, delay in zip(got, SCHEDULE_S, strict=True):
        elapsed += delay
        assert r.headers["x-aig-event-type"] == "subaccount.created"
        assert r.headers["content-type"] == "application/json"
        event = verify(secret, r.headers, r.body, now=T0 + elapsed)
        assert event["type"] == "subaccount.created" and event["data"]["sub_account_id"] == sub_id
        assert r.headers["x-aig-signature"].startswith(f"t={int(T0 + elapsed)},v1=")
    assert event["data"]["spend_cap_cents"] == 5
    [delivery] = WebhookStore(engine).for_account(account)
    assert delivery.id == got[0].delivery_id and delivery.attempts == 6
    assert delivery.delivered_at is not None and delivery.last_status == 204 and delivery.given_up_at is None


def test_after_the_sixth_failure_the_delivery_is_given_up_and_recorded(engine: Engine) -> None:
    clock = Clock()
    with Receiver(lambda _r: 503) as receiver:
        account = _account(engine, receiver.url, clock)
        _event(engine, account)

        async def body(deliverer: WebhookDeliverer) -> None:
            for delay in SCHEDULE_S:
                clock.now += delay
                assert await _ticks(deliverer) == 1
            clock.now += 30 * 24 * 3600
            assert await _ticks(deliverer) == 0

        _run(engine, clock, body)
        assert receiver.count() == 6
    [delivery] = WebhookStore(engine).for_account(account)
    assert delivery.attempts == 6 and delivery.delivered_at is None
    assert delivery.given_up_at is not None and delivery.last_status == 503
    assert delivery.last_error == "the endpoint answered HTTP 503"


def test_a_rotated_secret_signs_beside_the_new_one_during_the_overlap(engine: Engine) -> None:
    clock = Clock()
    overlap = 24 * 3600
    with Receiver() as receiver:
        account = _account(engine, receiver.url, clock)
        store = WebhookStore(engine)
        old = store.secret(account, at(clock)).secret
        new = store.rotate(account, at(clock), overlap).secret
        assert new != old

        async def body(deliverer: WebhookDeliverer) -> None:
            _event(engine, account, "during")
            assert await _ticks(deliverer) == 1
            clock.now += overlap + 1
            _event(engine, account, "after")
            assert await _ticks(deliverer) == 1

        _run(engine, clock, body)
        during, after = receiver.snapshot()
    assert during.headers["x-aig-signature"].count("v1=") == 2
    assert verify(new, during.headers, during.body, now=T0)["id"]
    assert verify(old, during.headers, during.body, now=T0)["id"]
    assert after.headers["x-aig-signature"].count("v1=") == 1
    assert verify(new, after.headers, after.body, now=clock.now)["id"]
    with pytest.raises(WebhookVerificationError):
        verify(old, after.headers, after.body, now=clock.now)


def test_a_loopback_endpoint_is_refused_unless_private_fetches_are_allowed(engine: Engine) -> None:
    clock = Clock()
    assert endpoint_problem("http://127.0.0.1:9/hook", allow_private=False) is not None
    assert endpoint_problem("http://[::1]/hook", allow_private=False) is not None
    assert endpoint_problem("ftp://example.com/hook", allow_private=True) is not None
    assert endpoint_problem("http://127.0.0.1:9/hook", allow_private=True) is None
    with Receiver() as receiver:
        # "localhost" is a name: refused when it resolves, at send time (the guarded resolver).
        for url in (receiver.url, receiver.url.replace("127.0.0.1", "localhost")):
            account = _account(engine, url, clock)
            _event(engine, account)

        async def body(deliverer: WebhookDeliverer) -> None:
            assert await _ticks(deliverer) == 2

        _run(engine, clock, body, allow_private=False)
        assert receiver.count() == 0
    errors = [d.last_error for d in WebhookStore(engine).for_account(account)]
    errors += [d.last_error for d in WebhookStore(engine).for_account(_first_account(engine, account))]
    assert all(e is not None and e.startswith("refused:") for e in errors), errors


def _first_account(engine: Engine, not_this: str) -> str:
    with engine.connect() as conn:
        ids = conn.execute(select(webhook_endpoints.c.account_id)).scalars().all()
    return next(a for a in ids if a != not_this)


def test_events_of_an_account_without_an_endpoint_are_taken_and_not_sent(engine: Engine) -> None:
    clock = Clock()
    account = _account(engine, None, clock)
    _event(engine, account)

    async def body(deliverer: WebhookDeliverer) -> None:
        assert await _ticks(deliverer) == 0

    _run(engine, clock, body)
    assert WebhookStore(engine).for_account(account) == []
    assert OutboxStore(engine).pending() == []


def test_a_claim_left_by_a_dead_sender_is_sent_again_with_the_same_id_after_its_lease(engine: Engine) -> None:
    clock = Clock()
    with Receiver() as receiver:
        account = _account(engine, receiver.url, clock)
        _event(engine, account)
        store = WebhookStore(engine)
        store.take_events(at(clock))
        [dead] = store.claim(at(clock), lease_s=15.0)  # claimed, never sent: a kill -9

        async def body(deliverer: WebhookDeliverer) -> None:
            assert await _ticks(deliverer) == 0  # the claim holds
            clock.now += deliverer.lease_s
            assert await _ticks(deliverer) == 1

        _run(engine, clock, body)
        [got] = receiver.snapshot()
    assert got.delivery_id == dead.id and got.attempt == 2
    # The dead sender's late outcome cannot overwrite the live one's.
    assert not store.finish(dead, at(clock), status=500, error="x", delivered=False, next_attempt_at=None)
    assert store.get(dead.id).delivered_at is not None  # type: ignore[union-attr]


def test_two_deliverers_never_send_the_same_attempt_twice(engine: Engine, fresh_db: str) -> None:
    """Two processes' deliverers (each its own engine) tick at the same time over the whole schedule."""
    clock = Clock()
    events = 12
    with Receiver(lambda _r: 500) as receiver:
        account = _account(engine, receiver.url, clock)
        for n in range(events):
            _event(engine, account, f"s{n}")
        other = create_db_engine(fresh_db)

        async def main() -> None:
            sessions = [create_fetch_session(True, 5.0, 10.0) for _ in range(2)]
            try:
                pair = [
                    WebhookDeliverer(WebhookStore(e), s, allow_private=True, clock=clock, concurrency=5)
                    for e, s in zip((engine, other), sessions, strict=True)
                ]
                for delay in SCHEDULE_S:
                    clock.now += delay
                    for _ in range(4):
                        await asyncio.gather(*(d.run_once() for d in pair))
                clock.now += 7 * 24 * 3600
                assert sum(await asyncio.gather(*(d.run_once() for d in pair))) == 0
            finally:
                for s in sessions:
                    await s.close()

        try:
            asyncio.run(main())
        finally:
            other.dispose()
        got = receiver.snapshot()
    sent = Counter((r.delivery_id, r.attempt) for r in got)
    assert max(sent.values()) == 1, [k for k, v in sent.items() if v > 1]
    assert len({r.delivery_id for r in got}) == events
    assert len(got) == events * len(SCHEDULE_S)
    assert all(d.given_up_at is not None for d in WebhookStore(engine).for_account(account))


def test_concurrent_claims_take_each_row_once(engine: Engine, fresh_db: str) -> None:
    clock = Clock()
    account = _account(engine, "http://127.0.0.1:9/hook", clock)
    for n in range(40):
        _event(engine, account, f"c{n}")
    WebhookStore(engine).take_events(at(clock))
    engines = [create_db_engine(fresh_db) for _ in range(4)]
    claimed: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(engines))

    def claimer(e: Engine) -> None:
        start.wait()
        store = WebhookStore(e)
        while got := store.claim(at(clock), lease_s=60, limit=3):
            with lock:
                claimed.extend(d.id for d in got)

    threads = [threading.Thread(target=claimer, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for e in engines:
        e.dispose()
    assert len(claimed) == 40 and len(set(claimed)) == 40
