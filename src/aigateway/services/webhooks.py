"""The webhook deliverer: outbox events to each account's endpoint, signed, retried on a schedule.

Every tick it (1) turns pending outbox events into deliveries, (2) claims the deliveries that are
due, (3) sends them concurrently and records each outcome. Any 2xx answer is delivered; anything
else (another status, a timeout, a refused address) schedules the next attempt ``SCHEDULE_S`` later,
and the sixth failure gives the delivery up (``given_up_at``, with the last status and error kept).

Delivery is at least once: a process killed mid-send leaves a claim whose lease runs out, and the
next tick in any process sends the delivery again as the next attempt with the same delivery id.
Requests go through the SSRF-guarded session of providers/fetch.py (no private or loopback address
unless the operator allows it) and never follow redirects. Time comes from an injected clock, so a
test runs the whole schedule (6 h and more) in milliseconds by calling ``run_once``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp

from aigateway.core.webhook_signing import signature_header
from aigateway.providers.fetch import FetchRefused, check_url
from aigateway.storage.webhooks import Delivery, WebhookStore

log = logging.getLogger("aigateway.webhooks")

# When each attempt is made, counted from the failure of the one before (the first at once): the
# contract's 0 s, 30 s, 2 min, 10 min, 1 h, 6 h. After the sixth failed attempt the delivery is given up.
SCHEDULE_S: tuple[int, ...] = (0, 30, 120, 600, 3600, 21600)
USER_AGENT = "AIgateway-Webhooks/1"


def next_attempt_delay(attempts_made: int) -> int | None:
    """Seconds until the next attempt after ``attempts_made`` failed ones; None: give up."""
    if attempts_made >= len(SCHEDULE_S):
        return None
    return SCHEDULE_S[attempts_made]


class WebhookDeliverer:
    def __init__(
        self,
        store: WebhookStore,
        session: aiohttp.ClientSession,
        *,
        allow_private: bool,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 10.0,
        poll_s: float = 1.0,
        concurrency: int = 50,
    ) -> None:
        self.store = store
        self.session = session
        self.allow_private = allow_private
        self.clock = clock
        self.timeout_s = timeout_s
        # A claim outlives the longest send by a margin; after that another process may send again.
        self.lease_s = timeout_s + 5.0
        self.poll_s = poll_s
        self.concurrency = concurrency
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    async def tick(self) -> list[asyncio.Task[None]]:
        """Take new events and start sending what is due (up to ``concurrency`` sends in flight):
        a slow endpoint holds one send, not the loop."""
        await asyncio.to_thread(self.store.take_events, self.now(), 2 * self.concurrency)
        room = self.concurrency - len(self._inflight)
        if room <= 0:
            return []
        claimed = await asyncio.to_thread(self.store.claim, self.now(), self.lease_s, room)
        if not claimed:
            return []
        secrets = await asyncio.to_thread(self.store.secrets, [d.account_id for d in claimed], self.now())
        tasks = [
            asyncio.create_task(self._attempt(d, secrets[d.account_id].signing_secrets(self.now())))
            for d in claimed
        ]
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return tasks

    async def run_once(self) -> int:
        """One tick, waiting for its sends to finish (tests step the clock between these).
        Returns how many attempts were made."""
        tasks = await self.tick()
        if tasks:
            await asyncio.gather(*tasks)
        return len(tasks)

    async def _attempt(self, delivery: Delivery, signing: list[str]) -> None:
        status, error = await self.send(delivery, signing)
        delivered = status is not None and 200 <= status < 300
        now = self.now()
        next_at: datetime | None = None
        if not delivered:
            delay = next_attempt_delay(delivery.attempts)
            next_at = None if delay is None else now + timedelta(seconds=delay)
        kept = await asyncio.to_thread(
            self.store.finish,
            delivery,
            now,
            status=status,
            error=error,
            delivered=delivered,
            next_attempt_at=next_at,
        )
        if not kept:
            log.warning(
                "webhook delivery %s: claim lost before attempt %d was recorded",
                delivery.id,
                delivery.attempts,
            )
        elif not delivered and next_at is None:
            log.warning(
                "webhook delivery %s given up after %d attempts: %s", delivery.id, delivery.attempts, error
            )

    async def send(self, delivery: Delivery, signing: list[str]) -> tuple[int | None, str | None]:
        """(HTTP status or None, error text or None) of one attempt."""
        body = delivery.body.encode()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "x-aig-signature": signature_header(signing, int(self.clock()), body),
            "x-aig-event-type": delivery.event_type,
            "x-aig-delivery-id": delivery.id,
            "x-aig-attempt": str(delivery.attempts),
        }
        try:
            check_url(delivery.url, self.allow_private)
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with self.session.post(
                delivery.url, data=body, headers=headers, allow_redirects=False, timeout=timeout
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return response.status, None
                return response.status, f"the endpoint answered HTTP {response.status}"
        except FetchRefused as exc:
            return None, f"refused: {exc}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            cause = exc.__cause__ or exc
            if isinstance(cause, FetchRefused):
                return None, f"refused: {cause}"
            return None, f"{type(exc).__name__}: {exc}"[:500]

    # -- the loop in the app's lifespan ---------------------------------------------------------
    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="webhook-deliverer")

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                started = len(await self.tick())
            except Exception:  # a database hiccup must not end deliveries for the process's life
                log.exception("webhook delivery tick failed")
                started = 0
            if started:
                continue  # more may be due: no pause while there is work and room
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.poll_s)

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # Sends cut off here keep their claim; it runs out and they are sent again (same id).
        for task in list(self._inflight):
            task.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)


MAX_URL_LENGTH = 2000


def endpoint_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` cannot be a webhook endpoint (None: it can). Names resolving to a private
    address are refused again at every send; here only what is visible in the URL."""
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    try:
        check_url(url, allow_private)
    except FetchRefused as exc:
        return str(exc)
    return None
