"""The duration of an audio file, read from its own bytes: what speech-to-text calls are billed on.

Pure parsing, no I/O and no decoder: the container's headers say how long the audio is.

* wav: RIFF ``fmt `` (byte rate) and ``data`` (its size);
* mp3: MPEG audio frame headers, after an ID3v2 tag; a Xing/Info or VBRI header gives the frame count,
  otherwise every frame is walked and counted;
* m4a/mp4/mov: ``moov/mvhd`` timescale and duration (the longest ``mdhd`` when mvhd says nothing);
* flac: STREAMINFO's total samples over its sample rate;
* ogg: the last page's granule position over the sample rate (Vorbis: its identification header;
  Opus: always 48 kHz, less the pre-skip);
* webm/matroska: Segment Info ``Duration`` times ``TimecodeScale``.

A file none of these can read raises ``AudioFormatError`` with the reason.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


class AudioFormatError(ValueError):
    """The bytes are not audio the gateway can measure."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    container: str  # wav | mp3 | mp4 | flac | ogg | webm
    duration_ms: int


def measure(data: bytes) -> AudioInfo:
    """The container and duration (milliseconds, rounded to nearest) of an audio file."""
    if len(data) < 12:
        raise AudioFormatError("the file is too short to be audio")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return AudioInfo("wav", _ms(_wav_seconds(data)))
    if data[:4] == b"fLaC":
        return AudioInfo("flac", _ms(_flac_seconds(data)))
    if data[:4] == b"OggS":
        return AudioInfo("ogg", _ms(_ogg_seconds(data)))
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return AudioInfo("webm", _ms(_matroska_seconds(data)))
    if data[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return AudioInfo("mp4", _ms(_mp4_seconds(data)))
    if data[:3] == b"ID3" or _frame_at(data, 0) is not None:
        return AudioInfo("mp3", _ms(_mp3_seconds(data)))
    raise AudioFormatError(
        "the file is not audio the gateway can read (wav, mp3, m4a/mp4, flac, ogg or webm)"
    )


def _ms(seconds: float) -> int:
    if seconds != seconds or seconds < 0 or seconds > 100 * 3600:  # NaN, negative, over 100 hours
        raise AudioFormatError("the file states an impossible duration")
    return int(seconds * 1000 + 0.5)


# -- wav -------------------------------------------------------------------------------------------
def _wav_seconds(data: bytes) -> float:
    pos = 12
    byte_rate = 0
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if kind == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise AudioFormatError("the WAV fmt chunk is truncated")
            _tag, channels, rate, byte_rate, align = struct.unpack_from("<HHIIH", data, body)
            if not channels or not rate or not byte_rate or not align:
                raise AudioFormatError("the WAV fmt chunk has a zero rate or channel count")
        elif kind == b"data":
            if not byte_rate:
                raise AudioFormatError("the WAV data chunk comes before its fmt chunk")
            # A streamed WAV leaves the size at 0 or 0xFFFFFFFF: the data runs to the end of the file.
            available = len(data) - body
            length = available if size in (0, 0xFFFFFFFF) else min(size, available)
            return length / byte_rate
        pos = body + size + (size & 1)
    raise AudioFormatError("the WAV file has no data chunk")


# -- flac ------------------------------------------------------------------------------------------
def _flac_seconds(data: bytes) -> float:
    if len(data) < 8 + 34 or data[4] & 0x7F != 0:
        raise AudioFormatError("the FLAC file has no STREAMINFO block")
    info = data[8 : 8 + 34]
    packed = int.from_bytes(info[10:18], "big")
    rate = packed >> 44
    total = packed & ((1 << 36) - 1)
    if not rate:
        raise AudioFormatError("the FLAC STREAMINFO has no sample rate")
    if not total:
        raise AudioFormatError("the FLAC STREAMINFO does not state its length")
    return total / rate


# -- ogg -------------------------------------------------------------------------------------------
def _ogg_page(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(granule, serial, payload offset) of a valid-looking page at ``pos``."""
    if data[pos : pos + 4] != b"OggS" or pos + 27 > len(data) or data[pos + 4] != 0:
        return None
    granule, serial = struct.unpack_from("<qI", data, pos + 6)
    segments = data[pos + 26]
    if pos + 27 + segments > len(data):
        return None
    return granule, serial, pos + 27 + segments


def _ogg_seconds(data: bytes) -> float:
    first = _ogg_page(data, 0)
    if first is None:
        raise AudioFormatError("the Ogg file's first page is damaged")
    _, serial, payload = first
    head = data[payload : payload + 32]
    if head.startswith(b"OpusHead") and len(head) >= 12:
        rate, skip = 48000, struct.unpack_from("<H", head, 10)[0]
    elif head.startswith(b"\x01vorbis") and len(head) >= 16:
        rate, skip = struct.unpack_from("<I", head, 12)[0], 0
    elif head.startswith(b"\x7fFLAC") and len(head) >= 13 + 34 - 8:
        rate = int.from_bytes(head[27:30], "big") >> 4
        skip = 0
    else:
        raise AudioFormatError("the Ogg stream is not Opus, Vorbis or FLAC")
    if not rate:
        raise AudioFormatError("the Ogg stream has no sample rate")
    pos = data.rfind(b"OggS")
    while pos > 0:
        page = _ogg_page(data, pos)
        if page is not None and page[1] == serial and page[0] >= 0:
            return max(0, page[0] - skip) / rate
        pos = data.rfind(b"OggS", 0, pos)
    raise AudioFormatError("the Ogg stream has no page with a granule position")


# -- mp3 -------------------------------------------------------------------------------------------
_BITRATES = {  # kbit/s by (MPEG-1?, layer) and index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True, slots=True)
class _Frame:
    length: int
    samples: int
    rate: int
    mpeg1: bool
    mono: bool


def _frame_at(data: bytes, pos: int) -> _Frame | None:
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version = (b1 >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    layer = 4 - ((b1 >> 1) & 3)
    index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer == 4 or index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][index - 1] * 1000
    rate = _RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    if layer == 1:
        samples, length = 384, (12 * bitrate // rate + padding) * 4
    else:
        samples = 1152 if layer == 2 or mpeg1 else 576
        length = samples // 8 * bitrate // rate + padding
    return _Frame(length, samples, rate, mpeg1, (b3 >> 6) == 3)


def _mp3_seconds(data: bytes) -> float:
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    # Some encoders pad after the tag: find the first frame followed by another frame (or the end).
    limit = min(len(data), pos + 64 * 1024)
    first = None
    while pos < limit:
        first = _frame_at(data, pos)
        if first is not None:
            after = pos + first.length
            if after >= len(data) or _frame_at(data, after) is not None:
                break
        first = None
        pos += 1
    if first is None:
        raise AudioFormatError("no MPEG audio frame was found in the file")
    frames = _vbr_frames(data, pos, first)
    if frames is not None:
        return frames * first.samples / first.rate
    seconds = 0.0
    while True:
        frame = _frame_at(data, pos)
        if frame is None or frame.length < 4:
            break
        seconds += frame.samples / frame.rate
        pos += frame.length
    return seconds


def _vbr_frames(data: bytes, pos: int, frame: _Frame) -> int | None:
    """The frame count a Xing/Info or VBRI header in the first frame states, if any."""
    side = (32 if not frame.mono else 17) if frame.mpeg1 else (17 if not frame.mono else 9)
    xing = pos + 4 + side
    if data[xing : xing + 4] in (b"Xing", b"Info") and len(data) >= xing + 12:
        (flags,) = struct.unpack_from(">I", data, xing + 4)
        if flags & 1:
            return int(struct.unpack_from(">I", data, xing + 8)[0])
    vbri = pos + 4 + 32
    if data[vbri : vbri + 4] == b"VBRI" and len(data) >= vbri + 18:
        return int(struct.unpack_from(">I", data, vbri + 14)[0])
    return None


# -- mp4 -------------------------------------------------------------------------------------------
def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes between ``start`` and ``end``."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            break
        out.append((kind, pos + header, min(pos + size, end)))
        pos += size
    return out


def _time_header(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    """(timescale, duration) of an mvhd or mdhd payload."""
    if start + 1 > end:
        return None
    if data[start] == 1:
        if start + 32 > end:
            return None
        scale, duration = struct.unpack_from(">IQ", data, start + 20)
    else:
        if start + 20 > end:
            return None
        scale, duration = struct.unpack_from(">II", data, start + 12)
    unknown = duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)
    return (scale, duration) if scale and duration and not unknown else None


def _mp4_seconds(data: bytes) -> float:
    moov = next((b for b in _boxes(data, 0, len(data)) if b[0] == b"moov"), None)
    if moov is None:
        raise AudioFormatError("the MP4 file has no moov box")
    children = _boxes(data, moov[1], moov[2])
    mvhd = next((b for b in children if b[0] == b"mvhd"), None)
    found = _time_header(data, mvhd[1], mvhd[2]) if mvhd else None
    if found is not None:
        return found[1] / found[0]
    longest = 0.0
    for kind, start, end in children:
        if kind != b"trak":
            continue
        for mdia in (b for b in _boxes(data, start, end) if b[0] == b"mdia"):
            for mdhd in (b for b in _boxes(data, mdia[1], mdia[2]) if b[0] == b"mdhd"):
                header = _time_header(data, mdhd[1], mdhd[2])
                if header is not None:
                    longest = max(longest, header[1] / header[0])
    if not longest:
        raise AudioFormatError("the MP4 file states no duration (mvhd or mdhd)")
    return longest


# -- webm / matroska -------------------------------------------------------------------------------
_SEGMENT, _INFO, _SCALE, _DURATION = 0x18538067, 0x1549A966, 0x2AD7B1, 0x4489


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int, bool]:
    """(value, next position, all ones) of an EBML variable-length integer."""
    if pos >= len(data):
        raise AudioFormatError("the Matroska file is truncated")
    first = data[pos]
    width = 1
    while width <= 8 and not first & (0x80 >> (width - 1)):
        width += 1
    if width > 8 or pos + width > len(data):
        raise AudioFormatError("the Matroska file has a damaged element header")
    value = first if keep_marker else first & (0xFF >> width)
    for byte in data[pos + 1 : pos + width]:
        value = (value << 8) | byte
    ones = not keep_marker and value == (1 << (7 * width)) - 1
    return value, pos + width, ones


def _elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    pos = start
    while pos < end:
        ident, pos, _ = _vint(data, pos, keep_marker=True)
        size, pos, unknown = _vint(data, pos, keep_marker=False)
        stop = end if unknown else min(pos + size, end)
        out.append((ident, pos, stop))
        if ident == _SEGMENT:
            break  # its children are read by the caller
        pos = stop
    return out


_CLUSTER, _TIMECODE, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK, _BLOCK_DURATION = (
    0x1F43B675,
    0xE7,
    0xA3,
    0xA0,
    0xA1,
    0x9B,
)
_TOP_LEVEL = frozenset({_CLUSTER, 0x1C53BB6B, 0x1254C367, 0x1941A469, 0x1043A770, 0x114D9B74, _INFO})


def _block_ticks(data: bytes, start: int, end: int) -> int:
    """A Block's timecode relative to its Cluster (after the track number)."""
    _, pos, _ = _vint(data, start, keep_marker=False)
    if pos + 2 > end:
        raise AudioFormatError("the Matroska file has a truncated block")
    return int(struct.unpack_from(">h", data, pos)[0])


def _cluster_end(data: bytes, start: int, end: int, unknown: bool) -> tuple[int, int | None]:
    """(where the Cluster ends, the latest time in it, in ticks) of a Cluster's children."""
    base = 0
    latest: int | None = None
    pos = start
    while pos < end:
        ident, body, _ = _vint(data, pos, keep_marker=True)
        if unknown and ident in _TOP_LEVEL:
            return pos, latest
        size, body, child_unknown = _vint(data, body, keep_marker=False)
        stop = min(body + size, end)
        if ident == _TIMECODE:
            base = int.from_bytes(data[body:stop], "big")
        elif ident == _SIMPLE_BLOCK:
            latest = max(latest or 0, base + _block_ticks(data, body, stop))
        elif ident == _BLOCK_GROUP:
            at, length = None, 0
            for child, child_start, child_end in _elements(data, body, stop):
                if child == _BLOCK:
                    at = base + _block_ticks(data, child_start, child_end)
                elif child == _BLOCK_DURATION:
                    length = int.from_bytes(data[child_start:child_end], "big")
            if at is not None:
                latest = max(latest or 0, at + length)
        if child_unknown:
            break
        pos = stop
    return end, latest


def _matroska_seconds(data: bytes) -> float:
    """Segment Info's Duration; a file without one (a browser's MediaRecorder writes none) is
    measured to the start of its last block (the last frame's own length is not stated)."""
    segment = next((e for e in _elements(data, 0, len(data)) if e[0] == _SEGMENT), None)
    if segment is None:
        raise AudioFormatError("the Matroska file has no Segment")
    scale = 1_000_000
    latest: int | None = None
    seen_info = False
    pos = segment[1]
    while pos < segment[2]:
        ident, body, _ = _vint(data, pos, keep_marker=True)
        size, body, unknown = _vint(data, body, keep_marker=False)
        stop = segment[2] if unknown else min(body + size, segment[2])
        if ident == _INFO:
            seen_info = True
            duration = None
            for child, start, end in _elements(data, body, stop):
                raw = data[start:end]
                if child == _SCALE and raw:
                    scale = int.from_bytes(raw, "big")
                elif child == _DURATION and len(raw) in (4, 8):
                    duration = struct.unpack(">f" if len(raw) == 4 else ">d", raw)[0]
            if duration is not None:
                return float(duration) * scale / 1e9
        elif ident == _CLUSTER:
            pos, ticks = _cluster_end(data, body, stop, unknown)
            if ticks is not None:
                latest = max(latest or 0, ticks)
            continue
        elif unknown:
            break
        pos = stop
    if latest is None:
        if not seen_info:
            raise AudioFormatError("the Matroska file has no Segment Info before its media")
        raise AudioFormatError("the Matroska Segment Info states no Duration and no block follows")
    return latest * scale / 1e9
