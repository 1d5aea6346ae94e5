"""Reconciliation of the payouts table against the ledger, over the in-memory stores: payouts that landed or
reverted with exactly their entries prove clean, and each kind of damage (a landed payout without its entry or
its fee's, an entry on other accounts or for other amounts, an entry booked for a payout that did not land,
did not land that day, or reverted) is reported as its own kind."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.payouts import payout_entries, reverted_entries
from chalicelib.domain.ports.payouts import Payout, PayoutState
from chalicelib.domain.ports.tron import PayoutAction
from chalicelib.domain.reconciliation_report import Mismatch
from devstack.tron_node.local import BUYER_ADDRESSES
from tests.unit.test_reconciliation import DAY, NOON, Books, _after

TO = BUYER_ADDRESSES[0]


def _payout(payout_id: str, action: PayoutAction, amount: int, booked: int, purpose: str) -> Payout:
    return Payout(payout_id, action, TO, amount, booked, purpose, "ab" * 32, {}, NOON + timedelta(minutes=5), NOON,
                  order_id=payout_id.split(":")[1])


EXCHANGE = _payout("order:o1", PayoutAction.TRANSFER, 40_000_000, 40_000_000, "TRX_EXCHANGE")
RENTAL = _payout("order:o2", PayoutAction.DELEGATE, 6_500_000_000, 65_000, "ENERGY_RENTAL")
WITHDRAWAL = _payout("order:o3", PayoutAction.TOKEN_TRANSFER, 20_000_000, 20_000_000, "WITHDRAWAL")


class PayoutBooks(Books):
    def settle(self, payout: Payout, fee_sun: int, state: PayoutState = PayoutState.LANDED,
               entries: tuple[JournalEntry, ...] | None = None) -> Payout:
        """The payout as its settling transaction writes it, with `entries` (default: what it books)."""
        at = self.clock.now()
        settled = replace(payout, state=state, landed_at=at, fee_sun=fee_sun)
        self.payouts.put(settled)
        if entries is None:
            entries = payout_entries(payout, fee_sun, at) if state == PayoutState.LANDED \
                else reverted_entries(payout, fee_sun, at)
        for entry in entries:
            self.ledger.post(entry)
        return settled

    def a_payout_day(self) -> None:
        self.settle(EXCHANGE, 1_100_000)
        self.settle(RENTAL, 350_000)
        self.settle(WITHDRAWAL, 13_844_850, PayoutState.REVERTED)

    def reconcile(self):
        self.clock.current = _after(DAY, minutes=15)
        return self.reconciliation.reconcile(DAY)


@pytest.fixture
def books() -> PayoutBooks:
    return PayoutBooks()


def test_landed_and_reverted_payouts_with_their_entries_prove_clean(books):
    books.a_payout_day()
    report = books.reconcile()
    assert report.ok, report.differences
    assert report.counts["payouts"] == 3 and report.counts["entries"] == 4   # transfer, energy and its fee, a fee


def test_a_landed_payout_without_its_entry_is_reported(books):
    books.settle(EXCHANGE, 0, entries=())
    report = books.reconcile()
    assert books.kinds(report) == [Mismatch.PAYOUT_WITHOUT_ENTRY]
    difference = report.differences[0]
    assert (difference.payout_id, difference.entry_id, difference.expected) == (
        "order:o1", "payout:order:o1", 40_000_000)
    assert any("payout_without_entry order:o1" in text for text in books.alerts)


def test_a_payout_that_burned_trx_without_its_fee_entry_is_reported(books):
    landed_at = books.clock.now()
    books.settle(RENTAL, 350_000, entries=payout_entries(RENTAL, 0, landed_at))   # booked as if nothing burned
    report = books.reconcile()
    assert books.kinds(report) == [Mismatch.PAYOUT_FEE_WITHOUT_ENTRY]
    assert report.differences[0].entry_id == "payout-fee:order:o2"


def test_a_reverted_payout_without_its_burned_fee_is_reported(books):
    books.settle(WITHDRAWAL, 13_844_850, PayoutState.REVERTED, entries=())
    report = books.reconcile()
    assert books.kinds(report) == [Mismatch.PAYOUT_FEE_WITHOUT_ENTRY]
    assert report.differences[0].expected == 13_844_850


def test_an_entry_for_another_amount_is_reported(books):
    at = books.clock.now()
    books.settle(replace(EXCHANGE, booked_amount=30_000_000), 0, entries=payout_entries(EXCHANGE, 0, at))
    report = books.reconcile()
    assert books.kinds(report) == [Mismatch.PAYOUT_AMOUNT]
    assert report.differences[0].expected["payouts:TRX_EXCHANGE:TRX"] == -30_000_000
    assert report.differences[0].actual["payouts:TRX_EXCHANGE:TRX"] == -40_000_000


def test_an_entry_on_other_accounts_is_reported(books):
    at = books.clock.now()
    elsewhere = replace(RENTAL, to_address=BUYER_ADDRESSES[1])       # energy lent to another address than paid
    books.settle(RENTAL, 0, entries=payout_entries(elsewhere, 0, at))
    report = books.reconcile()
    assert books.kinds(report) == [Mismatch.PAYOUT_ACCOUNT]
    assert f"delegated:{TO}:ENERGY" in report.differences[0].expected
    assert f"delegated:{BUYER_ADDRESSES[1]}:ENERGY" in report.differences[0].actual


@pytest.mark.parametrize("state", [PayoutState.SIGNED, PayoutState.CANCELLED])
def test_an_entry_for_a_payout_that_did_not_land_is_reported(books, state):
    at = books.clock.now()
    books.payouts.put(replace(EXCHANGE, state=state))
    for entry in payout_entries(EXCHANGE, 1_100_000, at):
        books.ledger.post(entry)
    report = books.reconcile()
    assert books.kinds(report) == [Mismatch.ENTRY_WITHOUT_PAYOUT]
    assert (report.differences[0].payout_id, report.differences[0].actual) == ("order:o1", 41_100_000)


def test_a_reverted_payout_booked_as_paid_is_reported(books):
    at = books.clock.now()
    books.settle(WITHDRAWAL, 13_844_850, PayoutState.REVERTED, entries=payout_entries(WITHDRAWAL, 13_844_850, at))
    report = books.reconcile()
    assert books.kinds(report) == [Mismatch.ENTRY_WITHOUT_PAYOUT]
    assert report.differences[0].entry_id == "payout:order:o3"


def test_an_entry_of_a_payout_that_landed_on_another_day_is_reported_on_both_days(books):
    at = books.clock.now()
    books.payouts.put(replace(EXCHANGE, state=PayoutState.LANDED, landed_at=at - timedelta(days=1)))
    for entry in payout_entries(EXCHANGE, 0, at):
        books.ledger.post(entry)
    report = books.reconcile()
    assert books.kinds(report) == [Mismatch.ENTRY_WITHOUT_PAYOUT]
    books.clock.current = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(minutes=15)
    earlier = books.reconciliation.reconcile(DAY - timedelta(days=1))
    assert books.kinds(earlier) == [Mismatch.PAYOUT_WITHOUT_ENTRY]
