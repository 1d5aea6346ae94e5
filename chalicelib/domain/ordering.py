"""Creating, reading and cancelling orders that are paid with a unique USDT amount.

The service does not care what is sold: a caller hands it a priced `OrderDraft` of any kind.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from chalicelib.domain.errors import Conflict, NotFound, RateLimited, Unavailable, Unprocessable
from chalicelib.domain.orders import Order, OrderKind, OrderStatus
from chalicelib.domain.ports import (Clock, IdGenerator, OpenOrderLimitReached, OrderRepository,
                                     Page, PaymentSlot, PaymentSlotRepository, SlotTaken)
from chalicelib.domain.money import MICROS_PER_UNIT

RANDOM_PROBES = 3
SLOT_RETRY_AFTER_SECONDS = 60


@dataclass(frozen=True)
class PaymentPolicy:
    addresses: tuple[str, ...]
    suffix_decimals: int
    expiry: timedelta
    monitoring_window: timedelta
    max_pending: int

    @property
    def suffix_step(self) -> int:
        return MICROS_PER_UNIT // 10 ** self.suffix_decimals

    @property
    def suffix_count(self) -> int:
        return 10 ** self.suffix_decimals - 1


@dataclass(frozen=True)
class OrderDraft:
    kind: OrderKind
    owner_id: str
    product_id: str
    base_micros: int
    attributes: dict[str, Any] = field(default_factory=dict)


class OrderingService:
    def __init__(self, orders: OrderRepository, slots: PaymentSlotRepository, clock: Clock,
                 ids: IdGenerator, policy: PaymentPolicy, count: Callable[[str], None],
                 rng: random.Random | None = None) -> None:
        self._orders = orders
        self._slots = slots
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._count = count
        self._rng = rng or random.SystemRandom()

    def create(self, draft: OrderDraft) -> Order:
        if draft.base_micros <= 0 or draft.base_micros % self._policy.suffix_step:
            raise Unprocessable(f"a base price must be positive with at most {self._policy.suffix_decimals} "
                                "decimal places", code="PRICE_NOT_PAYABLE")
        now = self._clock.now()
        expires_at = now + self._policy.expiry
        payable_until = expires_at + self._policy.monitoring_window
        order_id = self._ids.new_id()
        tried: set[tuple[str, int]] = set()
        for address, amount in self._candidate_slots(draft.base_micros, now):
            if (address, amount) in tried:
                continue
            tried.add((address, amount))
            order = Order(order_id=order_id, kind=draft.kind, owner_id=draft.owner_id,
                          status=OrderStatus.PENDING, product_id=draft.product_id, amount_micros=amount,
                          pay_to=address, created_at=now, expires_at=expires_at,
                          payable_until=payable_until, status_changed_at=now, **draft.attributes)
            slot = PaymentSlot(address=address, amount_micros=amount, base_micros=draft.base_micros,
                               suffix_micros=amount - draft.base_micros, order_id=order_id,
                               held_until=payable_until, owner_id=draft.owner_id, kind=draft.kind)
            try:
                self._orders.create_holding_slot(order, slot, self._policy.max_pending, now)
            except SlotTaken:
                continue
            except OpenOrderLimitReached:
                raise RateLimited(f"at most {self._policy.max_pending} orders may wait for payment at once",
                                  code="TOO_MANY_OPEN_ORDERS", retry_after=SLOT_RETRY_AFTER_SECONDS) from None
            self._count("OrdersCreated")
            return order
        raise Unavailable("every payment amount for this price is taken; try again shortly",
                          code="NO_PAYMENT_SLOT", retry_after=SLOT_RETRY_AFTER_SECONDS)

    def _candidate_slots(self, base_micros: int, now: datetime):
        """A few random probes (cheap while the pool is mostly free), then the free slots read from
        the index, so a nearly full pool still finds its last free amount."""
        policy = self._policy
        for _ in range(RANDOM_PROBES):
            address = self._rng.choice(policy.addresses)
            yield address, base_micros + self._rng.randint(1, policy.suffix_count) * policy.suffix_step
        addresses = list(policy.addresses)
        self._rng.shuffle(addresses)
        for address in addresses:
            taken = self._slots.taken_amounts(address, base_micros, now)
            free = [base_micros + index * policy.suffix_step for index in range(1, policy.suffix_count + 1)
                    if base_micros + index * policy.suffix_step not in taken]
            self._rng.shuffle(free)
            yield from ((address, amount) for amount in free[:RANDOM_PROBES])

    def get_owned(self, order_id: str, owner_id: str) -> Order:
        order = self._orders.get(order_id)
        if order is None or order.owner_id != owner_id:
            raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
        return order

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        return self._orders.list_by_owner(owner_id, limit, cursor)

    def cancel(self, order_id: str, owner_id: str) -> Order:
        order = self.get_owned(order_id, owner_id)
        if order.status != OrderStatus.PENDING:
            raise Conflict(f"order {order_id} is {order.status} and can no longer be cancelled",
                           code="ORDER_NOT_CANCELLABLE")
        cancelled = self._orders.transition(order, frozenset({OrderStatus.PENDING}),
                                            OrderStatus.CANCELLED, self._clock.now())
        if cancelled is None:
            current = self._orders.get(order_id)
            raise Conflict(f"order {order_id} is {current.status if current else 'gone'} and can no longer "
                           "be cancelled", code="ORDER_NOT_CANCELLABLE")
        return cancelled
