"""The one shared upstream HTTP client.

aiohttp rather than httpx: on these 2-core machines an aiohttp pass-through sustains several times
the request rate of the same proxy on httpx (see BENCHMARKS.md), and it streams response bodies
without buffering. One session, one connection pool, kept alive for the life of the process.
"""

from __future__ import annotations

import aiohttp


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
