"""Tests for core/redact.py: secrets never reach a client or a log through an upstream message."""

from __future__ import annotations

import pytest

from aigateway.core.keys import generate_key
from aigateway.core.redact import scrub

R = "[redacted]"


@pytest.mark.parametrize(
    "key",
    [
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "sk-abcdefgh",  # the shortest that is scrubbed: 8 characters after sk-
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-AbCd",
        "sk-or-v1-0123456789abcdef0123456789abcdef",
        "sk-aig-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
        "sk-aig-test-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
    ],
)
def test_sk_keys(key: str) -> None:
    text = f"Incorrect API key provided: {key}. You can find your API key at https://example.com."
    assert (
        scrub(text) == f"Incorrect API key provided: {R}. You can find your API key at https://example.com."
    )


def test_generated_gateway_keys() -> None:
    for key in (generate_key(), generate_key(test=True)):
        out = scrub(f"key {key} is disabled")
        assert out == f"key {R} is disabled"
        assert key[7:] not in out


def test_several_keys_in_one_text() -> None:
    a, b = "sk-aaaaaaaaaaaa1111", "sk-bbbbbbbbbbbb2222"
    assert scrub(f"{a},{b} and {a}") == f"{R},{R} and {R}"


def test_short_sk_strings_are_not_keys() -> None:
    assert scrub("use sk-abc or sk-1234567") == "use sk-abc or sk-1234567"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abcdefgh12345", f"Authorization: {R}"),
        ("authorization: bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_=", f"authorization: {R}"),
        ("header was 'BEARER   token.with.dots==' (invalid)", f"header was '{R}' (invalid)"),
        ("Bearer sk-proj-0123456789abcdef", f"Bearer {R}"),
    ],
)
def test_bearer_tokens(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_bearer_word_alone_is_kept() -> None:
    assert scrub("missing Bearer prefix") == "missing Bearer prefix"


@pytest.mark.parametrize(
    "key", ["AIzaSyA1234567890abcdefghijklmnopqrstu", "AIzaSyD-_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o"]
)
def test_google_keys(key: str) -> None:
    assert scrub(f"API key not valid: {key}") == f"API key not valid: {R}"


def test_google_key_in_query_string() -> None:
    url = "https://generativelanguage.googleapis.com/v1beta/models/x:generateContent?key=AIzaSyA1234567890abcdefghij"
    out = scrub(f"POST {url} failed")
    assert "AIzaSyA1234567890abcdefghij" not in out
    assert (
        out
        == f"POST https://generativelanguage.googleapis.com/v1beta/models/x:generateContent?key={R} failed"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://h/v1/x?api_key=abc123&alt=sse", f"https://h/v1/x?api_key={R}&alt=sse"),
        ("https://h/v1/x?apikey=abc123", f"https://h/v1/x?apikey={R}"),
        ("https://h/v1/x?api-key=abc123 failed", f"https://h/v1/x?api-key={R} failed"),
        ("https://h/v1/x?API_KEY=abc123", f"https://h/v1/x?API_KEY={R}"),
        ("https://h/v1/x?token=t0k3n&y=1", f"https://h/v1/x?token={R}&y=1"),
        ("https://h/v1/x?secret=s3cr3t", f"https://h/v1/x?secret={R}"),
        ("https://h/v1/x?password=hunter2", f"https://h/v1/x?password={R}"),
        ("https://blob/x?sv=2024&sig=AbC%2Bd%3D&se=1", f"https://blob/x?sv=2024&sig={R}&se=1"),
        ("url 'https://h/x?token=abc' was refused", f"url 'https://h/x?token={R}' was refused"),
    ],
)
def test_secret_query_params(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_bare_key_query_param() -> None:
    assert scrub("https://h/v1/x?key=plainsecretvalue&alt=sse") == f"https://h/v1/x?key={R}&alt=sse"


@pytest.mark.parametrize(
    "key",
    [
        "gsk_dJDZ5aAGs4WVQ3gQUR8UWGdyb3FY",  # Groq
        "jina_0123456789abcdefABCDEF",  # Jina
        "fw_3ZxYwVuTsRqPoNmLkJiH",  # Fireworks
        "tgp_v1_AbCdEfGhIjKlMnOp",  # Together
    ],
)
def test_vendor_underscore_keys(key: str) -> None:
    assert scrub(f"invalid key {key}") == f"invalid key {R}"


@pytest.mark.parametrize("key", ["xai-AbCdEf1234567890GhIjKlMnOp", "nvapi-AbCdEf1234567890GhIjKl_x"])
def test_vendor_hyphen_keys(key: str) -> None:
    assert key not in scrub(f"Incorrect API key provided: {key}")


def test_cerebras_style_key_is_not_leaked() -> None:
    # csk-... is caught by the sk- pattern: only the leading 'c' survives.
    out = scrub("bad key csk-mnh6xkrr3km8hexyme3k2m48he5")
    assert "mnh6xkrr3km8hexyme3k2m48he5" not in out


def test_explicit_secrets() -> None:
    secret = "hunter2-is-my-password"
    assert scrub(f"upstream said: {secret} is wrong ({secret})", [secret]) == (
        f"upstream said: {R} is wrong ({R})"
    )


def test_explicit_secrets_of_any_shape() -> None:
    # a credential that matches no pattern at all is still removed when it is passed explicitly
    secret = "ZZ9plural-Z-alpha"
    assert scrub(f"the key {secret} was rejected") == f"the key {secret} was rejected"
    assert scrub(f"the key {secret} was rejected", [secret]) == f"the key {R} was rejected"


def test_short_or_empty_explicit_secrets_are_ignored() -> None:
    text = "abc and the rest of the text"
    assert scrub(text, ["", "abc", "abcde"]) == text
    assert scrub("value 123456 here", ["123456"]) == f"value {R} here"  # six characters is enough


def test_explicit_secrets_accept_any_iterable() -> None:
    secrets = (s for s in ["first-secret", "second-secret"])
    assert scrub("first-secret/second-secret", secrets) == f"{R}/{R}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The model `gpt-4o-mini` does not exist or you do not have access to it.",
        "Rate limit reached for requests per min (RPM): Limit 500, Used 500, Requested 1.",
        "This model's maximum context length is 128000 tokens. However, you requested 130000 tokens.",
        "Invalid value for 'max_tokens': must be a positive integer (max_tokens=0).",
        "Overloaded. Please retry after 2 seconds.",
        'json: {"error": {"message": "bad", "type": "invalid_request_error", "param": null}}',
        "https://api.example.com/v1/chat/completions?alt=sse&model=x",
        "Ünïcödé text — with dashes – and ☃ symbols",
        "multi\nline\r\ntext\twith tabs",
    ],
)
def test_text_without_secrets_unchanged(text: str) -> None:
    assert scrub(text) == text
    assert scrub(text, ["not-in-the-text"]) == text


