"""Server-sent events: reading an upstream stream event by event, writing chunks to the client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson


async def iter_sse_data(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """Yield the ``data`` payload of each event as soon as its line arrives.

    Multi-line data fields are joined with newlines, per the SSE spec; comments and other fields
    (event, id, retry) are skipped — the wire adapters only need the data.
    """
    pending: list[bytes] = []
    async for raw_line in content:
        line = raw_line.rstrip(b"\r\n")
        if not line:
            if pending:
                yield b"\n".join(pending)
                pending = []
            continue
        if line.startswith(b"data:"):
            value = line[5:]
            if value.startswith(b" "):
                value = value[1:]
            # OpenAI-style streams put each event on one line: yield it now, without waiting
            # for the blank line, so chunks reach the client as early as possible.
            if not pending and ((value.startswith(b"{") and value.endswith(b"}")) or value == b"[DONE]"):
                yield value
                continue
            pending.append(value)
    if pending:
        yield b"\n".join(pending)


def encode_event(chunk: dict[str, Any] | bytes) -> bytes:
    data = chunk if isinstance(chunk, bytes) else orjson.dumps(chunk)
    return b"data: " + data + b"\n\n"


DONE = b"data: [DONE]\n\n"
