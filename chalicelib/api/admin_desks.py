"""Admin routes (X-Api-Key) for what needs a person: an order's manual steps and the payments review queue.
The same desks as the operator panel; the audit log records the key's fingerprint as the actor."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.admin import _audited
from chalicelib.api.auth import admin_actor
from chalicelib.api.http import guarded, json_response, parse_body, parse_query
from chalicelib.api.openapi import operation

admin_desks = Blueprint(__name__)
MODELS = "chalicelib.api.admin_desk_models:"  # where the request and response models live, for the API document


def _container():
    from chalicelib.container import get_container

    return get_container()


@admin_desks.route("/admin/orders/{order_id}/actions", methods=["POST"])
@operation(summary="Retry, mark delivered, refund or cancel an order by hand", tag="admin", auth="admin",
           body=f"{MODELS}OrderActionRequest", response=f"{MODELS}OrderActionResponse", errors=(409,))
@guarded
def act_on_order(order_id: str):
    from chalicelib.api.admin_desk_models import OrderActionRequest, OrderActionResponse

    request = admin_desks.current_request
    actor = admin_actor(request)
    with _audited(actor, "order.action", f"order:{order_id}"):
        body = parse_body(request.raw_body, OrderActionRequest)
        desk = _container().order_desk
        if body.action == "mark_delivered":
            order = desk.mark_delivered(actor, order_id, body.reason, body.proof or "")
        else:
            step = {"retry_delivery": desk.retry_delivery, "refund": desk.refund, "cancel": desk.cancel}[body.action]
            order = step(actor, order_id, body.reason)
    return json_response(OrderActionResponse(order_id=order.order_id, status=order.status.value,
                                             paid_micros=order.paid_micros,
                                             failure_reason=order.failure_reason).model_dump())


@admin_desks.route("/admin/payments/review", methods=["GET"])
@operation(summary="The payments waiting for a person", tag="admin", auth="admin", query="LongPageQuery",
           response=f"{MODELS}ReviewQueueResponse")
@guarded
def review_queue():
    from chalicelib.api.admin_desk_models import ReviewItemView, ReviewQueueResponse
    from chalicelib.api.requests import LongPageQuery

    request = admin_desks.current_request
    admin_actor(request)
    query = parse_query(request.query_params, LongPageQuery)
    page = _container().payment_desk.queue(query.limit, query.cursor)
    views = [ReviewItemView(transaction_id=item.record.transaction_id, outcome=item.record.outcome,
                            reason=item.record.reason, amount_micros=item.record.amount_micros,
                            currency=item.record.currency, to_address=item.record.to_address,
                            received_at=item.record.received_at.isoformat(), order_id=item.record.order_id,
                            in_suspense=item.in_suspense) for item in page.items]
    return json_response(ReviewQueueResponse(payments=views, cursor=page.cursor).model_dump())


@admin_desks.route("/admin/payments/{transaction_id}/resolution", methods=["POST"])
@operation(summary="Credit, attach, mark returned or dismiss a payment needing a person", tag="admin",
           auth="admin", body=f"{MODELS}PaymentResolutionRequest", response=f"{MODELS}PaymentResolutionResponse",
           errors=(409,))
@guarded
def resolve_payment(transaction_id: str):
    from chalicelib.api.admin_desk_models import PaymentResolutionRequest, PaymentResolutionResponse

    request = admin_desks.current_request
    actor = admin_actor(request)
    with _audited(actor, "payment.resolve", f"payment:{transaction_id}"):
        body = parse_body(request.raw_body, PaymentResolutionRequest)
        desk = _container().payment_desk
        if body.how == "credit":
            resolution = desk.credit_to_wallet(actor, transaction_id, body.owner_id or "", body.reason)
        elif body.how == "attach":
            resolution = desk.attach_to_order(actor, transaction_id, body.order_id or "", body.reason)
        elif body.how == "returned":
            resolution = desk.mark_returned(actor, transaction_id, body.return_tx or "", body.reason)
        else:
            resolution = desk.dismiss(actor, transaction_id, body.reason)
    return json_response(PaymentResolutionResponse(transaction_id=transaction_id, **resolution).model_dump(), 200)
