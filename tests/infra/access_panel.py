"""The operator panel and the distributor portal, as a browser uses them, for the API function's role: sign-in
refused and accepted, every page, the exports, an order refunded and one retried, a stray transfer credited,
settings and a wallet changed, a distributor and an operator managed, a day reconciled; in the portal a pack
bought and downloaded, a code deactivated, a top-up asked for. The test's own setup (the first operator, an
order flagged for review) runs outside the recorded functions."""
from __future__ import annotations

import json
from typing import Any

from tests.e2e.panel_support import Browser, make_operator
from tests.support import ADDRESSES, tx_id


def use_the_panel(api: Any, codes: Any) -> None:
    from chalicelib.domain.operators import Role

    container = codes.container
    client = api.client
    make_operator(container, "owner-ann", role=Role.OWNER)
    panel = Browser(client)
    assert panel.sign_in("owner-ann", "not the password").status_code == 401
    assert panel.sign_in("owner-ann").status_code == 303
    for page in ("/panel", "/panel/dashboard", "/panel/orders", "/panel/orders?status=PAID", "/panel/payments",
                 "/panel/buyers?owner_id=1001", "/panel/settings", "/panel/distributors", "/panel/operators",
                 "/panel/reports", "/panel/static/panel.css"):
        assert panel.get(page).status_code in (200, 303), page
    for name in ("orders", "payments", "ledger"):
        assert panel.get(f"/panel/exports/{name}.csv").status_code == 200, name

    retried, refunded = _needs_review(api, container, 4201), _needs_review(api, container, 4202)
    panel.get(f"/panel/orders/{refunded}")
    _done(panel.post(f"/panel/orders/{retried}/retry", {"reason": "try again"}))
    _done(panel.post(f"/panel/orders/{refunded}/refund", {"reason": "gift never arrived"}))
    stray = tx_id("panel-stray")
    api.pay(amount="3", to=ADDRESSES[0], tx=stray)
    panel.get("/panel/payments")
    _done(panel.post(f"/panel/payments/{stray}/credit", {"owner_id": "user:4201", "reason": "buyer wrote to us"}))

    panel.get("/panel/settings")
    _done(panel.post("/panel/settings/prices", {"premium_3m": "14.50", "version": _version(container, "prices")}))
    _done(panel.post("/panel/settings/limits", {"min": "2", "max": "100",
                                                "version": _version(container, "wallet_top_up")}))
    panel.get("/panel/buyers?owner_id=4201")
    _done(panel.post("/panel/buyers/user:4201/adjust", {"amount": "1.00", "reason": "goodwill",
                                                        "request_id": "panel-adj"}))
    panel.get("/panel/distributors")
    panel.post("/panel/distributors", {"name": "Panel made"})
    managed, _ = codes.create_distributor(name="Managed", telegram_user_id=None)
    panel.post(f"/panel/distributors/{managed['distributor_id']}/rotate")
    _done(panel.post(f"/panel/distributors/{managed['distributor_id']}/disable"))
    panel.get("/panel/operators")
    _done(panel.post("/panel/operators", {"name": "viewer-bo", "role": "viewer", "password": "a long enough password"}))
    _done(panel.post("/panel/operators/viewer-bo/disable"))
    panel.get("/panel/reports")
    _done(panel.post("/panel/reports/reconcile", {"day": container.clock.now().date().isoformat()}))
    panel.post("/panel/sign-out")


def use_the_tron_panel(api: Any, codes: Any) -> None:
    """The TRON page after payouts landed, a rental was taken back and a swap was paid: every payout list, a
    stock booking, each kind of TRON setting changed; and an owner's payment address change."""
    from chalicelib.domain.operators import Role
    from chalicelib.domain.tron import tron_address_from_account_bytes

    container = codes.container
    make_operator(container, "owner-tia", role=Role.OWNER)
    panel = Browser(api.client)
    panel.sign_in("owner-tia")
    for state in ("SIGNED", "SCHEDULED", "LANDED", "CANCELLED"):
        assert panel.get(f"/panel/tron?state={state}").status_code == 200, state
    _done(panel.post("/panel/tron/stock", {"asset": "USDT", "amount": "5", "reason": "scenario",
                                           "request_id": "panel-scenario-stock"}))
    for what, setting_id, fields in (("exchange", "trx_exchange", {"rate": "0.26"}),
                                     ("withdrawals", "withdrawals", {"fee": "1.5"}),
                                     ("limits", "payout_limits", {"hot_wallet_reserve_trx": "25"})):
        _done(panel.post(f"/panel/tron/settings/{what}", {**fields, "version": _version(container, setting_id)}))
    _done(panel.post("/panel/tron/settings/packages", {
        "packages": json.dumps({"energy_65k_1h": {"energy": 65000, "hours": 1, "price": "2.5"}}),
        "version": _version(container, "energy_packages")}))
    panel.get("/panel/settings")
    added = tron_address_from_account_bytes(b"tgshop-scenario-addr")
    _done(panel.post("/panel/settings/addresses/add", {"address": added,
                                                       "version": _version(container, "payment_addresses")}))
    _done(panel.post("/panel/settings/addresses/retire", {"address": added,
                                                          "version": _version(container, "payment_addresses")}))


def use_the_portal(api: Any, codes: Any) -> None:
    container = codes.container
    distributor, token = codes.create_distributor(name="Portal", telegram_user_id=None)
    portal = Browser(api.client, "portal")
    for given in (token + "x", token):
        portal._keep(api.client.http.post("/portal/sign-in", headers={
            "Content-Type": "application/x-www-form-urlencoded"}, body=f"token={given}"))
    portal.get("/portal")
    portal.get("/portal/dashboard")
    portal.post("/portal/orders", {"plan_id": "codes_3m_x10", "quantity": "1", "payment_method": "trc20"})
    [pack, *_] = container.distributor_desk.orders(container.distributors.get_by_id(distributor["distributor_id"]),
                                                   5, None).items
    api.pay({"amount": f"{pack.amount_micros / 1_000_000:.3f}", "pay_to": pack.pay_to})
    codes.fulfil()
    portal.get("/portal/dashboard")
    csv = portal.get(f"/portal/orders/{pack.order_id}/codes.csv?cursor=0")
    code = csv.body.decode().splitlines()[1].split(",")[0]
    _done(portal.post(f"/portal/codes/{code}/deactivate"))
    portal.post("/portal/orders", {"plan_id": "codes_3m_x10", "quantity": "1", "payment_method": "balance"})
    portal.post("/portal/top-up", {"amount": "25.00"})
    portal.post("/portal/sign-out")


def _version(container: Any, setting_id: str) -> Any:
    return container.settings_store.versioned(setting_id)[1]


def _done(response: Any) -> None:
    """A form post that worked redirects to its page; anything else means the scenario missed its path."""
    assert response.status_code == 303, response.body[:300]


def _needs_review(api: Any, container: Any, user_id: int) -> str:
    """A paid order whose gift's outcome is unknown: what the order desk exists for."""
    from chalicelib.domain.orders import FLAG_FOR_REVIEW, START_DELIVERY

    order = json.loads(api.create_order(user_id=user_id).body)
    api.pay(order)
    stored = container.orders.get(order["order_id"])
    delivering = container.orders.apply(stored, START_DELIVERY, container.clock.now())
    container.orders.apply(delivering, FLAG_FOR_REVIEW, container.clock.now(), failure_reason="timeout")
    return order["order_id"]
