"""The shop's hot-wallet key: signs transaction ids (secp256k1, recoverable, as TRON wants) and never shows
itself in a repr, a log line or an exception."""
from __future__ import annotations

from coincurve import PrivateKey


class ShopKey:
    __slots__ = ("_key",)

    def __init__(self, private_key_hex: str) -> None:
        try:
            self._key = PrivateKey(bytes.fromhex(private_key_hex.removeprefix("0x")))
        except ValueError:
            raise ValueError("the TRON private key must be 32 bytes in hex") from None

    def sign(self, tx_id: str) -> str:
        """The 65-byte signature (r, s, recovery id) of the transaction id, in hex."""
        return self._key.sign_recoverable(bytes.fromhex(tx_id), hasher=None).hex()

    @property
    def public_key_hex(self) -> str:
        return self._key.public_key.format(compressed=False).hex()

    def __repr__(self) -> str:
        return "ShopKey(***)"

    __str__ = __repr__
