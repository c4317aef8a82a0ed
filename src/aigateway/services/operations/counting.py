"""Counting a request's size without trusting its shape: iterative walks, never recursion.

Two different numbers come out of a prompt. ``text_bytes`` is an upper bound on its tokens (every
tokenizer in use spends at least one byte of UTF-8 per token), which is what a reservation needs;
``estimate_tokens`` (about four characters a token) is what the gateway bills when a provider never
said, a stream cut short. Client JSON can nest arbitrarily deep (tool schemas 400 levels deep were
seen): these walks use an explicit stack, so depth costs memory, never a RecursionError.
"""

from __future__ import annotations

from typing import Any

# Images in a prompt are billed by the provider in tokens that the URL's size says nothing about.
# The largest per-image cost among the catalog's vision providers is below this.
IMAGE_TOKENS_BOUND = 6_000
IMAGE_TOKENS_ESTIMATE = 85
MESSAGE_FRAMING = 8
_IMAGE_KINDS = frozenset({"image_url", "input_image", "image"})


def walk_strings(value: Any) -> tuple[int, int, int]:
    """(UTF-8 bytes of every string, characters of every string, image parts) under ``value``.

    Image parts count as images, not as the bytes of their (often base64) URL.
    """
    size = chars = images = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            chars += len(item)
            size += len(item) if item.isascii() else len(item.encode("utf-8", "replace"))
        elif isinstance(item, dict):
            if item.get("type") in _IMAGE_KINDS:
                images += 1
                continue
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return size, chars, images


def chat_prompt(body: dict[str, Any]) -> tuple[int, int]:
    """(upper bound, estimate) of a chat request's prompt tokens."""
    messages = body.get("messages")
    count = len(messages) if isinstance(messages, list) else 0
    size, chars, images = walk_strings([messages, body.get("tools"), body.get("response_format")])
    bound = size + images * IMAGE_TOKENS_BOUND + count * MESSAGE_FRAMING
    estimate = (chars + 3) // 4 + images * IMAGE_TOKENS_ESTIMATE + count * 4
    return max(1, bound), max(1, estimate)


def estimate_text_tokens(texts: list[str]) -> int:
    """About four characters a token, at least one a non-empty text."""
    return sum(max(1, (len(t) + 3) // 4) for t in texts if t)


def text_bytes(texts: list[str]) -> int:
    return sum(len(t.encode("utf-8", "replace")) for t in texts)
