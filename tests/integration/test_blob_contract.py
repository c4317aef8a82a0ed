"""One contract for every blob store: local disk and an S3-compatible bucket behave the same.

Each test runs on the local store, on the S3 store with gateway-served URLs (the default) and on the
S3 store with pre-signed URLs, against a real S3 server (tests/integration/s3_server.py) and the
gateway's real blob route served over HTTP. Where the pre-signed variant differs (S3 itself, not the
gateway, checks its signatures and expiry, and moto does not), the test says so.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from aigateway.api.blobs import ROUTE, get_blob
from aigateway.storage.blobs import BlobStore, LocalBlobStore, UrlSigner
from aigateway.storage.blobs_s3 import MAX_PRESIGN_S, S3BlobStore, open_s3_store
from tests.integration.conftest import free_port
from tests.integration.s3_server import S3Server, s3_server  # noqa: F401 (the fixture)

KINDS = ("local", "s3", "s3-presign")


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class BlobRoute:
    """The gateway's GET /v1/blobs/{key} over real HTTP, serving whichever store a test sets."""

    def __init__(self) -> None:
        self.app = Starlette()
        self.app.router.add_route(ROUTE, get_blob, methods=["GET"])
        self.app.state.ctx = SimpleNamespace(blobs=None)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> BlobRoute:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the blob route did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def route() -> Iterator[BlobRoute]:
    served = BlobRoute().start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:  # noqa: F811
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(
    kind: str, route: BlobRoute, clock: Clock, tmp_path: Path, request: pytest.FixtureRequest
) -> BlobStore:
    signer = UrlSigner(os.urandom(32), clock)
    made: BlobStore
    if kind == "local":
        made = LocalBlobStore(tmp_path / "blobs", signer, None, route.url)
    else:
        server: S3Server = request.getfixturevalue("s3_env")
        made = open_s3_store(
            server.new_bucket(),
            endpoint_url=server.endpoint_url,
            region="us-east-1",
            prefix="gw/blobs",
            signer=signer,
            public_url=None,
            fallback_base=route.url,
            presign=kind == "s3-presign",
        )
    route.app.state.ctx.blobs = made
    return made


CONTENT_TYPES = [
    ("images/c/0.png", b"\x89PNG\r\n\x1a\n" + os.urandom(64), "image/png"),
    ("files/acct/file-1", b'{"custom_id": "a"}\n', "application/jsonl"),
    ("files/acct/file-2", "héllo wörld".encode(), "text/plain; charset=utf-8"),
    ("jobs/job_1/video.mp4", os.urandom(2048), "video/mp4"),
    ("x/empty", b"", "application/octet-stream"),
]


@pytest.mark.parametrize(("key", "data", "content_type"), CONTENT_TYPES)
def test_put_then_get_keeps_bytes_and_content_type(
    store: BlobStore, key: str, data: bytes, content_type: str
) -> None:
    store.put(key, data, content_type)
    assert store.get(key) == (data, content_type)
    found = store.stream(key)
    assert found is not None and b"".join(found[0]) == data and found[1] == content_type


def test_a_large_object_goes_in_and_out_in_chunks(store: BlobStore) -> None:
    # 9 MiB: past boto3's 8 MiB multipart threshold, so the S3 store uploads it in parts.
    data = os.urandom(9 * 1024 * 1024 + 17)
    store.put_file("files/acct/big", io.BytesIO(data), "application/octet-stream")
    found = store.stream("files/acct/big")
    assert found is not None
    chunks = list(found[0])
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 1024 * 1024
    assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(data).digest()
    got = store.get("files/acct/big")
    assert got is not None and got[0] == data


def test_put_file_reads_from_the_current_position(store: BlobStore) -> None:
    source = io.BytesIO(b"HEADERpayload")
    source.seek(6)
    store.put_file("x/tail", source, "text/plain")
    assert store.get("x/tail") == (b"payload", "text/plain")


