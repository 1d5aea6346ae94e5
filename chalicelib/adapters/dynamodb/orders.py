"""Orders in DynamoDB, written with the payment slot they hold. Every status change is a conditional write."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, fields, replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters.dynamodb.cursors import start_key
from chalicelib.adapters.dynamodb.ledger import add_entry, raise_if_short
from chalicelib.adapters.dynamodb.models import AccountItem, OrderItem, connection
from chalicelib.adapters.dynamodb.open_due import open_due_key, query_due
from chalicelib.adapters.dynamodb.slots import pay_slot, slot_free_condition, slot_item
from chalicelib.adapters.dynamodb.transactions import NamedTransaction
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.orders import OPEN_STATUSES, Order, OrderStatus, Transition
from chalicelib.domain.ports.common import Page
from chalicelib.domain.ports.orders import OpenOrderLimitReached, SlotTaken
from chalicelib.domain.ports.payments import PaymentSlot
from chalicelib.domain.shared import encode_cursor

_ORDER_FIELDS = tuple(field.name for field in fields(Order))
# Steps a waiting order can repeat every repair run (Stars low, Telegram unreachable): not kept in its history,
# which would otherwise grow without bound. Every other step happens at most once per order (or per operator act).
UNRECORDED_STEPS = frozenset({"start_delivery", "start_fulfilment", "wait_for_stars", "return_to_paid"})
_BY_OWNER_KEY = {"order_id": "S", "owner_id": "S", "created_at": "S"}


def order_from_item(item: OrderItem) -> Order:
    values = {name: getattr(item, name) for name in _ORDER_FIELDS}
    values["paid_late"] = bool(values.get("paid_late"))
    values["payment_method"] = values.get("payment_method") or "trc20"
    values["details"] = values.get("details") or {}
    return Order(**values)


def _open_index_values(order: Order) -> tuple[str | None, datetime | None]:
    if order.status not in OPEN_STATUSES:
        return None, None
    due_at = order.expires_at if order.status == OrderStatus.PENDING else order.status_changed_at
    return open_due_key(order.status, order.order_id), due_at


def transition_update(transition: Transition, now: datetime, changes: dict[str, Any],
                      order_id: str) -> tuple[list, Any]:
    """The update actions and condition of one state-machine step, kept in step with the work index."""
    target = transition.target
    actions = [OrderItem.status.set(target.value), OrderItem.status_changed_at.set(now)]
    if target in OPEN_STATUSES and target != OrderStatus.PENDING:
        actions += [OrderItem.open_status.set(open_due_key(target, order_id)), OrderItem.due_at.set(now)]
    elif target not in OPEN_STATUSES:
        actions += [OrderItem.open_status.remove(), OrderItem.due_at.remove()]
    for name, value in changes.items():
        attribute = getattr(OrderItem, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if transition.name not in UNRECORDED_STEPS:   # the order's history for the panel, bounded: milestones only
        milestone = {"at": now.isoformat(), "to": target.value, "step": transition.name}
        actions.append(OrderItem.history.set((OrderItem.history | []).append([milestone])))
    return actions, OrderItem.status.is_in(*(status.value for status in transition.sources))


def cancellation_reasons(error: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in error.cancellation_reasons]


class DynamoOrderStore:
    def get(self, order_id: str) -> Order | None:
        try:
            return order_from_item(OrderItem.get(order_id, consistent_read=True))
        except DoesNotExist:
            return None

    def get_many(self, order_ids: Iterable[str]) -> dict[str, Order]:
        return {item.order_id: order_from_item(item)
                for item in OrderItem.batch_get(sorted(set(order_ids)), consistent_read=True)}

    def _item_for(self, order: Order, slot: PaymentSlot | None = None) -> OrderItem:
        open_status, due_at = _open_index_values(order)
        values = asdict(order)
        values["status"] = order.status.value
        values["details"] = order.details or None
        held = pay_slot(slot.address, slot.fraction_micros) if slot is not None else None
        return OrderItem(**values, open_status=open_status, due_at=due_at, pay_slot=held)

    def create(self, order: Order) -> None:
        self._item_for(order).save(condition=OrderItem.order_id.does_not_exist())

    def create_pending(self, order: Order, max_pending: int, slot: PaymentSlot | None = None) -> None:
        now = order.created_at
        try:
            with TransactWrite(connection=connection()) as transaction:
                if slot is not None:
                    transaction.save(slot_item(slot), condition=slot_free_condition(now))
                transaction.save(self._item_for(order, slot), condition=OrderItem.order_id.does_not_exist())
                transaction.update(AccountItem(order.owner_id), actions=[AccountItem.pending_orders.add(1)],
                                   condition=AccountItem.pending_orders.does_not_exist()
                                   | (AccountItem.pending_orders < max_pending))
        except TransactWriteError as error:
            reasons = cancellation_reasons(error)
            if reasons[-1:] == ["ConditionalCheckFailed"]:
                raise OpenOrderLimitReached(max_pending) from None
            if slot is not None and reasons[:1] == ["ConditionalCheckFailed"]:
                raise SlotTaken() from None
            raise

    def claim(self, order_id: str, transition: Transition, now: datetime) -> tuple[Order, Order] | None:
        actions, condition = transition_update(transition, now, {}, order_id)
        try:
            response = OrderItem._get_connection().update_item(
                order_id, actions=actions, condition=condition & OrderItem.order_id.exists(),
                return_values="ALL_OLD")
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        before = order_from_item(OrderItem.from_raw_data(response["Attributes"]))
        return before, replace(before, status=transition.target, status_changed_at=now)

    def create_paid(self, order: Order, entry: JournalEntry) -> None:
        transaction = NamedTransaction()
        transaction.put("order", self._item_for(order), OrderItem.order_id.does_not_exist())
        add_entry(transaction, entry)
        failed = transaction.commit()
        raise_if_short(failed, entry)
        if failed:
            raise RuntimeError(f"order {order.order_id} or its entry exists already: ids are never reused")

    def apply(self, order: Order, transition: Transition, now: datetime, entry: JournalEntry | None = None,
              **changes: Any) -> Order | None:
        actions, condition = transition_update(transition, now, changes, order.order_id)
        item = OrderItem(order.order_id)
        if transition.leaves_pending or entry is not None:
            return self._apply_in_transaction(order, item, actions, condition, transition, now, entry, changes)
        try:
            item.update(actions=actions, condition=condition & OrderItem.order_id.exists())
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return order_from_item(item)

    def _apply_in_transaction(self, order: Order, item: OrderItem, actions: list, condition: Any,
                              transition: Transition, now: datetime, entry: JournalEntry | None,
                              changes: dict[str, Any]) -> Order | None:
        """Leaving PENDING frees one of the owner's open-order places, and a refund's entry is written, in the
        same transaction. A transaction returns no item, so the result is the order with the changes applied."""
        transaction = NamedTransaction()
        transaction.update("order", item, actions, condition & OrderItem.order_id.exists())
        if transition.leaves_pending:
            transaction.update("open-orders", AccountItem(order.owner_id), [AccountItem.pending_orders.add(-1)],
                               AccountItem.pending_orders > 0)
        if entry is not None:
            add_entry(transaction, entry)
        failed = transaction.commit()
        if "order" in failed:
            return None
        if entry is not None:
            raise_if_short(failed, entry)
        if failed:
            raise RuntimeError(f"order {order.order_id}: {transition.name} failed on {sorted(failed)}")
        return replace(order, status=transition.target, status_changed_at=now, **changes)

    def update_progress(self, order_id: str, **changes: Any) -> None:
        actions = [getattr(OrderItem, name).remove() if value is None else getattr(OrderItem, name).set(value)
                   for name, value in changes.items()]
        OrderItem(order_id).update(actions=actions, condition=OrderItem.order_id.exists())

    def list_by_owner(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        result = OrderItem.by_owner.query(owner_id, scan_index_forward=False, limit=limit,
                                          last_evaluated_key=start_key(cursor, _BY_OWNER_KEY,
                                                                       {"owner_id": owner_id}))
        items = [order_from_item(item) for item in result]
        return Page(items, encode_cursor(result.last_evaluated_key))

    def list_due(self, status: OrderStatus, due_before: datetime, limit: int,
                 cursor: str | None = None) -> Page:
        items, next_cursor = query_due(status, due_before, limit, cursor)
        return Page([order_from_item(item) for item in items], next_cursor)


def order_history(order_id: str) -> list[dict[str, Any]]:
    """The order's recorded milestones, oldest first (empty for an order written before they were kept)."""
    try:
        return list(OrderItem.get(order_id, consistent_read=True, attributes_to_get=["history"]).history or [])
    except DoesNotExist:
        return []
