"""The blob store and its signed URLs (storage/blobs.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aigateway.storage.blobs import LocalBlobStore, UrlSigner, load_secret, open_local_store, request_base


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _store(tmp_path: Path, clock: Clock | None = None, public: str | None = None) -> LocalBlobStore:
    signer = UrlSigner(b"s" * 32, clock or Clock(1_000_000))
    return LocalBlobStore(tmp_path / "blobs", signer, public, "http://127.0.0.1:8080")


def _query(url: str) -> tuple[str, str, str]:
    path, _, query = url.partition("?")
    expires, signature = (part.split("=", 1)[1] for part in query.split("&"))
    return path, expires, signature


def test_put_get_delete_keep_bytes_and_content_type(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put("images/call_1/0.png", b"\x89PNG-bytes", "image/png")
    assert store.get("images/call_1/0.png") == (b"\x89PNG-bytes", "image/png")
    assert (tmp_path / "blobs" / "images" / "call_1" / "0.png").read_bytes() == b"\x89PNG-bytes"
    store.delete("images/call_1/0.png")
    assert store.get("images/call_1/0.png") is None
    store.delete("images/call_1/0.png")  # twice is fine


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../b", "a//b", "", "a b", "x" * 300, ".hidden"])
def test_keys_cannot_leave_the_store(tmp_path: Path, key: str) -> None:
    store = _store(tmp_path)
    with pytest.raises(ValueError):
        store.put(key, b"x", "text/plain")
    assert store.get(key) is None


def test_a_url_is_signed_over_key_and_expiry_and_expires(tmp_path: Path) -> None:
    clock = Clock(1_000_000)
    store = _store(tmp_path, clock)
    url = store.url("images/c/0.png", 3600)
    path, expires, signature = _query(url)
    assert path == "http://127.0.0.1:8080/v1/blobs/images/c/0.png" and expires == "1003600"
    signer = store.signer
    assert signer.check("images/c/0.png", expires, signature) == "ok"
    assert signer.check("images/c/1.png", expires, signature) == "tampered"
    assert signer.check("images/c/0.png", "1003601", signature) == "tampered"
    assert signer.check("images/c/0.png", expires, "0" * 64) == "tampered"
    assert signer.check("images/c/0.png", None, None) == "tampered"
    assert signer.check("images/c/0.png", "-5", signature) == "tampered"
    clock.now = 1_003_601
    assert signer.check("images/c/0.png", expires, signature) == "expired"


def test_urls_use_the_public_url_then_the_request_host_then_the_listen_address(tmp_path: Path) -> None:
    assert (
        _store(tmp_path, public="https://img.example/")
        .url("k", 60)
        .startswith("https://img.example/v1/blobs/k?")
    )
    token = request_base.set("https://gw.example")
    try:
        assert _store(tmp_path).url("k", 60).startswith("https://gw.example/v1/blobs/k?")
        assert _store(tmp_path, public="https://p.example").url("k", 60).startswith("https://p.example/")
    finally:
        request_base.reset(token)
    assert _store(tmp_path).url("k", 60).startswith("http://127.0.0.1:8080/v1/blobs/k?")


def test_the_secret_is_made_once_with_mode_0600_unless_configured(tmp_path: Path) -> None:
    first = load_secret(None, tmp_path / "data")
    path = tmp_path / "data" / "signing-secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(None, tmp_path / "data") == first and len(first) == 64
    assert load_secret("operator-secret-0123456789", tmp_path / "other") == b"operator-secret-0123456789"
    assert not (tmp_path / "other").exists()
    a = open_local_store(tmp_path / "data", None, None, "http://h")
    b = open_local_store(tmp_path / "data", None, None, "http://h")
    url = a.url("k", 60)
    assert b.signer.check("k", *_query(url)[1:]) == "ok"  # another worker verifies it


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        UrlSigner(b"short")


def test_a_store_with_a_retention_sweeps_expired_blobs(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs", UrlSigner(b"s" * 32), None, "http://h", retain_s=60)
    store.put("images/old/0.png", b"old", "image/png")
    store.put("images/new/0.png", b"new", "image/png")
    old = tmp_path / "blobs" / "images" / "old"
    for path in old.iterdir():
        os.utime(path, (1, 1))
    assert store.sweep() == 1
    assert store.get("images/old/0.png") is None and store.get("images/new/0.png") == (b"new", "image/png")
    assert LocalBlobStore(tmp_path / "other", UrlSigner(b"s" * 32), None, "http://h").sweep() == 0
