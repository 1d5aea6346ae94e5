"""An owner changes the USDT-TRC20 payment addresses from the settings page: added, replaced and retired, each
checked (base58check), audited with before and after; an operator or a viewer cannot. New orders go to the
live addresses, and a transfer to a retired one still pays the order that was given it."""
from __future__ import annotations

import pytest

from chalicelib.domain.operators import Role
from chalicelib.domain.tron import tron_address_from_account_bytes
from chalicelib.tron_config import LOCAL_SWAP_ADDRESS
from tests.e2e.panel_support import Browser, signed_in
from tests.support import ADDRESSES, STRANGER_ADDRESS, new_order, outcome, tx_id

NEW = tron_address_from_account_bytes(b"tgshop-test-addr-new")
OTHER = tron_address_from_account_bytes(b"tgshop-test-addr-oth")


def _signed_in(container, client, name: str, role: Role) -> Browser:
    browser = signed_in(container, client, name, role)
    browser.get("/panel/settings")
    return browser


@pytest.fixture
def owner(container, client):
    return _signed_in(container, client, "olga", Role.OWNER)


def _version(container):
    return container.settings_store.versioned("payment_addresses")[1]


def _audit(container):
    day = container.clock.now().date().isoformat()
    return [entry for entry in container.distributors._audit.list_day(day, 200, None).items
            if entry.action == "settings.change" and entry.target == "setting:payment_addresses"]


def test_an_owner_replaces_an_address_and_a_late_transfer_to_the_retired_one_still_pays(container, client, api,
                                                                                     owner):
    page = owner.get("/panel/settings").body.decode()
    assert ADDRESSES[0] in page and "Add address" in page and "the list the deployment was given" in page
    waiting = new_order(api)
    assert waiting["pay_to"] == ADDRESSES[0]

    done = owner.post("/panel/settings/addresses/replace", {"old": ADDRESSES[0], "address": NEW,
                                                            "version": _version(container)})
    assert done.status_code == 303
    assert container.settings_store.get("payment_addresses") == {"live": [NEW], "retired": [ADDRESSES[0]]}
    [entry] = _audit(container)
    assert entry.actor == "operator:olga"
    assert entry.details["before"] == {"live": [ADDRESSES[0]], "retired": []}
    assert entry.details["after"] == {"live": [NEW], "retired": [ADDRESSES[0]]}

    assert new_order(api, user_id=1002)["pay_to"] == NEW
    assert outcome(api.pay(waiting))["outcome"] == "MATCHED"        # the retired address is still ours
    assert outcome(api.pay(amount="3", to=STRANGER_ADDRESS, tx=tx_id("elsewhere")))["outcome"] == "REJECTED_ADDRESS"
    page = owner.get("/panel/settings").body.decode()
    assert "retired" in page and NEW in page


def test_addresses_are_checked_and_the_last_live_one_stays(container, owner):
    version = _version(container)
    bad = owner.post("/panel/settings/addresses/add", {"address": NEW[:-1] + ("A" if NEW[-1] != "A" else "B"),
                                                       "version": version})
    assert bad.status_code == 400 and b"address" in bad.body and b"ADDRESS_INVALID" in bad.body
    swap = owner.post("/panel/settings/addresses/add", {"address": LOCAL_SWAP_ADDRESS, "version": version})
    assert swap.status_code == 400 and b"ADDRESS_RESERVED" in swap.body
    twice = owner.post("/panel/settings/addresses/add", {"address": ADDRESSES[0], "version": version})
    assert twice.status_code == 409
    last = owner.post("/panel/settings/addresses/retire", {"address": ADDRESSES[0], "version": version})
    assert last.status_code == 409 and b"LAST_ADDRESS" in last.body
    not_live = owner.post("/panel/settings/addresses/retire", {"address": NEW, "version": version})
    assert not_live.status_code == 400 and b"ADDRESS_NOT_LIVE" in not_live.body
    assert container.settings_store.get("payment_addresses") is None and not _audit(container)

    assert owner.post("/panel/settings/addresses/add", {"address": NEW, "version": version}).status_code == 303
    stale = owner.post("/panel/settings/addresses/add", {"address": OTHER, "version": version})
    assert stale.status_code == 409 and b"SETTING_CHANGED" in stale.body
    assert owner.post("/panel/settings/addresses/retire", {"address": ADDRESSES[0],
                                                           "version": _version(container)}).status_code == 303
    assert container.payment_addresses.book().live == (NEW,)
    assert container.payment_addresses.known() == {NEW, ADDRESSES[0]}
    readded = owner.post("/panel/settings/addresses/add", {"address": ADDRESSES[0], "version": _version(container)})
    assert readded.status_code == 303
    assert container.settings_store.get("payment_addresses") == {"live": [NEW, ADDRESSES[0]], "retired": []}


def test_only_an_owner_changes_addresses(container, client):
    for name, role in (("otto", Role.OPERATOR), ("vera", Role.VIEWER)):
        browser = _signed_in(container, client, name, role)
        page = browser.get("/panel/settings").body.decode()
        assert ADDRESSES[0] in page and "Add address" not in page
        refused = browser.post("/panel/settings/addresses/add", {"address": NEW, "version": _version(container)})
        assert refused.status_code == 403, name
    assert container.settings_store.get("payment_addresses") is None
