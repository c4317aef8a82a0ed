"""A real S3-compatible server for the tests: moto's S3 API over HTTP on a free local port.

moto is an independent implementation of the S3 wire protocol (REST + XML), so boto3 talks to it
exactly as it talks to AWS or MinIO: nothing of ours is mocked. What it does not do is check
signatures or the expiry of pre-signed URLs (AWS does): the tests that rely on those run against
gateway-served URLs, which the gateway checks itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.conftest import free_port

ACCESS_KEY = "AKIAAIGATEWAYTESTS01"
SECRET_KEY = "aigateway-test-secret-key-not-a-real-one"
REGION = "us-east-1"


@dataclass
class S3Server:
    endpoint_url: str

    def env(self) -> dict[str, str]:
        """The standard AWS variables a process needs to reach this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        name = "aig-test-" + secrets.token_hex(6)
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
