"""Tests for providers/sse.py: reading upstream server-sent events, writing events to the client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import aiohttp
import orjson
from aiohttp.base_protocol import BaseProtocol
from aiohttp.helpers import DEFAULT_CHUNK_SIZE

from aigateway.providers.sse import DONE, encode_event, iter_sse_data


class _Protocol(BaseProtocol):
    """A connected protocol for a StreamReader fed by hand (no socket behind it)."""

    @property
    def connected(self) -> bool:
        return True

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self, resume_parser: bool = True) -> None:
        self._reading_paused = False


async def _collect(pieces: Sequence[bytes]) -> list[bytes]:
    """Feed ``pieces`` (arbitrary network reads, not lines) to a real aiohttp StreamReader."""
    loop = asyncio.get_running_loop()
    reader = aiohttp.StreamReader(_Protocol(loop), 2**16, loop=loop)
    for piece in pieces:
        reader.feed_data(piece)
    reader.feed_eof()
    return [data async for data in iter_sse_data(reader)]


def _read(*pieces: bytes) -> list[bytes]:
    return asyncio.run(_collect(pieces))


def _read_bytewise(stream: bytes) -> list[bytes]:
    return asyncio.run(_collect([stream[i : i + 1] for i in range(len(stream))]))


def test_one_line_events() -> None:
    stream = b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'
    assert _read(stream) == [b'{"a":1}', b'{"b":2}', b"[DONE]"]


def test_events_split_across_reads() -> None:
    stream = b'data: {"id":"x","choices":[]}\n\ndata: {"id":"y"}\n\ndata: [DONE]\n\n'
    expected = [b'{"id":"x","choices":[]}', b'{"id":"y"}', b"[DONE]"]
    assert _read_bytewise(stream) == expected
    assert _read(stream[:10], stream[10:31], stream[31:]) == expected


def test_data_without_space_after_colon() -> None:
    assert _read(b'data:{"a":1}\n\ndata:[DONE]\n\n') == [b'{"a":1}', b"[DONE]"]


def test_only_one_leading_space_is_removed() -> None:
    assert _read(b"data:  two spaces\n\n") == [b" two spaces"]


def test_multi_line_data_event() -> None:
    stream = b"data: first line\ndata: second line\ndata: third\n\ndata: next\n\n"
    assert _read(stream) == [b"first line\nsecond line\nthird", b"next"]
    assert _read_bytewise(stream) == [b"first line\nsecond line\nthird", b"next"]


def test_multi_line_json_is_joined() -> None:
    stream = b'data: {\ndata:   "a": 1\ndata: }\n\n'
    data = _read(stream)
    assert data == [b'{\n  "a": 1\n}']
    assert orjson.loads(data[0]) == {"a": 1}


def test_comments_are_skipped() -> None:
    stream = b': OPENROUTER PROCESSING\n\n:keep-alive\ndata: {"a":1}\n\n: ping\n\n'
    assert _read(stream) == [b'{"a":1}']


def test_event_id_and_retry_lines_are_skipped() -> None:
    stream = (
        b"event: message_start\n"
        b'data: {"type":"message_start"}\n'
        b"\n"
        b"id: 7\n"
        b"retry: 1000\n"
        b"event: content_block_delta\n"
        b"data: partial\n"
        b"data: rest\n"
        b"\n"
        b"event: ping\n"
        b"\n"
    )
    assert _read(stream) == [b'{"type":"message_start"}', b"partial\nrest"]


def test_crlf_line_endings() -> None:
    stream = b'data: {"a":1}\r\n\r\ndata: one\r\ndata: two\r\n\r\n: comment\r\ndata: [DONE]\r\n\r\n'
    expected = [b'{"a":1}', b"one\ntwo", b"[DONE]"]
    assert _read(stream) == expected
    assert _read_bytewise(stream) == expected


def test_missing_final_blank_line() -> None:
    assert _read(b'data: {"a":1}\n\ndata: tail one\ndata: tail two\n') == [b'{"a":1}', b"tail one\ntail two"]
    assert _read(b"data: no newline at all") == [b"no newline at all"]
    assert _read(b'data: {"a":1}') == [b'{"a":1}']


def test_empty_stream() -> None:
    assert _read() == []
    assert _read(b"\n\n\n") == []
    assert _read(b": only a comment\n\n") == []


def test_json_event_is_yielded_before_the_blank_line() -> None:
    async def scenario() -> list[bytes]:
        loop = asyncio.get_running_loop()
        reader = aiohttp.StreamReader(_Protocol(loop), 2**16, loop=loop)
        events = iter_sse_data(reader)
        reader.feed_data(b'data: {"a":1}\n')  # the blank line has not arrived yet
        first = await asyncio.wait_for(anext(events), timeout=1)
        reader.feed_data(b"\ndata: [DONE]\n")
        second = await asyncio.wait_for(anext(events), timeout=1)
        reader.feed_eof()
        rest = [data async for data in events]
        return [first, second, *rest]

    assert asyncio.run(scenario()) == [b'{"a":1}', b"[DONE]"]


async def _collect_while_feeding(stream: bytes, piece: int = 16_384) -> list[bytes]:
    """Like a real response: reads of ``piece`` bytes arrive while the consumer is reading.

    The limit is aiohttp's default read buffer size, which is what the gateway's client session uses.
    """
    loop = asyncio.get_running_loop()
    reader = aiohttp.StreamReader(_Protocol(loop), DEFAULT_CHUNK_SIZE, loop=loop)

    async def feed() -> None:
        for start in range(0, len(stream), piece):
            reader.feed_data(stream[start : start + piece])
            await asyncio.sleep(0)
        reader.feed_eof()

    feeder = asyncio.create_task(feed())
    try:
        return [data async for data in iter_sse_data(reader)]
    finally:
        await feeder


def test_large_event() -> None:
    payload = orjson.dumps({"content": "x" * DEFAULT_CHUNK_SIZE})  # larger than one read, below the limit
    stream = b"data: " + payload + b"\n\ndata: [DONE]\n\n"
    assert asyncio.run(_collect_while_feeding(stream)) == [payload, b"[DONE]"]


def test_event_larger_than_the_read_buffer() -> None:
    payload = orjson.dumps({"b64_json": "A" * (2 * DEFAULT_CHUNK_SIZE + 1024)})
    stream = b"data: " + payload + b"\n\ndata: [DONE]\n\n"
    assert asyncio.run(_collect_while_feeding(stream)) == [payload, b"[DONE]"]


def test_works_with_any_source_of_byte_pieces() -> None:
    """iter_sse_data only needs ``iter_any()``; pieces may split lines anywhere."""

    class Pieces:
        def __init__(self, pieces: list[bytes]) -> None:
            self.pieces = pieces

        async def _gen(self) -> AsyncIterator[bytes]:
            for piece in self.pieces:
                yield piece

        def iter_any(self) -> AsyncIterator[bytes]:
            return self._gen()

    async def scenario() -> list[bytes]:
        content = Pieces([b"data: a\nda", b"ta: b\n", b"\n", b"data: [DO", b"NE]\n"])
        return [data async for data in iter_sse_data(content)]  # type: ignore[arg-type]

    assert asyncio.run(scenario()) == [b"a\nb", b"[DONE]"]


def test_empty_data_event_is_not_dispatched() -> None:
    assert _read(b"data:\n\ndata: [DONE]\n\n") == [b"[DONE]"]


# -------------------------------------------------------------------------------------- encode_event


def test_encode_dict() -> None:
    chunk = {"id": "chatcmpl-1", "choices": [{"delta": {"content": "Ünï ✓"}}], "n": None}
    event = encode_event(chunk)
    assert event.startswith(b"data: ")
    assert event.endswith(b"\n\n")
    assert event.count(b"\n") == 2  # one line: no raw newline inside the JSON
    assert orjson.loads(event[len(b"data: ") : -2]) == chunk


def test_encode_dict_with_newlines_in_strings() -> None:
    event = encode_event({"content": "line1\nline2\r\n"})
    assert event == b'data: {"content":"line1\\nline2\\r\\n"}\n\n'


def test_encode_bytes_untouched() -> None:
    raw = b'{"id":"x",  "spacing" : "kept"}'
    assert encode_event(raw) == b'data: {"id":"x",  "spacing" : "kept"}\n\n'


def test_done_constant() -> None:
    assert DONE == b"data: [DONE]\n\n"
    assert encode_event(b"[DONE]") == DONE


def test_round_trip() -> None:
    chunks: list[dict[str, object] | bytes] = [{"a": 1}, b'{"b":2}', {"c": "multi\nline"}, b"[DONE]"]
    stream = b"".join(encode_event(c) for c in chunks)
    assert _read(stream) == [b'{"a":1}', b'{"b":2}', b'{"c":"multi\\nline"}', b"[DONE]"]
