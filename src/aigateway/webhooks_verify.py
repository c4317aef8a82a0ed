"""Verify a webhook from AIgateway in your receiver: ``verify(secret, headers, raw_body)``.

Pass the secret from ``GET /v1/webhook-secret``, the request's headers and its body exactly as
received (bytes, before any JSON parsing: re-serialised JSON would not match the signature). The
answer is the event (``id``, ``type``, ``occurred_at``, ``data``); a missing, wrong or older than
``tolerance_s`` signature raises ``WebhookVerificationError``, so a forged or replayed request is
never taken for a real one. Deliveries are at least once: use ``x-aig-delivery-id`` (or the event's
``id``) to ignore one you have already handled. Only the standard library is needed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from aigateway.core.webhook_signing import matches, parse_header

SIGNATURE_HEADER = "x-aig-signature"
DEFAULT_TOLERANCE_S = 300


class WebhookVerificationError(ValueError):
    """The request is not a genuine, recent AIgateway webhook."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, item in headers.items():  # plain dicts are case-sensitive; HTTP header names are not
        if key.lower() == name:
            return item
    return None


def verify(
    secret: str | list[str],
    headers: Mapping[str, str],
    raw_body: bytes | str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """The verified event, or WebhookVerificationError.

    ``secret`` may be a list (say, the new and the old secret while you roll out a rotation).
    ``now`` (unix seconds) is for tests; by default the system clock.
    """
    body = raw_body.encode() if isinstance(raw_body, str) else bytes(raw_body)
    value = _header(headers, SIGNATURE_HEADER)
    if not value:
        raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header")
    try:
        timestamp, signatures = parse_header(value)
    except ValueError as exc:
        raise WebhookVerificationError(str(exc)) from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise WebhookVerificationError(
            f"the signature's timestamp is {int(current - timestamp)} s away from now "
            f"(more than {tolerance_s} s): a stale or replayed delivery"
        )
    candidates = [secret] if isinstance(secret, str) else list(secret)
    if not any(matches(s, timestamp, body, signatures) for s in candidates):
        raise WebhookVerificationError("no signature matches the secret")
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("the body is not JSON") from None
    if not isinstance(event, dict) or not {"id", "type", "occurred_at", "data"} <= event.keys():
        raise WebhookVerificationError("the body is not a WebhookEvent")
    return event
