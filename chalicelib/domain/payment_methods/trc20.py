"""Paying with an exact USDT-TRC20 amount: the price plus the smallest free suffix. An order holds its
amount's fraction (the part below one unit) at its address from its creation until its late window closes,
so a live fraction names one order per address whatever the price. Transfers are matched in
trc20_transfers.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from chalicelib.domain.errors import Unavailable, Unprocessable
from chalicelib.domain.money import MICROS_PER_UNIT, format_amount
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.ports.orders import OrderStore, SlotTaken
from chalicelib.domain.ports.payments import PaymentSlot, PaymentSlotStore
from chalicelib.domain.products import OrderDraft
from chalicelib.domain.shared import iso

NAME = "trc20"
NETWORK = "TRC20"
READS = 2                 # read the free fractions again once, after losing TRIES_PER_READ races
TRIES_PER_READ = 5
SLOT_RETRY_AFTER_SECONDS = 60


@dataclass(frozen=True)
class UniqueAmountPolicy:
    addresses: Callable[[], tuple[str, ...]]   # the live payment addresses, read through the settings cache
    suffix_decimals: int              # 3 or 4: suffixes step by 0.001 or 0.0001 USDT
    surcharge_cap_micros: int         # the most a suffix adds to the price
    expiry: timedelta
    monitoring_window: timedelta
    max_pending: int

    @property
    def suffix_step(self) -> int:
        return MICROS_PER_UNIT // 10 ** self.suffix_decimals

    def suffixes(self, base_micros: int) -> list[int]:
        """Every suffix a price may carry, smallest first: steps up to the cap, never one that makes a whole
        amount (a round sum is what strangers send)."""
        step = self.suffix_step
        return [suffix for suffix in range(step, self.surcharge_cap_micros + 1, step)
                if (base_micros + suffix) % MICROS_PER_UNIT]


def fraction_of(amount_micros: int) -> int:
    return amount_micros % MICROS_PER_UNIT


class Trc20UniqueAmount:
    name = NAME

    def __init__(self, orders: OrderStore, slots: PaymentSlotStore, policy: UniqueAmountPolicy,
                 count: Callable[[str], None]) -> None:
        self._orders = orders
        self._slots = slots
        self.policy = policy
        self._count = count

    def open(self, draft: OrderDraft, order_id: str, now: datetime) -> Order:
        """Raises OpenOrderLimitReached (the ordering service answers it) or NO_PAYMENT_SLOT."""
        policy = self.policy
        if draft.base_micros <= 0 or draft.base_micros % policy.suffix_step:
            raise Unprocessable(f"a base price must be positive with at most {policy.suffix_decimals} "
                                "decimal places", code="PRICE_NOT_PAYABLE")
        expires_at = now + policy.expiry
        payable_until = expires_at + policy.monitoring_window
        for _ in range(READS):
            free = self._free(draft.base_micros, now)
            if not free:
                break
            for address, suffix in free[:TRIES_PER_READ]:
                amount = draft.base_micros + suffix
                order = Order(order_id=order_id, kind=draft.kind, owner_id=draft.owner_id,
                              status=OrderStatus.PENDING, product_id=draft.product_id, amount_micros=amount,
                              surcharge_micros=suffix, currency=draft.currency, payment_method=NAME,
                              network=NETWORK, pay_to=address, created_at=now, expires_at=expires_at,
                              payable_until=payable_until, status_changed_at=now, **draft.attributes)
                slot = PaymentSlot(address=address, fraction_micros=fraction_of(amount), amount_micros=amount,
                                   order_id=order_id, held_from=now, held_until=payable_until,
                                   owner_id=draft.owner_id, kind=draft.kind)
                try:
                    self._orders.create_pending(order, policy.max_pending, slot)
                except SlotTaken:   # another order took it since the read
                    continue
                return order
        self._count("PaymentSlotsExhausted")
        raise Unavailable("every payment amount for this price is taken; try again shortly",
                          code="NO_PAYMENT_SLOT", retry_after=SLOT_RETRY_AFTER_SECONDS)

    def instructions(self, order: Order) -> dict[str, Any]:
        places = self.policy.suffix_decimals
        shown = {"amount": format_amount(order.amount_micros, places), "currency": order.currency,
                 "network": order.network, "pay_to": order.pay_to, "expires_at": iso(order.expires_at)}
        if order.surcharge_micros is not None:
            shown["price"] = format_amount(order.amount_micros - order.surcharge_micros, places)
            shown["surcharge"] = format_amount(order.surcharge_micros, places)
        return shown

    def _free(self, base_micros: int, now: datetime) -> list[tuple[str, int]]:
        """The free (address, suffix) pairs, smallest suffix first (the first configured address on a tie).
        One consistent read per address; the next address is read only while it could offer a smaller
        suffix than the best one found."""
        suffixes = self.policy.suffixes(base_micros)
        if not suffixes:
            return []
        free: list[tuple[int, int, str]] = []
        for rank, address in enumerate(self.policy.addresses()):
            taken: set[int] = set()
            for low, high in _fraction_ranges(base_micros, suffixes):
                taken |= self._slots.taken_fractions(address, low, high, now)
            free += [(suffix, rank, address) for suffix in suffixes
                     if fraction_of(base_micros + suffix) not in taken]
            if free and min(free)[0] == suffixes[0]:
                break
        return [(address, suffix) for suffix, _, address in sorted(free)]


def _fraction_ranges(base_micros: int, suffixes: list[int]) -> list[tuple[int, int]]:
    """The fractions the suffixes make, as at most two ranges (two when they pass a whole unit)."""
    fractions = [fraction_of(base_micros + suffix) for suffix in suffixes]
    start = fraction_of(base_micros)
    groups = ([f for f in fractions if f > start], [f for f in fractions if f < start])
    return [(min(group), max(group)) for group in groups if group]
