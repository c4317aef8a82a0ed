"""The webhook signature format and the public verification helper (aigateway.webhooks_verify)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from aigateway.core.webhook_signing import parse_header, signature_header
from aigateway.webhooks_verify import WebhookVerificationError, verify

BODY = b'{"id":"evt_1","type":"subaccount.created","occurred_at":1700000000,"data":{"spend_cap_cents":12.5}}'
T = 1_700_000_000


def test_the_signature_is_hmac_sha256_over_t_dot_raw_body() -> None:
    header = signature_header(["whsec_a"], T, BODY)
    expected = hmac.new(b"whsec_a", f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={T},v1={expected}"
    assert parse_header(header) == (T, [expected])


def test_verify_returns_the_event() -> None:
    headers = {"X-Aig-Signature": signature_header(["whsec_a"], T, BODY)}  # any header case
    event = verify("whsec_a", headers, BODY, now=T + 10)
    assert event == json.loads(BODY)
    assert verify("whsec_a", headers, BODY.decode(), now=T - 10)["id"] == "evt_1"


@pytest.mark.parametrize(
    ("headers", "body", "now", "message"),
    [
        ({}, BODY, T, "no x-aig-signature"),
        ({"x-aig-signature": "v1=abc"}, BODY, T, "no t="),
        ({"x-aig-signature": f"t={T}"}, BODY, T, "no v1="),
        ({"x-aig-signature": signature_header(["whsec_other"], T, BODY)}, BODY, T, "no signature matches"),
        ({"x-aig-signature": signature_header(["whsec_a"], T, BODY)}, BODY + b" ", T, "no signature matches"),
        ({"x-aig-signature": signature_header(["whsec_a"], T, BODY)}, BODY, T + 301, "stale or replayed"),
        ({"x-aig-signature": signature_header(["whsec_a"], T, BODY)}, BODY, T - 301, "stale or replayed"),
        ({"x-aig-signature": signature_header(["whsec_a"], T, b"[1]")}, b"[1]", T, "not a WebhookEvent"),
    ],
)
def test_verify_refuses(headers: dict[str, str], body: bytes, now: int, message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        verify("whsec_a", headers, body, now=now)


def test_a_timestamp_resigned_by_an_attacker_does_not_match() -> None:
    """Moving t forward to dodge the tolerance breaks the signature: t is part of what is signed."""
    _t, [v1] = parse_header(signature_header(["whsec_a"], T, BODY))
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify("whsec_a", {"x-aig-signature": f"t={T + 1000},v1={v1}"}, BODY, now=T + 1000)


def test_during_an_overlap_either_secret_verifies() -> None:
    header = signature_header(["whsec_new", "whsec_old"], T, BODY)
    assert header.count("v1=") == 2
    for secret in ("whsec_new", "whsec_old", ["whsec_x", "whsec_old"]):
        assert verify(secret, {"x-aig-signature": header}, BODY, now=T)["type"] == "subaccount.created"
    with pytest.raises(WebhookVerificationError):
        verify("whsec_x", {"x-aig-signature": header}, BODY, now=T)


def test_tolerance_is_configurable() -> None:
    headers = {"x-aig-signature": signature_header(["s"], T, BODY)}
    assert verify("s", headers, BODY, tolerance_s=3600, now=T + 3000)["id"] == "evt_1"
    with pytest.raises(WebhookVerificationError):
        verify("s", headers, BODY, tolerance_s=5, now=T + 6)
