"""Deterministic transcripts for the simulated speech-to-text upstreams.

The simulator measures the uploaded audio as a provider would (core/audio_duration.py) and speaks
about ``WORDS_PER_SECOND`` words a second of it, chosen from a fixed vocabulary by a hash of the
audio's bytes and the model: the same file gives the same transcript, a longer file a longer one.
Each wire's answer is built from those timed words:

* OpenAI / Groq ``/audio/transcriptions`` and ``/audio/translations``: ``json`` (with
  ``usage: {"type": "duration"}``), ``verbose_json`` (segments, words when asked), ``text``, ``srt``,
  ``vtt``;
* Deepgram ``/listen``: ``metadata.duration`` and ``results.channels[0].alternatives[0]`` with words;
* ElevenLabs ``/speech-to-text``: ``text``, ``language_code`` and words with spacing entries;
* Mistral ``/audio/transcriptions``: ``text``, ``segments``, ``usage.prompt_audio_seconds``.

A file that cannot be measured is refused with a 400 in the wire's error shape.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aigateway.core.audio_duration import AudioFormatError, measure
from aigateway.providers.wire.base import UpstreamRequest
from aigateway.simulators.answers import detail_error, openai_error, stable_uuid

WORDS_PER_SECOND = 2.5
_VOCABULARY = (
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "seven",
    "bright",
    "stars",
    "shine",
    "above",
    "quiet",
    "hills",
    "and",
    "rivers",
    "carry",
    "old",
    "songs",
    "toward",
    "distant",
    "towns",
    "where",
    "people",
    "gather",
    "to",
    "listen",
)
TEXT_TYPE = "text/plain; charset=utf-8"
# (wire, operation) pairs the simulated transport answers with ``simulated_transcript``.
SIMULATED_WIRES = (
    ("openai", "transcriptions"),
    ("openai", "translations"),
    ("deepgram", "transcriptions"),
    ("elevenlabs", "transcriptions"),
    ("mistral", "transcriptions"),
)


@dataclass(frozen=True, slots=True)
class TimedWord:
    word: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Reply:
    """A synthesized answer: status, body and its media type (JSON or plain text)."""

    status: int
    body: Any  # a JSON document, or text for text/srt/vtt
    content_type: str = "application/json"


def duration_of(audio: bytes) -> float | None:
    try:
        return measure(audio).duration_ms / 1000
    except AudioFormatError:
        return None


def words_for(audio: bytes, seconds: float, model: str) -> list[TimedWord]:
    """About ``WORDS_PER_SECOND`` timed words over ``seconds``, fixed by the audio and model."""
    count = max(1, math.floor(seconds * WORDS_PER_SECOND))
    seed = hashlib.sha256(model.encode() + b"\x00" + audio).digest()
    step = seconds / count
    out: list[TimedWord] = []
    for i in range(count):
        word = _VOCABULARY[(seed[i % 32] + i * 7) % len(_VOCABULARY)]
        if i % 8 == 7 or i == count - 1:
            word += "."
        if i == 0 or out[-1].word.endswith("."):
            word = word.capitalize()
        start = round(i * step, 3)
        out.append(TimedWord(word, start, round(start + step * 0.8, 3)))
    return out


def sentences(words: list[TimedWord]) -> list[tuple[float, float, str]]:
    out: list[tuple[float, float, str]] = []
    current: list[TimedWord] = []
    for word in words:
        current.append(word)
        if word.word.endswith("."):
            out.append((current[0].start, current[-1].end, " ".join(w.word for w in current)))
            current = []
    return out


def _text(words: list[TimedWord]) -> str:
    return " ".join(w.word for w in words)


def _clock(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def openai_transcription(fields: dict[str, str], audio: bytes | None, task: str) -> Reply:
    """OpenAI's (and Groq's) multipart transcription or translation answer."""
    model = fields.get("model") or ""
    if not model:
        return _openai_refusal("you must provide a model parameter", "model")
    if audio is None:
        return _openai_refusal("you must provide a file parameter", "file")
    seconds = duration_of(audio)
    if seconds is None:
        return _openai_refusal("The audio file could not be decoded or its format is not supported.", "file")
    words = words_for(audio, seconds, model)
    fmt = fields.get("response_format") or "json"
    parts = sentences(words)
    if fmt == "text":
        return Reply(200, _text(words) + "\n", TEXT_TYPE)
    if fmt == "srt":
        blocks = [
            f"{i}\n{_clock(a, ',')} --> {_clock(b, ',')}\n{t}\n" for i, (a, b, t) in enumerate(parts, 1)
        ]
        return Reply(200, "\n".join(blocks), TEXT_TYPE)
    if fmt == "vtt":
        blocks = [f"{_clock(a, '.')} --> {_clock(b, '.')}\n{t}\n" for a, b, t in parts]
        return Reply(200, "WEBVTT\n\n" + "\n".join(blocks), TEXT_TYPE)
    if fmt == "verbose_json":
        doc: dict[str, Any] = {
            "task": task,
            "language": "english",
            "duration": seconds,
            "text": _text(words),
            "segments": [
                {
                    "id": i,
                    "seek": 0,
                    "start": a,
                    "end": b,
                    "text": " " + t,
                    "tokens": [],
                    "temperature": 0.0,
                    "avg_logprob": -0.2,
                    "compression_ratio": 1.2,
                    "no_speech_prob": 0.01,
                }
                for i, (a, b, t) in enumerate(parts)
            ],
            "usage": {"type": "duration", "seconds": math.ceil(seconds)},
        }
        if "word" in fields.get("timestamp_granularities", ""):
            doc["words"] = [{"word": w.word, "start": w.start, "end": w.end} for w in words]
        return Reply(200, doc)
    if fmt != "json":
        return _openai_refusal(f"response_format '{fmt}' is not supported", "response_format")
    if "transcribe" in model and "whisper" not in model:  # gpt-4o(-mini)-transcribe count tokens
        text = _text(words)
        audio_tokens = math.ceil(seconds * 10)
        usage: dict[str, Any] = {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
            "output_tokens": max(1, len(text) // 4),
            "total_tokens": audio_tokens + max(1, len(text) // 4),
        }
        return Reply(200, {"text": text, "usage": usage})
    return Reply(200, {"text": _text(words), "usage": {"type": "duration", "seconds": math.ceil(seconds)}})


def _openai_refusal(message: str, param: str) -> Reply:
    return Reply(400, openai_error(400, message, param=param).payload)


def deepgram_listen(model: str, audio: bytes | None, language: str | None) -> Reply:
    if not audio:
        return Reply(400, _deepgram_error("Bad Request: no audio was sent."))
    seconds = duration_of(audio)
    if seconds is None:
        return Reply(
            400, _deepgram_error("Bad Request: failed to process audio: corrupt or unsupported data")
        )
    words = words_for(audio, seconds, model)
    request_id = stable_uuid("deepgram", model, hashlib.sha256(audio).hexdigest())
    return Reply(
        200,
        {
            "metadata": {
                "request_id": request_id,
                "sha256": hashlib.sha256(audio).hexdigest(),
                "duration": seconds,
                "channels": 1,
                "models": [stable_uuid("deepgram-model", model)],
            },
            "results": {
                "channels": [
                    {
                        "alternatives": [
                            {
                                "transcript": _text(words),
                                "confidence": 0.99,
                                "words": [
                                    {
                                        "word": w.word.lower().rstrip("."),
                                        "start": w.start,
                                        "end": w.end,
                                        "confidence": 0.99,
                                        "punctuated_word": w.word,
                                    }
                                    for w in words
                                ],
                            }
                        ],
                        **({"detected_language": language} if language else {}),
                    }
                ]
            },
        },
    )


def _deepgram_error(message: str) -> dict[str, Any]:
    return {
        "err_code": "Bad Request",
        "err_msg": message,
        "request_id": stable_uuid("deepgram-error", message),
    }


def elevenlabs_stt(fields: dict[str, str], audio: bytes | None) -> Reply:
    model = fields.get("model_id") or ""
    if not model:
        return Reply(422, detail_error(422, "model_id: Field required").payload)
    seconds = duration_of(audio) if audio else None
    if audio is None or seconds is None:
        return Reply(400, {"detail": {"status": "invalid_audio", "message": "The audio could not be read."}})
    words = words_for(audio, seconds, model)
    items: list[dict[str, Any]] = []
    for i, w in enumerate(words):
        if i:
            items.append({"text": " ", "start": words[i - 1].end, "end": w.start, "type": "spacing"})
        items.append({"text": w.word, "start": w.start, "end": w.end, "type": "word", "logprob": -0.05})
    return Reply(
        200,
        {
            "language_code": fields.get("language_code") or "eng",
            "language_probability": 0.98,
            "text": _text(words),
            "words": items,
        },
    )


def mistral_transcription(fields: dict[str, str], audio: bytes | None) -> Reply:
    model = fields.get("model") or ""
    seconds = duration_of(audio) if audio else None
    if not model or audio is None or seconds is None:
        return Reply(400, {"object": "error", "message": "Invalid audio or model", "type": "invalid_request"})
    words = words_for(audio, seconds, model)
    text = _text(words)
    segments = [{"text": t, "start": a, "end": b} for a, b, t in sentences(words)]
    granularities = fields.get("timestamp_granularities", "")
    return Reply(
        200,
        {
            "model": model,
            "text": text,
            "language": fields.get("language"),
            "segments": segments if "segment" in granularities else [],
            **(
                {"words": [{"word": w.word, "start": w.start, "end": w.end} for w in words]}
                if "word" in granularities
                else {}
            ),
            "usage": {
                "prompt_audio_seconds": math.ceil(seconds),
                "prompt_tokens": 4,
                "completion_tokens": max(1, len(text) // 4),
                "total_tokens": 4 + max(1, len(text) // 4),
            },
        },
    )


def form_fields(
    form: list[tuple[str, bytes | str, str | None, str | None]] | None,
) -> tuple[dict[str, str], bytes | None]:
    """A multipart form's text fields (repeated ones joined by commas) and its ``file`` part."""
    fields: dict[str, str] = {}
    audio: bytes | None = None
    for name, value, filename, _ in form or []:
        if name == "file" or filename is not None:
            audio = value if isinstance(value, bytes) else value.encode()
            continue
        key = name[:-2] if name.endswith("[]") else name
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        fields[key] = f"{fields[key]},{text}" if key in fields else text
    return fields, audio


def simulated_transcript(request: UpstreamRequest) -> Reply:
    """The answer to a test-mode request on any speech-to-text wire (the simulated transport)."""
    if request.wire == "deepgram":
        query = parse_qs(urlsplit(request.url).query)
        language = query.get("language", [None])[0]
        return deepgram_listen(query.get("model", [""])[0], request.body, language)
    fields, audio = form_fields(request.form)
    if request.wire == "elevenlabs":
        return elevenlabs_stt(fields, audio)
    if request.wire == "mistral":
        return mistral_transcription(fields, audio)
    task = "translate" if request.operation == "translations" else "transcribe"
    return openai_transcription(fields, audio, task)
