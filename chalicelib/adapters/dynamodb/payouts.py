"""Payouts in DynamoDB. The claim (the payout with its signed transaction, and the order's step), the
replacement of an expired transaction and the landing (with its journal entries and the order's step) are
each one conditional write or transaction; the conditions name the transaction id the writer read. A payout
that ends without paying (cancelled, or reverted on chain) gives its amount back to the day's ceiling its
claim counted, in the transaction of that end: the payout's own condition makes it happen once. Every write that
stores a signed transaction also claims its id (`tx#<id>`), so two payouts of one instruction signed against one
block can never share a transaction (the chain would pay once and the books twice)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Iterator

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.ledger import add_entry
from chalicelib.adapters.dynamodb.models import OrderItem, PayoutItem
from chalicelib.adapters.dynamodb.orders import transition_update
from chalicelib.adapters.dynamodb.transactions import NamedTransaction
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.ports.common import Page
from chalicelib.domain.ports.payouts import (ClaimOutcome, DailyCeiling, OrderStep, Payout, PayoutState,
                                            TransactionTaken)
from chalicelib.domain.ports.tron import PayoutAction, SignedTransaction
from chalicelib.domain.shared import encode_cursor

_OPEN_KEY = {"payout_id": "S", "open_state": "S", "created_at": "S"}
_OPEN = frozenset({PayoutState.SIGNED, PayoutState.SCHEDULED})


def _item(payout: Payout) -> PayoutItem:
    return PayoutItem(payout.payout_id, action=payout.action.value, to_address=payout.to_address,
                      amount_sun=payout.amount_sun, booked_amount=payout.booked_amount, purpose=payout.purpose,
                      tx_id=payout.tx_id, signed=payout.signed, expires_at=payout.expires_at,
                      created_at=payout.created_at, state=payout.state.value,
                      open_state=payout.state.value if payout.state in _OPEN else None,
                      order_id=payout.order_id, attempt=payout.attempt, tx_ids=list(payout.tx_ids),
                      details=payout.details or None, ceiling_day=payout.ceiling_day)


def payout_from_item(item: PayoutItem) -> Payout:
    return Payout(item.payout_id, PayoutAction(item.action), item.to_address, int(item.amount_sun),
                  int(item.booked_amount), item.purpose, item.tx_id, item.signed, item.expires_at, item.created_at,
                  state=PayoutState(item.state), order_id=item.order_id, attempt=int(item.attempt),
                  tx_ids=tuple(item.tx_ids or ()), landed_at=item.landed_at, fee_sun=int(item.fee_sun or 0),
                  last_error=item.last_error, details=item.details or {}, ceiling_day=item.ceiling_day)


def _add_step(transaction: NamedTransaction, step: OrderStep, now: datetime) -> None:
    actions, condition = transition_update(step.transition, now, step.changes, step.order.order_id)
    transaction.update("order", OrderItem(step.order.order_id), actions, condition & OrderItem.order_id.exists())


def _holds(payout: Payout):
    return (PayoutItem.tx_id == payout.tx_id) & (PayoutItem.state == PayoutState.SIGNED.value)


def settled_day(moment: datetime) -> str:
    """The payout-day index's key: the UTC day, unsharded (a day holds few payouts next to its entries)."""
    return moment.astimezone(timezone.utc).date().isoformat()


def _claim_tx(transaction: NamedTransaction, payout_id: str, tx_id: str) -> None:
    transaction.update("tx", PayoutItem(f"tx#{tx_id}"), [PayoutItem.tx_owner.set(payout_id)],
                       PayoutItem.payout_id.does_not_exist() | (PayoutItem.tx_owner == payout_id))


def _commit(transaction: NamedTransaction) -> set[str]:
    """The failed writes' names; TransactionTaken when only the transaction id's claim failed."""
    failed = transaction.commit()
    if failed == {"tx"}:
        raise TransactionTaken()
    return failed


def _ceiling_key(asset: str, day: str) -> str:
    return f"day#{asset}#{day}"


def _give_back(transaction: NamedTransaction, payout: Payout) -> None:
    """The payout's amount off the ceiling of the day its claim counted. Unconditional on its own: it rides
    in the transaction that moves the payout out of SIGNED, whose condition lets exactly one writer in."""
    if payout.ceiling_day is not None:
        transaction.update("ceiling", PayoutItem(_ceiling_key(payout.asset, payout.ceiling_day)),
                           [PayoutItem.booked_amount.add(-payout.booked_amount)])


