"""Scrub secrets from text that may reach a client or a log (upstream error messages above all)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PATTERNS = (
    re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}"),  # OpenAI-style, Anthropic, our own sk-aig-...
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),  # Google API keys
    re.compile(r"(?i)bearer\s+[A-Za-z0-9_\-\.=]{8,}"),
    re.compile(
        r"(?i)(?<![A-Za-z0-9])((?:api[_-]?key|key|access[_-]?token|token|secret|password|sig)=)[^&\s\"']+"
    ),
    re.compile(r"(?<![A-Za-z0-9])(?:gsk|xai|pa|jina|fw|nvapi|csk|tgp)[_\-][A-Za-z0-9_\-]{12,}"),
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    for pattern in _PATTERNS:
        text = pattern.sub(_replacement, text)
    return text


def _replacement(match: re.Match[str]) -> str:
    if match.lastindex:
        return match.group(1) + "[redacted]"
    return "[redacted]"
