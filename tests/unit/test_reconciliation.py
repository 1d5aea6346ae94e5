"""Reconciliation over the in-memory stores: a day of real postings proves clean, and each kind of damage to
the books (a balance, an entry, an account's line, a payment, an order) is reported, alerted and keeps the
damaged account's closing from being saved."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import ledger
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.ledger import Line, PostedEntry, Purpose, refund_entry
from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import MARK_FAILED, START_DELIVERY, Order, OrderStatus
from chalicelib.domain.payment_methods.balance import WalletBalance
from chalicelib.domain.payment_methods.trc20 import Trc20UniqueAmount, UniqueAmountPolicy
from chalicelib.domain.payment_methods.trc20_transfers import PaymentRules, Transfer, Trc20Transfers
from chalicelib.domain.ports.payments import PaymentRecord
from chalicelib.domain.products import OrderDraft
from chalicelib.domain.reconciliation import CATCH_UP_DAYS, Reconciliation
from chalicelib.domain.reconciliation_report import Mismatch
from chalicelib.domain.settlement import PaymentOutcome, Settlement
from tests.fakes import (Counted, FixedClock, InMemoryGuardStore, InMemoryOrderStore, InMemoryPaymentSlotStore,
                         InMemoryPaymentStore, InMemoryPayoutStore, InMemoryUserStore, RecordingMessenger,
                         RecordingQueue, SequentialIds)
from tests.support import tx_id

DAY = date(2026, 11, 25)
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADDRESS = "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt"
STRANGER = "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
ADMIN_CHAT = 999
KIND = "PREMIUM_GIFT"
CLEARING = ledger.clearing(ADDRESS, "USDT")
REVENUE = ledger.revenue(KIND, "USDT")


class Books:
    """The shop's money side over fakes: orders paid by transfer or from the wallet, refunds, reconciliation."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOON)
        self.slots = InMemoryPaymentSlotStore()
        self.orders = InMemoryOrderStore(self.slots)
        self.ledger = self.orders.ledger
        self.payments = InMemoryPaymentStore(self.orders)
        self.payouts = InMemoryPayoutStore()
        self.counted = Counted()
        self.ids = SequentialIds()
        self.messenger = RecordingMessenger()
        queue = RecordingQueue()
        settles_to = lambda kind, owner_id, currency: ledger.revenue(kind, currency)
        self.trc20 = Trc20UniqueAmount(
            self.orders, self.slots,
            UniqueAmountPolicy(addresses=lambda: (ADDRESS,), suffix_decimals=3, surcharge_cap_micros=100_000,
                               expiry=timedelta(minutes=30), monitoring_window=timedelta(minutes=60), max_pending=5),
            self.counted.append)
        self.transfers = Trc20Transfers(Settlement(self.payments, self.orders, queue, settles_to, self.counted.append),
                                        self.slots, self.clock,
                                        PaymentRules(lambda: frozenset({ADDRESS}), USDT, 3))
        self.wallet_pay = WalletBalance(self.orders, self.ledger, queue, settles_to, self.counted.append)
        notices = Notices(InMemoryUserStore(), self.messenger, InMemoryGuardStore(), self.clock, ADMIN_CHAT, 600,
                          logging.getLogger("test"))
        self.reconciliation = Reconciliation(self.ledger, self.payments, self.orders, notices, self.clock,
                                             lambda name, value=1: self.counted.extend([name] * value),
                                             payouts=self.payouts)

    def draft(self, user_id: int, price: int) -> OrderDraft:
        return OrderDraft(kind=KIND, owner_id=f"user:{user_id}", product_id="premium_3m", base_micros=price,
                          attributes={"buyer_user_id": user_id, "recipient_user_id": user_id})

    def order(self, user_id: int = 1001, price: int = 15_000_000) -> Order:
        return self.trc20.open(self.draft(user_id, price), self.ids.new_id(), self.clock.now())

    def pay(self, amount_micros: int, name: str):
        raw = {"transaction_id": tx_id(name), "token_info": {"symbol": "USDT", "address": USDT, "decimals": 6},
               "block_timestamp": int(self.clock.now().timestamp() * 1000), "from": STRANGER, "to": ADDRESS,
               "type": "Transfer", "value": str(amount_micros), "confirmed": True}
        return self.transfers.handle(Transfer.model_validate(raw), raw)

    def pay_from_wallet(self, user_id: int, price: int) -> Order:
        return self.wallet_pay.open(self.draft(user_id, price), self.ids.new_id(), self.clock.now())

    def fail(self, order: Order) -> None:
        now = self.clock.now()
        paid = self.orders.get(order.order_id)
        delivering = self.orders.apply(paid, START_DELIVERY, now)
        assert self.orders.apply(delivering, MARK_FAILED, now, refund_entry(delivering, "gift refused", now))

    def a_mixed_day(self) -> dict[str, Order]:
        """Exact, overpaid and underpaid transfers, one that fits no order, a wallet payment and a refund."""
        exact, over, under = self.order(1001), self.order(1002), self.order(1003)
        assert self.pay(exact.amount_micros, "exact").outcome == PaymentOutcome.MATCHED
        assert self.pay(over.amount_micros + 2_000_000, "over").outcome == PaymentOutcome.MATCHED
        assert self.pay(under.amount_micros - 5_000_000, "under").outcome == PaymentOutcome.CREDITED
        assert self.pay(7_000_000, "stray").outcome == PaymentOutcome.UNMATCHED
        self.clock.advance(minutes=5)
        from_wallet = self.pay_from_wallet(1003, 4_000_000)
        self.fail(exact)
        return {"exact": exact, "over": over, "under": under, "from_wallet": from_wallet}

    def damage_order(self, order: Order, **changes) -> None:
        self.orders.orders[order.order_id] = replace(self.orders.get(order.order_id), **changes)

    def kinds(self, report) -> list[Mismatch]:
        return [difference.kind for difference in report.differences]

    @property
    def alerts(self) -> list[str]:
        return [text for chat, text in self.messenger.texts if chat == ADMIN_CHAT]


