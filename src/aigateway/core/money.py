"""Money: Decimal in the domain, integer nano-dollars in storage. Never a float.

One nano-dollar (1e-9 USD) is small enough that a single token of the cheapest model still has a
non-zero cost, and a signed 64-bit integer still holds nine billion dollars.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NANO_PER_USD = 1_000_000_000
NANO_PER_CENT = 10_000_000
_NANO = Decimal(NANO_PER_USD)
_CENT = Decimal(NANO_PER_CENT)


def _decimal(value: Decimal | str | int) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money is never a float: pass a Decimal, a decimal string or an int")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def usd_to_nano(usd: Decimal | str | int) -> int:
    """Convert dollars to integer nano-dollars, rounding half up."""
    value = _decimal(usd)
    return int((value * _NANO).to_integral_value(rounding=ROUND_HALF_UP))


def cents_to_nano(cents: Decimal | str | int) -> int:
    value = _decimal(cents)
    return int((value * _CENT).to_integral_value(rounding=ROUND_HALF_UP))


def nano_to_cents_str(nano: int) -> str:
    """Fractional cents as a plain decimal string (``"0.0123"``), no exponent, no trailing zeros."""
    return _plain(Decimal(nano) / _CENT)


def nano_to_usd_str(nano: int) -> str:
    return _plain(Decimal(nano) / _NANO)


def nano_to_whole_cents(nano: int) -> int:
    """Whole cents, rounded toward zero (a balance of 0.9 cents is 0 whole cents)."""
    return int(Decimal(nano) / _CENT)


def _plain(value: Decimal) -> str:
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
