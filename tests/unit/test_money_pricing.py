"""Tests for core/money.py (nano-dollar conversions) and core/pricing.py (prices and usage cost)."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest

from aigateway.core.money import (
    NANO_PER_CENT,
    NANO_PER_USD,
    cents_to_nano,
    nano_to_cents_str,
    nano_to_usd_str,
    nano_to_whole_cents,
    usd_to_nano,
)
from aigateway.core.pricing import (
    PRICE_KEYS,
    Pricing,
    Usage,
    max_cost_nano,
    price_usage,
)

INT64_MAX = 2**63 - 1


def _pricing(**prices: str) -> Pricing:
    return Pricing.from_mapping(dict(prices))


# --------------------------------------------------------------------------------------------- money


def test_units() -> None:
    assert NANO_PER_USD == 1_000_000_000
    assert NANO_PER_CENT == 10_000_000
    assert NANO_PER_CENT * 100 == NANO_PER_USD


@pytest.mark.parametrize(
    ("usd", "nano"),
    [
        (Decimal("1"), 1_000_000_000),
        ("1", 1_000_000_000),
        (1, 1_000_000_000),
        (0, 0),
        ("0", 0),
        ("0.000000001", 1),
        ("1e-9", 1),
        ("12.345678901", 12_345_678_901),
        ("0.0000000005", 1),  # half up
        ("0.0000000015", 2),  # half up, not half even (which would give 2 as well)
        ("0.0000000025", 3),  # half up; banker's rounding would give 2
        ("0.00000000049999", 0),
        ("0.0000000014999", 1),
        ("-1.5", -1_500_000_000),
        ("-0.0000000025", -3),  # ROUND_HALF_UP rounds half away from zero
        ("-0.0000000004", 0),
        ("9223372036.854775807", INT64_MAX),
    ],
)
def test_usd_to_nano(usd: Decimal | str | int, nano: int) -> None:
    result = usd_to_nano(usd)
    assert result == nano
    assert type(result) is int


@pytest.mark.parametrize(
    ("cents", "nano"),
    [
        ("1", 10_000_000),
        (1, 10_000_000),
        (Decimal("100"), NANO_PER_USD),
        ("0.5", 5_000_000),
        ("0.0000001", 1),
        ("0.00000005", 1),  # half up
        ("0.00000025", 3),  # half up; banker's rounding would give 2
        ("0.00000004", 0),
        ("-2", -20_000_000),
        ("-0.00000025", -3),
    ],
)
def test_cents_to_nano(cents: Decimal | str | int, nano: int) -> None:
    result = cents_to_nano(cents)
    assert result == nano
    assert type(result) is int


def test_bad_decimal_string_is_rejected() -> None:
    with pytest.raises(decimal.InvalidOperation):
        usd_to_nano("1.2.3")
    with pytest.raises(decimal.InvalidOperation):
        cents_to_nano("ten")


@pytest.mark.parametrize(
    ("nano", "text"),
    [
        (0, "0"),
        (1, "0.0000001"),
        (123_000, "0.0123"),
        (5_000_000, "0.5"),
        (10_000_000, "1"),
        (12_345_000_000, "1234.5"),
        (1_000_000_000, "100"),  # normalize() gives 1E+2: must not leak the exponent
        (10**17, "10000000000"),
        (-5_000_000, "-0.5"),
        (-1, "-0.0000001"),
        (-1_000_000_000, "-100"),
        (INT64_MAX, "922337203685.4775807"),
    ],
)
def test_nano_to_cents_str(nano: int, text: str) -> None:
    assert nano_to_cents_str(nano) == text


@pytest.mark.parametrize(
    ("nano", "text"),
    [
        (0, "0"),
        (1, "0.000000001"),
        (10, "0.00000001"),
        (1_500_000_000, "1.5"),
        (2_000_000_000, "2"),
        (100 * NANO_PER_USD, "100"),
        (1_000_000 * NANO_PER_USD, "1000000"),
        (-250_000_000, "-0.25"),
        (INT64_MAX, "9223372036.854775807"),
    ],
)
def test_nano_to_usd_str(nano: int, text: str) -> None:
    assert nano_to_usd_str(nano) == text


@pytest.mark.parametrize("nano", [1, 7, 10, 123_456, 5_000_000, 10**12, 10**15 + 1, -3, -12_000, INT64_MAX])
def test_strings_never_have_exponent_or_trailing_zeros(nano: int) -> None:
    for text in (nano_to_cents_str(nano), nano_to_usd_str(nano)):
        assert "e" not in text.lower()
        if "." in text:
            assert not text.endswith("0")
            assert not text.endswith(".")
        # and the string is exact: it converts back to the same number of nano-dollars
    assert cents_to_nano(nano_to_cents_str(nano)) == nano
    assert usd_to_nano(nano_to_usd_str(nano)) == nano


@pytest.mark.parametrize(
    ("nano", "cents"),
    [
        (0, 0),
        (1, 0),
        (9_999_999, 0),  # 0.9999999 cents is 0 whole cents
        (10_000_000, 1),
        (19_999_999, 1),
        (NANO_PER_USD, 100),
        (-1, 0),
        (-9_999_999, 0),  # toward zero, not floor
        (-10_000_000, -1),
        (-19_999_999, -1),
        (INT64_MAX, 922_337_203_685),
    ],
)
def test_nano_to_whole_cents(nano: int, cents: int) -> None:
    result = nano_to_whole_cents(nano)
    assert result == cents
    assert type(result) is int


# ------------------------------------------------------------------------------------ Pricing mapping


def test_from_mapping_accepts_strings_ints_and_decimals() -> None:
    pricing = Pricing.from_mapping(
        {"input_per_mtok": "2.50", "output_per_mtok": 15, "cached_input_per_mtok": Decimal("0.25")}
    )
    assert pricing.prices == {
        "input_per_mtok": Decimal("2.5"),
        "output_per_mtok": Decimal("15"),
        "cached_input_per_mtok": Decimal("0.25"),
    }
    assert all(type(v) is Decimal for v in pricing.prices.values())
    assert pricing.get("input_per_mtok") == Decimal("2.5")
    assert pricing.get("per_image") is None


def test_from_mapping_accepts_every_known_key_and_zero() -> None:
    pricing = Pricing.from_mapping({key: "0" for key in PRICE_KEYS})
    assert set(pricing.prices) == set(PRICE_KEYS)
    assert all(v == 0 for v in pricing.prices.values())


@pytest.mark.parametrize("value", [1.5, 0.0, 3.0])
def test_from_mapping_rejects_floats(value: float) -> None:
    with pytest.raises(ValueError, match="float"):
        Pricing.from_mapping({"input_per_mtok": value})


def test_from_mapping_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="unknown price key 'input_per_token'"):
        Pricing.from_mapping({"input_per_token": "1"})


@pytest.mark.parametrize("value", ["-0.01", -1, Decimal("-5")])
def test_from_mapping_rejects_negatives(value: str | int | Decimal) -> None:
    with pytest.raises(ValueError, match="negative"):
        Pricing.from_mapping({"output_per_mtok": value})


def test_from_mapping_rejects_non_numbers() -> None:
    with pytest.raises(ArithmeticError):
        Pricing.from_mapping({"output_per_mtok": "cheap"})


def test_as_strings_plain_decimal() -> None:
    pricing = Pricing.from_mapping(
        {
            "input_per_mtok": "2.50",
            "output_per_mtok": "10",
            "per_image": Decimal("1E+1"),
            "per_query": "0.000",
        }
    )
    assert pricing.as_strings() == {
        "input_per_mtok": "2.5",
        "output_per_mtok": "10",
        "per_image": "10",
        "per_query": "0",
    }


# --------------------------------------------------------------------------------------- price_usage


def test_plain_input_and_output() -> None:
    pricing = _pricing(input_per_mtok="2.5", output_per_mtok="15")
    # 1000 * 2.5 / 1M = $0.0025; 500 * 15 / 1M = $0.0075 -> $0.01
    assert price_usage(Usage(input_tokens=1000, output_tokens=500), pricing) == 10_000_000


def test_no_usage_and_no_prices_cost_nothing() -> None:
    assert price_usage(Usage(), _pricing(input_per_mtok="3", output_per_mtok="15")) == 0
    assert price_usage(Usage(input_tokens=10, output_tokens=10), Pricing()) == 0


def test_cached_input_at_cached_price() -> None:
    pricing = _pricing(input_per_mtok="5", output_per_mtok="25", cached_input_per_mtok="0.5")
    usage = Usage(input_tokens=1000, cached_input_tokens=400)
    # (600 * 5 + 400 * 0.5) / 1M = $0.0032
    assert price_usage(usage, pricing) == 3_200_000


def test_cached_input_without_cached_price_is_input_price() -> None:
    pricing = _pricing(input_per_mtok="5", output_per_mtok="25")
    usage = Usage(input_tokens=1000, cached_input_tokens=400)
    assert price_usage(usage, pricing) == price_usage(Usage(input_tokens=1000), pricing) == 5_000_000


def test_cache_writes() -> None:
    pricing = _pricing(
        input_per_mtok="3", output_per_mtok="15", cached_input_per_mtok="0.3", cache_write_per_mtok="3.75"
    )
    usage = Usage(input_tokens=1000, cached_input_tokens=200, cache_write_tokens=300, output_tokens=100)
    # 500 * 3 + 200 * 0.3 + 300 * 3.75 + 100 * 15 = 1500 + 60 + 1125 + 1500 = 4185
    assert price_usage(usage, pricing) == 4_185_000


def test_cache_writes_without_write_price_are_input_price() -> None:
    pricing = _pricing(input_per_mtok="3", output_per_mtok="15")
    usage = Usage(input_tokens=1000, cache_write_tokens=300)
    assert price_usage(usage, pricing) == 3_000_000


def test_cache_writes_clamped_to_uncached_input() -> None:
    pricing = _pricing(
        input_per_mtok="3", output_per_mtok="15", cached_input_per_mtok="0.3", cache_write_per_mtok="3.75"
    )
    # 100 input tokens, 80 of them cached: at most 20 can be cache writes.
    usage = Usage(input_tokens=100, cached_input_tokens=80, cache_write_tokens=50)
    # 80 * 0.3 + 20 * 3.75 = 24 + 75 = 99
    assert price_usage(usage, pricing) == 99_000


def test_cached_more_than_input_is_clamped() -> None:
    pricing = _pricing(input_per_mtok="5", output_per_mtok="25", cached_input_per_mtok="0.5")
    # A vendor reporting more cached tokens than input tokens must not yield a negative plain input.
    usage = Usage(input_tokens=100, cached_input_tokens=500)
    assert price_usage(usage, pricing) == 50_000  # 100 * 0.5
    assert price_usage(usage, pricing) == price_usage(
        Usage(input_tokens=100, cached_input_tokens=100), pricing
    )


def test_negative_counts_are_clamped() -> None:
    pricing = _pricing(input_per_mtok="5", output_per_mtok="25", cached_input_per_mtok="0.5")
    usage = Usage(input_tokens=100, cached_input_tokens=-50, cache_write_tokens=-7, reasoning_tokens=-3)
    assert price_usage(usage, pricing) == 500_000


def test_reasoning_priced_as_output_by_default() -> None:
    pricing = _pricing(input_per_mtok="1", output_per_mtok="10")
    with_reasoning = Usage(output_tokens=1000, reasoning_tokens=600)
    assert (
        price_usage(with_reasoning, pricing) == price_usage(Usage(output_tokens=1000), pricing) == 10_000_000
    )


def test_reasoning_at_reasoning_price() -> None:
    pricing = _pricing(input_per_mtok="1", output_per_mtok="10", reasoning_per_mtok="20")
    usage = Usage(output_tokens=1000, reasoning_tokens=600)
    # 400 * 10 + 600 * 20 = 16000
    assert price_usage(usage, pricing) == 16_000_000


def test_reasoning_more_than_output_is_clamped() -> None:
    pricing = _pricing(input_per_mtok="1", output_per_mtok="10", reasoning_per_mtok="20")
    usage = Usage(output_tokens=100, reasoning_tokens=1000)
    assert price_usage(usage, pricing) == 2_000_000  # 100 * 20, never 1000 * 20


def test_everything_at_once() -> None:
    pricing = _pricing(
        input_per_mtok="1.25",
        output_per_mtok="10",
        cached_input_per_mtok="0.125",
        cache_write_per_mtok="1.5625",
        reasoning_per_mtok="12",
    )
    usage = Usage(
        input_tokens=12_345,
        cached_input_tokens=2_000,
        cache_write_tokens=345,
        output_tokens=6_789,
        reasoning_tokens=789,
    )
    expected_usd = (
        Decimal(10_000) * Decimal("1.25")
        + Decimal(2_000) * Decimal("0.125")
        + Decimal(345) * Decimal("1.5625")
        + Decimal(6_000) * Decimal("10")
        + Decimal(789) * Decimal("12")
    ) / Decimal(1_000_000)
    assert expected_usd == Decimal("0.0827570625")
    assert price_usage(usage, pricing) == 82_757_063  # 82_757_062.5 nano, half up


def test_rounding_half_up_at_the_end() -> None:
    # 1 token at $0.0005 per million is exactly half a nano-dollar: half up gives 1.
    assert price_usage(Usage(input_tokens=1), _pricing(input_per_mtok="0.0005")) == 1
    # 2.5 nano: half up gives 3 (banker's rounding would give 2).
    assert price_usage(Usage(input_tokens=5), _pricing(input_per_mtok="0.0005")) == 3
    # 0.4999 nano rounds down.
    assert price_usage(Usage(input_tokens=1), _pricing(input_per_mtok="0.0004999")) == 0


def test_rounding_once_not_per_component() -> None:
    pricing = _pricing(input_per_mtok="0.0004", output_per_mtok="0.0004")
    # 0.4 + 0.4 = 0.8 nano -> 1; rounding each component first would give 0 + 0 = 0.
    assert price_usage(Usage(input_tokens=1, output_tokens=1), pricing) == 1

    pricing = _pricing(input_per_mtok="0.0006", output_per_mtok="0.0006")
    # 0.6 + 0.6 = 1.2 nano -> 1; rounding each component first would give 1 + 1 = 2.
    assert price_usage(Usage(input_tokens=1, output_tokens=1), pricing) == 1

    pricing = _pricing(
        input_per_mtok="0.0003",
        cached_input_per_mtok="0.0003",
        cache_write_per_mtok="0.0003",
        output_per_mtok="0.0003",
        reasoning_per_mtok="0.0003",
    )
    # five components of 0.3 nano each: 1.5 -> 2 once; per component it would be 0.
    usage = Usage(
        input_tokens=3, cached_input_tokens=1, cache_write_tokens=1, output_tokens=2, reasoning_tokens=1
    )
    assert price_usage(usage, pricing) == 2


def test_large_usage_is_exact() -> None:
    pricing = _pricing(input_per_mtok="0.000001", output_per_mtok="75")
    usage = Usage(input_tokens=3_000_000_000, output_tokens=987_654_321)
    # input: 3000 * 0.000001 = $0.003 = 3_000_000 nano; output: 987.654321 * 75 = $74074.074075
    assert price_usage(usage, pricing) == 3_000_000 + 74_074_074_075_000


def test_results_are_ints_never_floats() -> None:
    pricing = _pricing(input_per_mtok="0.15", output_per_mtok="0.6", reasoning_per_mtok="0.7")
    result = price_usage(Usage(input_tokens=7, output_tokens=3, reasoning_tokens=1), pricing)
    assert type(result) is int
    assert result == 2_950  # (7 * 0.15 + 2 * 0.6 + 1 * 0.7) / 1M USD = 2950 nano
    assert type(max_cost_nano(pricing, 10, 10)) is int
    assert all(type(v) is Decimal for v in pricing.prices.values())
    assert all(type(v) is str for v in pricing.as_strings().values())


def test_max_cost_nano_is_full_input_plus_output() -> None:
    pricing = _pricing(input_per_mtok="3", output_per_mtok="15", cached_input_per_mtok="0.3")
    assert max_cost_nano(pricing, 2_000, 4_096) == 6_000_000 + 61_440_000
    # the estimate ignores caching, so it is never below the cost of the same call with cached input
    assert max_cost_nano(pricing, 2_000, 4_096) > price_usage(
        Usage(input_tokens=2_000, cached_input_tokens=1_000, output_tokens=4_096), pricing
    )


def test_usage_defaults() -> None:
    usage = Usage()
    assert (usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens) == (0, 0, 0)
    assert (usage.output_tokens, usage.reasoning_tokens, usage.estimated) == (0, 0, False)