@pytest.fixture
def books() -> Books:
    return Books()


def _after(day: date, **delta: float) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(**delta)


# ---------------------------------------------------------------------------------------------- clean books
def test_a_mixed_day_proves_clean_and_keeps_its_report_and_closings(books):
    orders = books.a_mixed_day()
    books.clock.current = _after(DAY, minutes=15)

    report = books.reconciliation.reconcile(DAY)

    assert report.ok and report.complete, report.differences
    assert report.counts == {"entries": 6, "payments": 4, "accounts": 7, "orders": 3, "payouts": 0}
    received = sum(orders[name].amount_micros for name in ("exact", "over", "under")) + 2_000_000 - 5_000_000 \
        + 7_000_000
    assert report.totals["USDT"]["received_micros"] == received
    stored = books.ledger.report(DAY)
    assert stored["ok"] is True and stored["complete"] is True and stored["differences"] == []
    assert books.ledger.closings[(CLEARING, DAY)] == -received
    assert books.ledger.closings[(REVENUE, DAY)] == books.ledger.balance(REVENUE)
    assert books.alerts == []


def test_today_so_far_leaves_the_last_seconds_and_saves_no_closings(books):
    books.a_mixed_day()
    books.clock.advance(seconds=1)           # the refund and the wallet payment are younger than the index lag
    books.pay(9_000_000, "very late stray")

    report = books.reconciliation.reconcile()

    assert report.ok and not report.complete
    assert report.counts["entries"] == 4 and report.counts["payments"] == 4
    assert books.ledger.closings == {}
    assert books.ledger.last_reconciled_day() is None


def test_the_next_day_starts_from_the_closings_and_reads_only_what_came_after(books):
    books.a_mixed_day()
    books.clock.current = _after(DAY, minutes=15)
    assert books.reconciliation.reconcile(DAY).ok
    second = books.order(1004)
    books.pay(second.amount_micros, "next day")
    read_from: list = []
    original = books.ledger.lines_since
    books.ledger.lines_since = lambda account, since: read_from.append(since) or original(account, since)
    books.clock.current = _after(DAY + timedelta(days=1), minutes=15)

    report = books.reconciliation.reconcile(DAY + timedelta(days=1))

    assert report.ok, report.differences
    assert read_from and all(since == _after(DAY) for since in read_from)


def test_a_day_between_closings_that_nobody_reconciled_is_counted_into_the_opening(books):
    books.a_mixed_day()
    books.clock.current = _after(DAY, minutes=15)
    books.reconciliation.reconcile(DAY)
    books.pay(books.order(1005).amount_micros, "skipped day")
    books.clock.advance(days=1)
    books.pay(books.order(1006).amount_micros, "third day")
    books.clock.advance(days=1)

    assert books.reconciliation.reconcile(DAY + timedelta(days=2)).ok


