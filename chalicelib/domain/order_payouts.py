"""Carrying a paid order to DELIVERED through one on-chain payout: the fulfilment the TRON products share.

PAID / PAID_LATE / WAITING_FUNDS: the limits are checked (short: WAITING_FUNDS and an operator alert), then
the payout is signed and claimed with START_PAYOUT in one write. DELIVERING: the stored payout is driven
(payouts.py); its landing writes MARK_DELIVERED with the ledger entry, a revert on chain FLAG_FOR_REVIEW with
the burned fee's entry. Anything else: handled already."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable

from chalicelib.domain.gifting import RetryLater
from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import FLAG_FOR_REVIEW, MARK_DELIVERED, START_PAYOUT, WAIT_FOR_FUNDS, Order, OrderStatus
from chalicelib.domain.payout_limits import PayoutGate
from chalicelib.domain.payouts import CARRIED_BY_ORDER, PayoutService
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.payouts import ClaimOutcome, OrderStep, Payout, PayoutState
from chalicelib.domain.ports.tron import PayoutOrder
from chalicelib.domain.products import NoticeRules

S = OrderStatus
ENDED_UNPAID = frozenset({PayoutState.CANCELLED, PayoutState.REVERTED})


def order_payout_id(order_id: str) -> str:
    return f"order:{order_id}"


def current_payout_id(order: Order) -> str:
    """The order's payout now: the first, or the one an operator's retry started after cancelling it."""
    return order.details.get("payout_id") or order_payout_id(order.order_id)


def next_payout_id(order: Order) -> str:
    """A retry after a cancelled payout gets a payout of its own: `order:<id>:2`, `:3`, ..."""
    first = order_payout_id(order.order_id)
    current = current_payout_id(order)
    attempt = 1 if current == first else int(current.rsplit(":", 1)[1])
    return f"{first}:{attempt + 1}"


@dataclass(frozen=True)
class PayoutPlan:
    instruction: PayoutOrder
    booked_amount: int           # sun of TRX, or energy units
    purpose: str                 # the product kind


# What a product adds to its order when the payout lands, and the payout that landing schedules.
Landed = Callable[[Order, Payout, datetime], tuple[dict[str, Any], Payout | None]]


class PayoutPending(RetryLater):
    """The payout is signed and stored but not in a block yet: the message comes back to look again."""


class OrderPayouts:
    def __init__(self, orders: OrderStore, payouts: PayoutService, gate: PayoutGate, notices: Notices,
                 clock: Clock, count: Callable[[str], None]) -> None:
        self._orders = orders
        self._payouts = payouts
        self._gate = gate
        self._notices = notices
        self._clock = clock
        self._count = count

    def fulfil(self, order_id: str, rules: NoticeRules, plan: Callable[[Order], PayoutPlan],
               landed: Landed | None = None) -> Order | None:
        """`landed`: what the product adds to the order's details when its payout lands, and the payout that
        landing schedules (written in the same transaction)."""
        order = self._orders.get(order_id)
        if order is None:
            return None
        if order.status in START_PAYOUT.sources:
            return self._start(order, rules, plan(order), landed)
        if order.status == S.DELIVERING:
            payout = self._payouts.get(current_payout_id(order))
            return None if payout is None else self._drive(order, payout, rules, landed)
        return None

    def _start(self, order: Order, rules: NoticeRules, plan: PayoutPlan, landed: Landed | None) -> Order | None:
        refusal = self._gate.refusal(plan.instruction)
        if refusal is not None:
            return self._wait(order, plan.instruction.action.value, refusal)
        asset = plan.instruction.asset
        payout_id = current_payout_id(order)
        earlier = self._payouts.get(payout_id)
        if earlier is not None and earlier.state in ENDED_UNPAID:   # an operator retries it
            payout_id = next_payout_id(order)
        step = OrderStep(order, START_PAYOUT, {"details": {**order.details, "payout_id": payout_id}})
        outcome, payout = self._payouts.open(payout_id, plan.instruction, plan.booked_amount, plan.purpose,
                                             order_id=order.order_id, step=step, ceiling=self._gate.ceiling(asset),
                                             details={"carried_by": CARRIED_BY_ORDER})
        if outcome == ClaimOutcome.OVER_CEILING:
            return self._wait(order, f"ceiling-{asset}", f"the day's {asset} payout ceiling is reached")
        if payout is None:
            return None
        now = self._clock.now()
        delivering = replace(order, status=S.DELIVERING, status_changed_at=now, details=step.changes["details"])
        if outcome == ClaimOutcome.CLAIMED:
            self._notices.order_event(delivering, "paid", rules)
        else:
            current = self._orders.get(order.order_id)
            if current is None or current.status != S.DELIVERING:
                return None
            delivering = current
        return self._drive(delivering, payout, rules, landed)

    def _wait(self, order: Order, reason_key: str, reason: str) -> Order | None:
        self._gate.stopped(reason_key, f"order {order.order_id}: {reason}")
        self._count("PayoutsWaitingForFunds")
        if order.status == S.WAITING_FUNDS:
            return order
        return self._orders.apply(order, WAIT_FOR_FUNDS, self._clock.now(), failure_reason=reason[:500])

    def _drive(self, order: Order, payout: Payout, rules: NoticeRules, landed: Landed | None) -> Order | None:
        def on_landed(final: Payout) -> OrderStep:
            now = self._clock.now()
            extra, schedules = landed(order, final, now) if landed else ({}, None)
            details = {**order.details, "payout_tx": final.tx_id, **extra}
            return OrderStep(order, MARK_DELIVERED, {"delivered_at": now, "details": details, "failure_reason": None},
                             schedules)
        def on_reverted(final: Payout) -> OrderStep:
            # Nothing reached the buyer and signing again could revert the same way: a person decides
            return OrderStep(order, FLAG_FOR_REVIEW, {"failure_reason": f"payout {final.tx_id} failed on chain"})
        driven = self._payouts.drive(payout, on_landed, on_reverted)
        if driven.failed_on_chain:
            return self._orders.get(order.order_id)
        if driven.payout.state != PayoutState.LANDED:
            raise PayoutPending(f"payout {payout.payout_id} ({driven.payout.tx_id}) is not in a block yet")
        done = self._orders.get(order.order_id)
        if driven.landed_now and done is not None:
            self._count("DeliverySucceeded")
            self._notices.order_event(done, "delivered", rules)
        return done