class DynamoPayoutStore:
    def claim(self, payout: Payout, step: OrderStep | None = None,
              ceiling: DailyCeiling | None = None) -> ClaimOutcome:
        transaction = NamedTransaction()
        transaction.put("payout", _item(payout), PayoutItem.payout_id.does_not_exist())
        _claim_tx(transaction, payout.payout_id, payout.tx_id)
        if step is not None:
            _add_step(transaction, step, payout.created_at)
        if ceiling is not None:
            room = ceiling.limit - payout.booked_amount
            transaction.update("ceiling", PayoutItem(_ceiling_key(payout.asset, ceiling.day)),
                               [PayoutItem.booked_amount.add(payout.booked_amount)],
                               PayoutItem.booked_amount.does_not_exist() | (PayoutItem.booked_amount <= room))
        failed = transaction.commit()
        if not failed:
            return ClaimOutcome.CLAIMED
        if failed - {"tx"} == {"ceiling"}:      # signed as another variant it would be over the ceiling all the same
            return ClaimOutcome.OVER_CEILING
        if failed == {"tx"}:
            raise TransactionTaken()
        return ClaimOutcome.TAKEN

    def paid_today(self, asset: str, day: str) -> int:
        try:
            return int(PayoutItem.get(_ceiling_key(asset, day), consistent_read=True).booked_amount or 0)
        except DoesNotExist:
            return 0

    def get(self, payout_id: str) -> Payout | None:
        try:
            return payout_from_item(PayoutItem.get(payout_id, consistent_read=True))
        except DoesNotExist:
            return None

    def replace_transaction(self, payout: Payout, transaction: SignedTransaction) -> Payout | None:
        replaced = payout.with_transaction(transaction)
        write = NamedTransaction()
        write.update("payout", PayoutItem(payout.payout_id), [
            PayoutItem.tx_id.set(replaced.tx_id), PayoutItem.signed.set(replaced.signed),
            PayoutItem.expires_at.set(replaced.expires_at), PayoutItem.attempt.set(replaced.attempt),
            PayoutItem.tx_ids.set(list(replaced.tx_ids)), PayoutItem.last_error.remove()], _holds(payout))
        _claim_tx(write, payout.payout_id, replaced.tx_id)
        return None if _commit(write) else replaced

    def land(self, payout: Payout, fee_sun: int, landed_at: datetime, entries: tuple[JournalEntry, ...],
             step: OrderStep | None = None) -> bool:
        return self._settle(payout, PayoutState.LANDED, fee_sun, landed_at, entries, step)

    def revert(self, payout: Payout, reason: str, fee_sun: int, reverted_at: datetime,
               entries: tuple[JournalEntry, ...], step: OrderStep | None = None) -> bool:
        return self._settle(payout, PayoutState.REVERTED, fee_sun, reverted_at, entries, step, reason)

    @staticmethod
    def _settle(payout: Payout, state: PayoutState, fee_sun: int, at: datetime, entries: tuple[JournalEntry, ...],
                step: OrderStep | None, reason: str | None = None) -> bool:
        transaction = NamedTransaction()
        actions = [PayoutItem.state.set(state.value), PayoutItem.open_state.remove(), PayoutItem.landed_at.set(at),
                   PayoutItem.fee_sun.set(fee_sun), PayoutItem.settled_day.set(settled_day(at))]
        if reason:
            actions.append(PayoutItem.last_error.set(reason[:300]))
        transaction.update("payout", PayoutItem(payout.payout_id), actions, _holds(payout))
        for entry in entries:
            add_entry(transaction, entry)
        if state == PayoutState.REVERTED:
            _give_back(transaction, payout)
        if step is not None:
            _add_step(transaction, step, at)
            if step.schedules is not None:
                transaction.put("scheduled", _item(step.schedules), PayoutItem.payout_id.does_not_exist())
        failed = transaction.commit()
        if "payout" in failed:
            return False
        if failed:   # the entry id exists or the order moved while the payout was still SIGNED: never expected
            raise RuntimeError(f"payout {payout.payout_id} could not be settled {state}: {sorted(failed)}")
        return True

    def note_error(self, payout: Payout, error: str) -> None:
        try:
            PayoutItem(payout.payout_id).update(actions=[PayoutItem.last_error.set(error)], condition=_holds(payout))
        except UpdateError as failure:
            if failure.cause_response_code != "ConditionalCheckFailedException":
                raise

    def cancel(self, payout: Payout, reason: str) -> bool:
        transaction = NamedTransaction()
        transaction.update("payout", PayoutItem(payout.payout_id), [
            PayoutItem.state.set(PayoutState.CANCELLED.value), PayoutItem.open_state.remove(),
            PayoutItem.last_error.set(reason[:300])], _holds(payout))
        _give_back(transaction, payout)
        return not transaction.commit()

    def start_scheduled(self, payout: Payout, transaction: SignedTransaction) -> Payout | None:
        started = replace(payout, tx_id=transaction.tx_id, signed=transaction.payload,
                          expires_at=transaction.expires_at, state=PayoutState.SIGNED, attempt=1,
                          tx_ids=(transaction.tx_id,))
        write = NamedTransaction()
        write.update("payout", PayoutItem(payout.payout_id), [
            PayoutItem.tx_id.set(started.tx_id), PayoutItem.signed.set(started.signed),
            PayoutItem.expires_at.set(started.expires_at), PayoutItem.state.set(PayoutState.SIGNED.value),
            PayoutItem.open_state.set(PayoutState.SIGNED.value), PayoutItem.attempt.set(1),
            PayoutItem.tx_ids.set(list(started.tx_ids))], PayoutItem.state == PayoutState.SCHEDULED.value)
        _claim_tx(write, payout.payout_id, started.tx_id)
        return None if _commit(write) else started

    def list_open(self, state: PayoutState, due_before: datetime, limit: int, cursor: str | None = None) -> Page:
        result = PayoutItem.by_open.query(state.value, PayoutItem.created_at <= due_before, limit=limit,
                                          last_evaluated_key=start_key(cursor, _OPEN_KEY, {"open_state": state.value}))
        return Page([payout_from_item(item) for item in result], encode_cursor(result.last_evaluated_key))

    def settled_of_day(self, day: date) -> Iterator[Payout]:
        for item in PayoutItem.by_settled_day.query(day.isoformat()):
            yield payout_from_item(item)
