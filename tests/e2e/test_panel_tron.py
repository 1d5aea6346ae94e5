"""The panel's TRON page: the hot wallet against its limits, the day's ceilings, payouts by state, energy lent
out; a dead payout cancelled and stock booked (audited, CSRF-checked, not by a viewer); the TRON settings
changed through the same checked, versioned, audited path as the catalog, and quoted at once."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.operators import Role
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.payouts import hot_wallet
from devstack.tron_node.local import BUYER_ADDRESSES
from tests.e2e.panel_support import signed_in
from tests.support import outcome, tx_id


@pytest.fixture
def operator(container, client):
    return signed_in(container, client)


@pytest.fixture
def viewer(container, client):
    return signed_in(container, client, "vera", Role.VIEWER)


def _audit(container, action):
    day = container.clock.now().date().isoformat()
    return [entry for entry in container.distributors._audit.list_day(day, 200, None).items if entry.action == action]


def _exchange(api, trx: str = "10") -> dict:
    response = api.create_order(product_id="trx_exchange", address=BUYER_ADDRESSES[0], trx_amount=trx)
    assert response.status_code == 201, response.body
    order = json.loads(response.body)
    outcome(api.pay(order, tx=tx_id(f"pay-{order['order_id']}")))
    return order


def _version(container, setting_id):
    return container.settings_store.versioned(setting_id)[1]


def test_a_viewer_sees_the_wallet_ceilings_payouts_and_rentals_but_cannot_act(api, container, tron_node, viewer):
    exchange = _exchange(api)
    rental = api.create_order(product_id="energy_65k_1h", address=BUYER_ADDRESSES[1])
    outcome(api.pay(json.loads(rental.body), tx=tx_id("rent")))
    api.drain("delivery", "deliver_orders")
    landed = container.orders.get(exchange["order_id"])
    assert landed.status == OrderStatus.DELIVERED

    page = viewer.get("/panel/tron")
    assert page.status_code == 200 and b'id="hot-wallet"' in page.body
    body = page.body.decode()
    assert "99990" in body and "20000.00" in body                 # TRX and USDT in the hot wallet
    assert ">10<" in body and "49990" in body                      # today's TRX ceiling: 10 used, 49990 left
    assert "65,000" in body and json.loads(rental.body)["order_id"] in body   # the energy lent, when it ends
    assert "Cancel payout" not in body and "Save packages" not in body
    listed = viewer.get("/panel/tron?state=LANDED").body.decode()
    assert landed.details["payout_tx"] in listed and exchange["order_id"] in listed
    assert "No REVERTED payouts." in viewer.get("/panel/tron?state=REVERTED").body.decode()
    assert viewer.get("/panel/tron?state=LOST").status_code == 400
    detail = viewer.get(f"/panel/orders/{exchange['order_id']}").body.decode()
    assert landed.details["payout_tx"] in detail                  # the order page names the on-chain id

    seeded = container.settings_store.get("trx_exchange")
    refused = viewer.post("/panel/tron/settings/exchange", {"rate": "0.3", "version": _version(container,
                                                                                              "trx_exchange")})
    assert refused.status_code == 403
    assert viewer.post("/panel/tron/stock", {"asset": "TRX", "amount": "1", "reason": "no",
                                            "request_id": "viewer-stock"}).status_code == 403
    assert container.settings_store.get("trx_exchange") == seeded


def test_an_operator_cancels_a_payout_only_once_it_died_and_it_is_audited(api, container, tron_node, operator,
                                                                          clock):
    order = _exchange(api)
    tron_node.inject("drop")
    api.drain("delivery", "deliver_orders")
    payout_id = f"order:{order['order_id']}"
    assert payout_id.encode() not in operator.get("/panel/tron").body.split(b'id="payouts"')[0]
    clock.advance(minutes=10)
    page = operator.get("/panel/tron")
    assert b"Cancel payout" in page.body
    assert operator.post(f"/panel/tron/payouts/{payout_id}/cancel", {"reason": "x"}, csrf="stale").status_code == 403
    assert operator.post(f"/panel/tron/payouts/{payout_id}/cancel", {"reason": ""}).status_code == 400
    done = operator.post(f"/panel/tron/payouts/{payout_id}/cancel", {"reason": "expired unlanded"})
    assert done.status_code == 303
    assert container.orders.get(order["order_id"]).status == OrderStatus.NEEDS_REVIEW
    [entry] = _audit(container, "payout.cancel")
    assert entry.actor == "operator:alice" and entry.details["reason"] == "expired unlanded"
    assert entry.details["before"]["state"] == "SIGNED" and entry.details["after"]["state"] == "CANCELLED"
    again = operator.post(f"/panel/tron/payouts/{payout_id}/cancel", {"reason": "twice"})
    assert again.status_code == 409 and b"PAYOUT_NOT_CANCELLABLE" in again.body


def test_stock_is_booked_once_per_request_id_with_before_and_after(container, tron_node, operator):
    operator.get("/panel/tron")
    form = {"asset": "TRX", "amount": "1000", "reason": "funded", "request_id": "panel-stock-1"}
    assert operator.post("/panel/tron/stock", form).status_code == 303
    assert operator.post("/panel/tron/stock", form).status_code == 303
    assert container.ledger.balance(hot_wallet()) == -1_000_000_000
    first, second = sorted(_audit(container, "tron.stock"), key=lambda entry: entry.details["result"])
    assert (first.details["result"], second.details["result"]) == ("APPLIED", "DUPLICATE")
    assert first.details["after"] == {"inventory:TRX": -1_000_000_000}
    fractional = operator.post("/panel/tron/stock", {**form, "asset": "ENERGY", "amount": "1.5",
                                                     "request_id": "panel-stock-2"})
    assert fractional.status_code == 400 and b"amount" in fractional.body


def test_tron_settings_are_checked_audited_and_quoted(api, container, tron_node, operator):
    operator.get("/panel/tron")
    version = _version(container, "trx_exchange")
    bad = operator.post("/panel/tron/settings/exchange", {"spread_percent": "80", "version": version})
    assert bad.status_code == 400 and b"spread_percent" in bad.body
    upside_down = operator.post("/panel/tron/settings/exchange", {"min_trx": "3000", "version": version})
    assert upside_down.status_code == 400 and b"min_trx" in upside_down.body
    unknown = operator.post("/panel/tron/settings/exchange", {"secret": "1", "version": version})
    assert unknown.status_code == 400
    assert operator.post("/panel/tron/settings/exchange", {"rate": "0.30", "spread_percent": "0",
                                                           "version": version}).status_code == 303
    quote = json.loads(api.client.http.get("/tron/exchange/quote?trx_amount=100", headers=api.buyer_headers()).body)
    assert quote["usdt"] == "30.00"
    [entry] = _audit(container, "settings.change")
    assert entry.details["before"]["rate"] == "0.25" and entry.details["after"]["rate"] == "0.30"
    stale = operator.post("/panel/tron/settings/exchange", {"rate": "0.5", "version": version})
    assert stale.status_code == 409

    limits = operator.post("/panel/tron/settings/limits", {"daily_max_trx": "5",
                                                           "version": _version(container, "payout_limits")})
    assert limits.status_code == 400 and b"per_payout_max_trx" in limits.body
    assert operator.post("/panel/tron/settings/limits", {"per_payout_max_trx": "5", "daily_max_trx": "5",
                                                         "version": _version(container, "payout_limits")}
                         ).status_code == 303
    assert container.payout_gate.limits().daily_max_sun == 5_000_000

    packages = {"energy_65k_1h": {"energy": 65000, "hours": 1, "price": "3"}}
    broken = operator.post("/panel/tron/settings/packages", {"packages": json.dumps({"e1": {"energy": 1}}),
                                                             "version": _version(container, "energy_packages")})
    assert broken.status_code == 400 and b"packages.e1" in broken.body
    assert operator.post("/panel/tron/settings/packages", {"packages": json.dumps(packages),
                                                           "version": _version(container, "energy_packages")}
                         ).status_code == 303
    assert [offer.product_id for offer in container.energy_rental.offers()] == ["energy_65k_1h"]
    assert container.energy_rental.packages()["energy_65k_1h"].price_micros == 3_000_000


def test_the_page_says_tron_is_not_configured_on_a_stage_without_its_settings(container, operator, monkeypatch):
    for name in ("TRON_NODE_URL", "TRON_SHOP_ADDRESS", "TRON_PRIVATE_KEY", "TRON_PRIVATE_KEY_SSM_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    container.settings = container.settings.model_copy(update={"stage": "prod"})
    page = operator.get("/panel/tron")
    assert page.status_code == 503 and b"TRON is not configured on this stage" in page.body
