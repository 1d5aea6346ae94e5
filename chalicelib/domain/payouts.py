"""On-chain payouts that happen exactly once, whatever is retried, raced, redelivered or crashed.

The protocol (docs/decisions.md, "On-chain payouts"):
1. Sign first, then claim: the signed transaction and its id are stored by the one conditional write that
   creates the payout record (and moves its order on, in the same DynamoDB transaction). A worker that
   loses the claim drops its own signature unsent; nothing was broadcast before the write.
2. Drive the stored transaction: read the chain's head time, then look the id up. Found in a block: the
   payout landed; its journal entry is written with SIGNED -> LANDED (conditional on that id). Not found
   and not expired: broadcast the same signed bytes again (a node answers a duplicate with
   DUP_TRANSACTION_ERROR; the chain includes one id at most once).
3. Only when the head time read before the lookup is past the stored expiration (plus a margin for blocks
   that are not yet final) is the transaction provably dead: every block that could hold it is older than
   the lookup. Then a new transaction is signed and stored in place of the old one, on condition that the
   old id is still the stored one, so two workers can never both replace it.
A transaction id is one payout's: the write that stores a signed transaction also claims its id, and a
payout whose instruction another payout signed against the same block is signed again as another variant
(its timestamp a millisecond on), so the chain never pays once for two payouts booked twice.
4. Found in a block but failed (a USDT transfer that reverted, out of energy say): nothing reached the
   receiver, yet the chain burned its fee. SIGNED -> REVERTED (conditional on that id) books the fee, gives
   the amount back to the day's ceiling and writes the order's step, in one transaction; it is never signed
   again by itself (docs/decisions.md).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

from chalicelib.domain import ledger
from chalicelib.domain.ledger import JournalEntry, Line, Purpose
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.payouts import (ClaimOutcome, DailyCeiling, OrderStep, Payout, PayoutState, PayoutStore,
                                            TransactionTaken)
from chalicelib.domain.ports.tron import (BroadcastResult, ChainOutcomeUnknown, ChainRejected, ChainUnreachable,
                                         PayoutAction, PayoutOrder, SignedTransaction, TransactionInfo, TronChain)

TRX = "TRX"
ENERGY = "ENERGY"
# Blocks younger than this may still be replaced (TRON finalises a block after 19 more, about a minute).
EXPIRY_MARGIN = timedelta(seconds=90)
DRIVE_ROUNDS = 3
SIGN_VARIANTS = 16       # payouts of one instruction signed against one block before a worker gives up for now
Written = TypeVar("Written")
CARRIED_BY_ORDER = "order"    # a payout whose landing moves its order: its queue message and repair drive it


@dataclass(frozen=True)
class Driven:
    payout: Payout
    landed_now: bool = False      # this call wrote the landing (and its entries): tell whoever waits

    @property
    def failed_on_chain(self) -> bool:
        """A block holds it but it failed (a reverted USDT transfer): it paid nothing."""
        return self.payout.state == PayoutState.REVERTED


# What settling a payout moves its order to: the step written in the same transaction, if any.
OnSettled = Callable[[Payout], OrderStep | None]


def hot_wallet(currency: str = TRX) -> str:
    return f"{ledger.AccountKind.INVENTORY}:hot-wallet:{currency}"


def energy_inventory() -> str:
    return f"{ledger.AccountKind.INVENTORY}:energy:{ENERGY}"


def payouts_account(purpose: str, currency: str = TRX) -> str:
    return f"{ledger.AccountKind.PAYOUTS}:{purpose}:{currency}"


def network_fees() -> str:
    return f"{ledger.AccountKind.NETWORK_FEES}:{TRX}"


def delegated(address: str) -> str:
    return f"{ledger.AccountKind.DELEGATED}:{address}:{ENERGY}"


def payout_entries(payout: Payout, fee_sun: int, now: datetime) -> tuple[JournalEntry, ...]:
    """What a landed payout moves. The shop's holdings are negative (like a clearing account that took money
    in): sending TRX out raises the hot wallet's line toward zero and books the amount to the product's
    payouts and the burned fee to network fees; USDT sent likewise, in USDT, its TRX fee in a second entry.
    Energy is lent, not spent: delegating moves it from the inventory to the receiver's delegated account and
    taking it back moves it home."""
    # The transaction id goes in the memo: an entry's `transaction_id` names an incoming payment, which
    # reconciliation matches against the payments table.
    about: dict[str, Any] = {"order_id": payout.order_id, "memo": f"{payout.purpose} {payout.tx_id}"}
    entry_id = f"payout:{payout.payout_id}"
    fee_lines = [Line(network_fees(), -fee_sun)] if fee_sun else []
    if payout.action == PayoutAction.TRANSFER:
        lines = (Line(hot_wallet(), payout.booked_amount + fee_sun), Line(payouts_account(payout.purpose),
                                                                          -payout.booked_amount), *fee_lines)
        return (JournalEntry(entry_id, Purpose.PAYOUT, TRX, lines, now, **about),)
    if payout.action == PayoutAction.TOKEN_TRANSFER:
        currency = payout.asset
        sent = JournalEntry(entry_id, Purpose.PAYOUT, currency, (
            Line(hot_wallet(currency), payout.booked_amount),
            Line(payouts_account(payout.purpose, currency), -payout.booked_amount)), now, **about)
    else:
        sign = 1 if payout.action == PayoutAction.DELEGATE else -1
        sent = JournalEntry(entry_id, Purpose.PAYOUT, ENERGY, (
            Line(energy_inventory(), sign * payout.booked_amount),
            Line(delegated(payout.to_address), -sign * payout.booked_amount)), now, **about)
    if not fee_sun:
        return (sent,)
    return sent, _fee_entry(payout, fee_sun, now)


def _fee_entry(payout: Payout, fee_sun: int, now: datetime) -> JournalEntry:
    return JournalEntry(f"payout-fee:{payout.payout_id}", Purpose.PAYOUT, TRX,
                        (Line(hot_wallet(), fee_sun), Line(network_fees(), -fee_sun)), now,
                        order_id=payout.order_id, memo=f"{payout.purpose} {payout.tx_id}")


def reverted_entries(payout: Payout, fee_sun: int, now: datetime) -> tuple[JournalEntry, ...]:
    """What a payout that reverted on chain moves: only the TRX its transaction burned, hot wallet to network
    fees (under the id a landed payout's fee would have: a payout lands or reverts, never both)."""
    return (_fee_entry(payout, fee_sun, now),) if fee_sun else ()


def settled_entries(payout: Payout) -> tuple[JournalEntry, ...]:
    """The entries a payout in a block booked when it settled: what reconciliation expects to find."""
    assert payout.landed_at is not None
    if payout.state == PayoutState.REVERTED:
        return reverted_entries(payout, payout.fee_sun, payout.landed_at)
    return payout_entries(payout, payout.fee_sun, payout.landed_at)


class PayoutService:
    def __init__(self, store: PayoutStore, chain: TronChain, clock: Clock, alert: Callable[[str, str], None],
                 count: Callable[[str], None], log: Any, margin: timedelta = EXPIRY_MARGIN) -> None:
        self._store = store
        self._chain = chain
        self._clock = clock
        self._alert = alert
        self._count = count
        self._log = log
        self._margin = margin

    def get(self, payout_id: str) -> Payout | None:
        return self._store.get(payout_id)

    def open(self, payout_id: str, instruction: PayoutOrder, booked_amount: int, purpose: str, *,
             order_id: str | None = None, step: OrderStep | None = None, ceiling: DailyCeiling | None = None,
             details: dict[str, Any] | None = None) -> tuple[ClaimOutcome, Payout | None]:
        """Sign, then claim (the payout record with its transaction, the order's step and the day's total, in
        one write). With the outcome, the payout that exists after the claim, whoever wrote it (None when the
        claim was refused and no payout exists)."""
        now = self._clock.now()

        def claim(signed: SignedTransaction) -> tuple[Payout, ClaimOutcome]:
            payout = Payout(payout_id, instruction.action, instruction.to_address, instruction.amount_sun,
                            booked_amount, purpose, signed.tx_id, signed.payload, signed.expires_at, now,
                            order_id=order_id, tx_ids=(signed.tx_id,), details=details or {},
                            ceiling_day=ceiling.day if ceiling is not None else None)
            return payout, self._store.claim(payout, step, ceiling)
        _, (payout, outcome) = self._signed(instruction, claim)
        if outcome == ClaimOutcome.CLAIMED:
            self._count("PayoutsSigned")
            return outcome, payout
        return outcome, self._store.get(payout_id)

    def drive(self, payout: Payout, on_landed: OnSettled | None = None,
              on_reverted: OnSettled | None = None) -> Driven:
        """Carry a payout as far as the chain allows now: LANDED or REVERTED, or still SIGNED (look again
        later). `on_landed` / `on_reverted`: the order's step written with that settlement."""
        for _ in range(DRIVE_ROUNDS):
            if payout.state != PayoutState.SIGNED:
                return Driven(payout)
            try:
                head = self._chain.head_time()          # before the lookup: see the module's step 3
                info = self._chain.lookup(payout.tx_id)
                if info is not None:
                    return self._settle(payout, info, on_landed, on_reverted)
                if head > payout.expires_at + self._margin:
                    payout = self._replace(payout)
                    continue
                if self._broadcast(payout):
                    info = self._chain.lookup(payout.tx_id)
                    if info is not None:
                        return self._settle(payout, info, on_landed, on_reverted)
            except (ChainUnreachable, ChainOutcomeUnknown) as error:
                self._log.info("payout waits for the chain", extra={"payout_id": payout.payout_id,
                                                                   "error": str(error)})
            return Driven(payout)
        return Driven(payout)

    def _broadcast(self, payout: Payout) -> bool:
        """True when the node holds the transaction now."""
        try:
            result = self._chain.broadcast(payout.transaction)
        except ChainRejected as refused:
            self._store.note_error(payout, str(refused)[:300])
            self._count("PayoutsRefused")
            self._alert(f"payout-refused:{payout.payout_id}",
                        f"The node refused payout {payout.payout_id} ({payout.tx_id}): {refused}. It is signed "
                        f"again after it expires at {payout.expires_at:%Y-%m-%d %H:%M:%S} UTC.")
            return False
        except ChainOutcomeUnknown:
            self._count("PayoutBroadcastUnknown")
            return True                     # it may be in: look it up
        self._count("PayoutBroadcasts")
        return result != BroadcastResult.EXPIRED

    def _signed(self, instruction: PayoutOrder,
                write: Callable[[SignedTransaction], Written]) -> tuple[SignedTransaction, Written]:
        """Sign and write; while the id is another payout's (TransactionTaken), sign the next variant."""
        for variant in range(SIGN_VARIANTS):
            signed = self._chain.sign(instruction, variant)
            try:
                return signed, write(signed)
            except TransactionTaken:
                self._count("PayoutTransactionsTaken")
        raise ChainUnreachable(f"{SIGN_VARIANTS} payouts of {instruction} were signed against this block")

    def _replace(self, payout: Payout) -> Payout:
        signed, replaced = self._signed(payout.instruction,
                                        lambda signed: self._store.replace_transaction(payout, signed))
        if replaced is None:                # another worker replaced or landed it: carry on with theirs
            return self._store.get(payout.payout_id) or payout
        self._count("PayoutsResigned")
        self._log.info("payout signed again after its transaction expired unlanded",
                       extra={"payout_id": payout.payout_id, "expired_tx": payout.tx_id, "tx_id": signed.tx_id})
        return replaced

    def _settle(self, payout: Payout, info: TransactionInfo, on_landed: OnSettled | None,
                on_reverted: OnSettled | None) -> Driven:
        now = self._clock.now()
        if not info.succeeded:
            step = on_reverted(payout) if on_reverted is not None else None
            if not self._store.revert(payout, f"reverted on chain: {info.result}", info.fee_sun, now,
                                      reverted_entries(payout, info.fee_sun, now), step):
                return Driven(self._store.get(payout.payout_id) or payout)
            self._count("PayoutsReverted")
            self._alert(f"payout-failed:{payout.payout_id}",
                        f"Payout {payout.payout_id} landed as {info.tx_id} but failed ({info.result}): nothing was "
                        f"paid, {info.fee_sun} sun of TRX burned. It is not signed again by itself; see review.")
            return Driven(replace(payout, state=PayoutState.REVERTED, landed_at=now, fee_sun=info.fee_sun))
        step = on_landed(payout) if on_landed is not None else None
        if self._store.land(payout, info.fee_sun, now, payout_entries(payout, info.fee_sun, now), step):
            self._count("PayoutsLanded")
            return Driven(replace(payout, state=PayoutState.LANDED, landed_at=now, fee_sun=info.fee_sun), True)
        return Driven(self._store.get(payout.payout_id) or payout)

    def sweep(self, limit: int = 100) -> list[Payout]:
        """The schedule's run: start the scheduled payouts that are due (sign, then the conditional write that
        moves SCHEDULED -> SIGNED), then drive every SIGNED payout older than a minute once more (the safety
        net for payouts no queue message carries, such as a rental's return or an automatic swap)."""
        now = self._clock.now()
        driven = []
        for payout in self._store.list_open(PayoutState.SCHEDULED, now, limit).items:
            _, started = self._signed(payout.instruction,
                                      lambda signed: self._store.start_scheduled(payout, signed))
            if started is not None:
                self._count("PayoutsSigned")
            driven.append(self.drive(started or self._store.get(payout.payout_id) or payout).payout)
        for payout in self._store.list_open(PayoutState.SIGNED, now - timedelta(minutes=1), limit).items:
            if payout.details.get("carried_by") != CARRIED_BY_ORDER:   # those land with their order's step
                driven.append(self.drive(payout).payout)
        return driven
