"""POST /redeem: a Mini App user redeems a code (the bot's redeem command calls the same service)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import current_buyer, source_ip
from chalicelib.api.http import guarded, json_response, parse_body
from chalicelib.api.openapi import operation

redeem = Blueprint(__name__)


@redeem.route("/redeem", methods=["POST"])
@operation(summary="Redeem a code for a gift", tag="buyers", auth="buyer", body="RedeemRequest",
           response="RedeemAnswer", errors=(404, 409, 410, 422, 429))
@guarded
def redeem_code():
    from chalicelib.api.requests import RedeemRequest
    from chalicelib.api.views import redeem_result_view
    from chalicelib.container import get_container

    request = redeem.current_request
    buyer = current_buyer(request)
    body = parse_body(request.raw_body, RedeemRequest)
    result = get_container().redemptions.redeem(buyer.user_id, body.code, source_ip(request))
    return json_response(redeem_result_view(result))
