"""The SSRF guard of outbound fetches (providers/fetch.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from aigateway.providers.fetch import Fetcher, FetchRefused, check_url, create_fetch_session


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.png",
        "http://10.1.2.3/x.png",
        "http://192.168.0.1/x.png",
        "http://172.16.5.5/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/x",
        "http://0.0.0.0/x",
        "http://[::1]/x",
        "http://[fd00::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://224.0.0.1/x",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "http:///nohost",
    ],
)
def test_private_loopback_link_local_and_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(FetchRefused):
        check_url(url, allow_private=False)


def test_public_addresses_and_names_pass_the_literal_check() -> None:
    check_url("https://8.8.8.8/x.png", allow_private=False)
    check_url("https://images.example.com/x.png", allow_private=False)  # names are checked at connect
    check_url("http://127.0.0.1/x.png", allow_private=True)


async def _serve() -> tuple[web.AppRunner, int]:
    app = web.Application()

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"0" * 5000, content_type="image/png")

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    app.router.add_get("/image.png", image)
    app.router.add_get("/big", big)
    app.router.add_get("/hop", hop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


async def _fetch(url: str, allow_private: bool, max_bytes: int = 1000) -> bytes:
    session = create_fetch_session(allow_private, 5.0, 10.0)
    try:
        return (await Fetcher(session, allow_private, max_bytes).get(url)).data
    finally:
        await session.close()


@pytest.fixture
def server() -> AsyncIterator[int]:
    loop = asyncio.new_event_loop()
    runner, port = loop.run_until_complete(_serve())
    yield loop, port  # type: ignore[misc]
    loop.run_until_complete(runner.cleanup())
    loop.close()


def test_a_name_resolving_to_loopback_is_refused_at_connect_unless_allowed(
    server: tuple[asyncio.AbstractEventLoop, int],
) -> None:
    loop, port = server
    with pytest.raises(FetchRefused, match="private or local"):
        loop.run_until_complete(_fetch(f"http://localhost:{port}/image.png", allow_private=False))
    data = loop.run_until_complete(_fetch(f"http://localhost:{port}/image.png", allow_private=True))
    assert data.startswith(b"\x89PNG")


def test_a_redirect_is_checked_again_and_the_size_is_capped(
    server: tuple[asyncio.AbstractEventLoop, int],
) -> None:
    loop, port = server
    hop = f"http://127.0.0.1:{port}/hop?to=http://127.0.0.1:{port}/image.png"
    assert loop.run_until_complete(_fetch(hop, allow_private=True)).startswith(b"\x89PNG")
    with pytest.raises(FetchRefused, match="larger"):
        loop.run_until_complete(_fetch(f"http://127.0.0.1:{port}/big", allow_private=True))
    with pytest.raises(FetchRefused, match="404"):
        loop.run_until_complete(_fetch(f"http://127.0.0.1:{port}/none", allow_private=True))
    with pytest.raises(FetchRefused):
        loop.run_until_complete(_fetch(f"http://127.0.0.1:{port}/image.png", allow_private=False))
