"""Exact money. Amounts are integer micro-units (1 USDT = 1,000,000), never floats."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

MICROS_PER_UNIT = 1_000_000
USDT_DECIMALS = 6


def to_micros(value: Decimal | str | int) -> int:
    """Parse a decimal amount; more precision than a micro-unit is refused, not rounded."""
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    micros = amount * MICROS_PER_UNIT
    if micros != micros.to_integral_value():
        raise ValueError(f"{value!r} has more than {USDT_DECIMALS} decimal places")
    return int(micros)


def from_base_units(value: str, decimals: int) -> int:
    """Convert a token's integer base units (TRC20 `value`) to micro-units exactly."""
    if not value.isdigit():
        raise ValueError("value must be a non-negative integer string")
    units = int(value)
    if decimals >= USDT_DECIMALS:
        micros, remainder = divmod(units, 10 ** (decimals - USDT_DECIMALS))
        if remainder:
            raise ValueError("value has more precision than a micro-unit")
        return micros
    return units * 10 ** (USDT_DECIMALS - decimals)


def format_amount(micros: int, places: int = USDT_DECIMALS) -> str:
    """'15.347' for 15_347_000 with places=3; never drops significant digits."""
    amount = Decimal(micros) / MICROS_PER_UNIT
    places = max(places, -amount.normalize().as_tuple().exponent if amount else 0)
    return f"{amount:.{places}f}"


def fraction_micros(micros: int, places: int) -> int:
    """The part of an amount below one unit, truncated to `places` decimals (the order suffix)."""
    step = MICROS_PER_UNIT // 10 ** places
    return (micros % MICROS_PER_UNIT) // step * step
