"""Outbound fetches of URLs a provider handed back (a generated image), guarded against SSRF.

A provider's answer names a URL; the gateway downloads it. That URL is data from outside, so a fetch
must never reach the gateway's own network: loopback, private (RFC 1918, unique-local), link-local
(cloud metadata at 169.254.169.254), carrier-grade NAT, multicast, reserved or unspecified
addresses are refused unless the operator allows them (``AIGATEWAY_ALLOW_PRIVATE_FETCH``, for a
simulator on 127.0.0.1 or a provider on a private network). The check is made on every address the
name resolves to, at connect time (a resolver on the fetch session, so DNS rebinding between a
check and the connection cannot slip through), on IP literals before any connection, and again on
every redirect hop. Bodies are capped; only http and https.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

MAX_REDIRECTS = 3


class FetchRefused(Exception):
    """The URL may not be fetched (scheme, address) or its answer was unusable."""


def _blocked_ip(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class GuardedResolver(AbstractResolver):
    """Resolves names and refuses those with a non-public address (unless private fetches are allowed)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner: ThreadedResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = ThreadedResolver()
        results = await self._inner.resolve(host, port, family)
        if not self.allow_private and any(_blocked_ip(r["host"]) for r in results):
            raise FetchRefused(f"{host} resolves to a private or local address")
        return results

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


def create_fetch_session(
    allow_private: bool, connect_timeout_s: float, total_timeout_s: float
) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_private), limit=64, ttl_dns_cache=10)
    timeout = aiohttp.ClientTimeout(total=total_timeout_s, connect=connect_timeout_s)
    return aiohttp.ClientSession(connector=connector, timeout=timeout, raise_for_status=False)


def check_url(url: str, allow_private: bool) -> None:
    """Refuse a URL the gateway must not fetch, before any connection."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchRefused("only http and https URLs with a host are fetched")
    literal = _literal(parts.hostname)
    if literal is not None and not allow_private and _blocked_ip(literal):
        raise FetchRefused(f"{parts.hostname} is a private or local address")


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    content_type: str


class Fetcher:
    """Downloads a URL over its own guarded session (not the upstream pool)."""

    def __init__(self, session: aiohttp.ClientSession, allow_private: bool, max_bytes: int) -> None:
        self.session = session
        self.allow_private = allow_private
        self.max_bytes = max_bytes

    async def get(self, url: str) -> Fetched:
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(url, self.allow_private)
            try:
                async with self.session.get(url, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    if response.status != 200:
                        raise FetchRefused(f"the URL answered HTTP {response.status}")
                    data = await _capped(response, self.max_bytes)
                    return Fetched(data, response.content_type or "application/octet-stream")
            except FetchRefused:
                raise
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                cause: Any = exc.__cause__ or exc
                if isinstance(cause, FetchRefused):
                    raise cause from None
                raise FetchRefused(f"the URL could not be fetched ({type(exc).__name__})") from exc
        raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


async def _capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > limit:
        raise FetchRefused(f"the answer is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise FetchRefused(f"the answer is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
