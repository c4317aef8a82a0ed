"""Every price key is billed; price bases; worst cases; the unit a call is billed in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aigateway.core.catalog import load_catalog
from aigateway.core.pricing import (
    PRICE_KEYS,
    Pricing,
    Usage,
    affordable_output_tokens,
    basis_multiplier,
    billed_units,
    price_usage,
    worst_case_nano,
)

# The meter each price key bills, and a usage of 1,000,000 units of it (or 1 for per-item prices).
METER_OF = {
    "input_per_mtok": Usage(input_tokens=1_000_000),
    "output_per_mtok": Usage(output_tokens=1_000_000),
    "cached_input_per_mtok": Usage(input_tokens=1_000_000, cached_input_tokens=1_000_000),
    "cache_write_per_mtok": Usage(input_tokens=1_000_000, cache_write_tokens=1_000_000),
    "reasoning_per_mtok": Usage(output_tokens=1_000_000, reasoning_tokens=1_000_000),
    "per_image": Usage(output_images=1),
    "input_per_image": Usage(input_images=1),
    "input_per_second": Usage(input_ms=1000),
    "output_per_second": Usage(output_ms=1000),
    "per_mchar": Usage(characters=1_000_000),
    "per_query": Usage(queries=1),
    "per_page": Usage(pages=1),
    "per_compute_second": Usage(compute_ms=1000),
}


def test_every_price_key_has_a_meter() -> None:
    assert set(METER_OF) == set(PRICE_KEYS)


@pytest.mark.parametrize("key", PRICE_KEYS)
def test_each_price_key_bills_exactly_its_price(key: str) -> None:
    pricing = Pricing.from_mapping({key: "1.5"})
    assert price_usage(METER_OF[key], pricing) == 1_500_000_000  # $1.50 in nano-dollars


def test_fractional_seconds_and_mixed_meters() -> None:
    pricing = Pricing.from_mapping(
        {"input_per_second": "0.0001", "output_per_mtok": "10", "per_image": "0.04"}
    )
    usage = Usage(input_ms=12_345, output_tokens=100, output_images=2)
    # 12.345 s * $0.0001 + 100 * $10/M + 2 * $0.04
    assert price_usage(usage, pricing) == 1_234_500 + 1_000_000 + 80_000_000


def test_no_catalog_model_bills_zero_for_a_meter_it_is_priced_in() -> None:
    catalog = load_catalog()
    for model in catalog.models.values():
        for deployment_pricing in [model.pricing, *(d.pricing for d in model.deployments if d.pricing)]:
            for key, price in deployment_pricing.prices.items():
                if price > 0:
                    assert price_usage(METER_OF[key], deployment_pricing) > 0, (model.id, key)


def test_price_bases() -> None:
    pricing = Pricing.from_mapping({"input_per_mtok": "3", "output_per_mtok": "15"})
    usage = Usage(input_tokens=1000, output_tokens=1000)
    standard = price_usage(usage, pricing)
    assert price_usage(usage, pricing, basis_multiplier("batch")) == standard // 2
    assert price_usage(usage, pricing, basis_multiplier("cache_hit")) == 0
    assert price_usage(usage, pricing, basis_multiplier("cache_hit", Decimal("0.1"))) == standard // 10
    with pytest.raises(ValueError):
        basis_multiplier("free")


def test_worst_case_covers_every_mix_of_token_kinds() -> None:
    pricing = Pricing.from_mapping(
        {
            "input_per_mtok": "3",
            "cache_write_per_mtok": "3.75",
            "cached_input_per_mtok": "0.3",
            "output_per_mtok": "15",
            "reasoning_per_mtok": "20",
        }
    )
    bound = Usage(input_tokens=1000, output_tokens=1000)
    worst = worst_case_nano(pricing, bound)
    for mix in (
        Usage(input_tokens=1000, output_tokens=1000),
        Usage(input_tokens=1000, cache_write_tokens=1000, output_tokens=1000),
        Usage(input_tokens=1000, cached_input_tokens=500, output_tokens=1000, reasoning_tokens=1000),
    ):
        assert price_usage(mix, pricing) <= worst


def test_affordable_output_tokens() -> None:
    pricing = Pricing.from_mapping({"input_per_mtok": "1", "output_per_mtok": "10"})
    assert affordable_output_tokens(pricing, 10_000) == 1  # $0.00001 buys one token at $10/M
    assert affordable_output_tokens(pricing, 9_999) == 0
    assert affordable_output_tokens(pricing, -5) == 0
    assert affordable_output_tokens(Pricing.from_mapping({"input_per_mtok": "1"}), 10) is None


def test_billed_units_follow_the_priced_meter() -> None:
    rerank = Pricing.from_mapping({"per_query": "0.002"})
    assert billed_units(Usage(input_tokens=50, queries=2), rerank).kind == "queries"
    token_rerank = Pricing.from_mapping({"input_per_mtok": "0.05"})
    units = billed_units(Usage(input_tokens=50, queries=2), token_rerank)
    assert (units.kind, units.input, units.output) == ("tokens", "50", "0")
    stt = Pricing.from_mapping({"input_per_second": "0.0001"})
    units = billed_units(Usage(input_ms=1500), stt)
    assert (units.kind, units.input, units.output) == ("seconds", "1.5", "0")
    image = Pricing.from_mapping({"per_image": "0.04"})
    assert billed_units(Usage(output_images=3), image).output == "3"
    tts = Pricing.from_mapping({"per_mchar": "15"})
    assert billed_units(Usage(characters=42), tts).kind == "characters"


def test_usage_meters_lists_the_non_zero_ones() -> None:
    assert Usage(input_tokens=3, queries=1).meters() == {"input_tokens": 3, "queries": 1}
    assert Usage().meters() == {}


def test_a_call_billed_per_input_image_says_images() -> None:
    detection = Pricing.from_mapping({"input_per_image": "0.001"})
    units = billed_units(Usage(input_images=2), detection)
    assert (units.kind, units.input, units.output) == ("images", "2", "0")
