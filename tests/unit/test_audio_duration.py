"""core/audio_duration.py on real files of every container, built here byte by byte.

The builders write what an encoder writes in the headers the gateway reads (RIFF fmt/data, MPEG
frame headers with Xing/VBRI, mp4 mvhd/mdhd, FLAC STREAMINFO, Ogg pages with a correct CRC and an
Opus or Vorbis identification header, EBML Segment Info); the integration tests upload them too.
"""

from __future__ import annotations

import struct

import pytest

from aigateway.core.audio_duration import AudioFormatError, measure


# -- builders ------------------------------------------------------------------------------------
def wav(
    seconds: float, rate: int = 16000, channels: int = 1, bits: int = 16, streamed: bool = False
) -> bytes:
    align = channels * bits // 8
    frames = round(seconds * rate)
    data = bytes(frames * align)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * align, align, bits)
    size = 0xFFFFFFFF if streamed else len(data)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"LIST" + struct.pack("<I", 4) + b"INFO"  # a chunk before the data, as many encoders write
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def flac(seconds: float, rate: int = 44100, channels: int = 2, bits: int = 16) -> bytes:
    total = round(seconds * rate)
    packed = (rate << 44) | ((channels - 1) << 41) | ((bits - 1) << 36) | total
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + packed.to_bytes(8, "big") + b"\x00" * 16
    return b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info + b"\xff\xf8" + b"\x00" * 32


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def ogg_page(payload: bytes, granule: int, sequence: int, flags: int, serial: int = 0x1234) -> bytes:
    lacing = [255] * (len(payload) // 255) + [len(payload) % 255]
    header = b"OggS" + bytes([0, flags]) + struct.pack("<qIII", granule, serial, sequence, 0)
    page = header + bytes([len(lacing)]) + bytes(lacing) + payload
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def ogg_opus(seconds: float, pre_skip: int = 312) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    end = pre_skip + round(seconds * 48000)
    return (
        ogg_page(head, 0, 0, 0x02)
        + ogg_page(tags, 0, 1, 0)
        + ogg_page(b"\xfc" * 200, end // 2, 2, 0)
        + ogg_page(b"\xfc" * 200, end, 3, 0x04)
    )


def ogg_vorbis(seconds: float, rate: int = 44100) -> bytes:
    ident = b"\x01vorbis" + struct.pack("<IBIiiiB", 0, 2, rate, 0, 128000, 0, 0xB8) + b"\x01"
    return ogg_page(ident, 0, 0, 0x02) + ogg_page(b"\x00" * 300, round(seconds * rate), 1, 0x04)


_MP3_HEADER = b"\xff\xfb\x90\x00"  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding, stereo
_MP3_FRAME = 417  # 144 * 128000 // 44100
_MP3_SAMPLES = 1152


def mp3(seconds: float, id3: bool = True) -> bytes:
    frames = round(seconds * 44100 / _MP3_SAMPLES)
    frame = _MP3_HEADER + b"\x00" * (_MP3_FRAME - 4)
    tag = b""
    if id3:
        body = b"TIT2" + struct.pack(">I", 6) + b"\x00\x00" + b"\x03test\x00"
        size = len(body)
        syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
        tag = b"ID3\x04\x00\x00" + syncsafe + body
    return tag + frame * frames + b"TAG" + b"\x00" * 125  # an ID3v1 tag at the end


def mp3_vbr(seconds: float, header: str = "Xing") -> bytes:
    """A VBR file whose first frame states the frame count; only a few frames follow."""
    frames = round(seconds * 44100 / _MP3_SAMPLES)
    first = bytearray(_MP3_HEADER + b"\x00" * (_MP3_FRAME - 4))
    if header == "Xing":
        first[36:48] = b"Xing" + struct.pack(">II", 1, frames)
    else:
        first[36:54] = b"VBRI" + struct.pack(">HHHII", 1, 0, 75, frames * _MP3_FRAME, frames)
    frame = _MP3_HEADER + b"\x00" * (_MP3_FRAME - 4)
    return bytes(first) + frame * 5


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def m4a(seconds: float, timescale: int = 44100, in_mvhd: bool = True, version: int = 0) -> bytes:
    duration = round(seconds * timescale)
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration if in_mvhd else 0)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration if in_mvhd else 0)
    mvhd = _box(b"mvhd", bytes([version, 0, 0, 0]) + times + b"\x00" * 80)
    mdhd = _box(b"mdhd", b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, timescale, duration) + b"\x00" * 4)
    trak = _box(b"trak", _box(b"tkhd", b"\x00" * 84) + _box(b"mdia", mdhd + _box(b"hdlr", b"\x00" * 24)))
    ftyp = _box(b"ftyp", b"M4A \x00\x00\x02\x00M4A mp42isom")
    return ftyp + _box(b"moov", mvhd + trak) + _box(b"mdat", b"\x00" * 64)


