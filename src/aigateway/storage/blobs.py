"""The blob store: generated media the gateway keeps itself and hands out by signed, expiring URLs.

`BlobStore` is the interface (``put``, ``put_file``, ``get``, ``stream``, ``delete``, ``url``);
`LocalBlobStore` keeps blobs under ``<data_dir>/blobs/``, `S3BlobStore` (storage/blobs_s3.py) in an
S3-compatible bucket when ``AIGATEWAY_S3_BUCKET`` is set. A URL is
``{base}/v1/blobs/{key}?expires=<unix s>&signature=<hex>``, the signature an HMAC-SHA256 over the key
and the expiry with a secret from ``AIGATEWAY_SIGNING_SECRET`` or, failing that, one kept in
``<data_dir>/signing-secret`` (created on first use, mode 0600). Anyone holding the URL can read the
blob until it expires; changing the key, the expiry or the signature gets 403, an old URL 410.

The base of a URL is the operator's ``AIGATEWAY_PUBLIC_URL`` when set, else the host the client
called (``request_base``, set per request by api/blobs.py's middleware), else the listen address.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

BLOB_ROUTE = "/v1/blobs/"
SECRET_FILE = "signing-secret"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
MAX_KEY = 256
SWEEP_EVERY = 128  # a local store sweeps expired blobs after every this many puts
CHUNK = 1024 * 1024  # what put_file copies and stream yields at a time

# The scheme and host the current request reached the gateway at ("https://gw.example"), if any.
request_base: ContextVar[str | None] = ContextVar("aigateway_request_base", default=None)
_HOST = re.compile(rb"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def set_request_base(scope: Mapping[str, Any], host: bytes | None) -> None:
    """Remember ``scheme://host`` of the request being served (the Host header as sent), so the URLs
    minted while serving it point where the client reached the gateway."""
    if host and _HOST.match(host):
        request_base.set(f"{scope.get('scheme', 'http')}://{host.decode('latin-1')}")


class BlobStore(Protocol):
    """Both stores are synchronous (disk or a blocking HTTP client): async callers use
    ``asyncio.to_thread``. ``url`` does no I/O, so it may be called on the event loop."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        """Store what ``source`` holds from its current position, in chunks (uploads too big to
        hold in memory twice)."""
        ...

    def get(self, key: str) -> tuple[bytes, str] | None: ...

    def stream(self, key: str) -> tuple[Iterator[bytes], str] | None:
        """The blob in chunks and its content type, or None when there is none."""
        ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str, expires_in: float) -> str: ...


def valid_key(key: str) -> bool:
    """Keys: slash-separated names of letters, digits, ``.``, ``_``, ``-`` (no ``..``, no ``/`` first)."""
    return len(key) <= MAX_KEY and bool(_KEY.match(key)) and ".." not in key


class UrlSigner:
    """HMAC-SHA256 signatures of (key, expiry)."""

    def __init__(self, secret: bytes, clock: object = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._secret = secret
        self._clock = clock

    def now(self) -> int:
        clock = self._clock
        return int(clock())  # type: ignore[operator]

    def signature(self, key: str, expires: int) -> str:
        message = key.encode() + b"\n" + str(expires).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def check(self, key: str, expires: str | None, signature: str | None) -> str:
        """ "ok", "tampered" (missing or wrong signature) or "expired"."""
        if not expires or not signature or not expires.isdigit() or len(expires) > 12:
            return "tampered"
        if not hmac.compare_digest(self.signature(key, int(expires)), signature.lower()):
            return "tampered"
        return "expired" if int(expires) < self.now() else "ok"


def gateway_url(signer: UrlSigner, base: str, key: str, expires_in: float) -> str:
    """A URL of the gateway's own blob route (api/blobs.py), signed for ``expires_in`` seconds."""
    expires = signer.now() + max(1, int(expires_in))
    return f"{base}{BLOB_ROUTE}{quote(key)}?expires={expires}&signature={signer.signature(key, expires)}"


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The operator's secret, else the one kept in the data dir (made on first use, 0600)."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    fresh = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(fresh)
    return fresh


class LocalBlobStore:
    """Blobs as files under ``root`` (``<key>`` and its content type in ``<key>.type``)."""

    def __init__(
        self,
        root: Path,
        signer: UrlSigner,
        public_url: str | None,
        fallback_base: str,
        retain_s: float | None = None,
        retain_prefix: str = "",
    ) -> None:
        self.root = root
        self.signer = signer
        self.public_url = public_url.rstrip("/") if public_url else None
        self.fallback_base = fallback_base.rstrip("/")
        self.retain_s = retain_s  # blobs older than this are swept (None: kept until deleted)
        # ... only those under this prefix: files (files/...) stay until they are deleted.
        self.retain_prefix = retain_prefix
        self._puts = 0

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError(f"invalid blob key {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, content in ((path.with_name(path.name + ".type"), content_type.encode()), (path, data)):
            partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
            partial.write_bytes(content)
            os.replace(partial, target)
        self._puts += 1
        if self.retain_s is not None and self._puts % SWEEP_EVERY == 0:
            self.sweep()

    def put_file(self, key: str, source: BinaryIO, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        type_path = path.with_name(path.name + ".type")
        partial = type_path.with_name(f".{type_path.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(content_type.encode())
        os.replace(partial, type_path)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            with partial.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def sweep(self) -> int:
        """Delete blobs older than ``retain_s`` (their URLs have expired); how many were deleted."""
        top = self.root / self.retain_prefix if self.retain_prefix else self.root
        if self.retain_s is None or not top.is_dir():
            return 0
        cutoff = time.time() - self.retain_s
        removed = 0
        for path in top.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += not path.name.endswith(".type")
            except OSError:
                continue
        return removed

    def get(self, key: str) -> tuple[bytes, str] | None:
        if not valid_key(key):
            return None
        path = self.root / key
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        try:
            content_type = path.with_name(path.name + ".type").read_text().strip()
        except FileNotFoundError:
            content_type = "application/octet-stream"
        return data, content_type or "application/octet-stream"

    def stream(self, key: str) -> tuple[Iterator[bytes], str] | None:
        if not valid_key(key):
            return None
        path = self.root / key
        try:
            fh = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        try:
            content_type = path.with_name(path.name + ".type").read_text().strip()
        except FileNotFoundError:
            content_type = ""
        return _chunks(fh), content_type or "application/octet-stream"

    def delete(self, key: str) -> None:
        path = self._path(key)
        for target in (path, path.with_name(path.name + ".type")):
            target.unlink(missing_ok=True)

    def url(self, key: str, expires_in: float) -> str:
        self._path(key)
        base = self.public_url or request_base.get() or self.fallback_base
        return gateway_url(self.signer, base, key, expires_in)


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    with fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def open_local_store(
    data_dir: Path,
    configured_secret: str | None,
    public_url: str | None,
    fallback_base: str,
    retain_s: float | None = None,
    retain_prefix: str = "",
) -> LocalBlobStore:
    """The local-disk store under ``<data_dir>/blobs/``, signing with the configured or kept secret."""
    signer = UrlSigner(load_secret(configured_secret, data_dir))
    return LocalBlobStore(data_dir / "blobs", signer, public_url, fallback_base, retain_s, retain_prefix)
