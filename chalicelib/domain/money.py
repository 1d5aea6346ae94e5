"""Exact money. Amounts are integer micro-units (1 USDT = 1,000,000), never floats."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MICROS_PER_UNIT = 1_000_000
USDT_DECIMALS = 6
ASCII_DIGITS = re.compile(r"[0-9]+")   # str.isdigit() also accepts "١٥" and "²"
# Far above any price or balance. A buyer types a top-up's amount: "1e999990" would otherwise become a
# million-digit integer (seconds of CPU), and "1e999999" overflow the decimal context.
MAX_WHOLE_DIGITS = 15


def to_micros(value: Decimal | str | int) -> int:
    """Parse a decimal amount; more precision than a micro-unit is refused, not rounded."""
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    if amount.adjusted() >= MAX_WHOLE_DIGITS:
        raise ValueError(f"{value!r} is too large to be an amount")
    micros = amount * MICROS_PER_UNIT
    if micros != micros.to_integral_value():
        raise ValueError(f"{value!r} has more than {USDT_DECIMALS} decimal places")
    return int(micros)


def from_base_units(value: str, decimals: int, *, truncate: bool = False) -> int:
    """Convert a token's integer base units (TRC20 `value`, ASCII digits) to micro-units: exactly, or with
    `truncate` (a token that is not ours, recorded for review) dropping what is finer than a micro-unit."""
    if not ASCII_DIGITS.fullmatch(value):
        raise ValueError("value must be a non-negative integer string of ASCII digits")
    units = int(value)
    if decimals >= USDT_DECIMALS:
        micros, remainder = divmod(units, 10 ** (decimals - USDT_DECIMALS))
        if remainder and not truncate:
            raise ValueError("value has more precision than a micro-unit")
        return micros
    return units * 10 ** (USDT_DECIMALS - decimals)


def format_amount(micros: int, places: int = USDT_DECIMALS) -> str:
    """'15.347' for 15_347_000 with places=3; never drops significant digits."""
    amount = Decimal(micros) / MICROS_PER_UNIT
    places = max(places, -amount.normalize().as_tuple().exponent if amount else 0)
    return f"{amount:.{places}f}"



STARS = "XTR"   # Telegram Stars: whole units, kept in micro-units like every currency


def places_for(currency: str, places: int) -> int:
    """How many decimals an amount of `currency` is shown with: none for Stars."""
    return 0 if currency == STARS else places