def test_the_daily_run_catches_up_from_the_last_complete_report_at_most_a_week(books):
    books.clock.current = _after(DAY, hours=1)
    assert [report.day for report in books.reconciliation.reconcile_due()] == \
        [DAY - timedelta(days=n) for n in reversed(range(CATCH_UP_DAYS))]
    books.clock.advance(days=3)
    books.reconciliation.reconcile()        # today so far: does not count as reconciled

    assert [report.day for report in books.reconciliation.reconcile_due()] == \
        [DAY + timedelta(days=n) for n in (1, 2, 3)]


def test_a_day_that_has_not_begun_is_refused_and_a_day_never_reconciled_is_not_found(books):
    with pytest.raises(ValidationFailed) as refused:
        books.reconciliation.reconcile(DAY + timedelta(days=1))
    assert refused.value.field == "day"
    with pytest.raises(NotFound):
        books.reconciliation.stored(DAY)


# ---------------------------------------------------------------------------------------------- damage
def test_a_corrupted_balance_is_reported_alerted_and_its_closing_not_saved(books):
    books.a_mixed_day()
    books.ledger.balances[REVENUE] += 1
    books.clock.current = _after(DAY, minutes=15)

    report = books.reconciliation.reconcile(DAY)

    assert [difference.as_dict() for difference in report.differences] == [
        {"kind": "balance", "account": REVENUE, "expected": books.ledger.balances[REVENUE] - 1,
         "actual": books.ledger.balances[REVENUE]}]
    assert (REVENUE, DAY) not in books.ledger.closings and (CLEARING, DAY) in books.ledger.closings
    assert len(books.alerts) == 1 and "2026-11-25" in books.alerts[0] and REVENUE in books.alerts[0]
    assert books.counted.of("LedgerDifferences") == 1
    assert books.ledger.report(DAY)["ok"] is False


def test_a_dropped_entry_is_reported_from_its_accounts_its_payment_and_its_clearing(books):
    books.a_mixed_day()
    tx = tx_id("over")
    dropped = books.ledger.entries.pop(ledger.payment_entry_id(tx))
    books.clock.current = _after(DAY, minutes=15)

    report = books.reconciliation.reconcile(DAY)

    kinds = books.kinds(report)
    # The accounts other entries of the day touched show the orphan line; the buyer's wallet, which only the
    # dropped entry touched, is not among the day's accounts (docs/decisions.md, what is not proved).
    assert {d.account for d in report.differences if d.kind == Mismatch.ACCOUNT_LINE} == {CLEARING, REVENUE}
    assert Mismatch.PAYMENT_WITHOUT_ENTRY in kinds and Mismatch.CLEARING in kinds
    assert Mismatch.CURRENCY_UNBALANCED not in kinds   # what was left still balances
    missing = next(d for d in report.differences if d.kind == Mismatch.PAYMENT_WITHOUT_ENTRY)
    assert missing.transaction_id == tx and missing.expected == -dropped.lines[0].amount_micros


def test_a_payment_without_its_entry_is_reported(books):
    books.a_mixed_day()
    record = PaymentRecord(transaction_id=tx_id("no entry"), received_at=books.clock.now(), from_address=STRANGER,
                           to_address=ADDRESS, token_contract=USDT, token_symbol="USDT", amount_micros=3_000_000,
                           block_timestamp_ms=None, confirmed=True, outcome=PaymentOutcome.UNMATCHED)
    assert books.payments.record(record)
    books.clock.current = _after(DAY, minutes=15)

    report = books.reconciliation.reconcile(DAY)

    assert [(d.kind, d.transaction_id, d.account) for d in report.differences] == [
        (Mismatch.PAYMENT_WITHOUT_ENTRY, record.transaction_id, None), (Mismatch.CLEARING, None, CLEARING)]


def test_an_unbalanced_entry_in_another_currency_is_reported_with_the_currency_total(books):
    books.a_mixed_day()
    books.ledger.entries["adjust:bad"] = PostedEntry(
        "adjust:bad", Purpose.ADJUSTMENT, "USDT",
        (Line(ledger.adjustments("USDT"), -5), Line(ledger.wallet("user:1001", "TON"), 4)), books.clock.now())
    books.clock.current = _after(DAY, minutes=15)

    kinds = books.kinds(books.reconciliation.reconcile(DAY))

    assert Mismatch.ENTRY_UNBALANCED in kinds and Mismatch.ENTRY_CURRENCY in kinds
    assert kinds.count(Mismatch.CURRENCY_UNBALANCED) == 2     # USDT -5, TON +4


