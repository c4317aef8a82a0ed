"""Provider recordings (real request/response pairs) loaded for replay.

Each JSON file under the recordings directory holds one interaction (see the README there). The key
of a recording is its path relative to the directory without `.json`, e.g. "openai/chat-basic".
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SSE_SEPARATOR = re.compile(rb"(\r\n\r\n|\n\n)")
_LINE = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One parsed server-sent event. `raw` is the exact bytes, including the trailing blank line."""

    raw: bytes
    event: str | None = None
    data: str | None = None
    id: str | None = None
    comments: tuple[str, ...] = ()

    def json(self) -> Any:
        """The `data` field parsed as JSON (None when there is no data or it is `[DONE]`)."""
        if self.data is None or self.data.strip() == "[DONE]":
            return None
        return json.loads(self.data)


def split_sse(body: bytes) -> tuple[bytes, ...]:
    """Split an SSE body into events, keeping each event's separator so that b"".join() == body."""
    parts = _SSE_SEPARATOR.split(body)
    events = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
    if parts[-1]:
        events.append(parts[-1])
    return tuple(events)


def parse_sse_event(raw: bytes) -> SSEEvent:
    event: str | None = None
    event_id: str | None = None
    data: list[str] = []
    comments: list[str] = []
    for line in _LINE.split(raw.decode("utf-8", errors="replace")):
        if not line:
            continue
        if line.startswith(":"):
            comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            event_id = value
    return SSEEvent(raw, event, "\n".join(data) if data else None, event_id, tuple(comments))


def parse_sse(body: bytes) -> list[SSEEvent]:
    """Parse an SSE body into events (blank-only separator chunks are skipped)."""
    return [parse_sse_event(raw) for raw in split_sse(body) if raw.strip()]


@dataclass(frozen=True, slots=True)
class Recording:
    key: str
    provider: str
    status: int
    content_type: str
    headers: dict[str, str]
    body: bytes
    request: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    chunks: tuple[bytes, ...] = ()  # SSE events (raw) when the body is an event stream

    @property
    def is_sse(self) -> bool:
        return "text/event-stream" in self.content_type.lower()

    @property
    def events(self) -> list[SSEEvent]:
        return parse_sse(self.body) if self.is_sse else []

    @property
    def upstream_model(self) -> str | None:
        body = self.request.get("body")
        model = body.get("model") if isinstance(body, dict) else None
        return model if isinstance(model, str) else None


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def load_recording(path: Path, key: str) -> Recording | None:
    """Parse one recording file; None when it is not a recording."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    response = data.get("response") if isinstance(data, dict) else None
    if not isinstance(response, dict) or not isinstance(response.get("body"), str):
        return None
    raw_headers = response.get("headers")
    headers = {str(k): str(v) for k, v in raw_headers.items()} if isinstance(raw_headers, dict) else {}
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    text: str = response["body"]
    body = text.encode("utf-8")
    if meta.get("body_encoding") == "base64":
        try:
            body = base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return None
    status = response.get("status")
    content_type = _header(headers, "content-type") or "application/json"
    request = data.get("request")
    is_sse = "text/event-stream" in content_type.lower()
    return Recording(
        key=key,
        provider=str(data.get("provider") or key.split("/", 1)[0]),
        status=status if isinstance(status, int) and 100 <= status <= 599 else 200,
        content_type=content_type,
        headers=headers,
        body=body,
        request=request if isinstance(request, dict) else {},
        source=str(data.get("source") or ""),
        chunks=split_sse(body) if is_sse else (),
    )


def load_recordings(directory: Path | str | None) -> dict[str, Recording]:
    """All recordings under `directory`, keyed like "openai/chat-basic". Missing dir -> {}."""
    if directory is None:
        return {}
    root = Path(directory)
    if not root.is_dir():
        return {}
    out: dict[str, Recording] = {}
    for path in sorted(root.rglob("*.json")):
        key = path.relative_to(root).with_suffix("").as_posix()
        recording = load_recording(path, key)
        if recording is not None:
            out[key] = recording
    return out
