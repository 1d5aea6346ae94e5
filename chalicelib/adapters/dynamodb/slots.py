"""Amount slots in DynamoDB: the latest holder of each (address, fraction) in the amount-slots table, taken
in the order's creation transaction; earlier holders from the orders' pay-slot index."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters.dynamodb.models import AmountSlotItem, OrderItem
from chalicelib.domain.ports.payments import PaymentSlot

SLOT_TTL_GRACE = timedelta(days=1)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def pay_slot(address: str, fraction_micros: int) -> str:
    """The orders' pay-slot index key."""
    return f"{address}#{fraction_micros}"


def slot_item(slot: PaymentSlot) -> AmountSlotItem:
    return AmountSlotItem(slot.address, slot.fraction_micros, amount_micros=slot.amount_micros,
                          order_id=slot.order_id, owner_id=slot.owner_id, kind=slot.kind,
                          held_from=epoch_ms(slot.held_from), held_until=epoch_ms(slot.held_until),
                          expires_at=int((slot.held_until + SLOT_TTL_GRACE).timestamp()))


def slot_free_condition(now: datetime) -> Any:
    """A fraction may be taken when nobody ever held it or its holder's late window has closed."""
    return AmountSlotItem.order_id.does_not_exist() | (AmountSlotItem.held_until < epoch_ms(now))


class DynamoPaymentSlotStore:
    def taken_fractions(self, address: str, low: int, high: int, now: datetime) -> set[int]:
        live_after = epoch_ms(now)
        items = AmountSlotItem.query(address, AmountSlotItem.fraction_micros.between(low, high), consistent_read=True,
                                     attributes_to_get=["fraction_micros", "held_until"])
        return {int(item.fraction_micros) for item in items if item.held_until >= live_after}

    def holder(self, address: str, fraction_micros: int) -> PaymentSlot | None:
        try:
            item = AmountSlotItem.get(address, fraction_micros, consistent_read=True)
        except DoesNotExist:
            return None
        return PaymentSlot(address=address, fraction_micros=fraction_micros, amount_micros=int(item.amount_micros),
                           order_id=item.order_id, held_from=_moment(int(item.held_from)),
                           held_until=_moment(int(item.held_until)), owner_id=item.owner_id, kind=item.kind)

    def holder_before(self, address: str, fraction_micros: int, moment: datetime) -> PaymentSlot | None:
        for item in OrderItem.by_pay_slot.query(pay_slot(address, fraction_micros), OrderItem.created_at <= moment,
                                                scan_index_forward=False, limit=1):
            return PaymentSlot(address=address, fraction_micros=fraction_micros,
                               amount_micros=int(item.amount_micros), order_id=item.order_id,
                               held_from=item.created_at, held_until=item.payable_until, owner_id=item.owner_id,
                               kind=item.kind)
        return None
