"""What an order of a TRON product shows in its texts besides the common fields: the receiving address, the
energy and hours rented, the TRX bought, the USDT withdrawn and the payout's on-chain transaction id. Every
text gets them (`str.format` ignores what a template does not name), so no text branches on a kind."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.money import format_amount
from chalicelib.domain.orders import Order
from chalicelib.i18n import escape


def detail_values(order: Order) -> dict[str, Any]:
    details = order.details
    return {"to_address": escape(details.get("to_address", "")), "energy": f"{int(details.get('energy', 0)):,}",
            "hours": details.get("hours", ""), "trx": format_amount(int(details.get("trx_sun", 0)), 0),
            "withdrawn": format_amount(int(details.get("amount_micros", 0)), 2),
            "fee": format_amount(int(details.get("fee_micros", 0)), 2),
            "tx": escape(details.get("payout_tx") or "-", 80),
            "ends": str(details.get("rental_ends_at", ""))[:16].replace("T", " ")}