def test_words_ending_in_sk_are_not_keys() -> None:
    text = "Unknown parameter 'task-specific-options' for desk-reservations"
    assert scrub(text) == text


# -- an explicit secret takes the whole token it starts, and long or masked prefixes of it ---------
UPSTREAM = "sk-upstream-secret-key-0123456789abcdef"  # 39 characters, like the integration suite's
PLAIN = "ZZ9plural-Z-alpha-0123456789"  # an explicit secret that matches none of the patterns


@pytest.mark.parametrize("tail", ["XYZ", "XYZ789abc", "-more_key-chars", "==", "0", ".and.dots"])
def test_secret_echoed_with_more_characters(tail: str) -> None:
    for secret in ("sk-upstream-abc123", PLAIN):
        text = f"Incorrect API key provided: {secret}{tail}. Check it."
        assert scrub(text, [secret]) == f"Incorrect API key provided: {R}. Check it."
        assert scrub(f"{secret}{tail}", [secret]) == R  # at the start and end of the text too


def test_secret_echoed_twice_in_a_row_is_one_token() -> None:
    assert scrub(f"key {PLAIN}{PLAIN}!", [PLAIN]) == f"key {R}!"


@pytest.mark.parametrize(
    ("before", "after"), [("(", ")"), ('"', '",'), ("'", "'"), ("key=", "&alt=sse"), ("<", ">"), (" ", ". ")]
)
def test_punctuation_around_a_secret_is_kept(before: str, after: str) -> None:
    assert scrub(f"x{before}{PLAIN}{after}y", [PLAIN]) == f"x{before}{R}{after}y"


