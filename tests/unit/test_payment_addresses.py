"""The payment addresses as the payment method and the webhook read them: the deployment's list until one is
saved, then the saved live and retired ones, taken up by another container within the settings cache time."""
from __future__ import annotations

from chalicelib.domain.live_settings import CACHE_SECONDS, LiveSettings
from chalicelib.domain.payment_addresses import SETTING, AddressBook, PaymentAddresses, parse_book
from chalicelib.domain.tron import tron_address_from_account_bytes
from tests.fakes import FixedClock, InMemorySettingsStore
from tests.support import START

SEED = (tron_address_from_account_bytes(b"tgshop-unit-address1"),)
NEW = tron_address_from_account_bytes(b"tgshop-unit-address2")


def test_the_deployments_list_applies_until_a_list_is_saved():
    assert parse_book(None, SEED) == AddressBook(SEED)
    assert parse_book({"live": [], "retired": []}, SEED) == AddressBook(SEED)
    saved = parse_book({"live": [NEW], "retired": list(SEED)}, SEED)
    assert saved.live == (NEW,) and saved.known == {NEW, *SEED}


def test_a_change_made_elsewhere_is_read_within_the_cache_time():
    store, clock = InMemorySettingsStore(), FixedClock(START)
    addresses = PaymentAddresses(LiveSettings(store, clock), SEED)
    assert addresses.live() == SEED
    store.put(SETTING, {"live": [NEW], "retired": list(SEED)})        # another container saved it
    clock.advance(seconds=CACHE_SECONDS - 1)
    assert addresses.live() == SEED
    clock.advance(seconds=1)
    assert addresses.live() == (NEW,) and addresses.known() == {NEW, *SEED}
