"""How long the audio relayed so far is, read from its bytes as they pass (no decoding): MP3 frames,
AAC ADTS frames, Ogg Opus granule positions, and the WAV header's byte rate. The speech translator
(speech.py) bills per-second models on these, and falls back to an estimate only for FLAC."""

from __future__ import annotations

import struct


def wav_layout(head: bytes) -> tuple[int, int] | None:
    """(byte rate, offset of the samples) of a WAV header, once enough of it has arrived."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        if chunk == b"fmt " and pos + 20 <= len(head):
            byte_rate = struct.unpack_from("<I", head, pos + 16)[0]
        if chunk == b"data":
            return (byte_rate, pos + 8) if byte_rate else None
        pos += 8 + size + (size & 1)
    return None


# MPEG audio frame headers: bitrates (kbit/s) of Layer III by version, sample rates by version.
_MP3_BITRATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 (and 2.5)
}
_MP3_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}


class Mp3Counter:
    """Counts the samples of the whole MPEG Layer III frames seen so far, as the bytes stream by
    (an ID3v2 tag at the start is skipped; bytes between frames resynchronise)."""

    def __init__(self) -> None:
        self.pending = b""
        self.samples_ms = 0.0
        self.started = False
        self.skip = 0  # bytes of an ID3v2 tag still to come
        self.frames = 0

    def feed(self, data: bytes) -> None:
        if self.skip:
            taken = min(self.skip, len(data))
            self.skip -= taken
            data = data[taken:]
        buf = self.pending + data
        pos = 0
        if not self.started:
            if len(buf) < 10:
                self.pending = buf
                return
            self.started = True
            if buf[:3] == b"ID3":
                size = (buf[6] << 21) | (buf[7] << 14) | (buf[8] << 7) | buf[9]
                pos = 10 + size
                if pos > len(buf):
                    self.skip, self.pending = pos - len(buf), b""
                    return
        while pos + 4 <= len(buf):
            b1, b2 = buf[pos + 1], buf[pos + 2]
            version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
            bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
            if buf[pos] != 0xFF or b1 & 0xE0 != 0xE0 or version == 1 or layer != 1:
                pos += 1
                continue
            if bitrate_index in (0, 15) or rate_index == 3:
                pos += 1
                continue
            rate = _MP3_RATES[version][rate_index]
            bitrate = _MP3_BITRATES[3 if version == 3 else 2][bitrate_index] * 1000
            per_frame = 1152 if version == 3 else 576
            length = per_frame // 8 * bitrate // rate + ((b2 >> 1) & 1)
            if pos + length > len(buf):
                break
            head = buf[pos + 4 : pos + 40]
            if not self.frames and (b"Xing" in head or b"Info" in head):
                pos += length  # the encoder's summary frame (LAME's Info), not audio
                continue
            self.frames += 1
            self.samples_ms += per_frame * 1000 / rate
            pos += length
        self.pending = buf[pos:]

    @property
    def ms(self) -> int:
        return int(self.samples_ms)


_ADTS_RATES = (96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000)


class AdtsCounter:
    """Counts the samples of the whole AAC ADTS frames seen so far (1024 per raw data block)."""

    def __init__(self) -> None:
        self.pending = b""
        self.samples_ms = 0.0

    def feed(self, data: bytes) -> None:
        buf, pos = self.pending + data, 0
        while pos + 7 <= len(buf):
            if (
                buf[pos] != 0xFF
                or buf[pos + 1] & 0xF6 != 0xF0
                or (buf[pos + 2] >> 2) & 15 >= len(_ADTS_RATES)
            ):
                pos += 1
                continue
            length = ((buf[pos + 3] & 3) << 11) | (buf[pos + 4] << 3) | (buf[pos + 5] >> 5)
            if length < 7:
                pos += 1
                continue
            if pos + length > len(buf):
                break
            blocks = (buf[pos + 6] & 3) + 1
            self.samples_ms += blocks * 1024 * 1000 / _ADTS_RATES[(buf[pos + 2] >> 2) & 15]
            pos += length
        self.pending = buf[pos:]

    @property
    def ms(self) -> int:
        return int(self.samples_ms)


class OggOpusCounter:
    """The length of an Ogg Opus stream so far: the last whole page's granule position, less the
    pre-skip of its OpusHead, at Opus's 48 kHz."""

    def __init__(self) -> None:
        self.pending = b""
        self.pre_skip = 0
        self.granule = 0

    def feed(self, data: bytes) -> None:
        buf, pos = self.pending + data, 0
        while pos + 27 <= len(buf):
            if buf[pos : pos + 4] != b"OggS":
                pos += 1
                continue
            segments = buf[pos + 26]
            if pos + 27 + segments > len(buf):
                break
            body = pos + 27 + segments
            end = body + sum(buf[pos + 27 : body])
            if end > len(buf):
                break
            if buf[body : body + 8] == b"OpusHead" and end - body >= 12:
                self.pre_skip = struct.unpack_from("<H", buf, body + 10)[0]
            granule = struct.unpack_from("<q", buf, pos + 6)[0]
            if granule > 0:
                self.granule = granule
            pos = end
        self.pending = buf[pos:]

    @property
    def ms(self) -> int:
        return max(0, self.granule - self.pre_skip) * 1000 // 48_000


__all__ = ["AdtsCounter", "Mp3Counter", "OggOpusCounter", "wav_layout"]
