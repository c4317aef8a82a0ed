"""Usage units and their price. Pure arithmetic on Decimal and integers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal

from aigateway.core.money import NANO_PER_USD

_MILLION = Decimal(1_000_000)
_THOUSAND = Decimal(1000)
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
    "per_image",  # each image generated
    "input_per_image",  # each image given as input
    "input_per_second",  # each second of audio or video in
    "output_per_second",  # each second of audio or video out
    "per_mchar",  # each million characters (text to speech)
    "per_query",  # each query (rerank search units, moderation calls)
    "per_page",  # each page read (OCR)
    "per_compute_second",  # each second of the upstream's compute (Hugging Face hf-inference)
)
PRICE_KEYS = TOKEN_PRICE_KEYS + OTHER_PRICE_KEYS


@dataclass(frozen=True, slots=True)
class Pricing:
    """Prices in USD. Token prices are per million tokens.

    The dearest input-side and output-side token prices are worked out once, at load: admission
    prices a worst case on every call (the hot path).
    """

    prices: dict[str, Decimal] = field(default_factory=dict)
    max_input: Decimal = field(default=Decimal(0), init=False, compare=False, repr=False)
    max_output: Decimal = field(default=Decimal(0), init=False, compare=False, repr=False)
    flat: bool = field(default=False, init=False, compare=False, repr=False)  # any non-token price

    def __post_init__(self) -> None:
        p, zero = self.prices, Decimal(0)
        inputs = (
            p.get("input_per_mtok", zero),
            p.get("cache_write_per_mtok", zero),
            p.get("cached_input_per_mtok", zero),
        )
        object.__setattr__(self, "max_input", max(inputs))
        object.__setattr__(
            self, "max_output", max(p.get("output_per_mtok", zero), p.get("reasoning_per_mtok", zero))
        )
        object.__setattr__(self, "flat", any(key in p for key in OTHER_PRICE_KEYS))

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
    """The meters of one call, in every unit a model can be priced in.

    Token meters follow OpenAI's accounting: ``input_tokens`` includes cached and cache-write
    tokens; ``output_tokens`` includes reasoning tokens. Seconds are metered in milliseconds so that
    every meter is an integer. ``estimated`` marks usage the gateway counted itself because the
    upstream never reported it (a stream cut short, an API that reports no usage). ``compute_ms`` is
    the upstream's compute time, for a provider that bills by it rather than by what it produced.
    ``provider_ms`` is never billed: it keeps the provider's own figure for an audio duration the
    gateway measured itself (``input_ms``), so the ledger shows both and a drift can be audited.
    """

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    input_images: int = 0
    output_images: int = 0
    input_ms: int = 0
    output_ms: int = 0
    characters: int = 0
    queries: int = 0
    pages: int = 0
    compute_ms: int = 0
    provider_ms: int = 0  # unpriced: the audio duration the provider reported, beside input_ms
    estimated: bool = False

    def meters(self) -> dict[str, int]:
        """Every non-zero meter by name (what the ledger keeps beside the billed units)."""
        return {name: value for name in _METER_NAMES if (value := getattr(self, name))}


_METER_NAMES = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "input_images",
    "output_images",
    "input_ms",
    "output_ms",
    "characters",
    "queries",
    "pages",
    "compute_ms",
    "provider_ms",
)

# What a price basis multiplies list prices by. A cache hit's fraction is the operator's choice.
BATCH_FRACTION = Decimal("0.5")


def basis_multiplier(basis: str, cache_hit_fraction: Decimal = Decimal(0)) -> Decimal:
    if basis == "standard":
        return Decimal(1)
    if basis == "batch":
        return BATCH_FRACTION
    if basis == "cache_hit":
        return cache_hit_fraction
    raise ValueError(f"unknown price basis {basis!r}")


def _usd(usage: Usage, pricing: Pricing) -> Decimal:
    """The list price of ``usage`` in USD, every price key honoured."""
    p = pricing.prices
    zero = Decimal(0)
    input_price = p.get("input_per_mtok", zero)
    cached_price = p.get("cached_input_per_mtok", input_price)
    write_price = p.get("cache_write_per_mtok", input_price)
    output_price = p.get("output_per_mtok", zero)
    reasoning_price = p.get("reasoning_per_mtok", output_price)

    cached = max(0, min(usage.cached_input_tokens, usage.input_tokens))
    written = max(0, min(usage.cache_write_tokens, usage.input_tokens - cached))
    plain_in = usage.input_tokens - cached - written
    reasoning = max(0, min(usage.reasoning_tokens, usage.output_tokens))
    plain_out = usage.output_tokens - reasoning

    tokens = (
        plain_in * input_price
        + cached * cached_price
        + written * write_price
        + plain_out * output_price
        + reasoning * reasoning_price
    ) / _MILLION
    if not (pricing.flat and _has_flat(usage)):
        return tokens
    return (
        tokens
        + usage.output_images * p.get("per_image", zero)
        + usage.input_images * p.get("input_per_image", zero)
        + Decimal(usage.input_ms) * p.get("input_per_second", zero) / _THOUSAND
        + Decimal(usage.output_ms) * p.get("output_per_second", zero) / _THOUSAND
        + usage.characters * p.get("per_mchar", zero) / _MILLION
        + usage.queries * p.get("per_query", zero)
        + usage.pages * p.get("per_page", zero)
        + Decimal(usage.compute_ms) * p.get("per_compute_second", zero) / _THOUSAND
    )


def _has_flat(usage: Usage) -> bool:
    """Whether a usage has any meter other than tokens."""
    return bool(
        usage.output_images
        or usage.input_images
        or usage.input_ms
        or usage.output_ms
        or usage.characters
        or usage.queries
        or usage.pages
        or usage.compute_ms
    )


_ONE = Decimal(1)


def price_usage(usage: Usage, pricing: Pricing, multiplier: Decimal = _ONE) -> int:
    """Cost of ``usage`` in integer nano-dollars (rounded half up once, at the end).

    ``multiplier`` is the price basis (``basis_multiplier``): 1 for standard, 0.5 for batch.
    """
    total = _usd(usage, pricing)
    if multiplier != _ONE:
        total *= multiplier
    return int((total * _NANO).to_integral_value(rounding=ROUND_HALF_UP))


def worst_case_nano(pricing: Pricing, bound: Usage) -> int:
    """An upper bound of what ``bound`` can cost, whatever mix of token kinds it turns out to be.

    Input tokens are priced at the dearest input-side price (cache writes cost more than plain input
    at Anthropic), output tokens at the dearest output-side price (reasoning may cost more).
    """
    total = (bound.input_tokens * pricing.max_input + bound.output_tokens * pricing.max_output) / _MILLION
    if pricing.flat and _has_flat(bound):
        flat = Usage(
            input_images=bound.input_images,
            output_images=bound.output_images,
            input_ms=bound.input_ms,
            output_ms=bound.output_ms,
            characters=bound.characters,
            queries=bound.queries,
            pages=bound.pages,
            compute_ms=bound.compute_ms,
        )
        total += _usd(flat, pricing)
    return int((total * _NANO).to_integral_value(rounding=ROUND_UP))


def max_cost_nano(pricing: Pricing, input_tokens: int, output_tokens: int) -> int:
    """The worst case of a call of ``input_tokens`` in and ``output_tokens`` out."""
    return worst_case_nano(pricing, Usage(input_tokens=input_tokens, output_tokens=output_tokens))


def affordable_output_tokens(pricing: Pricing, budget_nano: int) -> int | None:
    """How many output tokens ``budget_nano`` pays for at the dearest output price (None: free)."""
    price = pricing.max_output
    if price <= 0:
        return None
    if budget_nano <= 0:
        return 0
    return int((Decimal(budget_nano) / _NANO * _MILLION / price).to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class BilledUnits:
    """What X-Input-Units / X-Output-Units say: the unit a call is billed in, and how many."""

    kind: str  # tokens | images | seconds | characters | queries | pages
    input: str
    output: str


def billed_units(usage: Usage, pricing: Pricing) -> BilledUnits:
    """The unit a call is billed in: the priced meter it used, tokens when nothing else applies."""
    p = pricing.prices
    if usage.compute_ms and "per_compute_second" in p:
        return BilledUnits("seconds", _seconds(usage.compute_ms), "0")
    if usage.queries and "per_query" in p:
        return BilledUnits("queries", str(usage.queries), "0")
    if usage.pages and "per_page" in p:
        return BilledUnits("pages", str(usage.pages), "0")
    if (usage.output_images and "per_image" in p) or (usage.input_images and "input_per_image" in p):
        return BilledUnits("images", str(usage.input_images), str(usage.output_images))
    if (usage.input_ms or usage.output_ms) and ("input_per_second" in p or "output_per_second" in p):
        return BilledUnits("seconds", _seconds(usage.input_ms), _seconds(usage.output_ms))
    if usage.characters and "per_mchar" in p:
        return BilledUnits("characters", str(usage.characters), "0")
    return BilledUnits("tokens", str(usage.input_tokens), str(usage.output_tokens))


def _seconds(ms: int) -> str:
    whole, rest = divmod(ms, 1000)
    return f"{whole}.{rest:03d}".rstrip("0").rstrip(".") if rest else str(whole)
