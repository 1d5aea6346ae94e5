"""The Mini App storefront: its page and assets (served from chalicelib/storefront/, read on first use), the
catalog with Star prices, the Stars invoice link of an order, and CORS preflights for every buyer route.
Buyer calls authenticate with X-Telegram-Init-Data like the rest of the buyer API."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.auth import current_buyer
from chalicelib.api.http import guarded, json_response
from chalicelib.api.openapi import operation, web_page

storefront = Blueprint(__name__)

# The buyer routes the storefront calls; each answers a CORS preflight (chalicelib/api/cors.py).
BUYER_PATHS = ("/catalog", "/orders", "/orders/{order_id}", "/orders/{order_id}/cancel",
               "/orders/{order_id}/stars-invoice", "/wallet", "/wallet/history", "/store/catalog")


def _container():
    from chalicelib.container import get_container

    return get_container()


@storefront.route("/store", methods=["GET"])
@web_page
@guarded
def store_page():
    """The page itself is never cached (a deploy shows at once); its assets are named by content, cached a year."""
    from chalicelib.api.storefront_assets import page

    settings = _container().settings
    return Response(body=page(settings.telegram_api_base_url), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                             "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


@storefront.route("/store/assets/{name}", methods=["GET"])
@web_page
@guarded
def store_asset(name: str):
    from chalicelib.api.storefront_assets import asset

    body, content_type, cache = asset(name, storefront.current_request.query_params or {})
    return Response(body=body, status_code=200, headers={"Content-Type": content_type, "Cache-Control": cache,
                                                          "X-Content-Type-Options": "nosniff"})


@storefront.route("/store/catalog", methods=["GET"])
@operation(summary="The catalog with each product's Star price, for the storefront", tag="buyers", auth="buyer",
           response="chalicelib.api.stars_models:StoreCatalog")
@guarded
def store_catalog():
    """The buyer's catalog with each product's Star price, where it has one."""
    from chalicelib.api.views import list_view, offer_view

    current_buyer(storefront.current_request)
    container = _container()
    stars = container.stars_method

    def view(offer) -> dict:
        shown = offer_view(offer)
        star_price = stars.star_price(offer.product_id)
        if star_price is not None:
            shown["star_price"] = str(star_price)
        return shown
    return json_response(list_view("products", container.products.offers(), view))


@storefront.route("/orders/{order_id}/stars-invoice", methods=["POST"])
@operation(summary="A Telegram Stars invoice link for a PENDING Stars order (Telegram.WebApp.openInvoice)",
           tag="buyers", auth="buyer", response="chalicelib.api.stars_models:StarsInvoiceAnswer",
           errors=(409, 503), body_required=False)
@guarded
def create_stars_invoice(order_id: str):
    """An invoice link for a PENDING Stars order, for Telegram.WebApp.openInvoice."""
    from chalicelib.domain.users import owner_for_user

    buyer = current_buyer(storefront.current_request)
    container = _container()
    order = container.ordering.get_owned(order_id, owner_for_user(buyer.user_id))
    return json_response({"order_id": order.order_id, "invoice_link": container.stars_payments.invoice_link(order)})


@web_page   # a CORS preflight answers the browser, not an API client: not in the API document
def _preflight(**path_parameters: str):
    from chalicelib.api.cors import preflight

    return preflight(storefront.current_request)


for _index, _path in enumerate(BUYER_PATHS):
    storefront.route(_path, methods=["OPTIONS"], name=f"preflight_{_index}")(_preflight)