def test_an_account_line_that_differs_from_its_entry_is_reported(books):
    books.a_mixed_day()
    lines = books.ledger.lines[REVENUE]
    lines[0] = replace(lines[0], amount_micros=lines[0].amount_micros - 1)
    books.ledger.balances[REVENUE] -= 1     # the balance follows the damaged line: only the line tells
    books.clock.current = _after(DAY, minutes=15)

    report = books.reconciliation.reconcile(DAY)

    assert [(d.kind, d.account, d.entry_id) for d in report.differences] == [
        (Mismatch.ACCOUNT_LINE, REVENUE, lines[0].entry_id)]


def test_orders_that_disagree_with_their_entries_are_reported(books):
    orders = books.a_mixed_day()
    over, from_wallet, exact = orders["over"], orders["from_wallet"], orders["exact"]
    books.damage_order(over, paid_micros=1)
    books.damage_order(from_wallet, status=OrderStatus.PENDING)
    books.damage_order(exact, status=OrderStatus.DELIVERED)
    books.clock.current = _after(DAY, minutes=15)

    report = books.reconciliation.reconcile(DAY)

    assert {(d.kind, d.order_id) for d in report.differences} == {
        (Mismatch.ORDER_PAID_AMOUNT, over.order_id), (Mismatch.ORDER_STATUS, from_wallet.order_id),
        (Mismatch.REFUND_STATUS, exact.order_id)}


def test_an_order_settled_twice_and_a_failed_order_without_refund_are_reported(books):
    orders = books.a_mixed_day()
    over = books.orders.get(orders["over"].order_id)
    second = replace(books.ledger.entries[ledger.payment_entry_id(over.payment_tx)], entry_id="balance:again")
    books.ledger.write(second)
    refund = books.ledger.entries.pop(ledger.refund_entry_id(orders["exact"].order_id))
    for account in (line.account for line in refund.lines):   # as if the refund had never been written
        books.ledger.lines[account] = [line for line in books.ledger.lines[account]
                                       if line.entry_id != refund.entry_id]
        books.ledger.balances[account] -= next(line.amount_micros for line in refund.lines if line.account == account)
    books.clock.current = _after(DAY, minutes=15)

    report = books.reconciliation.reconcile(DAY)

    kinds = {(d.kind, d.order_id) for d in report.differences}
    assert (Mismatch.ORDER_SETTLED_TWICE, over.order_id) in kinds
    assert (Mismatch.ORDER_SETTLEMENT, over.order_id) in kinds
    assert (Mismatch.FAILED_WITHOUT_REFUND, orders["exact"].order_id) in kinds


def test_many_differences_are_counted_but_the_report_keeps_the_first_hundred(books):
    books.a_mixed_day()
    for n in range(150):
        books.ledger.entries[f"adjust:{n}"] = PostedEntry(
            f"adjust:{n}", Purpose.ADJUSTMENT, "USDT", (Line(ledger.adjustments("USDT"), -1),), books.clock.now())
    books.clock.current = _after(DAY, minutes=15)

    stored = books.reconciliation.reconcile(DAY).as_dict()

    assert stored["differences_total"] > 150 and len(stored["differences"]) == 100


def test_payments_that_disagree_with_their_entries_and_entries_of_missing_orders_are_reported(books):
    orders = books.a_mixed_day()
    stored = books.payments.records
    over, exact = tx_id("over"), tx_id("exact")
    stored[over] = replace(stored[over], amount_micros=stored[over].amount_micros + 1)
    stored[exact] = replace(stored[exact], order_id="order-9999")
    del books.orders.orders[orders["from_wallet"].order_id]
    books.damage_order(orders["under"], paid_micros=1)      # a credited order: its money paid nothing, no check
    books.damage_order(orders["exact"], paid_micros=orders["exact"].amount_micros - 1)
    books.clock.current = _after(DAY, minutes=15)

    report = books.reconciliation.reconcile(DAY)

    assert {(d.kind, d.transaction_id or d.order_id or d.account) for d in report.differences} == {
        (Mismatch.PAYMENT_AMOUNT, over), (Mismatch.CLEARING, CLEARING), (Mismatch.PAYMENT_NOT_SETTLING, exact),
        (Mismatch.ORDER_MISSING, orders["from_wallet"].order_id),
        (Mismatch.ORDER_PAID_AMOUNT, orders["exact"].order_id), (Mismatch.REFUND_AMOUNT, orders["exact"].order_id)}
