"""Tests for core/keys.py: key generation, hashing and what may be displayed."""

from __future__ import annotations

import re
import string

import pytest

from aigateway.core.keys import (
    LIVE_PREFIX,
    TEST_PREFIX,
    display_prefix,
    generate_key,
    hash_key,
    is_test_key,
    looks_like_key,
    new_id,
)

LIVE_RE = re.compile(r"sk-aig-[A-Za-z0-9]{40}")
TEST_RE = re.compile(r"sk-aig-test-[A-Za-z0-9]{40}")


def test_prefixes() -> None:
    assert LIVE_PREFIX == "sk-aig-"
    assert TEST_PREFIX == "sk-aig-test-"


def test_live_key_format() -> None:
    key = generate_key()
    assert LIVE_RE.fullmatch(key), key
    assert len(key) == 47
    assert not is_test_key(key)
    assert looks_like_key(key)


def test_test_key_format() -> None:
    key = generate_key(test=True)
    assert TEST_RE.fullmatch(key), key
    assert len(key) == 52
    assert is_test_key(key)
    assert looks_like_key(key)


def test_keys_are_unique_and_random() -> None:
    keys = [generate_key() for _ in range(2000)] + [generate_key(test=True) for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    bodies = [k.removeprefix(TEST_PREFIX).removeprefix(LIVE_PREFIX) for k in keys]
    assert len({b[:4] for b in bodies}) > 1000  # the displayed head varies too
    used = set("".join(bodies))
    # 160,000 draws from 62 symbols: every symbol shows up, and only those.
    assert used == set(string.ascii_letters + string.digits)


def test_live_key_never_looks_like_a_test_key() -> None:
    # The random body has no '-', so a live key can never start with the test prefix.
    for _ in range(500):
        assert not is_test_key(generate_key())


def test_hash_is_sha256_hex() -> None:
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert hash_key("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    key = generate_key()
    digest = hash_key(key)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert key not in digest


def test_hash_is_deterministic_and_distinct() -> None:
    key = generate_key()
    assert hash_key(key) == hash_key(key)
    assert hash_key(key) != hash_key(key + "x")
    assert hash_key(key) != hash_key(key.upper())
    assert len({hash_key(generate_key()) for _ in range(500)}) == 500


def test_hash_of_unicode() -> None:
    # UTF-8 encoding: "é" is two bytes
    assert hash_key("é") == "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"


@pytest.mark.parametrize("test", [False, True])
def test_display_prefix_reveals_at_most_four_random_chars(test: bool) -> None:
    for _ in range(200):
        key = generate_key(test=test)
        head = TEST_PREFIX if test else LIVE_PREFIX
        shown = display_prefix(key)
        assert shown == head + key[len(head) : len(head) + 4] + "..."
        assert shown.endswith("...")
        revealed = shown.removesuffix("...")
        assert key.startswith(revealed)
        assert len(revealed) - len(head) == 4
        assert key not in shown


def test_display_prefix_examples() -> None:
    live = "sk-aig-" + "AbCd" + "x" * 36
    assert display_prefix(live) == "sk-aig-AbCd..."
    test = "sk-aig-test-" + "WxYz" + "y" * 36
    assert display_prefix(test) == "sk-aig-test-WxYz..."
    # a live key whose random part happens to start with "test" shows those four characters only
    tricky = "sk-aig-" + "testABCD" + "z" * 32
    assert display_prefix(tricky) == "sk-aig-test..."


def test_display_prefix_of_short_input_reveals_nothing_extra() -> None:
    assert display_prefix("sk-aig-ab") == "sk-aig-ab..."
    assert display_prefix("sk-aig-") == "sk-aig-..."


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("sk-aig-" + "a" * 9, True),  # 16 characters: the shortest accepted
        ("sk-aig-" + "a" * 8, False),  # 15
        ("sk-aig-" + "a" * 193, True),  # 200: the longest accepted
        ("sk-aig-" + "a" * 194, False),  # 201
        ("sk-aig-test-" + "a" * 40, True),
        ("sk-proj-" + "a" * 40, False),
        ("sk-" + "a" * 40, False),
        ("Bearer sk-aig-" + "a" * 40, False),
        (" sk-aig-" + "a" * 40, False),
        ("SK-AIG-" + "a" * 40, False),
        ("", False),
    ],
)
def test_looks_like_key(key: str, expected: bool) -> None:
    assert looks_like_key(key) is expected


def test_is_test_key() -> None:
    assert is_test_key("sk-aig-test-abc")
    assert not is_test_key("sk-aig-testabc")
    assert not is_test_key("sk-aig-abc")
    assert not is_test_key("x-sk-aig-test-abc")


def test_new_id() -> None:
    ident = new_id("acct")
    assert re.fullmatch(r"acct_[0-9a-f]{24}", ident), ident
    assert len({new_id("key") for _ in range(1000)}) == 1000
