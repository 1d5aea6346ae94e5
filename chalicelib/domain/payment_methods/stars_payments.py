"""Telegram's half of a Stars payment: the invoice (in the chat or as a link for the Mini App), the
pre-checkout query (answered at once: yes only for a PENDING Stars order of that buyer, before its deadline,
at the Star price still in force) and the successful payment, which ends in the one settle step keyed by
Telegram's charge id, so a replayed or duplicated update writes nothing. A payment that can no longer pay
its order is booked in and straight out again and sent back with refundStarPayment, once."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from chalicelib.domain.errors import Conflict, Unavailable
from chalicelib.domain.ledger import returned_entry
from chalicelib.domain.orders import PAYABLE, Order, OrderStatus
from chalicelib.domain.payment_methods.stars import (CURRENCY, NAME, RECEIVED_AT, StarsInvoice, micros_of,
                                                      stars_of, transaction_id)
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.ports.payments import PaymentRecord
from chalicelib.domain.ports.telegram import (TelegramError, TelegramGateway, TelegramOutcomeUnknown,
                                              TelegramUnreachable)
from chalicelib.domain.settlement import OrderRef, PaymentOutcome, PaymentResult, Settlement
from chalicelib.domain.shared import plausible_id
from chalicelib.domain.users import owner_for_user

# Why a pre-checkout query is refused; the buyer reads the words for it (`words(reason, language)`).
UNKNOWN_ORDER = "unknown_order"
NOT_PAYABLE = "not_payable"
PRICE_CHANGED = "price_changed"


@dataclass(frozen=True)
class PreCheckout:
    query_id: str
    user_id: int
    currency: str
    total_amount: int
    payload: str
    language: str | None = None


@dataclass(frozen=True)
class StarPayment:
    user_id: int
    currency: str
    total_amount: int
    payload: str
    charge_id: str
    raw: dict


class StarsPayments:
    def __init__(self, orders: OrderStore, settlement: Settlement, method: StarsInvoice, telegram: TelegramGateway,
                 clock: Clock, words: Callable[[str, str | None], str], count: Callable[[str], None],
                 alert: Callable[[str, str], None], invoice_words: Callable[[Order, str], str]) -> None:
        self._orders = orders
        self._invoice_words = invoice_words   # the invoice's title and description in the product's own words
        self._settlement = settlement
        self._method = method
        self._telegram = telegram
        self._clock = clock
        self._words = words
        self._count = count
        self._alert = alert

    # ------------------------------------------------------------------ invoices
    def star_price(self, product_id: str) -> int | None:
        return self._method.star_price(product_id)

    def invoice(self, order: Order) -> dict[str, Any]:
        """sendInvoice / createInvoiceLink parameters for a PENDING Stars order (no provider token: Stars)."""
        title = self._invoice_words(order, "invoice_title")
        return {"title": title[:32], "description": self._invoice_words(order, "invoice_description")[:255],
                "payload": order.order_id, "currency": CURRENCY,
                "prices": [{"label": title[:32], "amount": stars_of(order.amount_micros)}]}

    def send_invoice(self, order: Order, chat_id: int) -> dict[str, Any]:
        return self._telegram.call("sendInvoice", {"chat_id": chat_id, **self.invoice(order)})

    def invoice_link(self, order: Order) -> str:
        """The link the Mini App opens with openInvoice; 409 unless the order is a PENDING Stars order."""
        if order.payment_method != NAME:
            raise Conflict(f"order {order.order_id} is not paid with Stars", code="NOT_A_STARS_ORDER")
        if order.status != OrderStatus.PENDING:
            raise Conflict(f"order {order.order_id} is {order.status} and can no longer be paid",
                           code="ORDER_NOT_PAYABLE")
        try:
            return str(self._telegram.call("createInvoiceLink", self.invoice(order)))
        except (TelegramError, TelegramUnreachable, TelegramOutcomeUnknown):
            raise Unavailable("Telegram did not make the invoice; try again shortly", code="TELEGRAM_UNAVAILABLE",
                              retry_after=5) from None

    # ------------------------------------------------------------------ Telegram's updates
    def pre_checkout(self, query: PreCheckout) -> bool:
        """One read and one answer: Telegram waits at most ten seconds for it."""
        refusal = self._refusal(query)
        params: dict[str, Any] = {"pre_checkout_query_id": query.query_id, "ok": refusal is None}
        if refusal is not None:
            params["error_message"] = self._words(refusal, query.language)
            self._count("StarsPreCheckoutRefused")
        try:
            self._telegram.call("answerPreCheckoutQuery", params)
        except TelegramError:   # answered already (a replayed update) or too late: nothing else to do
            return refusal is None
        return refusal is None

    def _refusal(self, query: PreCheckout) -> str | None:
        order = self._orders.get(query.payload) if plausible_id(query.payload) else None
        if order is None or order.payment_method != NAME or order.owner_id != owner_for_user(query.user_id):
            return UNKNOWN_ORDER
        if order.status != OrderStatus.PENDING or (order.expires_at and self._clock.now() >= order.expires_at):
            return NOT_PAYABLE
        current = self._method.star_price(order.product_id)
        if query.currency != CURRENCY or micros_of(query.total_amount) != order.amount_micros \
                or current is None or micros_of(current) != order.amount_micros:
            return PRICE_CHANGED
        return None

    def paid(self, payment: StarPayment) -> PaymentResult:
        now = self._clock.now()
        record = PaymentRecord(transaction_id=transaction_id(payment.charge_id), received_at=now,
                               from_address=owner_for_user(payment.user_id), to_address=RECEIVED_AT,
                               token_contract=CURRENCY, token_symbol=CURRENCY,
                               amount_micros=micros_of(payment.total_amount), block_timestamp_ms=None,
                               confirmed=True, outcome=PaymentOutcome.RECEIVED, raw=payment.raw, method=NAME,
                               currency=CURRENCY)
        order = self._orders.get(payment.payload) if plausible_id(payment.payload) else None
        if order is None or order.payment_method != NAME or order.owner_id != record.from_address:
            return self._send_back(record, payment, None, "no Stars order of this buyer")
        if payment.currency != CURRENCY or record.amount_micros != order.amount_micros:
            return self._send_back(record, payment, order, "not the order's Star price")
        if order.status not in PAYABLE:
            return self._send_back(record, payment, order, f"order is {order.status}")
        ref = OrderRef(order.order_id, order.owner_id, order.kind, order.amount_micros, order.status)
        # Paid by another charge since the read (a race): that one goes back too, never to a wallet.
        return self._settlement.settle(record, order.order_id, now, hint=ref, unpayable=lambda again, _, why:
                                       self._send_back(again, payment, order, why))

    def _send_back(self, record: PaymentRecord, payment: StarPayment, order: Order | None,
                   reason: str) -> PaymentResult:
        """Booked in and out in one write keyed by the charge; only the write that books it refunds it."""
        entry = returned_entry(record.transaction_id, RECEIVED_AT, record.amount_micros or 0, CURRENCY, reason,
                               record.received_at)
        returned = replace(record, outcome=PaymentOutcome.RETURNED, reason=reason,
                           order_id=order.order_id if order else None)
        result = self._settlement.store(returned, entry)
        if result.replayed:
            return result
        self._count("StarsPaymentsReturned")
        try:
            self._telegram.call("refundStarPayment", {"user_id": payment.user_id,
                                                      "telegram_payment_charge_id": payment.charge_id})
        except Exception as error:  # noqa: BLE001 - booked as sent back: the operator finishes it by hand
            self._alert(f"refund-send:{record.transaction_id}",
                        f"Stars payment {payment.charge_id} ({reason}) was booked as returned but the refund "
                        f"was not sent: {error}. Send it by hand with refundStarPayment.")
        return result
