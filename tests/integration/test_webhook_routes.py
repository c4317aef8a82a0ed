"""The webhook routes of a real gateway: the secret and its rotation, the endpoint and its checks."""

from __future__ import annotations

import time

import httpx

from tests.integration.conftest import Gateway


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_secret_is_stable_until_rotated_and_the_old_one_overlaps(gateway: Gateway) -> None:
    _account, key = gateway.new_account("hook-secret")
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        first = http.get("/v1/webhook-secret", headers=_auth(key)).json()
        assert first["object"] == "webhook_secret" and first["secret"].startswith("whsec_")
        assert http.get("/v1/webhook-secret", headers=_auth(key)).json()["secret"] == first["secret"]
        assert first["previous_secret_expires_at"] is None and first["rotated_at"] is None
        assert first["retry_schedule_s"] == [0, 30, 120, 600, 3600, 21600]
        before = time.time()
        rotated = http.post("/v1/webhook-secret/rotate", headers=_auth(key)).json()
        assert rotated["secret"] != first["secret"]
        assert abs(rotated["previous_secret_expires_at"] - (before + 24 * 3600)) < 120
        assert http.get("/v1/webhook-secret", headers=_auth(key)).json()["secret"] == rotated["secret"]
        # Another account has its own secret.
        _other, other_key = gateway.new_account("hook-secret-2")
        assert http.get("/v1/webhook-secret", headers=_auth(other_key)).json()["secret"] not in {
            first["secret"],
            rotated["secret"],
        }


def test_the_endpoint_is_set_read_and_removed(gateway: Gateway) -> None:
    _account, key = gateway.new_account("hook-endpoint")
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        empty = http.get("/v1/webhook-endpoint", headers=_auth(key)).json()
        assert empty == {"object": "webhook_endpoint", "url": None, "updated_at": None}
        url = "https://example.com/aigateway/hooks"
        put = http.put("/v1/webhook-endpoint", headers=_auth(key), json={"url": url})
        assert put.status_code == 200 and put.json()["url"] == url
        assert http.get("/v1/webhook-endpoint", headers=_auth(key)).json()["url"] == url
        gone = http.put("/v1/webhook-endpoint", headers=_auth(key), json={"url": None}).json()
        assert gone["url"] is None
        assert http.get("/v1/webhook-endpoint", headers=_auth(key)).json()["url"] is None


def test_a_private_or_malformed_endpoint_is_refused(gateway: Gateway) -> None:
    """This gateway does not allow private fetches: loopback, private and metadata addresses are refused."""
    _account, key = gateway.new_account("hook-refused")
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        for body in (
            {"url": "http://127.0.0.1:8080/hook"},
            {"url": "http://10.1.2.3/hook"},
            {"url": "http://169.254.169.254/latest"},
            {"url": "http://[::1]/hook"},
            {"url": "ftp://example.com/hook"},
            {"url": "https://example.com/" + "x" * 2000},
            {"url": 5},
            {"link": "https://example.com"},
        ):
            answer = http.put("/v1/webhook-endpoint", headers=_auth(key), json=body)
            assert answer.status_code == 400, (body, answer.text)
            error = answer.json()["error"]
            assert error["type"] == "invalid_request_error" and error["param"] in ("url", "link"), error
        assert http.get("/v1/webhook-endpoint", headers=_auth(key)).json()["url"] is None
