"""POST /redeem: a Mini App user redeems a code (the bot's redeem command calls the same service)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import guarded, json_response, parse_body

redeem = Blueprint(__name__)


@redeem.route("/redeem", methods=["POST"])
@guarded
def redeem_code():
    from chalicelib.api.admin import source_ip
    from chalicelib.api.buyers import current_buyer
    from chalicelib.api.code_requests import RedeemRequest
    from chalicelib.container import get_container

    request = redeem.current_request
    buyer = current_buyer()
    body = parse_body(request.raw_body, RedeemRequest)
    result = get_container().redemptions.redeem(buyer.user_id, body.code, source_ip(request))
    return json_response(result.as_dict())
