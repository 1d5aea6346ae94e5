"""Paying with Telegram Stars (currency XTR). The order is opened PENDING at the product's Star price (the
"star_prices" live setting; a product without one cannot be paid in Stars); Telegram's invoice carries the
order id as its payload. The pre-checkout query and the successful payment are judged in stars_payments.py;
a paid order that fails for good goes back to the buyer through refundStarPayment, not to a wallet."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.ledger import JournalEntry, payout_refund_entry
from chalicelib.domain.money import MICROS_PER_UNIT, STARS
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.telegram import TelegramError, TelegramGateway
from chalicelib.domain.products import OrderDraft
from chalicelib.domain.shared import iso

NAME = "stars"
CURRENCY = STARS
STAR_PRICES_SETTING = "star_prices"
# What a buyer pays in Stars, per product id. Premium's are above what the gift costs the bot (1000/1500/2500):
# Telegram keeps part of every Star a bot receives, and refunds give back the whole amount. Energy packages
# are about their USDT price at Premium's rate (some 87 Stars a USDT).
DEFAULT_STAR_PRICES = {"premium_3m": 1300, "premium_6m": 1900, "premium_12m": 3200,
                       "energy_65k_1h": 220, "energy_131k_1h": 390, "energy_65k_1d": 440, "energy_131k_1d": 780}
# The receiving "address" of every Stars payment: the bot's Star balance at Telegram. Its clearing account,
# clearing:telegram-stars:XTR, is what came in.
RECEIVED_AT = "telegram-stars"
CHARGE_PREFIX = "stars:"
MAX_STARS = 100_000      # Telegram's own cap on one invoice


def stars_of(micros: int) -> int:
    return micros // MICROS_PER_UNIT


def micros_of(stars: int) -> int:
    return stars * MICROS_PER_UNIT


def transaction_id(charge_id: str) -> str:
    """A Stars payment's id in the payments table: Telegram's charge id, apart from TRON's transaction ids."""
    return f"{CHARGE_PREFIX}{charge_id}"


def charge_id_of(order: Order) -> str | None:
    tx = order.payment_tx or ""
    return tx[len(CHARGE_PREFIX):] if tx.startswith(CHARGE_PREFIX) else None


def parse_star_prices(stored: Any) -> dict[str, int]:
    """The stored setting, kept to whole positive Star amounts within Telegram's cap; missing: the defaults."""
    if not isinstance(stored, dict):
        return dict(DEFAULT_STAR_PRICES)
    prices: dict[str, int] = {}
    for product_id, value in stored.items():
        try:
            stars = int(str(value))
        except ValueError:
            continue
        if 0 < stars <= MAX_STARS:
            prices[str(product_id)] = stars
    return prices


class StarsInvoice:
    name = NAME

    def __init__(self, orders: OrderStore, prices: Callable[[], dict[str, int]], telegram: TelegramGateway,
                 expiry: timedelta, max_pending: int) -> None:
        self._orders = orders
        self._prices = prices
        self._telegram = telegram
        self._expiry = expiry
        self._max_pending = max_pending

    def star_price(self, product_id: str) -> int | None:
        return self._prices().get(product_id)

    def open(self, draft: OrderDraft, order_id: str, now: datetime) -> Order:
        """Raises PAYMENT_METHOD_NOT_ACCEPTED for a product without a Star price."""
        stars = self.star_price(draft.product_id)
        # Stars come from, and go back to, a Telegram user: an order without one (a distributor's) cannot.
        if stars is None or not draft.attributes.get("buyer_user_id"):
            raise ValidationFailed(f"product_id {draft.product_id!r} has no Star price: pay it another way",
                                   code="PAYMENT_METHOD_NOT_ACCEPTED", field="payment_method")
        expires_at = now + self._expiry
        order = Order(order_id=order_id, kind=draft.kind, owner_id=draft.owner_id, status=OrderStatus.PENDING,
                      product_id=draft.product_id, amount_micros=micros_of(stars), currency=CURRENCY,
                      payment_method=NAME, network=None, created_at=now, expires_at=expires_at,
                      payable_until=expires_at, status_changed_at=now, **draft.attributes)
        self._orders.create_pending(order, self._max_pending)
        return order

    def instructions(self, order: Order) -> dict[str, Any]:
        return {"method": NAME, "amount": str(stars_of(order.amount_micros)), "currency": CURRENCY,
                "invoice_payload": order.order_id, "expires_at": iso(order.expires_at)}

    # ------------------------------------------------------------------ a failed order's refund
    refund_event = "refunded_stars"

    def refund_entry(self, order: Order, reason: str, now: datetime) -> JournalEntry | None:
        return payout_refund_entry(order, reason, now)

    def refunded(self, order: Order) -> None:
        """Called once, by whoever wrote the order FAILED with its refund entry: the Stars go back to the
        buyer. Telegram refuses a second refund of a charge (CHARGE_ALREADY_REFUNDED), so a retry by hand
        cannot pay twice."""
        charge = charge_id_of(order)
        if charge is None or order.buyer_user_id is None:
            return
        try:
            self._telegram.call("refundStarPayment", {"user_id": order.buyer_user_id,
                                                      "telegram_payment_charge_id": charge})
        except TelegramError as error:
            if "CHARGE_ALREADY_REFUNDED" not in error.description:   # sent before: done
                raise
