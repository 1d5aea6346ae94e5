"""TRON addresses: base58check with a 0x41 version byte and a double-SHA256 checksum."""
from __future__ import annotations

import hashlib

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_TRON_VERSION_BYTE = 0x41
_PAYLOAD_LENGTH = 21


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = BASE58_ALPHABET.find(char)
        if digit < 0:
            raise ValueError(f"invalid base58 character {char!r}")
        number = number * 58 + digit
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading_zeros + body


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    encoded = ""
    while number:
        number, remainder = divmod(number, 58)
        encoded = BASE58_ALPHABET[remainder] + encoded
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading_zeros + encoded


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def is_valid_tron_address(address: str) -> bool:
    if not isinstance(address, str) or len(address) != 34 or not address.startswith("T"):
        return False
    try:
        raw = _b58decode(address)
    except ValueError:
        return False
    if len(raw) != _PAYLOAD_LENGTH + 4:
        return False
    payload, checksum = raw[:_PAYLOAD_LENGTH], raw[_PAYLOAD_LENGTH:]
    return payload[0] == _TRON_VERSION_BYTE and _checksum(payload) == checksum


def tron_address_from_account_bytes(account: bytes) -> str:
    """Build a valid address from 20 account bytes (used to make local and test addresses)."""
    if len(account) != 20:
        raise ValueError("a TRON account is 20 bytes")
    payload = bytes([_TRON_VERSION_BYTE]) + account
    return _b58encode(payload + _checksum(payload))


def address_to_bytes(address: str) -> bytes:
    """The 21 bytes (version byte and account) that a valid base58check address names."""
    if not is_valid_tron_address(address):
        raise ValueError(f"{address!r} is not a valid TRON address")
    return _b58decode(address)[:_PAYLOAD_LENGTH]


def address_from_bytes(payload: bytes) -> str:
    """The base58check address of 21 bytes that start with the version byte."""
    if len(payload) != _PAYLOAD_LENGTH or payload[0] != _TRON_VERSION_BYTE:
        raise ValueError("a TRON address is 21 bytes starting with 0x41")
    return _b58encode(payload + _checksum(payload))
