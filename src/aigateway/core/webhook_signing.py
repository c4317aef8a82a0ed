"""The webhook signature: ``x-aig-signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``.

Each ``v1`` is HMAC-SHA256, keyed by one of the account's signing secrets, over ``f"{t}.{raw_body}"``
(the contract's formula). Signing the timestamp with the body lets a receiver refuse a replay of an
old delivery; several ``v1`` values appear while a rotated-out secret is still in its overlap, so a
receiver holding either secret verifies every delivery during the switch. Pure functions (no web or
database library): the deliverer and the public verification helper both use them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


def compute(secret: str, timestamp: int, raw_body: bytes) -> str:
    """The hex HMAC-SHA256 of ``{timestamp}.{raw_body}`` under ``secret``."""
    message = str(int(timestamp)).encode() + b"." + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, raw_body: bytes) -> str:
    """The header value: one ``v1`` per secret, the current secret's first."""
    parts = [f"t={int(timestamp)}"] + [f"v1={compute(s, timestamp, raw_body)}" for s in secrets]
    return ",".join(parts)


def parse_header(value: str) -> tuple[int, list[str]]:
    """(t, [v1 signatures]) of a header value; ValueError when it has no usable t or no v1."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        name, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if name == "t" and item.isdigit():
            timestamp = int(item)
        elif name == "v1" and item:
            signatures.append(item)
    if timestamp is None:
        raise ValueError("the signature header has no t=<unix seconds>")
    if not signatures:
        raise ValueError("the signature header has no v1=<signature>")
    return timestamp, signatures


def matches(secret: str, timestamp: int, raw_body: bytes, signatures: Sequence[str]) -> bool:
    """Whether any of ``signatures`` is ``secret``'s (compared in constant time)."""
    expected = compute(secret, timestamp, raw_body)
    return any(hmac.compare_digest(expected, s) for s in signatures)
