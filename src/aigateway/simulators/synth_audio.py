"""Deterministic, valid audio for simulated text-to-speech answers, in pure Python.

The audio lasts as long as the text would take to say (``CHARS_PER_SECOND``, at least
``MIN_MS``), scaled by the request's speed, and depends only on the text: the same request always
gets the same bytes. Containers:

* ``wav``: RIFF/WAVE, 16-bit mono little-endian PCM at 24 kHz (a tone whose pitch comes from the
  text's hash, with a short fade so it does not click);
* ``pcm``: the same samples without a header (what OpenAI's ``pcm`` is: 24 kHz, 16-bit, mono);
* ``flac``: a FLAC stream (STREAMINFO with the samples' MD5, frames of verbatim subframes, CRC-8
  headers and CRC-16 footers) of the same samples;
* ``mp3``: MPEG-1 Layer III frames at 48 kHz, 128 kbit/s, mono, each a silent frame (header, zero
  side information, zero main data: 384 bytes, 1152 samples);
* ``opus``: an Ogg Opus stream (OpusHead, OpusTags, then one 20 ms CELT silence packet a frame, in
  pages with correct granule positions and CRC-32).

* ``aac``: ADTS frames (MPEG-4 AAC-LC, 24 kHz, mono, no CRC), each a silent single channel element
  (1024 samples): 7 header bytes built from their fields, and the 4 bytes of a silent raw data block.

``chunked`` splits an answer into the pieces a simulated stream delivers.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

CHARS_PER_SECOND = 15
MIN_MS = 200
SAMPLE_RATE = 24_000
MP3_SAMPLE_RATE = 48_000
MP3_FRAME_SAMPLES = 1152
OPUS_FRAME_MS = 20
OPUS_PRE_SKIP = 312
FLAC_BLOCK = 4096
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def duration_ms(text: str, speed: float = 1.0) -> int:
    """How long the simulated speech of ``text`` lasts."""
    base = len(text) * 1000 / CHARS_PER_SECOND
    return max(MIN_MS, round(base / (speed if speed > 0 else 1.0)))


def samples(text: str, ms: int, rate: int = SAMPLE_RATE) -> list[int]:
    """16-bit samples: a quiet tone whose pitch is the text's hash, faded in and out."""
    seed = hashlib.sha256(text.encode("utf-8", "replace")).digest()
    freq = 180 + seed[0] * 2  # 180..690 Hz
    count = rate * ms // 1000
    fade = max(1, min(rate // 100, count // 2))
    step = 2 * math.pi * freq / rate
    out = []
    for i in range(count):
        gain = min(1.0, i / fade, (count - 1 - i) / fade)
        out.append(int(6000 * gain * math.sin(step * i)))
    return out


def pcm_bytes(text: str, ms: int, rate: int = SAMPLE_RATE) -> bytes:
    values = samples(text, ms, rate)
    return struct.pack(f"<{len(values)}h", *values)


def wav_bytes(text: str, ms: int, rate: int = SAMPLE_RATE) -> bytes:
    data = pcm_bytes(text, ms, rate)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data


# -- FLAC ------------------------------------------------------------------------------------------
def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16_table() -> list[int]:
    table = []
    for n in range(256):
        crc = n << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return table


_CRC16 = _crc16_table()


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


def _utf8_number(value: int) -> bytes:
    """FLAC's frame number coding (UTF-8's scheme, extended to 36 bits)."""
    if value < 0x80:
        return bytes([value])
    if value < 0x800:
        return bytes([0xC0 | (value >> 6), 0x80 | (value & 0x3F)])
    if value < 0x10000:
        return bytes([0xE0 | (value >> 12), 0x80 | ((value >> 6) & 0x3F), 0x80 | (value & 0x3F)])
    return bytes(
        [
            0xF0 | (value >> 18),
            0x80 | ((value >> 12) & 0x3F),
            0x80 | ((value >> 6) & 0x3F),
            0x80 | (value & 0x3F),
        ]
    )


_FLAC_RATE_CODES = {8000: 0b0100, 16000: 0b0101, 22050: 0b0110, 24000: 0b0111, 32000: 0b1000}
_FLAC_RATE_CODES |= {44100: 0b1001, 48000: 0b1010, 96000: 0b1011}


def flac_bytes(text: str, ms: int, rate: int = SAMPLE_RATE) -> bytes:
    values = samples(text, ms, rate)
    total = len(values)
    md5 = hashlib.md5(struct.pack(f"<{total}h", *values), usedforsecurity=False).digest()
    info = struct.pack(">HH", FLAC_BLOCK, FLAC_BLOCK) + b"\x00" * 6
    # sample rate (20 bits), channels - 1 (3), bits per sample - 1 (5), total samples (36)
    packed = (rate << 44) | (0 << 41) | (15 << 36) | total
    info += packed.to_bytes(8, "big") + md5
    out = bytearray(b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info)
    for number, start in enumerate(range(0, total, FLAC_BLOCK)):
        block = values[start : start + FLAC_BLOCK]
        size_code = 0b1100 if len(block) == FLAC_BLOCK else 0b0111
        header = bytearray([0xFF, 0xF8, (size_code << 4) | _FLAC_RATE_CODES[rate], 0b0000_1000])
        header += _utf8_number(number)
        if size_code == 0b0111:
            header += struct.pack(">H", len(block) - 1)
        header.append(_crc8(bytes(header)))
        frame = header + b"\x02" + struct.pack(f">{len(block)}h", *block)  # verbatim subframe
        frame += struct.pack(">H", _crc16(bytes(frame)))
        out += frame
    return bytes(out)


# -- MP3 -------------------------------------------------------------------------------------------
# MPEG-1 Layer III, no CRC; 128 kbit/s, 48 kHz, no padding; mono. 144 * 128000 / 48000 = 384 bytes.
MP3_HEADER = bytes([0xFF, 0xFB, 0x94, 0xC0])
MP3_FRAME_BYTES = 384
MP3_SIDE_INFO = 17  # mono, MPEG-1
MP3_SILENT_FRAME = MP3_HEADER + b"\x00" * (MP3_FRAME_BYTES - len(MP3_HEADER))


def mp3_frames(ms: int) -> int:
    return max(1, round(ms * MP3_SAMPLE_RATE / 1000 / MP3_FRAME_SAMPLES))


def mp3_bytes(text: str, ms: int, rate: int = MP3_SAMPLE_RATE) -> bytes:
    return MP3_SILENT_FRAME * mp3_frames(ms)


# -- Ogg Opus --------------------------------------------------------------------------------------
OPUS_SILENCE = b"\xf8\xff\xfe"  # TOC: CELT fullband 20 ms, mono, one frame; then a silent frame
OGG_SERIAL = 0x41494757  # "AIGW"


def _crc32_table() -> list[int]:
    table = []
    for n in range(256):
        crc = n << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
        table.append(crc)
    return table


_CRC32 = _crc32_table()


def ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC32[(crc >> 24) ^ byte]
    return crc


def ogg_page(packets: list[bytes], granule: int, sequence: int, flags: int) -> bytes:
    """One Ogg page holding whole packets (each under 255 bytes times the lacing it needs)."""
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, OGG_SERIAL, sequence, 0, len(lacing))
    page = bytearray(header + lacing + b"".join(packets))
    page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
    return bytes(page)


def opus_frames(ms: int) -> int:
    return max(1, -(-ms // OPUS_FRAME_MS))


def opus_bytes(text: str, ms: int, rate: int = SAMPLE_RATE) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, OPUS_PRE_SKIP, SAMPLE_RATE, 0, 0)
    vendor = b"aigateway simulator"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    pages = [ogg_page([head], 0, 0, 0x02), ogg_page([tags], 0, 1, 0)]
    frames = opus_frames(ms)
    per_page = 50  # one second of audio a page
    sequence = 2
    for start in range(0, frames, per_page):
        count = min(per_page, frames - start)
        granule = OPUS_PRE_SKIP + (start + count) * 48 * OPUS_FRAME_MS
        last = start + count >= frames
        pages.append(ogg_page([OPUS_SILENCE] * count, granule, sequence, 0x04 if last else 0))
        sequence += 1
    return b"".join(pages)


# -- AAC in ADTS ----------------------------------------------------------------------------------
AAC_FRAME_SAMPLES = 1024
AAC_SILENT_BLOCK = b"\x01\x18\x20\x07"  # one silent SCE, then END
_AAC_RATE_INDEX = {96000: 0, 88200: 1, 64000: 2, 48000: 3, 44100: 4, 32000: 5, 24000: 6, 22050: 7, 16000: 8}


def adts_header(payload: int, rate: int = SAMPLE_RATE, channels: int = 1) -> bytes:
    """An ADTS header (MPEG-4, no CRC, AAC-LC) for a frame of ``payload`` bytes of raw data."""
    length = payload + 7
    profile = 1  # AAC LC (object type 2, minus one)
    bits = (0xFFF << 44) | (0 << 43) | (0 << 41) | (1 << 40)  # sync, MPEG-4, layer 0, no CRC
    bits |= (profile << 38) | (_AAC_RATE_INDEX[rate] << 34) | (channels << 30)
    bits |= (length << 13) | (0x7FF << 2)  # frame length, buffer fullness (VBR), one raw block
    return bits.to_bytes(7, "big")


def aac_frames(ms: int) -> int:
    return max(1, round(ms * SAMPLE_RATE / 1000 / AAC_FRAME_SAMPLES))


def aac_bytes(text: str, ms: int, rate: int = SAMPLE_RATE) -> bytes:
    return (adts_header(len(AAC_SILENT_BLOCK)) + AAC_SILENT_BLOCK) * aac_frames(ms)


# -- the synthesizer -------------------------------------------------------------------------------
_BUILDERS: dict[str, Callable[[str, int, int], bytes]] = {
    "wav": wav_bytes,
    "pcm": pcm_bytes,
    "flac": flac_bytes,
    "mp3": mp3_bytes,
    "opus": opus_bytes,
    "aac": aac_bytes,
}


def speech(text: str, fmt: str, speed: float = 1.0, rate: int = SAMPLE_RATE) -> bytes:
    """The simulated audio of ``text`` in ``fmt`` (one of ``FORMATS``); ``rate`` is the sample rate of
    wav, pcm and flac (mp3 is always 48 kHz, opus 48 kHz, aac 24 kHz)."""
    builder = _BUILDERS.get(fmt)
    if builder is None:
        raise ValueError(f"the simulator cannot produce {fmt!r} audio")
    if fmt in ("wav", "pcm", "flac") and rate not in _FLAC_RATE_CODES:
        raise ValueError(f"the simulator cannot produce audio at {rate} Hz")
    return builder(text, duration_ms(text, speed), rate)


def chunked(data: bytes, pieces: int = 4, smallest: int = 256) -> tuple[bytes, ...]:
    """``data`` in about ``pieces`` parts (never smaller than ``smallest`` bytes, but at least one)."""
    size = max(smallest, -(-len(data) // pieces))
    return tuple(data[i : i + size] for i in range(0, len(data), size)) or (b"",)


# -- each wire's answer ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SpeechAnswer:
    """A simulated text-to-speech answer: status, content type, and the body's pieces."""

    status: int
    content_type: str
    pieces: tuple[bytes, ...]

    @property
    def ok(self) -> bool:
        return self.status < 400


def _json(status: int, payload: Any) -> SpeechAnswer:
    return SpeechAnswer(status, "application/json", (orjson.dumps(payload),))


def _audio(text: str, fmt: str, speed: float = 1.0, rate: int = SAMPLE_RATE) -> SpeechAnswer:
    return SpeechAnswer(200, MEDIA_TYPES[fmt], chunked(speech(text, fmt, speed, rate)))


def _openai_error(message: str, param: str | None) -> SpeechAnswer:
    return _json(
        400, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}
    )


def openai_speech(body: Any) -> SpeechAnswer:
    """OpenAI's ``/audio/speech`` (and Groq's): the audio itself."""
    if not isinstance(body, dict):
        return _openai_error("We could not parse the JSON body of your request.", None)
    text = body.get("input")
    if not isinstance(text, str) or not text:
        return _openai_error("Missing required parameter: 'input'.", "input")
    if not body.get("voice"):
        return _openai_error("Missing required parameter: 'voice'.", "voice")
    fmt = body.get("response_format") or "mp3"
    if fmt not in FORMATS:
        return _openai_error(f"Invalid value for 'response_format': {fmt!r}.", "response_format")
    speed = body.get("speed")
    return _audio(text, fmt, float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0)


_DEEPGRAM = {"mp3": "mp3", "opus": "opus", "aac": "aac", "flac": "flac"}


def deepgram_speak(query: Mapping[str, str], body: Any) -> SpeechAnswer:
    """Deepgram's ``/v1/speak``: the format from ``encoding`` / ``container``, the text from the body."""
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text:
        return _json(400, {"err_code": "INVALID_BODY", "err_msg": "Request body must contain 'text'."})
    encoding = query.get("encoding", "mp3")
    if encoding == "linear16":
        fmt = "pcm" if query.get("container") == "none" else "wav"
    elif encoding in _DEEPGRAM:
        fmt = _DEEPGRAM[encoding]
    else:
        return _json(
            400, {"err_code": "INVALID_QUERY_PARAMETER", "err_msg": f"Unsupported encoding {encoding}."}
        )
    rate = (
        int(query.get("sample_rate", SAMPLE_RATE)) if query.get("sample_rate", "").isdigit() else SAMPLE_RATE
    )
    if fmt in ("wav", "pcm") and rate not in _FLAC_RATE_CODES:
        return _json(
            400, {"err_code": "INVALID_QUERY_PARAMETER", "err_msg": f"Unsupported sample_rate {rate}."}
        )
    return _audio(text, fmt, rate=rate if fmt in ("wav", "pcm") else SAMPLE_RATE)


def elevenlabs_speech(output_format: str, body: Any) -> SpeechAnswer:
    """ElevenLabs' ``/v1/text-to-speech/{voice_id}/stream``: ``mp3_*``, ``opus_*``, ``pcm_<rate>``."""
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text:
        return _json(422, {"detail": [{"loc": ["body", "text"], "msg": "field required", "type": "missing"}]})
    kind, _, rate = output_format.partition("_")
    rate_hz = int(rate.split("_")[0]) if rate.split("_")[0].isdigit() else 0
    if kind not in ("mp3", "opus", "pcm") or (kind == "pcm" and rate_hz not in _FLAC_RATE_CODES):
        message = f"Invalid output format: {output_format}"
        return _json(400, {"detail": {"status": "invalid_output_format", "message": message}})
    settings = body.get("voice_settings")
    speed = settings.get("speed") if isinstance(settings, dict) else None
    return _audio(
        text,
        kind,
        float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0,
        rate_hz or SAMPLE_RATE,
    )


def _minimax_resp(code: int = 0, message: str = "success") -> dict[str, Any]:
    return {"status_code": code, "status_msg": message}


def minimax_t2a(body: Any) -> SpeechAnswer:
    """MiniMax's ``/v1/t2a_v2``: hex audio in events (``stream``) or in one JSON answer; failures are
    a 200 whose ``base_resp.status_code`` is not 0, as MiniMax answers them."""
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text:
        return _json(200, {"base_resp": _minimax_resp(2013, "invalid params, text is required")})
    audio_setting = body.get("audio_setting") if isinstance(body.get("audio_setting"), dict) else {}
    fmt = audio_setting.get("format", "mp3")
    rate = audio_setting.get("sample_rate", 32_000)
    streamed = body.get("stream") is True
    if fmt not in ("mp3", "pcm", "flac", "wav") or (streamed and fmt == "wav"):
        return _json(200, {"base_resp": _minimax_resp(2013, f"invalid params, format {fmt} not supported")})
    if fmt != "mp3" and rate not in _FLAC_RATE_CODES:
        return _json(200, {"base_resp": _minimax_resp(2013, f"invalid params, sample_rate {rate}")})
    voice = body.get("voice_setting") if isinstance(body.get("voice_setting"), dict) else {}
    speed = voice.get("speed", 1.0)
    data = speech(text, fmt, float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0, rate)
    extra = {
        "audio_length": duration_ms(
            text, float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0
        ),
        "audio_sample_rate": rate,
        "audio_size": len(data),
        "audio_format": fmt,
        "audio_channel": 1,
        "usage_characters": len(text),
    }
    trace = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]
    if not streamed:
        payload = {"data": {"audio": data.hex(), "status": 2}, "extra_info": extra, "trace_id": trace}
        return _json(200, {**payload, "base_resp": _minimax_resp()})
    options = body.get("stream_options") if isinstance(body.get("stream_options"), dict) else {}
    events = [
        {"data": {"audio": piece.hex(), "status": 1}, "trace_id": trace, "base_resp": _minimax_resp()}
        for piece in chunked(data)
    ]
    last_audio = "" if options.get("exclude_aggregated_audio") else data.hex()
    events.append(
        {
            "data": {"audio": last_audio, "status": 2},
            "extra_info": extra,
            "trace_id": trace,
            "base_resp": _minimax_resp(),
        }
    )
    pieces = tuple(b"data: " + orjson.dumps(event) + b"\n\n" for event in events)
    return SpeechAnswer(200, "text/event-stream", pieces)


SPEECH_WIRES = (
    ("openai", "speech"),
    ("deepgram", "speech"),
    ("elevenlabs", "speech"),
    ("minimax", "speech"),
    ("mistral", "speech"),
)
_ELEVENLABS_PATH = re.compile(r"/text-to-speech/(?P<voice>[^/]+)(?:/stream)?$")


def simulated_speech(wire: str, url: str, body: Any) -> SpeechAnswer:
    """The answer of one speech wire to a request for ``url`` with JSON ``body`` (test mode)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if wire == "deepgram":
        return deepgram_speak(query, body)
    if wire == "elevenlabs":
        if _ELEVENLABS_PATH.search(unquote(parts.path)) is None:
            return _json(404, {"detail": "Not Found"})
        return elevenlabs_speech(query.get("output_format", "mp3_44100_128"), body)
    if wire == "minimax":
        return minimax_t2a(body)
    if wire == "mistral":
        return mistral_speech(body)
    return openai_speech(body)


def mistral_speech(body: Any) -> SpeechAnswer:
    """Mistral's ``/v1/audio/speech``: one JSON answer, the audio in base64 ``audio_data``."""
    if not isinstance(body, dict) or not isinstance(body.get("input"), str) or not body["input"]:
        return _json(
            422, {"object": "error", "message": "input: Field required", "type": "invalid_request_error"}
        )
    fmt = body.get("response_format") or "mp3"
    if fmt not in ("mp3", "opus", "flac", "wav", "pcm"):
        return _json(
            422,
            {
                "object": "error",
                "message": f"response_format: invalid {fmt}",
                "type": "invalid_request_error",
            },
        )
    audio = base64.b64encode(speech(body["input"], fmt)).decode()
    return _json(200, {"audio_data": audio})
