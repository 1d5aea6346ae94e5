"""Creating a Premium order over HTTP, optionally idempotent."""
from __future__ import annotations

from typing import Any

from chalicelib.api.idempotency import run_once
from chalicelib.api.views import order_view
from chalicelib.observability import logger


def create_premium_order(buyer_user_id: int, product_id: str, recipient_user_id: int, key: str | None,
                         language: str | None, lambda_context: Any = None) -> dict:
    from chalicelib.container import get_container

    container = get_container()

    def work(request: dict) -> dict:
        order = container.premium.create(request["buyer_user_id"], request["product_id"],
                                         request["recipient_user_id"], language)
        logger.info("order created", extra={"order_id": order.order_id, "amount_micros": order.amount_micros})
        return order_view(order, container.settings.amount_suffix_decimals)

    request = {"scope": f"user:{buyer_user_id}", "buyer_user_id": buyer_user_id, "product_id": product_id,
               "recipient_user_id": recipient_user_id}
    return run_once(request, key, work, ("product_id", "recipient_user_id"), lambda_context)
