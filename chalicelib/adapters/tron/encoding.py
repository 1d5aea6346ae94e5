"""TRON transactions as the node's HTTP API carries them (`raw_data` with base58 addresses, `visible: true`)
and their id: the SHA-256 of `raw_data` serialised as the protocol buffer `Transaction.raw`.

Only the four contracts the shop signs are encoded, by hand, so the id is computed here and never taken
from the node: the id is what the exactly-once payout keys on, and the protobuf runtime plus TRON's
generated classes would add megabytes to the Lambda bundle for three small messages. Field numbers are
java-tron's (protocol/Tron.proto, contract/balance_contract.proto); the tests pin known ids."""
from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.domain.tron import address_from_bytes, address_to_bytes

TYPE_URL = "type.googleapis.com/protocol.{name}"
CONTRACT_TYPES = {"TransferContract": 1, "TriggerSmartContract": 31, "DelegateResourceContract": 57,
                  "UnDelegateResourceContract": 58}
TRC20_TRANSFER = "a9059cbb"          # transfer(address,uint256)
RESOURCE_CODES = {"BANDWIDTH": 0, "ENERGY": 1, "TRON_POWER": 2}

_VARINT, _BYTES = 0, 2


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64            # int64 on the wire: two's complement in ten bytes
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(number: int, value: int | bytes | bool | None) -> bytes:
    """One field, left out at its default (proto3 never writes 0, false or empty)."""
    if value is None or value is False or value == 0 or value == b"":
        return b""
    if isinstance(value, bytes):
        return _varint(number << 3 | _BYTES) + _varint(len(value)) + value
    return _varint(number << 3 | _VARINT) + _varint(int(value))


def _contract_value(kind: str, value: dict[str, Any]) -> bytes:
    owner = address_to_bytes(value["owner_address"])
    if kind == "TransferContract":
        return (_field(1, owner) + _field(2, address_to_bytes(value["to_address"]))
                + _field(3, int(value["amount"])))
    if kind == "TriggerSmartContract":
        return (_field(1, owner) + _field(2, address_to_bytes(value["contract_address"]))
                + _field(3, int(value.get("call_value", 0))) + _field(4, bytes.fromhex(value["data"])))
    resource = RESOURCE_CODES[value.get("resource", "BANDWIDTH")]
    body = (_field(1, owner) + _field(2, resource) + _field(3, int(value["balance"]))
            + _field(4, address_to_bytes(value["receiver_address"])))
    if kind == "DelegateResourceContract":
        body += _field(5, bool(value.get("lock", False))) + _field(6, int(value.get("lock_period", 0)))
    return body


def encode_raw_data(raw_data: dict[str, Any]) -> bytes:
    contracts = b""
    for contract in raw_data["contract"]:
        kind = contract["type"]
        if kind not in CONTRACT_TYPES:
            raise ValueError(f"contract type {kind} is not one the shop signs")
        parameter = contract["parameter"]
        any_message = (_field(1, parameter["type_url"].encode())
                       + _field(2, _contract_value(kind, parameter["value"])))
        contracts += _field(11, _field(1, CONTRACT_TYPES[kind]) + _field(2, any_message))
    return (_field(1, bytes.fromhex(raw_data["ref_block_bytes"])) + _field(4, bytes.fromhex(raw_data["ref_block_hash"]))
            + _field(8, int(raw_data["expiration"])) + _field(10, bytes.fromhex(raw_data.get("data", "")))
            + contracts + _field(14, int(raw_data["timestamp"])) + _field(18, int(raw_data.get("fee_limit", 0))))


def trc20_transfer_data(to_address: str, amount: int) -> str:
    """The call data of a TRC20 `transfer(to, amount)`: the selector, then both arguments in 32 bytes each."""
    return TRC20_TRANSFER + address_to_bytes(to_address)[1:].rjust(32, b"\0").hex() + amount.to_bytes(32, "big").hex()


def trc20_transfer_of(data: str) -> tuple[str, int] | None:
    """(to, amount) of a TRC20 `transfer` call, or None for any other call."""
    if len(data) != 8 + 128 or not data.startswith(TRC20_TRANSFER):
        return None
    return address_from_bytes(b"\x41" + bytes.fromhex(data[32:72])), int(data[72:], 16)


def transaction_id(raw_data: dict[str, Any]) -> str:
    return hashlib.sha256(encode_raw_data(raw_data)).hexdigest()


def contract(kind: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "parameter": {"type_url": TYPE_URL.format(name=kind), "value": value}}


def raw_data(contract_json: dict[str, Any], ref_block_id: str, timestamp_ms: int, expiration_ms: int,
             fee_limit: int = 0) -> dict[str, Any]:
    """`ref_block_id`: a recent block's id (hex); TRON ties a transaction to it by bytes 6-8 of the block
    number and bytes 8-16 of the hash. `fee_limit`: the most TRX (sun) a contract call may burn."""
    raw = {"contract": [contract_json], "ref_block_bytes": ref_block_id[12:16], "ref_block_hash": ref_block_id[16:32],
           "expiration": expiration_ms, "timestamp": timestamp_ms}
    if fee_limit:
        raw["fee_limit"] = fee_limit
    return raw
