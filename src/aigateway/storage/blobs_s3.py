"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph, ...), behind `BlobStore`.

Chosen when ``AIGATEWAY_S3_BUCKET`` is set; ``AIGATEWAY_S3_ENDPOINT_URL`` points at a non-AWS server
(path-style addressing then, which every S3-compatible server understands), ``AIGATEWAY_S3_REGION``
names the region and ``AIGATEWAY_S3_PREFIX`` puts every key under a folder of a shared bucket.
Credentials come the standard AWS way (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_SESSION_TOKEN``, a profile, or an instance role): the gateway never stores them.

URLs: by default a blob's URL is the gateway's own signed ``/v1/blobs/...`` URL, the gateway
reading the object from the bucket: the same contract as the local store (403 tampered, 410 expired,
enforced and tested by us), and it works for a bucket that clients cannot reach (a private MinIO).
With ``AIGATEWAY_S3_PRESIGN=true`` it is a pre-signed S3 GET URL instead, so downloads go straight to
the bucket and never through the gateway; then S3 itself enforces the expiry and the signature
(SigV4: at most 7 days), and its error bodies are S3's. Retention: the bucket's lifecycle rules (the
local store's sweep does not apply here).

boto3 is synchronous, like the local store: async callers use ``asyncio.to_thread``. Pre-signing is
a local computation, so ``url`` stays safe on the event loop. boto3 is imported when a store is
opened, so a gateway without S3 never pays for importing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from aigateway.storage.blobs import CHUNK, UrlSigner, gateway_url, request_base, valid_key

MAX_PRESIGN_S = 7 * 24 * 3600  # SigV4's longest pre-signed URL
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3BlobStore:
    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str,
        signer: UrlSigner,
        public_url: str | None,
        fallback_base: str,
        presign: bool = False,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.signer = signer  # for gateway-served URLs (presign off), checked by api/blobs.py
        self.public_url = public_url.rstrip("/") if public_url else None
        self.fallback_base = fallback_base.rstrip("/")
        self.presign = presign

    def _object(self, key: str) -> str:
        if not valid_key(key):
            raise ValueError(f"invalid blob key {key!r}")
        return self.prefix + key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data, ContentType=content_type)

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        # upload_fileobj reads in parts (multipart upload above its threshold): never the whole file.
        self.client.upload_fileobj(
            source, self.bucket, self._object(key), ExtraArgs={"ContentType": content_type}
        )

    def _get_object(self, key: str) -> dict[str, Any] | None:
        if not valid_key(key):
            return None
        from botocore.exceptions import ClientError

        try:
            found: dict[str, Any] = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                return None
            raise
        return found

    def get(self, key: str) -> tuple[bytes, str] | None:
        found = self._get_object(key)
        if found is None:
            return None
        with found["Body"] as body:
            data = body.read()
        return data, found.get("ContentType") or "application/octet-stream"

    def stream(self, key: str) -> tuple[Iterator[bytes], str] | None:
        found = self._get_object(key)
        if found is None:
            return None
        return _chunks(found["Body"]), found.get("ContentType") or "application/octet-stream"

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))  # a missing key is fine

    def url(self, key: str, expires_in: float) -> str:
        name = self._object(key)
        if not self.presign:
            base = self.public_url or request_base.get() or self.fallback_base
            return gateway_url(self.signer, base, key, expires_in)
        seconds = min(MAX_PRESIGN_S, max(1, int(expires_in)))
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": name}, ExpiresIn=seconds
        )
        return url


def _chunks(body: Any) -> Iterator[bytes]:
    with body:
        yield from body.iter_chunks(CHUNK)


def open_s3_store(
    bucket: str,
    *,
    endpoint_url: str | None,
    region: str | None,
    prefix: str,
    signer: UrlSigner,
    public_url: str | None,
    fallback_base: str,
    presign: bool = False,
) -> S3BlobStore:
    """A store on ``bucket`` with a boto3 client (credentials from the standard AWS sources)."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
    )
    client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
    return S3BlobStore(client, bucket, prefix, signer, public_url, fallback_base, presign)
