"""What the ledger model expects, worked out from the shop's written rules and nothing the app computes: which
amount an order is given, which order a transfer pays and where its money goes, what expiry, repair,
cancelling and delivery do to an order, and so what every wallet, revenue, suspense and refund account
must hold. The state machine (test_ledger_model.py) asks this model first, drives the app, then compares.

The rules, as docs/decisions.md states them: an order's amount is its price plus the smallest suffix whose
fraction no order holds at the address; it holds that fraction from its creation to the end of its late
window. A transfer pays the order that held its fraction when it was mined: exactly or more pays (the excess
to the buyer's wallet), less is credited whole to the buyer's wallet, after the late window too, and so is a
second payment of a paid order; a transfer that points at no order goes to suspense; a foreign token, a
foreign address and an unconfirmed transfer book nothing. A paid order that fails for good refunds what it
settled to its buyer's wallet, once. Paying from the wallet moves the price to revenue, or is refused.
The TRON products (issue 12) are paid like any order; delivering one pays out on chain once: TRX for an
exchange, energy lent for a rental (taken back once when it ends), USDT for a withdrawal paid from the
wallet (its amount plus the fee).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MICRO = 1_000_000
PREMIUM = "PREMIUM_GIFT"
TOP_UP = "WALLET_TOP_UP"
EXCHANGE = "TRX_EXCHANGE"
ENERGY = "ENERGY_RENTAL"
WITHDRAWAL = "WITHDRAWAL"
PAYOUT_ASSET = {EXCHANGE: "TRX", ENERGY: "ENERGY", WITHDRAWAL: "USDT"}    # what each one's payout sends
REVERT_FEE_SUN = 13_844_850    # what the fake chain burns for a USDT transfer that runs out of energy
PAYABLE = ("PENDING", "EXPIRED", "CANCELLED")
READY = ("PAID", "PAID_LATE", "WAITING_STARS")


@dataclass(frozen=True)
class Policy:
    """The configuration the rules read: taken from the settings the app runs with."""

    suffix_step: int
    surcharge_cap: int
    expiry: timedelta
    window: timedelta
    max_pending: int
    paid_stuck: timedelta


@dataclass
class Order:
    order_id: str
    user_id: int
    kind: str
    method: str                 # trc20 | balance
    amount: int                 # what the buyer sends (price and suffix), or the price paid from the wallet
    price: int
    status: str
    created_at: datetime
    changed_at: datetime
    expires_at: datetime | None = None
    payable_until: datetime | None = None
    star_count: int = 0
    recipient: int | None = None
    gift_calls: int = 0
    refund: int = 0
    payout: int = 0             # what delivering it sends on chain: sun of TRX, energy, USDT micros
    hours: int = 0              # a rental's length
    ends_at: datetime | None = None
    returned: bool = False

    @property
    def fraction(self) -> int:
        return self.amount % MICRO

    def held_at(self, moment: datetime) -> bool:
        return self.created_at <= moment <= self.payable_until  # type: ignore[operator]


@dataclass(frozen=True)
class Outcome:
    """What the webhook must answer for a transfer, and what it books."""

    outcome: str
    reason: str | None = None
    order_id: str | None = None
    booked: int = 0


@dataclass
class Sent:
    """A transfer the model posted: its body (to post again) and what the shop stored for it."""

    body: dict
    amount: int
    outcome: str


@dataclass
class Shop:
    policy: Policy
    users: tuple[int, ...]
    stars: int
    wallets: dict[int, int] = field(default_factory=dict)
    revenue: int = 0            # Premium's revenue account
    product_revenue: Counter = field(default_factory=Counter)    # the TRON products' revenue accounts
    paid_out: Counter = field(default_factory=Counter)           # by asset: what left the hot wallet
    lent: int = 0               # energy delegated and not taken back yet
    burned: int = 0             # TRX the chain burned for withdrawals that reverted (network fees)
    suspense: int = 0
    refunded: int = 0           # what the refunds account gave back (its balance is minus this)
    money_in: int = 0           # every booked transfer's amount: what the clearing account took in
    orders: dict[str, Order] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)
    queue: Counter = field(default_factory=Counter)    # delivery messages waiting, by order id
    entries: dict[str, int] = field(default_factory=dict)  # entry id -> amount it moved (refunds checked)

    def __post_init__(self) -> None:
        self.wallets = {user: 0 for user in self.users}

    # ------------------------------------------------------------------------------------------ orders
    def pending(self, user_id: int) -> int:
        return sum(1 for order in self.orders.values() if order.user_id == user_id and order.status == "PENDING")

    def amount_for(self, price: int, now: datetime) -> int | None:
        """The price with the smallest suffix whose fraction is free now; None when every one is held."""
        held = {order.fraction for order in self.orders.values()
                if order.method == "trc20" and order.payable_until >= now}  # type: ignore[operator]
        for suffix in range(self.policy.suffix_step, self.policy.surcharge_cap + 1, self.policy.suffix_step):
            amount = price + suffix
            if amount % MICRO and amount % MICRO not in held:
                return amount
        return None

    def expect_transfer_order(self, user_id: int, price: int, now: datetime) -> tuple[int, int | None]:
        """(HTTP status, amount) of ordering something paid by a transfer."""
        amount = self.amount_for(price, now)
        if amount is None:
            return 503, None
        if self.pending(user_id) >= self.policy.max_pending:
            return 429, None
        return 201, amount

    def open(self, order: Order) -> None:
        if order.method == "trc20":
            order.expires_at = order.created_at + self.policy.expiry
            order.payable_until = order.expires_at + self.policy.window
        self.orders[order.order_id] = order

    def pay_from_wallet(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.wallets[order.user_id] -= order.price
        self._earn(order, order.price)
        self.entries[f"balance:{order.order_id}"] = order.price
        self.queue[order.order_id] += 1

    def cancel(self, order: Order, now: datetime) -> bool:
        if order.status != "PENDING":
            return False
        self._move(order, "CANCELLED", now)
        return True

    def expire(self, now: datetime) -> list[str]:
        due = [order for order in self.orders.values() if order.status == "PENDING" and order.expires_at <= now]
        for order in due:
            self._move(order, "EXPIRED", now)
        return [order.order_id for order in due]

    def repair(self, now: datetime) -> None:
        for order in self.orders.values():
            stuck_paid = order.status in ("PAID", "PAID_LATE") and order.changed_at <= now - self.policy.paid_stuck
            if stuck_paid or order.status == "WAITING_STARS":
                self.queue[order.order_id] += 1

    # ------------------------------------------------------------------------------------------ transfers
    def holder(self, fraction: int, mined: datetime) -> Order | None:
        """The order that last took the fraction before the transfer was mined (its window may be over)."""
        if fraction == 0 or fraction % self.policy.suffix_step:
            return None
        takers = sorted((order for order in self.orders.values()
                         if order.method == "trc20" and order.fraction == fraction), key=lambda order: order.created_at)
        before = [order for order in takers if order.created_at <= mined]
        return before[-1] if before else None

    def transfer(self, tx: str, body: dict, amount: int, mined: datetime, *, ours: bool, to_us: bool,
                 confirmed: bool, now: datetime) -> Outcome:
        """What a transfer posted now does; a transaction id seen before changes nothing (unless it was
        waiting for its confirmation)."""
        stored = self.sent.get(tx)
        if stored is not None and stored.outcome != "PENDING_CONFIRMATION":
            return Outcome(stored.outcome)
        if stored is not None and not confirmed:
            return Outcome(stored.outcome)
        outcome = self._decide(amount, mined, ours=ours, to_us=to_us, confirmed=confirmed, now=now)
        self.sent[tx] = Sent(body, amount, outcome.outcome)
        if outcome.booked:
            self.money_in += outcome.booked
            self.entries[f"pay:{tx}"] = outcome.booked
        return outcome

    def _decide(self, amount: int, mined: datetime, *, ours: bool, to_us: bool, confirmed: bool,
                now: datetime) -> Outcome:
        if not ours:
            return Outcome("REJECTED_TOKEN")
        if not to_us:
            return Outcome("REJECTED_ADDRESS")
        if not confirmed:
            return Outcome("PENDING_CONFIRMATION")
        order = self.holder(amount % MICRO, mined)
        if order is None or amount == 0:
            self.suspense += amount
            return Outcome("UNMATCHED", "NO_ORDER", booked=amount)
        if not order.held_at(mined):
            return self._credit(order, amount, "CREDITED", "TOO_LATE")
        if order.status not in PAYABLE:
            return self._credit(order, amount, "DUPLICATE", None)
        if amount < order.amount:
            return self._credit(order, amount, "CREDITED", "UNDERPAID")
        late = order.status != "PENDING"
        if order.kind == TOP_UP:
            self.wallets[order.user_id] += order.amount
        else:
            self._earn(order, order.amount)
        self.wallets[order.user_id] += amount - order.amount
        self._move(order, "PAID_LATE" if late else "PAID", now)
        self.queue[order.order_id] += 1
        return Outcome("LATE_MATCHED" if late else "MATCHED", "OVERPAID" if amount > order.amount else None,
                       order.order_id, booked=amount)

    def _earn(self, order: Order, amount: int) -> None:
        if order.kind == PREMIUM:
            self.revenue += amount
        else:
            self.product_revenue[order.kind] += amount

    def _credit(self, order: Order, amount: int, outcome: str, reason: str | None) -> Outcome:
        self.wallets[order.user_id] += amount
        return Outcome(outcome, reason, order.order_id, booked=amount)

    # ------------------------------------------------------------------------------------------ delivery
    def reaches_gift(self, order_id: str) -> bool:
        """Whether handling a message for the order now asks Telegram for a gift."""
        order = self.orders.get(order_id)
        return order is not None and order.kind == PREMIUM and order.status in READY and \
            self.stars >= order.star_count

    def deliver(self, order_id: str, fault: str, now: datetime) -> None:
        """One delivery message handled; `fault` is what the gift request meets (when it is made)."""
        order = self.orders[order_id]
        if order.kind in (TOP_UP, *PAYOUT_ASSET):
            if order.status in ("PAID", "PAID_LATE") and self.reverts(order_id, fault):
                self._reverted(order, now)
            elif order.status in ("PAID", "PAID_LATE"):
                self._move(order, "DELIVERED", now)
                if order.kind in PAYOUT_ASSET:
                    self._paid_out(order, now)
            return
        if order.status not in READY:
            return
        if self.stars < order.star_count:
            self._move(order, "WAITING_STARS", now)
            return
        order.gift_calls += 1
        if fault in ("ok", "gifted_then_502"):
            self.stars -= order.star_count
        if fault == "ok":
            self._move(order, "DELIVERED", now)
        elif fault == "permanent":
            order.refund = order.amount        # what the order settled; an excess is in the wallet already
            self.wallets[order.user_id] += order.refund
            self.refunded += order.refund
            self.entries[f"refund:{order.order_id}"] = order.refund
            self._move(order, "FAILED", now)
        else:
            self._move(order, "NEEDS_REVIEW", now)

    def reverts(self, order_id: str, fault: str) -> bool:
        """Whether handling a message for the order now sends a USDT transfer that reverts on chain (the model's
        "permanent" trouble, for a withdrawal)."""
        order = self.orders.get(order_id)
        return order is not None and order.kind == WITHDRAWAL and order.status in ("PAID", "PAID_LATE") and \
            fault == "permanent"

    def _reverted(self, order: Order, now: datetime) -> None:
        """Nothing reached the buyer, the burned TRX is booked once, and a person decides what comes next."""
        self.burned += REVERT_FEE_SUN
        self.entries[f"payout-fee:order:{order.order_id}"] = REVERT_FEE_SUN
        self._move(order, "NEEDS_REVIEW", now)

    def _paid_out(self, order: Order, now: datetime) -> None:
        """The one payout of a delivered TRON order, and the entry that books it."""
        self.paid_out[PAYOUT_ASSET[order.kind]] += order.payout
        self.entries[f"payout:order:{order.order_id}"] = order.payout
        if order.kind == ENERGY:
            self.lent += order.payout
            order.ends_at = now + timedelta(hours=order.hours)

    def return_energy(self, now: datetime) -> int:
        """Rentals that ended are taken back, each once; how many."""
        ended = [order for order in self.orders.values()
                 if order.ends_at is not None and not order.returned and order.ends_at <= now]
        for order in ended:
            order.returned = True
            self.lent -= order.payout
            self.entries[f"payout:order:{order.order_id}:return"] = order.payout
        return len(ended)

    def _move(self, order: Order, status: str, now: datetime) -> None:
        order.status = status
        order.changed_at = now
