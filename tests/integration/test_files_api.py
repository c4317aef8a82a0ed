"""The Files API against a real gateway: the OpenAI SDK's files calls, unchanged, on SQLite and
PostgreSQL; per-account and per-sub-account isolation; the size limit; and the same flow with the
blobs in an S3-compatible bucket (moto's S3 server, tests/integration/s3_server.py).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from aigateway.storage.files import PURPOSES
from tests.integration.conftest import Gateway, start_gateway, stop_gateway
from tests.integration.s3_server import S3Server, s3_server  # noqa: F401 (the fixture)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _sdk_round_trip(client: openai.OpenAI, data: bytes, purpose: str = "batch") -> None:
    created = client.files.create(file=("lines.jsonl", data), purpose=purpose)  # type: ignore[arg-type]
    assert created.object == "file" and created.id.startswith("file-")
    assert created.bytes == len(data) and created.filename == "lines.jsonl"
    assert created.purpose == purpose and created.status == "processed" and created.created_at > 0
    assert client.files.retrieve(created.id).model_dump() == created.model_dump()
    assert created.id in {f.id for f in client.files.list(purpose=purpose)}
    assert hashlib.sha256(client.files.content(created.id).read()).digest() == hashlib.sha256(data).digest()
    deleted = client.files.delete(created.id)
    assert deleted.id == created.id and deleted.deleted is True and deleted.object == "file"
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.files.content(created.id)
    with pytest.raises(openai.NotFoundError):
        client.files.delete(created.id)
    assert created.id not in {f.id for f in client.files.list()}


def test_the_openai_sdk_files_calls_work_unchanged(gateway: Gateway) -> None:
    _account, key = gateway.new_account("files-sdk")
    client = gateway.client(key)
    _sdk_round_trip(client, b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions"}\n' * 50)
    # Bigger than the multipart parser's in-memory part: spooled to disk, copied to the store in chunks.
    _sdk_round_trip(client, os.urandom(5 * 1024 * 1024 + 3), purpose="user_data")


def test_every_purpose_is_accepted_and_listed_by_purpose(gateway: Gateway) -> None:
    _account, key = gateway.new_account("files-purposes")
    client = gateway.client(key)
    ids = {p: client.files.create(file=(f"{p}.bin", b"x"), purpose=p).id for p in PURPOSES}  # type: ignore[arg-type]
    for purpose, file_id in ids.items():
        assert [f.id for f in client.files.list(purpose=purpose)] == [file_id]
    with gateway.http() as http:
        answer = http.post(
            "/v1/files", headers=_auth(key), files={"file": ("a", b"x")}, data={"purpose": "nope"}
        )
        assert answer.status_code == 400 and answer.json()["error"]["param"] == "purpose"
        answer = http.post(
            "/v1/files", headers=_auth(key), data={"purpose": "batch"}, files={"other": ("a", b"x")}
        )
        assert answer.status_code == 400 and answer.json()["error"]["param"] == "file"
        answer = http.post("/v1/files", headers=_auth(key), json={"purpose": "batch"})
        assert answer.status_code == 400 and set(answer.json()["error"]) == {
            "message",
            "type",
            "code",
            "param",
        }


def test_expires_after_sets_expires_at(gateway: Gateway) -> None:
    _account, key = gateway.new_account("files-expiry")
    with gateway.http() as http:
        form = {"purpose": "batch", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"}
        answer = http.post("/v1/files", headers=_auth(key), files={"file": ("a.jsonl", b"{}")}, data=form)
        assert answer.status_code == 200, answer.text
        assert answer.json()["expires_at"] == answer.json()["created_at"] + 3600
        for bad in ({"expires_after[seconds]": "59"}, {"expires_after[anchor]": "now"}):
            answer = http.post(
                "/v1/files", headers=_auth(key), files={"file": ("a", b"{}")}, data={**form, **bad}
            )
            assert answer.status_code == 400 and answer.json()["error"]["param"].startswith("expires_after")


def test_pages_follow_openai_list_semantics(gateway: Gateway) -> None:
    _account, key = gateway.new_account("files-pages")
    client = gateway.client(key)
    made = [client.files.create(file=(f"{i}.txt", b"%d" % i), purpose="assistants").id for i in range(5)]
    with gateway.http() as http:
        first = http.get("/v1/files", headers=_auth(key), params={"limit": 2}).json()
        assert first["object"] == "list" and first["has_more"] is True
        assert [f["id"] for f in first["data"]] == made[::-1][:2]  # newest first by default
        assert first["first_id"] == made[4] and first["last_id"] == made[3]
        rest = http.get(
            "/v1/files", headers=_auth(key), params={"limit": 10, "after": first["last_id"]}
        ).json()
        assert [f["id"] for f in rest["data"]] == made[::-1][2:] and rest["has_more"] is False
        asc = http.get("/v1/files", headers=_auth(key), params={"order": "asc", "limit": 3}).json()
        assert [f["id"] for f in asc["data"]] == made[:3]
        empty = http.get("/v1/files", headers=_auth(key), params={"purpose": "fine-tune"}).json()
        assert empty == {"object": "list", "data": [], "has_more": False, "first_id": None, "last_id": None}
        for bad in ({"limit": 0}, {"limit": "x"}, {"order": "sideways"}):
            assert http.get("/v1/files", headers=_auth(key), params=bad).status_code == 400
    # The SDK's auto-pagination walks every page.
    assert [f.id for f in client.files.list(limit=2)] == made[::-1]


def test_files_are_per_account_and_per_sub_account(gateway: Gateway) -> None:
    _a, parent = gateway.new_account("files-parent")
    _b, other = gateway.new_account("files-other")
    with gateway.http() as http:
        sub = http.post(
            "/v1/sub-accounts", headers=_auth(parent), json={"name": "s", "spend_cap_cents": 0}
        ).json()
        sibling = http.post(
            "/v1/sub-accounts", headers=_auth(parent), json={"name": "t", "spend_cap_cents": 0}
        ).json()
    parents_file = gateway.client(parent).files.create(file=("p.txt", b"parent"), purpose="user_data")
    subs_file = gateway.client(sub["key"]).files.create(file=("s.txt", b"sub"), purpose="user_data")
    # The parent's keys see the whole account; a sub-account key only what it uploaded.
    assert {parents_file.id, subs_file.id} <= {f.id for f in gateway.client(parent).files.list()}
    assert [f.id for f in gateway.client(sub["key"]).files.list()] == [subs_file.id]
    assert gateway.client(parent).files.content(subs_file.id).read() == b"sub"
    with gateway.http() as http:
        missing = http.get("/v1/files/file-000000000000000000000000", headers=_auth(parent)).json()
        for key, file_id in (
            (other, parents_file.id),
            (other, subs_file.id),
            (sub["key"], parents_file.id),
            (sibling["key"], subs_file.id),
        ):
            for method, suffix in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
                answer = http.request(method, f"/v1/files/{file_id}{suffix}", headers=_auth(key))
                assert answer.status_code == 404, (method, suffix, answer.text)
                body = answer.json()
                assert body["error"]["type"] == missing["error"]["type"] and body["error"]["param"] == "id"
                assert body["error"]["message"] == f"No such File object: {file_id}"
        assert {f["id"] for f in http.get("/v1/files", headers=_auth(other)).json()["data"]} == set()
        assert http.get("/v1/files", headers={}).status_code == 401
    # Nothing above deleted anything.
    assert gateway.client(parent).files.retrieve(parents_file.id).id == parents_file.id
    assert gateway.client(sub["key"]).files.delete(subs_file.id).deleted is True


# -- a gateway on S3 with a small size limit -------------------------------------------------------
LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def s3_gateway(
    s3_server: S3Server,  # noqa: F811
    simulator: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Gateway, S3Server, str]]:
    bucket = s3_server.new_bucket()
    workdir: Path = tmp_path_factory.mktemp("files-s3")
    env = {
        **s3_server.env(),
        "AIGATEWAY_S3_BUCKET": bucket,
        "AIGATEWAY_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "AIGATEWAY_S3_REGION": "us-east-1",
        "AIGATEWAY_S3_PREFIX": "gw",
        "AIGATEWAY_MAX_FILE_BYTES": str(LIMIT),
        "AIGATEWAY_ALLOW_PRIVATE_FETCH": "true",  # the simulator serves its images on 127.0.0.1
    }
    gateway = start_gateway(workdir, f"sqlite:///{workdir / 'gw.db'}", simulator, extra_env=env)  # type: ignore[arg-type]
    gateway.cli("balance", "add", "--usd", "10")
    try:
        yield gateway, s3_server, bucket
    finally:
        stop_gateway(gateway)


def test_files_live_in_the_bucket_when_s3_is_configured(s3_gateway: tuple[Gateway, S3Server, str]) -> None:
    gateway, server, bucket = s3_gateway
    _account, key = gateway.new_account("files-s3")
    client = gateway.client(key)
    created = client.files.create(file=("in.jsonl", b"{}\n" * 1000), purpose="batch")
    keys = [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert [k for k in keys if k.endswith(created.id)] == [f"gw/files/{_account}/{created.id}"]
    assert client.files.content(created.id).read() == b"{}\n" * 1000
    client.files.delete(created.id)
    keys = [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert not [k for k in keys if k.endswith(created.id)]
    _sdk_round_trip(client, os.urandom(LIMIT - 1))


def test_an_upload_over_the_limit_is_413(s3_gateway: tuple[Gateway, S3Server, str]) -> None:
    gateway, _server, _bucket = s3_gateway
    _account, key = gateway.new_account("files-413")
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.client(key).files.create(file=("big.bin", b"x" * (LIMIT + 1)), purpose="batch")
    assert caught.value.status_code == 413
    with gateway.http() as http:
        # Far over: refused on the declared length, before the body is read.
        answer = http.post(
            "/v1/files",
            headers=_auth(key),
            files={"file": ("b", b"x" * (3 * LIMIT))},
            data={"purpose": "batch"},
        )
        assert answer.status_code == 413 and answer.json()["error"]["code"] == 413

        # Chunked (no Content-Length): refused once the stream passes the limit.
        def body() -> Iterator[bytes]:
            yield b'--xx\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            yield b'--xx\r\nContent-Disposition: form-data; name="file"; filename="b"\r\n\r\n'
            for _ in range(4 * LIMIT // 65536):
                yield b"y" * 65536
            yield b"\r\n--xx--\r\n"

        answer = http.post(
            "/v1/files",
            headers={**_auth(key), "Content-Type": "multipart/form-data; boundary=xx"},
            content=body(),
        )
        assert answer.status_code == 413, answer.text
    assert [f.id for f in gateway.client(key).files.list()] == []


def test_a_chunked_upload_within_the_limit_is_stored(s3_gateway: tuple[Gateway, S3Server, str]) -> None:
    gateway, _server, _bucket = s3_gateway
    _account, key = gateway.new_account("files-chunked")

    def body() -> Iterator[bytes]:
        yield b'--xx\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nvision\r\n'
        yield b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        yield b"Content-Type: image/png\r\n\r\n" + b"p" * 1000 + b"\r\n--xx--\r\n"

    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        answer = http.post(
            "/v1/files",
            headers={**_auth(key), "Content-Type": "multipart/form-data; boundary=xx"},
            content=body(),
        )
        assert answer.status_code == 200, answer.text
        file_id = answer.json()["id"]
        content = http.get(f"/v1/files/{file_id}/content", headers=_auth(key))
        assert content.content == b"p" * 1000 and content.headers["content-type"] == "image/png"


def test_generated_images_are_kept_in_the_bucket_and_served_by_signed_url(
    s3_gateway: tuple[Gateway, S3Server, str],
) -> None:
    gateway, server, bucket = s3_gateway
    answer = gateway.client().images.generate(model="sim/dall-e-3", prompt="a lighthouse", size="1024x1024")
    url = answer.data[0].url
    assert url and url.startswith(gateway.url + "/v1/blobs/images/")
    served = httpx.get(url, timeout=30)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    key = "gw/" + url.split("/v1/blobs/", 1)[1].split("?", 1)[0]
    stored = server.client().get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == served.content
    assert httpx.get(url.replace("signature=", "signature=0"), timeout=30).status_code == 403
