from decimal import Decimal

import pytest

from chalicelib.domain.money import format_amount, from_base_units, to_micros
from chalicelib.domain.tron import is_valid_tron_address, tron_address_from_account_bytes


def test_amounts_are_exact_micro_units():
    assert to_micros("15.347") == 15_347_000
    assert to_micros(Decimal("0.000001")) == 1
    with pytest.raises(ValueError):
        to_micros("1.0000001")
    with pytest.raises(ValueError):
        to_micros("NaN")


def test_base_units_convert_by_token_decimals():
    assert from_base_units("10456000", 6) == 10_456_000
    assert from_base_units("10456000000000000000", 18) == 10_456_000
    assert from_base_units("1", 2) == 10_000
    with pytest.raises(ValueError):
        from_base_units("1", 7)
    with pytest.raises(ValueError):
        from_base_units("-5", 6)
    assert from_base_units("10456000999", 9, truncate=True) == 10_456_000


@pytest.mark.parametrize("value", ["١٥", "１５", "15²", "+15", " 15", "1_5", ""])
def test_base_units_are_ascii_digits_only(value):
    with pytest.raises(ValueError):
        from_base_units(value, 6)


def test_formatting_keeps_significant_digits():
    assert format_amount(15_347_000, 3) == "15.347"
    assert format_amount(15_000_000, 2) == "15.00"
    assert format_amount(15_347_100, 3) == "15.3471"


def test_tron_addresses_are_checked_with_their_checksum():
    assert is_valid_tron_address("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    assert not is_valid_tron_address("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u")
    assert not is_valid_tron_address("0x1234")
    made = tron_address_from_account_bytes(bytes(range(20)))
    assert is_valid_tron_address(made)
