"""What the fake TRON node remembers: accounts, balances, staked energy and delegations, the transactions it
took and the blocks that hold them, every broadcast it was sent, and the faults a test asked for.

A broadcast is checked as java-tron checks it (the id is the hash of `raw_data`, the signature recovers to
the owner's key, not expired, not seen before, the contract valid against the owner's balance or stake)
and answers in java-tron's shapes. A taken transaction lands in the next block at once unless a fault holds
it back; a held transaction lands on `mine()` or, once its expiration has passed, never."""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from coincurve import PublicKey

from chalicelib.adapters.tron.encoding import transaction_id, trc20_transfer_of

GENESIS_MS = 1_500_000_000_000
BLOCK_MS = 3_000
# A network-wide figure: the energy one staked TRX gives (TotalEnergyLimit / TotalEnergyWeight).
TOTAL_ENERGY_LIMIT = 180_000_000_000
TOTAL_ENERGY_WEIGHT = 18_000_000_000          # in TRX: ten energy a staked TRX
ACTIVATION_FEE_SUN = 1_100_000               # creating an account by sending it TRX
# What a USDT transfer that runs out of energy burns before it reverts (the fee limit's worth of energy in TRX).
OUT_OF_ENERGY_FEE_SUN = 13_844_850


def energy_for_sun(sun: int) -> int:
    return sun * TOTAL_ENERGY_LIMIT // (TOTAL_ENERGY_WEIGHT * 1_000_000)


@dataclass
class Account:
    address: str
    balance_sun: int = 0
    public_key: str | None = None           # who may sign for it (the fake has no keccak to derive it)
    staked_energy_sun: int = 0              # Stake 2.0 frozen for energy
    delegated_out: dict[str, int] = field(default_factory=dict)    # receiver -> staked sun delegated
    acquired_energy_sun: int = 0
    tokens: dict[str, int] = field(default_factory=dict)           # TRC20 contract -> balance in base units


@dataclass
class Landed:
    payload: dict[str, Any]
    block_number: int
    block_ms: int
    fee_sun: int
    result: str = "SUCCESS"


@dataclass
class Fault:
    """What the next `times` broadcasts meet. `timeout_after_accept`: taken, answered 504;
    `timeout_before_accept`: dropped, answered 504; `hold`: taken, lands only on mine();
    `drop`: answered as taken, never lands; `busy`: SERVER_BUSY; `revert`: taken, and a contract call (a USDT
    transfer) lands reverted as OUT_OF_ENERGY, moving no tokens and burning OUT_OF_ENERGY_FEE_SUN."""

    kind: str
    times: int = 1


