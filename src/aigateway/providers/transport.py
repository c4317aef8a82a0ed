"""The one shared upstream HTTP client.

aiohttp rather than httpx: on these 2-core machines an aiohttp pass-through sustains several times
the request rate of the same proxy on httpx (see BENCHMARKS.md), and it streams response bodies
without buffering. One session, one connection pool, kept alive for the life of the process.
"""

from __future__ import annotations

import aiohttp

from aigateway.core.errors import ProviderError, UpstreamTimeout
from aigateway.providers.vendors import VendorProfile
from aigateway.providers.wire.base import UpstreamRequest, UpstreamResponse


def create_session(
    *, pool_size: int, connect_timeout_s: float, total_timeout_s: float
) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=pool_size,
        limit_per_host=0,
        ttl_dns_cache=300,
        keepalive_timeout=60,
        enable_cleanup_closed=True,
    )
    timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=total_timeout_s)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=True,
        skip_auto_headers=("User-Agent",),
        raise_for_status=False,
    )


class HttpTransport:
    """Real HTTP to the upstreams over the one session; connection failures become gateway errors."""

    name = "http"

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def send(self, vendor: VendorProfile, request: UpstreamRequest) -> UpstreamResponse:
        """Send the request and return the response once its headers arrive."""
        kwargs: dict[str, object] = {"headers": request.headers}
        if vendor.timeout_s:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=None, sock_read=vendor.timeout_s)
        if request.form is not None:
            form = aiohttp.FormData()
            for name, value, filename, content_type in request.form:
                form.add_field(name, value, filename=filename, content_type=content_type)
            kwargs["data"] = form
        elif request.body is not None:
            kwargs["data"] = request.body
        try:
            return await self.session.request(request.method, request.url, **kwargs)  # type: ignore[arg-type]
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout(f"Provider '{vendor.name}' did not answer in time.") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or "connection failed"
            raise ProviderError(
                f"Could not connect to provider '{vendor.name}' ({reason}).", retryable=True
            ) from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(
                f"Provider '{vendor.name}' closed the connection before answering ({type(exc).__name__}).",
                retryable=True,
            ) from exc
