"""The two updates a Stars payment brings: `pre_checkout_query` and a message with `successful_payment`.
Read leniently like every update (bot/updates.py); anything malformed is not a payment and goes to the bot."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.domain.payment_methods.stars_payments import PreCheckout, StarPayment


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_payment_update(raw: Any) -> PreCheckout | StarPayment | None:
    if not isinstance(raw, dict):
        return None
    query = raw.get("pre_checkout_query")
    if isinstance(query, dict):
        sender = query.get("from") if isinstance(query.get("from"), dict) else {}
        user_id, amount = _int(sender.get("id")), _int(query.get("total_amount"))
        if user_id is None or amount is None or not _str(query.get("id")):
            return None
        from chalicelib.domain.payment_methods.stars_payments import PreCheckout  # payments only, not every update
        return PreCheckout(query_id=query["id"], user_id=user_id, currency=_str(query.get("currency")),
                           total_amount=amount, payload=_str(query.get("invoice_payload")),
                           language=_str(sender.get("language_code")) or None)
    message = raw.get("message")
    payment = message.get("successful_payment") if isinstance(message, dict) else None
    if not isinstance(payment, dict):
        return None
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    user_id, amount = _int(sender.get("id")), _int(payment.get("total_amount"))
    charge = _str(payment.get("telegram_payment_charge_id"))
    if user_id is None or amount is None or not charge:
        return None
    from chalicelib.domain.payment_methods.stars_payments import StarPayment
    return StarPayment(user_id=user_id, currency=_str(payment.get("currency")), total_amount=amount,
                       payload=_str(payment.get("invoice_payload")), charge_id=charge, raw=payment)