def test_secret_with_characters_that_are_not_key_characters() -> None:
    secret = "p@ss:w0rd/with spaces"
    assert scrub(f"login {secret} failed", [secret]) == f"login {R} failed"


@pytest.mark.parametrize("mask", ["...", "…", "..", "***", "*", "•••", "...***"])
def test_long_prefix_then_a_mask(mask: str) -> None:
    for secret in (UPSTREAM, PLAIN):
        half = secret[: (len(secret) + 1) // 2]
        assert scrub(f"key {half}{mask} is invalid", [secret]) == f"key {R} is invalid"
        assert scrub(f"key {secret[:20]}{mask}{secret[-4:]} is invalid", [secret]) == f"key {R} is invalid"


def test_first_20_characters_of_a_40_character_key() -> None:
    secret = "sk-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z01234"
    assert len(secret) == 40
    for echo in (f"{secret[:20]}...", f"{secret[:20]}...{secret[-3:]}", f"{secret[:20]}", f"{secret[:25]}?"):
        out = scrub(f"Incorrect API key provided: {echo}. See the docs.", [secret])
        assert secret[3:20] not in out and secret[-3:] not in out, (echo, out)
        assert out.startswith(f"Incorrect API key provided: {R}"), out


def test_openai_style_masked_keys() -> None:
    secret = "sk-proj-abcD3fGh1jKlMnOpQrStUvWxYz0123456789-AbCdEfGhIjKlMnOpxyz"
    for echo in (
        "sk-proj-abc...xyz",
        "sk-proj-abc…xyz",
        "sk-proj-********************xyz",
        "sk-proj-abcD...0xyz",
    ):
        assert scrub(f"Incorrect API key provided: {echo}.", [secret]) == f"Incorrect API key provided: {R}."
    # Without the secret, the sk- pattern still takes the mask and the visible tail.
    assert (
        scrub("Incorrect API key provided: sk-proj-abcdefgh...wxyz.") == f"Incorrect API key provided: {R}."
    )


def test_a_half_prefix_without_a_mask() -> None:
    half = PLAIN[: (len(PLAIN) + 1) // 2]
    assert scrub(f"key {half} and more", [PLAIN]) == f"key {R} and more"
    assert scrub(f"key {half}Q-other-token", [PLAIN]) == f"key {R}"  # a near-copy is taken whole


def test_short_shared_prefixes_are_kept() -> None:
    # Prefixes every key of a vendor shares, or a short start of the key without a mask, are not the key.
    assert scrub("keys start with sk-proj- and are long", [UPSTREAM.replace("upstream", "proj")]) == (
        "keys start with sk-proj- and are long"
    )
    assert scrub("ZZ9plural-Q is a model name", [PLAIN]) == "ZZ9plural-Q is a model name"
    assert scrub("version ZZ9plural-Z-a.", [PLAIN]) == "version ZZ9plural-Z-a."  # 13 of 28 characters


def test_a_shorter_secret_inside_a_longer_one() -> None:
    short, long = "abcdef-123456", "abcdef-123456-and-more"
    assert scrub(f"a {long} b {short} c", [short, long]) == f"a {R} b {R} c"
    assert scrub(f"a {long} b {short} c", [long, short]) == f"a {R} b {R} c"


def test_secret_spans_do_not_cross_newlines_or_spaces() -> None:
    assert scrub(f"{PLAIN}\nnext line", [PLAIN]) == f"{R}\nnext line"
    assert scrub(f"{PLAIN}\tcol", [PLAIN]) == f"{R}\tcol"
