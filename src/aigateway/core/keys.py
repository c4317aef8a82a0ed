"""API keys: generation, hashing, display. Keys are random; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import string

LIVE_PREFIX = "sk-aig-"
TEST_PREFIX = "sk-aig-test-"
_ALPHABET = string.ascii_letters + string.digits


def generate_key(*, test: bool = False) -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(40))
    return (TEST_PREFIX if test else LIVE_PREFIX) + body


def is_test_key(key: str) -> bool:
    return key.startswith(TEST_PREFIX)


def looks_like_key(key: str) -> bool:
    return key.startswith(LIVE_PREFIX) and 16 <= len(key) <= 200


def hash_key(key: str) -> str:
    """SHA-256 hex. Keys carry ~238 bits of entropy, so a fast hash is the right tool (no KDF)."""
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """What may be shown after creation: the kind and the first four random characters."""
    head = TEST_PREFIX if is_test_key(key) else LIVE_PREFIX
    return head + key[len(head) : len(head) + 4] + "..."


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"