def test_a_put_replaces_what_the_key_held(store: BlobStore) -> None:
    store.put("x/k", b"one", "text/plain")
    store.put("x/k", b"two", "application/json")
    assert store.get("x/k") == (b"two", "application/json")


def test_delete_removes_and_is_idempotent(store: BlobStore) -> None:
    store.put("x/gone", b"data", "text/plain")
    store.delete("x/gone")
    assert store.get("x/gone") is None and store.stream("x/gone") is None
    store.delete("x/gone")  # twice is fine
    store.delete("x/never-was")


def test_a_missing_key_reads_as_none(store: BlobStore) -> None:
    assert store.get("x/missing") is None
    assert store.stream("x/missing") is None


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../b", "a//b", "", "a b", "x" * 300])
def test_keys_cannot_leave_the_store(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        store.put_file(key, io.BytesIO(b"x"), "text/plain")
    assert store.get(key) is None and store.stream(key) is None


def test_a_url_downloads_the_blob_over_http(store: BlobStore, kind: str, route: BlobRoute) -> None:
    data = os.urandom(4096)
    store.put("images/call/0.webp", data, "image/webp")
    url = store.url("images/call/0.webp", 600)
    assert url.startswith(route.url) == (kind != "s3-presign")
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert answer.content == data and answer.headers["content-type"] == "image/webp"


def test_a_url_of_a_deleted_blob_is_404(store: BlobStore, kind: str) -> None:
    store.put("x/short-lived", b"data", "text/plain")
    url = store.url("x/short-lived", 600)
    store.delete("x/short-lived")
    assert httpx.get(url).status_code == 404


def test_a_url_expires(store: BlobStore, kind: str, clock: Clock) -> None:
    store.put("x/expiring", b"data", "text/plain")
    url = store.url("x/expiring", 60)
    if kind == "s3-presign":
        # S3 enforces X-Amz-Expires itself (moto does not): the URL must say the right lifetime.
        assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["60"]
        longest = store.url("x/expiring", 30 * 24 * 3600)
        assert parse_qs(urlsplit(longest).query)["X-Amz-Expires"] == [str(MAX_PRESIGN_S)]
        return
    assert httpx.get(url).status_code == 200
    clock.now += 61
    answer = httpx.get(url)
    assert answer.status_code == 410 and answer.json()["error"]["code"] == 410


def test_a_tampered_url_is_403(store: BlobStore, kind: str) -> None:
    store.put("x/one", b"one", "text/plain")
    store.put("x/two", b"two", "text/plain")
    url = store.url("x/one", 600)
    if kind == "s3-presign":
        # Signed by SigV4 over the object's path and the query (S3 checks it; moto does not).
        assert {"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Date"} <= set(parse_qs(urlsplit(url).query))
        return
    path, _, query = url.partition("?")
    expires = parse_qs(query)["expires"][0]
    signature = parse_qs(query)["signature"][0]
    for forged in (
        url.replace("x/one", "x/two"),  # another key
        f"{path}?expires={int(expires) + 3600}&signature={signature}",  # a longer life
        f"{path}?expires={expires}&signature={'0' * 64}",  # another signature
        path,  # no signature at all
    ):
        answer = httpx.get(forged)
        assert answer.status_code == 403, forged
        assert answer.json()["error"]["type"] == "permission_error"


def test_s3_objects_live_under_the_prefix(
    store: BlobStore, kind: str, request: pytest.FixtureRequest
) -> None:
    if kind == "local":
        assert isinstance(store, LocalBlobStore)
        store.put("x/where", b"here", "text/plain")
        assert (store.root / "x" / "where").read_bytes() == b"here"
        return
    assert isinstance(store, S3BlobStore)
    store.put("x/where", b"here", "text/plain")
    server: S3Server = request.getfixturevalue("s3_env")
    listed = server.client().list_objects_v2(Bucket=store.bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["gw/blobs/x/where"]
