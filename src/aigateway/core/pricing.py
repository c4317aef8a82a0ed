"""Usage units and their price. Pure arithmetic on Decimal and integers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from aigateway.core.money import NANO_PER_USD

_MILLION = Decimal(1_000_000)
_NANO = Decimal(NANO_PER_USD)

# Keys a catalog price may carry (USD, as decimal strings in the catalog file).
TOKEN_PRICE_KEYS = (
    "input_per_mtok",
    "output_per_mtok",
    "cached_input_per_mtok",
    "cache_write_per_mtok",
    "reasoning_per_mtok",
)
OTHER_PRICE_KEYS = (
    "per_image",
    "input_per_image",
    "input_per_second",
    "output_per_second",
    "per_mchar",
    "per_query",
)
PRICE_KEYS = TOKEN_PRICE_KEYS + OTHER_PRICE_KEYS


@dataclass(frozen=True, slots=True)
class Pricing:
    """Prices in USD. Token prices are per million tokens."""

    prices: dict[str, Decimal] = field(default_factory=dict)

    def get(self, key: str) -> Decimal | None:
        return self.prices.get(key)

    @classmethod
    def from_mapping(cls, raw: dict[str, object]) -> Pricing:
        prices: dict[str, Decimal] = {}
        for key, value in raw.items():
            if key not in PRICE_KEYS:
                raise ValueError(f"unknown price key {key!r}")
            if isinstance(value, float):
                raise ValueError(f"price {key} must be a decimal string, not a float")
            amount = Decimal(str(value))
            if amount < 0:
                raise ValueError(f"price {key} is negative")
            prices[key] = amount
        return cls(prices)

    def as_strings(self) -> dict[str, str]:
        return {key: format(value.normalize(), "f") for key, value in self.prices.items()}


@dataclass(slots=True)
class Usage:
    """Units consumed by one call, in the OpenAI sense.

    ``input_tokens`` includes cached and cache-write tokens; ``output_tokens`` includes reasoning
    tokens (OpenAI's accounting). ``estimated`` marks usage the gateway counted itself because the
    upstream never reported it (a stream cut short).
    """

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    estimated: bool = False


def price_usage(usage: Usage, pricing: Pricing) -> int:
    """Cost of ``usage`` in integer nano-dollars (rounded half up once, at the end)."""
    p = pricing.prices
    input_price = p.get("input_per_mtok", Decimal(0))
    cached_price = p.get("cached_input_per_mtok", input_price)
    write_price = p.get("cache_write_per_mtok", input_price)
    output_price = p.get("output_per_mtok", Decimal(0))
    reasoning_price = p.get("reasoning_per_mtok", output_price)

    cached = max(0, min(usage.cached_input_tokens, usage.input_tokens))
    written = max(0, min(usage.cache_write_tokens, usage.input_tokens - cached))
    plain_in = usage.input_tokens - cached - written
    reasoning = max(0, min(usage.reasoning_tokens, usage.output_tokens))
    plain_out = usage.output_tokens - reasoning

    total = (
        plain_in * input_price
        + cached * cached_price
        + written * write_price
        + plain_out * output_price
        + reasoning * reasoning_price
    ) / _MILLION
    return int((total * _NANO).to_integral_value(rounding=ROUND_HALF_UP))


def max_cost_nano(pricing: Pricing, input_tokens: int, output_tokens: int) -> int:
    """An upper-bound style estimate used for reservations (full input price, output price)."""
    return price_usage(Usage(input_tokens=input_tokens, output_tokens=output_tokens), pricing)
