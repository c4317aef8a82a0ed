"""A streaming response that notices the client hanging up at once, not at the next write.

Starlette's StreamingResponse (under ASGI spec 2.4 servers) learns of a disconnect only when a
write fails, so a slow upstream would keep generating, and billing, for nobody. This response
watches ``http.disconnect`` beside the pump and cancels the stream the moment it arrives; the
stream's own ``finally`` then closes the upstream connection and settles the call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class Stream(Protocol):
    """A stream of encoded events that must be closed however the response ends."""

    chunks: AsyncIterator[bytes]

    async def aclose(self) -> None: ...


class EventStreamResponse(Response):
    """A Starlette Response in type only: it writes its own start, body and end."""

    sse_media_type = b"text/event-stream; charset=utf-8"

    def __init__(
        self, stream: Stream, headers: dict[str, str], status: int = 200, media_type: str | None = None
    ) -> None:
        self.stream = stream
        self.status = status
        self.status_code = status
        self.background = None
        content_type = media_type.encode("latin-1") if media_type else self.sse_media_type
        self.raw_headers = [(b"content-type", content_type), (b"cache-control", b"no-cache")]
        # latin-1, as Starlette encodes headers: a client's non-ASCII X-Request-Id goes back byte for byte.
        self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status, "headers": self.raw_headers})
            pump = asyncio.ensure_future(self._pump(send))
            watch = asyncio.ensure_future(self._watch(receive))
            try:
                await asyncio.wait((pump, watch), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pump, watch):
                    if not task.done():
                        task.cancel()
                for task in (pump, watch):
                    with contextlib.suppress(asyncio.CancelledError, OSError):
                        await task
        finally:
            # However the response ended (even before its first byte), the call is settled.
            await self.stream.aclose()

    async def _pump(self, send: Send) -> None:
        async for chunk in self.stream.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _watch(receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
