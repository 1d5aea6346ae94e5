"""Paying with an exact USDT-TRC20 amount: each order holds a unique (address, amount) slot until its late
window closes, so the amount alone identifies it. Transfers are matched in trc20_transfers.py."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from chalicelib.domain.errors import Unavailable, Unprocessable
from chalicelib.domain.money import MICROS_PER_UNIT, format_amount
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.ports.orders import OrderStore, SlotTaken
from chalicelib.domain.ports.payments import PaymentSlot, PaymentSlotStore
from chalicelib.domain.products import OrderDraft
from chalicelib.domain.shared import iso

NAME = "trc20"
NETWORK = "TRC20"
RANDOM_PROBES = 3
SLOT_RETRY_AFTER_SECONDS = 60


@dataclass(frozen=True)
class UniqueAmountPolicy:
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


class Trc20UniqueAmount:
    name = NAME

    def __init__(self, orders: OrderStore, slots: PaymentSlotStore, policy: UniqueAmountPolicy,
                 count: Callable[[str], None], rng: random.Random | None = None) -> None:
        self._orders = orders
        self._slots = slots
        self.policy = policy
        self._count = count
        self._rng = rng or random.SystemRandom()

    def open(self, draft: OrderDraft, order_id: str, now: datetime) -> Order:
        """Raises OpenOrderLimitReached (the ordering service answers it) or NO_PAYMENT_SLOT."""
        policy = self.policy
        if draft.base_micros <= 0 or draft.base_micros % policy.suffix_step:
            raise Unprocessable(f"a base price must be positive with at most {policy.suffix_decimals} "
                                "decimal places", code="PRICE_NOT_PAYABLE")
        expires_at = now + policy.expiry
        payable_until = expires_at + policy.monitoring_window
        tried: set[tuple[str, int]] = set()
        for address, amount in self._candidate_slots(draft.base_micros, now):
            if (address, amount) in tried:
                continue
            tried.add((address, amount))
            order = Order(order_id=order_id, kind=draft.kind, owner_id=draft.owner_id, status=OrderStatus.PENDING,
                          product_id=draft.product_id, amount_micros=amount, currency=draft.currency,
                          payment_method=NAME, network=NETWORK, pay_to=address, created_at=now,
                          expires_at=expires_at, payable_until=payable_until, status_changed_at=now,
                          **draft.attributes)
            slot = PaymentSlot(address=address, amount_micros=amount, base_micros=draft.base_micros,
                               suffix_micros=amount - draft.base_micros, order_id=order_id,
                               held_until=payable_until, owner_id=draft.owner_id, kind=draft.kind)
            try:
                self._orders.create_pending(order, policy.max_pending, slot)
            except SlotTaken:
                continue
            return order
        raise Unavailable("every payment amount for this price is taken; try again shortly",
                          code="NO_PAYMENT_SLOT", retry_after=SLOT_RETRY_AFTER_SECONDS)

    def instructions(self, order: Order) -> dict[str, Any]:
        return {"amount": format_amount(order.amount_micros, self.policy.suffix_decimals),
                "currency": order.currency, "network": order.network, "pay_to": order.pay_to,
                "expires_at": iso(order.expires_at)}

    def _candidate_slots(self, base_micros: int, now: datetime) -> Iterator[tuple[str, int]]:
        """A few random probes (cheap while the pool is mostly free), then the free slots read from
        the index, so a nearly full pool still finds its last free amount."""
        policy = self.policy
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