def _ebml(ident: int, payload: bytes) -> bytes:
    size = len(payload)
    return (
        ident.to_bytes((ident.bit_length() + 7) // 8, "big") + (size | (1 << 56)).to_bytes(8, "big") + payload
    )


def webm(seconds: float, scale: int = 1_000_000, float_size: int = 8) -> bytes:
    header = _ebml(0x1A45DFA3, _ebml(0x4282, b"webm") + _ebml(0x4287, b"\x04"))
    ticks = seconds * 1e9 / scale
    duration = struct.pack(">d", ticks) if float_size == 8 else struct.pack(">f", ticks)
    info = _ebml(0x1549A966, _ebml(0x2AD7B1, scale.to_bytes(3, "big")) + _ebml(0x4489, duration))
    tracks = _ebml(0x1654AE6B, _ebml(0xAE, _ebml(0xD7, b"\x01")))
    segment_id = (0x18538067).to_bytes(4, "big") + b"\x01\xff\xff\xff\xff\xff\xff\xff"  # unknown size
    return header + segment_id + _ebml(0x114D9B74, b"\x00" * 8) + info + tracks


# -- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "container", "expected_ms"),
    [
        (wav(2.5), "wav", 2500),
        (wav(1.25, rate=44100, channels=2), "wav", 1250),
        (wav(3.0, rate=8000, bits=8), "wav", 3000),
        (wav(0.75, streamed=True), "wav", 750),
        (flac(4.0), "flac", 4000),
        (flac(1.5, rate=48000, channels=1, bits=24), "flac", 1500),
        (ogg_opus(3.2), "ogg", 3200),
        (ogg_vorbis(2.0), "ogg", 2000),
        (m4a(5.5), "mp4", 5500),
        (m4a(2.25, timescale=1000, version=1), "mp4", 2250),
        (m4a(7.0, in_mvhd=False), "mp4", 7000),
        (webm(6.4), "webm", 6400),
        (webm(1.5, scale=1_000_000, float_size=4), "webm", 1500),
    ],
)
def test_containers(data: bytes, container: str, expected_ms: int) -> None:
    info = measure(data)
    assert info.container == container
    assert info.duration_ms == expected_ms


@pytest.mark.parametrize("seconds", [1.0, 2.78, 10.0])
def test_mp3_frames_are_summed(seconds: float) -> None:
    frames = round(seconds * 44100 / _MP3_SAMPLES)
    expected = round(frames * _MP3_SAMPLES / 44100 * 1000)
    assert measure(mp3(seconds)) == measure(mp3(seconds, id3=False))
    info = measure(mp3(seconds))
    assert info.container == "mp3" and abs(info.duration_ms - expected) <= 1


@pytest.mark.parametrize("kind", ["Xing", "VBRI"])
def test_mp3_vbr_header_states_the_length(kind: str) -> None:
    # Six frames are present (157 ms), but the VBR header says the stream is 60 s long.
    frames = round(60 * 44100 / _MP3_SAMPLES)
    info = measure(mp3_vbr(60.0, kind))
    assert info.container == "mp3"
    assert info.duration_ms == round(frames * _MP3_SAMPLES / 44100 * 1000)


