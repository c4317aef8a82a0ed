"""Scrub secrets from text that may reach a client or a log (upstream error messages above all)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

REDACTED = "[redacted]"

# What may follow a secret inside the same token: key characters, and a dot only between two of
# them (so "sk-abc.def" is one token but the full stop ending "key sk-abc." is not part of it).
_KEY_RUN = r"(?:[A-Za-z0-9_\-+=]|\.(?=[A-Za-z0-9_\-+=]))*"
# How a truncated or masked echo of a key looks: "sk-proj-abc...xyz", "sk-abc…", "sk-proj-****wxyz".
_MASK = r"(?:\.{2,}|[…*•])+"
_KEY_TAIL = re.compile(_KEY_RUN)
_MASKED_TAIL = re.compile(_MASK + _KEY_RUN)

_PATTERNS = (
    # OpenAI-style, Anthropic, our own sk-aig-...; with a masked tail when there is one
    re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}(?:" + _MASK + r"[A-Za-z0-9_\-]*)?"),
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),  # Google API keys
    re.compile(r"(?i)bearer\s+[A-Za-z0-9_\-\.=]{8,}"),
    re.compile(
        r"(?i)(?<![A-Za-z0-9])((?:api[_-]?key|key|access[_-]?token|token|secret|password|sig)=)[^&\s\"']+"
    ),
    re.compile(r"(?<![A-Za-z0-9])(?:gsk|xai|pa|jina|fw|nvapi|csk|tgp)[_\-][A-Za-z0-9_\-]{12,}"),
)

# Explicit secrets shorter than this are ignored (they would match ordinary text).
_MIN_SECRET = 6
# A masked echo ("<prefix>...<suffix>") is the secret's when the prefix is at least this long; an
# echo without a mask needs half the secret (two keys of one vendor share a shorter prefix).
_MIN_MASKED_PREFIX = 8


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every explicit secret and every key-shaped string replaced by ``[redacted]``.

    An explicit secret is removed with the whole token it starts (an upstream that echoes the key
    with more characters after it leaks nothing), and so is an echo of a long enough prefix of it:
    half the secret or more, or a prefix followed by a mask such as ``...`` or ``****``.
    """
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            spans.extend(_secret_spans(text, secret))
    if spans:
        text = _replace_spans(text, spans)
    for pattern in _PATTERNS:
        text = pattern.sub(_replacement, text)
    return text


def _secret_spans(text: str, secret: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each echo of ``secret`` in ``text``: whole, extended, or a long prefix."""
    size = len(secret)
    masked_min = min(size, _MIN_MASKED_PREFIX)
    prefix_min = max(masked_min, (size + 1) // 2)
    probe = secret[:masked_min]
    start = text.find(probe)
    while start != -1:
        shared = _common_prefix(text, start, secret)
        after = start + shared
        end = -1
        if shared >= prefix_min:  # the secret, longer than it, or its first half or more
            run = _KEY_TAIL.match(text, after)
            end = run.end() if run else after
            masked = _MASKED_TAIL.match(text, end)
            if masked:
                end = masked.end()
        else:
            masked = _MASKED_TAIL.match(text, after)
            if masked:  # a short prefix, then a mask: the way providers print a key they refuse
                end = masked.end()
        if end != -1:
            yield start, end
            start = text.find(probe, end)
        else:
            start = text.find(probe, start + 1)


def _common_prefix(text: str, start: int, secret: str) -> int:
    limit = min(len(secret), len(text) - start)
    shared = 0
    while shared < limit and text[start + shared] == secret[shared]:
        shared += 1
    return shared


def _replace_spans(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[str] = []
    position = 0
    for start, end in merged:
        parts.append(text[position:start])
        parts.append(REDACTED)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _replacement(match: re.Match[str]) -> str:
    if match.lastindex:
        return match.group(1) + REDACTED
    return REDACTED
