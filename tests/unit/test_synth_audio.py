"""The simulated TTS audio: valid containers, as long as the text takes to say, deterministic."""

from __future__ import annotations

import hashlib
import struct

import orjson
import pytest

from aigateway.simulators import synth_audio as s

TEXT = "Hello there, this is a test of the speech synthesizer."


def _frames(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_duration_follows_the_text_and_the_speed() -> None:
    assert s.duration_ms("x" * 30) == 2000
    assert s.duration_ms("x" * 30, speed=2.0) == 1000
    assert s.duration_ms("hi") == s.MIN_MS


@pytest.mark.parametrize("fmt", s.FORMATS)
def test_every_format_is_deterministic_and_depends_on_the_text(fmt: str) -> None:
    assert s.speech(TEXT, fmt) == s.speech(TEXT, fmt)
    if fmt in ("wav", "pcm", "flac"):
        assert s.speech(TEXT, fmt) != s.speech(TEXT.upper(), fmt)


def test_wav_header_and_length() -> None:
    data = s.speech(TEXT, "wav")
    riff, size, wave = struct.unpack_from("<4sI4s", data)
    assert (riff, wave, size) == (b"RIFF", b"WAVE", len(data) - 8)
    _, _, fmt, channels, rate, byte_rate, align, bits = struct.unpack_from("<4sIHHIIHH", data, 12)
    assert (fmt, channels, rate, byte_rate, align, bits) == (1, 1, 24_000, 48_000, 2, 16)
    assert data[36:40] == b"data" and struct.unpack_from("<I", data, 40)[0] == len(data) - 44
    assert (len(data) - 44) * 1000 // byte_rate == s.duration_ms(TEXT)
    assert s.speech(TEXT, "pcm") == data[44:]


def test_flac_streaminfo_frames_and_checksums() -> None:
    data = s.speech(TEXT, "flac")
    assert data[:4] == b"fLaC" and data[4] == 0x80 and int.from_bytes(data[5:8], "big") == 34
    packed = int.from_bytes(data[18:26], "big")
    rate, channels, bits, total = (
        packed >> 44,
        ((packed >> 41) & 7) + 1,
        ((packed >> 36) & 31) + 1,
        packed & (2**36 - 1),
    )
    assert (rate, channels, bits) == (24_000, 1, 16)
    assert total == 24_000 * s.duration_ms(TEXT) // 1000
    pcm = s.speech(TEXT, "pcm")
    assert data[26:42] == hashlib.md5(pcm, usedforsecurity=False).digest()
    # Frames: sync code, a CRC-8 over the header, a verbatim subframe, a CRC-16 over the frame.
    pos, number, samples = 42, 0, 0
    while pos < len(data):
        assert data[pos : pos + 2] == b"\xff\xf8"
        block = s.FLAC_BLOCK if data[pos + 2] >> 4 == 0b1100 else None
        head = 4 + len(s._utf8_number(number))
        if block is None:
            block = struct.unpack_from(">H", data, pos + head)[0] + 1
            head += 2
        assert s._crc8(data[pos : pos + head]) == data[pos + head]
        assert data[pos + head + 1] == 0x02  # verbatim, no wasted bits
        end = pos + head + 2 + 2 * block
        assert struct.unpack_from(">H", data, end)[0] == s._crc16(data[pos:end])
        samples += block
        number += 1
        pos = end + 2
    assert samples == total


def test_mp3_is_whole_silent_mpeg1_layer3_frames() -> None:
    data = s.speech(TEXT, "mp3")
    frames = _frames(data, s.MP3_FRAME_BYTES)
    assert all(frame == s.MP3_SILENT_FRAME for frame in frames)
    header = int.from_bytes(s.MP3_HEADER, "big")
    assert header >> 21 == 0x7FF and (header >> 19) & 3 == 3 and (header >> 17) & 3 == 1  # MPEG-1 Layer III
    assert (header >> 12) & 15 == 9 and (header >> 10) & 3 == 1  # 128 kbit/s, 48 kHz
    assert s.MP3_FRAME_BYTES == 144 * 128_000 // 48_000
    assert abs(len(frames) * s.MP3_FRAME_SAMPLES * 1000 / 48_000 - s.duration_ms(TEXT)) <= 24


def test_aac_is_adts_frames_with_consistent_headers() -> None:
    data = s.speech(TEXT, "aac")
    frames = _frames(data, 11)
    for frame in frames:
        bits = int.from_bytes(frame[:7], "big")
        assert bits >> 44 == 0xFFF and (bits >> 40) & 1 == 1  # sync, no CRC
        assert (bits >> 34) & 15 == 6 and (bits >> 30) & 7 == 1  # 24 kHz, mono
        assert (bits >> 13) & 0x1FFF == len(frame) == 11
        assert frame[7:] == s.AAC_SILENT_BLOCK
    assert abs(len(frames) * 1024 * 1000 / 24_000 - s.duration_ms(TEXT)) <= 43


def _ogg_pages(data: bytes) -> list[tuple[int, int, int, list[bytes]]]:
    pages, pos = [], 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS"
        flags, granule, _serial, sequence, crc, count = struct.unpack_from("<BqIIIB", data, pos + 5)
        lacing = data[pos + 27 : pos + 27 + count]
        end = pos + 27 + count + sum(lacing)
        page = bytearray(data[pos:end])
        page[22:26] = b"\x00\x00\x00\x00"
        assert s.ogg_crc(bytes(page)) == crc
        body, packets, start = data[pos + 27 + count : end], [], 0
        for size in lacing:
            packets.append(body[start : start + size])
            start += size
        pages.append((flags, granule, sequence, packets))
        pos = end
    return pages


def test_opus_is_an_ogg_stream_with_granules_and_crcs() -> None:
    pages = _ogg_pages(s.speech(TEXT, "opus"))
    assert pages[0][0] == 0x02 and pages[0][3][0].startswith(b"OpusHead")
    assert pages[1][3][0].startswith(b"OpusTags")
    assert pages[-1][0] == 0x04
    assert [p[2] for p in pages] == list(range(len(pages)))
    audio = [packet for page in pages[2:] for packet in page[3]]
    assert all(packet == s.OPUS_SILENCE for packet in audio)
    assert pages[-1][1] == s.OPUS_PRE_SKIP + len(audio) * 960
    assert len(audio) * 20 == -(-s.duration_ms(TEXT) // 20) * 20


def test_the_gateways_own_parser_measures_the_simulated_audio() -> None:
    audio_duration = pytest.importorskip("aigateway.core.audio_duration")
    for fmt in ("wav", "mp3", "flac", "opus"):
        measured = audio_duration.measure(s.speech(TEXT, fmt)).duration_ms
        assert abs(measured - s.duration_ms(TEXT)) <= 30, fmt


def test_chunked_splits_into_several_pieces() -> None:
    data = s.speech(TEXT, "wav")
    pieces = s.chunked(data)
    assert len(pieces) == 4 and b"".join(pieces) == data
    assert s.chunked(b"") == (b"",)


def test_wire_answers() -> None:
    answer = s.simulated_speech("openai", "http://x/v1/audio/speech", {"input": TEXT, "voice": "alloy"})
    assert answer.ok and answer.content_type == "audio/mpeg" and len(answer.pieces) > 1
    assert s.simulated_speech("openai", "http://x", {"input": TEXT}).status == 400
    dg = s.simulated_speech("deepgram", "http://x/v1/speak?encoding=linear16&container=none", {"text": TEXT})
    assert dg.content_type == "audio/pcm" and b"".join(dg.pieces) == s.speech(TEXT, "pcm")
    el = s.simulated_speech(
        "elevenlabs", "http://x/v1/text-to-speech/v1d/stream?output_format=pcm_16000", {"text": TEXT}
    )
    assert b"".join(el.pieces) == s.speech(TEXT, "pcm", rate=16_000)
    assert s.simulated_speech("elevenlabs", "http://x/v1/other", {"text": TEXT}).status == 404
    mm = s.simulated_speech(
        "minimax",
        "http://x/v1/t2a_v2",
        {"text": TEXT, "stream": False, "audio_setting": {"format": "wav", "sample_rate": 24000}},
    )
    doc = orjson.loads(b"".join(mm.pieces))
    assert bytes.fromhex(doc["data"]["audio"]) == s.speech(TEXT, "wav")
    assert doc["extra_info"]["usage_characters"] == len(TEXT) and doc["base_resp"]["status_code"] == 0
    bad = orjson.loads(s.simulated_speech("minimax", "http://x", {"text": ""}).pieces[0])
    assert bad["base_resp"]["status_code"] == 2013