def test_opus_pre_skip_is_not_billed() -> None:
    assert measure(ogg_opus(1.0, pre_skip=0)).duration_ms == 1000
    assert measure(ogg_opus(1.0, pre_skip=3840)).duration_ms == 1000


def test_ogg_crc_is_the_real_one() -> None:
    page = ogg_page(b"abc", 0, 0, 2)
    zeroed = page[:22] + b"\x00\x00\x00\x00" + page[26:]
    assert struct.unpack("<I", page[22:26])[0] == _ogg_crc(zeroed) != 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "too short"),
        (b"hello world, this is not audio at all", "not audio"),
        (b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd", "before its fmt"),
        (wav(1.0)[:36], "no data chunk"),
        (flac(1.0)[:20], "STREAMINFO"),
        (b"fLaC\x80\x00\x00\x22" + b"\x00" * 34, "sample rate"),
        (b"OggS\x00\x02" + b"\x00" * 40, "not Opus, Vorbis"),
        (_box(b"ftyp", b"M4A \x00\x00\x00\x00") + _box(b"mdat", b"\x00" * 8), "no moov"),
        (m4a(0.0), "no duration"),
        (webm(1.0)[:60], "damaged element header"),
        (b"\x1a\x45\xdf\xa3\x84webm\xec\x84\x00\x00\x00\x00", "no Segment"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64, "no MPEG audio frame"),
    ],
)
def test_unreadable_files_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(AudioFormatError, match=reason):
        measure(data)


def _cluster(timecode: int, blocks: list[int], unknown: bool = False) -> bytes:
    body = _ebml(0xE7, timecode.to_bytes(2, "big"))
    for relative in blocks:
        body += _ebml(0xA3, b"\x81" + struct.pack(">h", relative) + b"\x80" + b"\x00" * 20)
    if unknown:
        return (0x1F43B675).to_bytes(4, "big") + b"\x01\xff\xff\xff\xff\xff\xff\xff" + body
    return _ebml(0x1F43B675, body)


def webm_recorded(unknown_clusters: bool = False) -> bytes:
    """What a browser's MediaRecorder writes: no Duration, clusters of blocks (ms timecodes)."""
    header = _ebml(0x1A45DFA3, _ebml(0x4282, b"webm"))
    info = _ebml(0x1549A966, _ebml(0x2AD7B1, (1_000_000).to_bytes(3, "big")))
    group = _ebml(0xA0, _ebml(0xA1, b"\x81" + struct.pack(">h", 500) + b"\x00") + _ebml(0x9B, b"\x14"))
    clusters = _cluster(0, [0, 20, 40], unknown_clusters) + _cluster(2000, [0, 480], unknown_clusters)
    clusters += _ebml(0x1F43B675, _ebml(0xE7, (3000).to_bytes(2, "big")) + group)
    segment = (0x18538067).to_bytes(4, "big") + b"\x01\xff\xff\xff\xff\xff\xff\xff"
    return header + segment + info + clusters


@pytest.mark.parametrize("unknown", [False, True])
def test_webm_without_duration_is_measured_to_its_last_block(unknown: bool) -> None:
    # The last cluster starts at 3000 ms; its block group is at +500 ms and lasts 20 ms.
    assert measure(webm_recorded(unknown)).duration_ms == 3520


def test_webm_without_duration_or_blocks_is_refused() -> None:
    header = _ebml(0x1A45DFA3, _ebml(0x4282, b"webm"))
    info = _ebml(0x1549A966, _ebml(0x2AD7B1, (1_000_000).to_bytes(3, "big")))
    data = header + _ebml(0x18538067, info + _ebml(0x1F43B675, _ebml(0xE7, b"\x00")))
    with pytest.raises(AudioFormatError, match="no Duration and no block"):
        measure(data)
