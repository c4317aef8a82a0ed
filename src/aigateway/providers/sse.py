"""Server-sent events: reading an upstream stream event by event, writing chunks to the client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from aigateway.providers.wire.base import StreamBody


async def iter_sse_data(content: StreamBody) -> AsyncIterator[bytes]:
    """Yield the ``data`` payload of each event as soon as its line arrives.

    Lines are split here rather than with the reader's ``readline``, which refuses lines longer
    than its buffer (a base64 image in one event is a long line). Multi-line data fields are joined
    with newlines, per the SSE spec; comments and other fields (event, id, retry) are skipped, and
    an event with empty data is not an event.
    """
    pending: list[bytes] = []
    buffer = b""
    async for piece in content.iter_any():
        buffer = buffer + piece if buffer else piece
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if pending:
                    data = b"\n".join(pending)
                    pending = []
                    if data:
                        yield data
                continue
            if line.startswith(b"data:"):
                value = line[6:] if line.startswith(b"data: ") else line[5:]
                # OpenAI-style streams put each event on one line: yield it now, without waiting
                # for the blank line, so chunks reach the client as early as possible.
                if not pending and ((value.startswith(b"{") and value.endswith(b"}")) or value == b"[DONE]"):
                    yield value
                    continue
                pending.append(value)
        buffer = buffer[start:]
    if buffer.startswith(b"data:"):
        pending.append(buffer[6:] if buffer.startswith(b"data: ") else buffer[5:])
    if pending:
        data = b"\n".join(pending)
        if data:
            yield data


async def iter_json_array(content: StreamBody) -> AsyncIterator[bytes]:
    """Yield each element of a streamed top-level JSON array (``[{...},\r\n{...}]``) as it completes.

    Some providers (Gemini without ``alt=sse``) stream this way. Elements are found by tracking
    brace depth outside strings, so a chunk boundary may fall anywhere.
    """
    buffer = bytearray()
    depth = 0
    in_string = escaped = False
    start = -1
    async for piece in content.iter_any():
        base = len(buffer)
        buffer += piece
        for i in range(base, len(buffer)):
            ch = buffer[i]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == 0x5C:  # backslash
                    escaped = True
                elif ch == 0x22:  # quote
                    in_string = False
            elif ch == 0x22:
                in_string = True
            elif ch == 0x7B:  # {
                if depth == 0:
                    start = i
                depth += 1
            elif ch == 0x7D:  # }
                depth -= 1
                if depth == 0 and start >= 0:
                    yield bytes(buffer[start : i + 1])
                    start = -1
        if depth == 0 and start < 0:
            buffer.clear()


def stream_events(content: StreamBody, content_type: str) -> AsyncIterator[bytes]:
    """The data of each stream event, whether the upstream streams SSE or a JSON array."""
    if content_type == "application/json":
        return iter_json_array(content)
    return iter_sse_data(content)


def encode_event(chunk: dict[str, Any] | bytes) -> bytes:
    data = chunk if isinstance(chunk, bytes) else orjson.dumps(chunk)
    return b"data: " + data + b"\n\n"


DONE = b"data: [DONE]\n\n"
