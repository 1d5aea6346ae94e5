"""The TRON chain as the shop sees it: build and sign a transaction from its hot wallet, broadcast it, look it
up by id, read accounts and the chain's clock. Amounts are in sun (1 TRX = 1,000,000 sun, the same scale as
the shop's micro-units)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

ENERGY = "ENERGY"


class PayoutAction(StrEnum):
    TRANSFER = "transfer"          # TRX to an address (TransferContract)
    TOKEN_TRANSFER = "token_transfer"  # USDT (TRC20) to an address (TriggerSmartContract transfer)
    DELEGATE = "delegate"          # Stake 2.0 DelegateResourceContract, energy
    UNDELEGATE = "undelegate"      # Stake 2.0 UnDelegateResourceContract, energy


@dataclass(frozen=True)
class PayoutOrder:
    """What one payout does on chain: the same instruction is signed again only after its last transaction
    provably expired."""

    action: PayoutAction
    to_address: str
    amount_sun: int                 # TRX sent, staked TRX whose energy is (un)delegated, or USDT micros sent

    @property
    def asset(self) -> str:
        """What the payout spends from the hot wallet, as its ledger currency."""
        return {PayoutAction.TRANSFER: "TRX", PayoutAction.TOKEN_TRANSFER: "USDT"}.get(self.action, "ENERGY")


@dataclass(frozen=True)
class SignedTransaction:
    tx_id: str
    payload: dict[str, Any]         # exactly what is broadcast (raw_data and signature); opaque to the domain
    expires_at: datetime            # no block after this time can include it


class BroadcastResult(StrEnum):
    ACCEPTED = "ACCEPTED"           # in the node's pool (or a block) now
    DUPLICATE = "DUPLICATE"         # the node had it already: accepted by an earlier broadcast
    EXPIRED = "EXPIRED"             # the node refuses it as expired: it can never land


@dataclass(frozen=True)
class TransactionInfo:
    """A transaction found in a block."""

    tx_id: str
    succeeded: bool
    fee_sun: int
    block_time: datetime
    result: str = "SUCCESS"


@dataclass(frozen=True)
class AccountState:
    address: str
    activated: bool
    balance_sun: int
    energy_limit: int = 0
    energy_used: int = 0
    delegatable_energy_sun: int = 0  # staked TRX whose energy may still be delegated
    energy_per_trx_micros: int = 0   # energy one staked TRX gives now, times a million
    usdt_micros: int = 0             # the address's USDT (TRC20) balance


class ChainUnreachable(Exception):
    """The request provably never reached the node (connection refused): nothing happened."""


class ChainOutcomeUnknown(Exception):
    """The node may have acted on the request (a timeout after sending, a 5xx): look the id up."""


class ChainRejected(Exception):
    """The node refused the transaction for a reason that does not change by sending it again."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class TronChain(Protocol):
    @property
    def shop_address(self) -> str: ...

    def sign(self, payout: PayoutOrder, variant: int = 0) -> SignedTransaction:
        """Build the transaction from the shop's hot wallet and sign it; nothing is sent. The same instruction
        signed against the same head block is the same transaction (the same id) unless `variant` differs."""

    def broadcast(self, transaction: SignedTransaction) -> BroadcastResult:
        """Raises ChainUnreachable, ChainOutcomeUnknown or ChainRejected."""

    def lookup(self, tx_id: str) -> TransactionInfo | None:
        """The transaction as a block holds it, or None when no block does (yet)."""

    def head_time(self) -> datetime:
        """The timestamp of the newest block: the chain's own clock, which expiry is judged by."""

    def account(self, address: str) -> AccountState: ...
