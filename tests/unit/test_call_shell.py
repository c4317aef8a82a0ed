"""The HTTP shell (api/calls.py): JSON or multipart in; JSON, binary or a stream out; edge checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

from aigateway.api.calls import make_endpoint
from aigateway.core.errors import InvalidRequest
from aigateway.core.pricing import Usage
from aigateway.services.auth import Principal
from aigateway.services.operations.base import UploadedFile
from aigateway.services.pipeline import Completed, Streaming

PRINCIPAL = Principal("key_1", "acct_1", "test", False)


class _Keys:
    async def authenticate(self, authorization: str | None) -> Principal:
        return PRINCIPAL


class _Gateway:
    """Stands in for the pipeline: records what the shell handed it, answers as told."""

    def __init__(self, answer: str) -> None:
        self.ctx = SimpleNamespace(settings=SimpleNamespace(max_body_bytes=10_000), keys=_Keys())
        self.answer = answer
        self.bodies: list[Any] = []
        self.refusals: list[str] = []

    async def call(self, principal: Principal, operation: Any, body: Any, **kw: Any) -> Any:
        self.bodies.append((body, kw))
        call: Any = SimpleNamespace()
        if self.answer == "binary":
            return Completed(b"RIFF....WAVE", {"X-Model": "m"}, Usage(), call, "audio/wav")
        if self.answer == "stream":

            async def chunks() -> AsyncIterator[bytes]:
                yield b"abc"
                yield b"def"

            return Streaming(chunks(), {"X-Model": "m"}, call, None, "audio/mpeg")
        return Completed(b'{"ok": true}', {"X-Model": "m"}, Usage(), call)

    def refused(self, principal: Principal, operation: Any, error: Any, **kw: Any) -> None:
        self.refusals.append(error.message)


def _client(answer: str, multipart: bool) -> tuple[TestClient, _Gateway]:
    gateway = _Gateway(answer)
    operation = SimpleNamespace(name="op", multipart=multipart)
    app = Starlette()
    app.router.add_route("/v1/op", make_endpoint(gateway, operation), methods=["POST"])  # type: ignore[arg-type]
    return TestClient(app), gateway


def test_json_in_json_out() -> None:
    client, gateway = _client("json", multipart=False)
    answer = client.post(
        "/v1/op", json={"model": "m", "x": 1}, headers={"X-Request-Id": "r-1", "x-aig-tag": "t"}
    )
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert answer.headers["x-request-id"] == "r-1"
    body, kw = gateway.bodies[0]
    assert body == {"model": "m", "x": 1} and kw == {"request_id": "r-1", "tag": "t"}


def test_multipart_in_binary_out() -> None:
    client, gateway = _client("binary", multipart=True)
    answer = client.post(
        "/v1/op",
        data={"model": "m", "timestamp_granularities[]": ["word", "segment"]},
        files={"file": ("a.wav", b"\x00\x01", "audio/wav")},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "audio/wav" and answer.content == b"RIFF....WAVE"
    body, _ = gateway.bodies[0]
    assert body["model"] == "m" and body["timestamp_granularities"] == ["word", "segment"]
    assert body["file"] == UploadedFile("a.wav", "audio/wav", b"\x00\x01")


def test_multipart_is_refused_where_the_operation_takes_only_json() -> None:
    client, gateway = _client("json", multipart=False)
    answer = client.post("/v1/op", data={"model": "m"}, files={"file": ("a.wav", b"x", "audio/wav")})
    assert answer.status_code == 400 and "not valid JSON" in answer.json()["error"]["message"]
    assert gateway.refusals and not gateway.bodies  # refused, and recorded for the ledger


def test_streamed_media_keeps_its_media_type() -> None:
    client, _ = _client("stream", multipart=False)
    answer = client.post("/v1/op", json={"model": "m"})
    assert answer.headers["content-type"] == "audio/mpeg" and answer.content == b"abcdef"


def test_body_limit_and_bad_headers() -> None:
    client, _gateway = _client("json", multipart=True)
    big = client.post("/v1/op", files={"file": ("a.bin", b"x" * 20_000, "application/octet-stream")})
    assert big.status_code == 413
    for header, value in (("x-aig-tag", "t" * 201), ("X-Request-Id", "r" * 129), ("X-Request-Id", "a\tb")):
        answer = client.post("/v1/op", json={"model": "m"}, headers={header: value})
        assert answer.status_code == 400, (header, value)
        assert answer.json()["error"]["param"].lower() == header.lower()


def test_invalid_request_error_is_the_envelope() -> None:
    assert InvalidRequest("x", param="p").body()["error"]["param"] == "p"