class NodeState:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """A chain with nothing on it (the app served over it keeps working)."""
        self.accounts: dict[str, Account] = {}
        self.landed: dict[str, Landed] = {}
        self.held: dict[str, dict[str, Any]] = {}
        self.dropped: set[str] = set()
        self.broadcasts: list[tuple[str, str]] = []     # (tx id, what the node answered)
        self.faults: list[Fault] = []
        self.transfer_fee_sun = 0

    # ------------------------------------------------------------------ the chain's clock
    def head_ms(self) -> int:
        return int(self._now().astimezone(timezone.utc).timestamp() * 1000)

    def head_number(self) -> int:
        return max(1, (self.head_ms() - GENESIS_MS) // BLOCK_MS)

    def block_id(self, number: int) -> str:
        return number.to_bytes(8, "big").hex() + hashlib.sha256(str(number).encode()).hexdigest()[16:]

    # ------------------------------------------------------------------ set-up
    def account(self, address: str) -> Account:
        return self.accounts.setdefault(address, Account(address))

    def fund(self, address: str, balance_sun: int | None = None, *, public_key: str | None = None,
             staked_energy_sun: int | None = None, tokens: dict[str, int] | None = None) -> Account:
        with self.lock:
            account = self.account(address)
            if balance_sun is not None:
                account.balance_sun = balance_sun
            if public_key is not None:
                account.public_key = public_key
            if staked_energy_sun is not None:
                account.staked_energy_sun = staked_energy_sun
            account.tokens.update(tokens or {})
            return account

    def inject(self, kind: str, times: int = 1) -> None:
        with self.lock:
            self.faults.append(Fault(kind, times))

    def _next_fault(self) -> str | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.times -= 1
        if fault.times <= 0:
            self.faults.pop(0)
        return fault.kind

    # ------------------------------------------------------------------ broadcast
    def broadcast(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, answer)."""
        with self.lock:
            tx_id = str(payload.get("txID", ""))
            status, answer = self._broadcast(tx_id, payload)
            self.broadcasts.append((tx_id, "504" if status == 504 else answer.get("code", "SUCCESS")))
            return status, answer

    def _broadcast(self, tx_id: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raw = payload.get("raw_data") or {}
        try:
            if transaction_id(raw) != tx_id:
                return 200, _refused("SIGERROR", "txID is not the hash of raw_data")
            value = raw["contract"][0]["parameter"]["value"]
            kind = raw["contract"][0]["type"]
        except (KeyError, IndexError, TypeError, ValueError) as error:
            return 200, _refused("OTHER_ERROR", f"malformed transaction: {error}")
        if tx_id in self.landed or tx_id in self.held or tx_id in self.dropped:
            return 200, _refused("DUP_TRANSACTION_ERROR", "dup transaction")
        if int(raw.get("expiration", 0)) <= self.head_ms():
            return 200, _refused("TRANSACTION_EXPIRATION_ERROR", "transaction expired")
        owner = self.accounts.get(value.get("owner_address", ""))
        if owner is None or not _signed_by(owner, tx_id, payload.get("signature") or []):
            return 200, _refused("SIGERROR", "validate signature error")
        problem = self._invalid(kind, owner, value)
        if problem:
            return 200, _refused("CONTRACT_VALIDATE_ERROR", problem)
        fault = self._next_fault()
        if fault == "busy":
            return 200, _refused("SERVER_BUSY", "server busy")
        if fault == "timeout_before_accept":
            return 504, {"Error": "gateway timeout"}
        if fault in ("hold", "drop"):
            (self.held.__setitem__(tx_id, payload) if fault == "hold" else self.dropped.add(tx_id))
        else:
            self._land(tx_id, payload, out_of_energy=fault == "revert")
        if fault == "timeout_after_accept":
            return 504, {"Error": "gateway timeout"}
        return 200, {"result": True, "txid": tx_id}

    def _invalid(self, kind: str, owner: Account, value: dict[str, Any]) -> str | None:
        if kind == "TriggerSmartContract":
            if trc20_transfer_of(value.get("data", "")) is None:
                return "only TRC20 transfer calls are emulated"
            return None if owner.balance_sun > 0 else "account has no TRX to pay for the call"
        if kind == "TransferContract":
            needed = int(value["amount"]) + self._fee(value["to_address"])
            return None if owner.balance_sun >= needed else "balance is not sufficient"
        balance, receiver = int(value["balance"]), value["receiver_address"]
        if receiver not in self.accounts:
            return "Account does not exist"
        if kind == "DelegateResourceContract":
            return None if self.delegatable(owner) >= balance else "delegateBalance must be less than available"
        if kind == "UnDelegateResourceContract":
            return None if owner.delegated_out.get(receiver, 0) >= balance else "insufficient delegatedFrozenBalance"
        return f"contract type {kind} is not supported here"

    def _fee(self, to_address: str) -> int:
        return self.transfer_fee_sun + (0 if to_address in self.accounts else ACTIVATION_FEE_SUN)

    def delegatable(self, owner: Account) -> int:
        return owner.staked_energy_sun - sum(owner.delegated_out.values())

    def _land(self, tx_id: str, payload: dict[str, Any], out_of_energy: bool = False) -> None:
        contract = payload["raw_data"]["contract"][0]
        value, kind = contract["parameter"]["value"], contract["type"]
        owner = self.accounts[value["owner_address"]]
        fee, result = 0, "SUCCESS"
        if kind == "TriggerSmartContract" and out_of_energy:
            fee, result = min(OUT_OF_ENERGY_FEE_SUN, owner.balance_sun), "OUT_OF_ENERGY"
            owner.balance_sun -= fee
        elif kind == "TriggerSmartContract":
            to_address, amount = trc20_transfer_of(value["data"])  # type: ignore[misc] - checked when taken
            token = value["contract_address"]
            fee = self.transfer_fee_sun
            owner.balance_sun -= fee
            if owner.tokens.get(token, 0) >= amount:   # a transfer of more than it holds reverts, fee burned
                owner.tokens[token] -= amount
                receiver = self.account(to_address)
                receiver.tokens[token] = receiver.tokens.get(token, 0) + amount
            else:
                result = "REVERT"
        elif kind == "TransferContract":
            fee = self._fee(value["to_address"])
            owner.balance_sun -= int(value["amount"]) + fee
            self.account(value["to_address"]).balance_sun += int(value["amount"])
        else:
            receiver, balance = self.accounts[value["receiver_address"]], int(value["balance"])
            sign = 1 if kind == "DelegateResourceContract" else -1
            owner.delegated_out[receiver.address] = owner.delegated_out.get(receiver.address, 0) + sign * balance
            receiver.acquired_energy_sun += sign * balance
        self.landed[tx_id] = Landed(payload, self.head_number() + 1, self.head_ms() + BLOCK_MS, fee, result)

    def mine(self) -> list[str]:
        """Land every held transaction that has not expired; an expired one is forgotten, as a pool does."""
        with self.lock:
            landed = []
            for tx_id, payload in list(self.held.items()):
                del self.held[tx_id]
                if int(payload["raw_data"]["expiration"]) > self.head_ms() and not self._invalid(
                        payload["raw_data"]["contract"][0]["type"],
                        self.accounts[payload["raw_data"]["contract"][0]["parameter"]["value"]["owner_address"]],
                        payload["raw_data"]["contract"][0]["parameter"]["value"]):
                    self._land(tx_id, payload)
                    landed.append(tx_id)
            return landed

    # ------------------------------------------------------------------ reads
    def transaction_info(self, tx_id: str) -> dict[str, Any]:
        with self.lock:
            landed = self.landed.get(tx_id)
            if landed is None or landed.block_ms > self.head_ms() + BLOCK_MS:
                return {}
            info: dict[str, Any] = {"id": tx_id, "blockNumber": landed.block_number,
                                    "blockTimeStamp": landed.block_ms, "receipt": {"net_usage": 268}}
            if "TriggerSmartContract" == landed.payload["raw_data"]["contract"][0]["type"]:
                info["receipt"]["result"] = landed.result
                if landed.result != "SUCCESS":
                    info["result"] = "FAILED"
            if landed.fee_sun:
                info["fee"] = landed.fee_sun
            return info

    def transaction(self, tx_id: str) -> dict[str, Any]:
        with self.lock:
            landed = self.landed.get(tx_id)
            return {**landed.payload, "ret": [{"contractRet": "SUCCESS"}]} if landed else {}

    def landed_payouts(self, to_address: str | None = None) -> list[dict[str, Any]]:
        """The contract values of every landed transaction (to one address), oldest first."""
        with self.lock:
            values = [landed.payload["raw_data"]["contract"][0]["parameter"]["value"] | {
                "type": landed.payload["raw_data"]["contract"][0]["type"]} for landed in self.landed.values()]
        for value in values:
            call = trc20_transfer_of(value.get("data", ""))
            if call is not None:
                value["token_to"], value["token_amount"] = call
        return [value for value in values if to_address in (None, value.get("to_address"),
                                                            value.get("receiver_address"), value.get("token_to"))]

    def broadcasts_of(self, tx_id: str | None = None) -> list[tuple[str, str]]:
        with self.lock:
            return [entry for entry in self.broadcasts if tx_id in (None, entry[0])]


def _refused(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message.encode().hex()}


def _signed_by(owner: Account, tx_id: str, signatures: list[str]) -> bool:
    if owner.public_key is None or len(signatures) != 1:
        return False
    try:
        signature = bytes.fromhex(signatures[0])
        recovered = PublicKey.from_signature_and_message(signature, bytes.fromhex(tx_id), hasher=None)
    except ValueError:
        return False
    return recovered.format(compressed=False).hex() == owner.public_key
