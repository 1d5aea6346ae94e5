"""The one settle step: a payment pays its order at most once and hands it to its queue at most once, and
its money lands by rule, in one journal entry written with the payment: the price to the product, anything
else to the wallet of the order's buyer, a transfer that fits no order to suspense."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import ledger
from chalicelib.domain.orders import CANCEL, EXPIRE, Order, OrderStatus
from chalicelib.domain.payment_methods.trc20 import (
    Trc20UniqueAmount,
    UniqueAmountPolicy,
)
from chalicelib.domain.payment_methods.trc20_transfers import (
    PaymentRules,
    Transfer,
    Trc20Transfers,
)
from chalicelib.domain.ports.payments import PaymentRecord
from chalicelib.domain.products import OrderDraft, ProductRegistry
from chalicelib.domain.products.code_pack import CodePack
from chalicelib.domain.products.premium import PremiumGift
from chalicelib.domain.products.wallet_top_up import WalletTopUp
from chalicelib.domain.settlement import OrderRef, PaymentOutcome, Settlement, UnmatchedReason
from tests.fakes import (
    Counted,
    FixedClock,
    InMemoryOrderStore,
    InMemoryPaymentSlotStore,
    InMemoryPaymentStore,
    RecordingQueue,
    SequentialIds,
)
from tests.support import tx_id

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADDRESS = "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt"
STRANGER = "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
BASE = 15_000_000
CLEARING = ledger.clearing(ADDRESS, "USDT")
PREMIUM_REVENUE = ledger.revenue("PREMIUM_GIFT", "USDT")
SUSPENSE = ledger.suspense("USDT")


def wallet(user_id: int = 1001) -> str:
    return ledger.wallet(f"user:{user_id}", "USDT")


class Shop:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.slots = InMemoryPaymentSlotStore()
        self.orders = InMemoryOrderStore(self.slots)
        self.ledger = self.orders.ledger
        self.payments = InMemoryPaymentStore(self.orders)
        self.queue = RecordingQueue()
        self.counted = Counted()
        self.ids = SequentialIds()
        self.trc20 = Trc20UniqueAmount(
            self.orders, self.slots,
            UniqueAmountPolicy(addresses=lambda: (ADDRESS,), suffix_decimals=3, surcharge_cap_micros=100_000,
                               expiry=timedelta(minutes=30), monitoring_window=timedelta(minutes=60), max_pending=3),
            self.counted.append)
        self.heard: list[PaymentRecord] = []
        products = ProductRegistry((PremiumGift(None), CodePack(None, 10), WalletTopUp(None)))
        self.settlement = Settlement(self.payments, self.orders, self.queue, products.settles_to,
                                     self.counted.append, heard=self.heard.append)
        self.transfers = Trc20Transfers(self.settlement, self.slots, self.clock,
                                        PaymentRules(addresses=lambda: frozenset({ADDRESS}), usdt_contract=USDT,
                                                     suffix_decimals=3))

    def order(self, user_id: int = 1001, kind: str = "PREMIUM_GIFT") -> Order:
        draft = OrderDraft(kind=kind, owner_id=f"user:{user_id}", product_id="premium_3m", base_micros=BASE,
                           attributes={"buyer_user_id": user_id, "recipient_user_id": user_id})
        return self.trc20.open(draft, self.ids.new_id(), self.clock.now())

    def pay(self, amount_micros: int, tx: str = "tx-1", *, to: str = ADDRESS, token: str = USDT,
            confirmed: bool = True, mined_at: datetime | None = None, decimals: int = 6, value: str | None = None):
        """`tx` names the transaction (its id is derived); mined now unless `mined_at` says otherwise."""
        mined = mined_at or self.clock.now()
        raw = {"transaction_id": tx_id(tx), "token_info": {"symbol": "USDT", "address": token, "decimals": decimals},
               "block_timestamp": int(mined.timestamp() * 1000), "from": STRANGER, "to": to, "type": "Transfer",
               "value": value or str(amount_micros), "confirmed": confirmed}
        return self.transfers.handle(Transfer.model_validate(raw), raw)

    def status(self, order: Order) -> OrderStatus:
        return self.orders.get(order.order_id).status

    def entry_lines(self, tx: str) -> dict[str, int]:
        """The lines of the one entry a transfer made, by account."""
        return {line.account: line.amount_micros for line in self.ledger.entries[f"pay:{tx_id(tx)}"].lines}

    def balances(self) -> dict[str, int]:
        return {account: balance for account, balance in self.ledger.balances.items() if balance}


@pytest.fixture
def shop() -> Shop:
    return Shop()


def test_an_exact_amount_pays_the_order_once_and_queues_it_once_with_its_kind(shop):
    order = shop.order()
    shop.clock.advance(minutes=3)

    result = shop.pay(order.amount_micros)

    assert (result.outcome, result.order_id, result.replayed) == (PaymentOutcome.MATCHED, order.order_id, False)
    paid = shop.orders.get(order.order_id)
    assert paid.status == OrderStatus.PAID and paid.payment_tx == tx_id("tx-1")
    assert (paid.paid_micros, paid.paid_at, paid.paid_late) == (order.amount_micros, NOW + timedelta(minutes=3), False)
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    stored = shop.payments.get(tx_id("tx-1"))
    assert (stored.outcome, stored.order_id, stored.amount_micros) == ("MATCHED", order.order_id, order.amount_micros)
    assert (stored.reason, stored.credited_micros) == (None, None)
    assert shop.orders.pending["user:1001"] == 0 and shop.counted.of("OrdersPaid") == 1
    assert shop.entry_lines("tx-1") == {CLEARING: -order.amount_micros, PREMIUM_REVENUE: order.amount_micros}
    assert shop.ledger.balance(wallet()) == 0 and shop.heard == []   # an exact payment tells nobody here


def test_the_queue_carries_each_products_own_kind_and_the_price_goes_to_that_products_account(shop):
    order = shop.order(kind="CODE_PACK")
    shop.pay(order.amount_micros)
    assert shop.queue.enqueued == [(order.order_id, "CODE_PACK")]
    assert shop.entry_lines("tx-1") == {CLEARING: -order.amount_micros,
                                        ledger.revenue("CODE_PACK", "USDT"): order.amount_micros}


def test_a_replayed_transfer_writes_nothing_new_and_answers_replayed(shop):
    order = shop.order()
    first = shop.pay(order.amount_micros)
    paid = shop.orders.get(order.order_id)
    shop.clock.advance(minutes=1)

    again = shop.pay(order.amount_micros)

    assert (again.outcome, again.order_id, again.replayed) == (PaymentOutcome.MATCHED, order.order_id, True)
    assert first.replayed is False and again.as_dict()["replayed"] is True
    assert shop.orders.get(order.order_id) == paid
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    assert list(shop.payments.records) == [tx_id("tx-1")] and shop.counted.of("OrdersPaid") == 1
    assert list(shop.ledger.entries) == [f"pay:{tx_id('tx-1')}"]
    assert shop.balances() == {CLEARING: -order.amount_micros, PREMIUM_REVENUE: order.amount_micros}


def test_a_second_transfer_for_a_paid_order_is_a_duplicate_credited_to_its_buyer_and_not_queued(shop):
    order = shop.order()
    shop.pay(order.amount_micros, "tx-1")

    second = shop.pay(order.amount_micros, "tx-2")

    assert (second.outcome, second.order_id, second.replayed) == (PaymentOutcome.DUPLICATE, order.order_id, False)
    assert "already paid" in second.reason
    assert shop.orders.get(order.order_id).payment_tx == tx_id("tx-1")
    stored = shop.payments.get(tx_id("tx-2"))
    assert (stored.outcome, stored.credited_micros) == ("DUPLICATE", order.amount_micros)
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    assert shop.entry_lines("tx-2") == {CLEARING: -order.amount_micros, wallet(): order.amount_micros}
    assert shop.ledger.balance(wallet()) == order.amount_micros
    assert shop.ledger.balance(PREMIUM_REVENUE) == order.amount_micros    # the first transfer's, once
    assert [record.transaction_id for record in shop.heard] == [tx_id("tx-2")]
    assert shop.counted.of("PaymentsDuplicate") == 1 and shop.counted.of("OrdersPaid") == 1


@pytest.mark.parametrize("transition", [EXPIRE, CANCEL])
def test_a_late_payment_inside_the_window_pays_an_expired_or_cancelled_order_late(shop, transition):
    order = shop.order()
    shop.clock.advance(minutes=31)
    shop.orders.apply(order, transition, shop.clock.now())
    assert shop.orders.pending["user:1001"] == 0

    result = shop.pay(order.amount_micros)

    assert (result.outcome, result.order_id) == (PaymentOutcome.LATE_MATCHED, order.order_id)
    late = shop.orders.get(order.order_id)
    assert late.status == OrderStatus.PAID_LATE and late.paid_late is True and late.payment_tx == tx_id("tx-1")
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    assert shop.orders.pending["user:1001"] == 0  # freed once, when it expired
    assert shop.entry_lines("tx-1") == {CLEARING: -order.amount_micros, PREMIUM_REVENUE: order.amount_micros}


def test_a_payment_after_the_late_window_pays_nothing_and_is_credited_to_the_orders_buyer(shop):
    order = shop.order()
    shop.clock.advance(minutes=31)
    shop.orders.apply(order, EXPIRE, shop.clock.now())
    shop.clock.advance(minutes=60)

    result = shop.pay(order.amount_micros)

    assert (result.outcome, result.reason, result.order_id) == (PaymentOutcome.CREDITED, UnmatchedReason.TOO_LATE,
                                                                order.order_id)
    assert shop.status(order) == OrderStatus.EXPIRED and shop.queue.enqueued == []
    assert shop.payments.get(tx_id("tx-1")).credited_micros == order.amount_micros
    assert shop.entry_lines("tx-1") == {CLEARING: -order.amount_micros, wallet(): order.amount_micros}
    assert shop.ledger.balance(wallet()) == order.amount_micros and shop.ledger.balance(PREMIUM_REVENUE) == 0
    assert [(record.outcome, record.reason) for record in shop.heard] == [("CREDITED", "TOO_LATE")]
    assert shop.counted.of("PaymentsCredited") == 1 and shop.counted.of("PaymentsUnmatched") == 0


def test_settling_an_unknown_order_id_is_unmatched_no_order(shop):
    record = PaymentRecord(transaction_id="v-1", received_at=NOW, from_address="someone", to_address="shop",
                           token_contract="voucher", token_symbol="", amount_micros=1, block_timestamp_ms=None,
                           confirmed=True, outcome="RECEIVED", method="voucher")

    result = shop.settlement.settle(record, "no-such-order", NOW)

    assert (result.outcome, result.reason) == (PaymentOutcome.UNMATCHED, UnmatchedReason.NO_ORDER)
    assert shop.payments.get("v-1").outcome == "UNMATCHED" and shop.payments.get("v-1").method == "voucher"
    assert shop.queue.enqueued == [] and shop.counted.of("PaymentsUnmatched") == 1
    assert shop.balances() == {ledger.clearing("shop", "USDT"): -1, SUSPENSE: 1}
    assert [record.outcome for record in shop.heard] == ["UNMATCHED"]   # the operator looks at suspense


def test_an_amount_no_order_holds_is_unmatched_no_order(shop):
    order = shop.order()
    wrong_fraction = order.amount_micros + 1_000 if order.amount_micros % 1_000_000 < 999_000 \
        else order.amount_micros - 1_000
    result = shop.pay(wrong_fraction)
    assert (result.outcome, result.reason) == (PaymentOutcome.UNMATCHED, UnmatchedReason.NO_ORDER)
    assert shop.status(order) == OrderStatus.PENDING and shop.queue.enqueued == []
    assert shop.entry_lines("tx-1") == {CLEARING: -wrong_fraction, SUSPENSE: wrong_fraction}
    assert shop.payments.get(tx_id("tx-1")).credited_micros is None


@pytest.mark.parametrize("delta", [-1_000_000, -14_000_000])   # the right suffix, a unit or nearly all short
def test_an_underpayment_pays_nothing_and_is_credited_whole_to_the_orders_buyer(shop, delta):
    order = shop.order()
    paid = order.amount_micros + delta

    result = shop.pay(paid)

    assert (result.outcome, result.reason, result.order_id) == (PaymentOutcome.CREDITED, UnmatchedReason.UNDERPAID,
                                                                order.order_id)
    stored = shop.payments.get(tx_id("tx-1"))
    assert (stored.outcome, stored.reason, stored.credited_micros) == ("CREDITED", "UNDERPAID", paid)
    assert shop.status(order) == OrderStatus.PENDING and shop.queue.enqueued == []
    assert shop.orders.pending["user:1001"] == 1        # still open: the exact amount still pays it
    assert shop.entry_lines("tx-1") == {CLEARING: -paid, wallet(): paid}
    assert shop.balances() == {CLEARING: -paid, wallet(): paid}
    assert shop.counted.of("PaymentsCredited") == 1 and shop.counted.of("OrdersPaid") == 0
    assert [(record.transaction_id, record.credited_micros) for record in shop.heard] == [(tx_id("tx-1"), paid)]


def test_a_short_second_transfer_for_a_paid_order_is_a_duplicate_not_an_underpayment(shop):
    """The slot says the order is PENDING without reading it; a short transfer reads it before it tells the
    buyer that money is missing for an order they have paid."""
    order = shop.order()
    shop.pay(order.amount_micros, "tx-1")

    result = shop.pay(order.amount_micros - 1_000_000, "tx-2")

    assert (result.outcome, result.order_id) == (PaymentOutcome.DUPLICATE, order.order_id)
    assert shop.ledger.balance(wallet()) == order.amount_micros - 1_000_000
    assert [(record.outcome, record.reason) for record in shop.heard] == [
        ("DUPLICATE", "order already paid by another transfer")]


def test_an_underpaid_order_is_still_paid_by_its_exact_amount_and_the_short_transfer_stays_credited(shop):
    order = shop.order()
    shop.pay(order.amount_micros - 1_000_000, "short")

    result = shop.pay(order.amount_micros, "exact")

    assert (result.outcome, shop.status(order)) == (PaymentOutcome.MATCHED, OrderStatus.PAID)
    assert shop.ledger.balance(wallet()) == order.amount_micros - 1_000_000
    assert shop.ledger.balance(PREMIUM_REVENUE) == order.amount_micros


@pytest.mark.parametrize("excess", [
    1_000_000,    # the right suffix, a unit too many
    7_000_000,    # another price, with this order's suffix
])
def test_an_overpayment_pays_the_order_and_credits_exactly_the_excess_to_its_buyer(shop, excess):
    order = shop.order()
    paid = order.amount_micros + excess

    result = shop.pay(paid)

    assert (result.outcome, result.reason, result.order_id) == (PaymentOutcome.MATCHED, UnmatchedReason.OVERPAID,
                                                                order.order_id)
    settled = shop.orders.get(order.order_id)
    assert (settled.status, settled.paid_micros, settled.payment_tx) == (OrderStatus.PAID, paid, tx_id("tx-1"))
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")] and shop.orders.pending["user:1001"] == 0
    stored = shop.payments.get(tx_id("tx-1"))
    assert (stored.outcome, stored.reason, stored.credited_micros) == ("MATCHED", "OVERPAID", excess)
    assert shop.entry_lines("tx-1") == {CLEARING: -paid, PREMIUM_REVENUE: order.amount_micros, wallet(): excess}
    assert shop.ledger.balance(wallet()) == excess
    assert [(record.reason, record.credited_micros) for record in shop.heard] == [("OVERPAID", excess)]
    assert shop.counted.of("OrdersPaid") == 1


def test_an_overpayment_of_an_expired_order_inside_the_window_pays_it_late_and_credits_the_excess(shop):
    order = shop.order()
    shop.clock.advance(minutes=31)
    shop.orders.apply(order, EXPIRE, shop.clock.now())

    result = shop.pay(order.amount_micros + 2_000_000)

    assert (result.outcome, result.reason) == (PaymentOutcome.LATE_MATCHED, UnmatchedReason.OVERPAID)
    assert shop.status(order) == OrderStatus.PAID_LATE and shop.ledger.balance(wallet()) == 2_000_000
    assert shop.ledger.balance(PREMIUM_REVENUE) == order.amount_micros


def test_an_overpaid_top_up_puts_everything_in_the_buyers_wallet_in_one_line(shop):
    order = shop.order(kind="WALLET_TOP_UP")
    paid = order.amount_micros + 5_000_000

    result = shop.pay(paid)

    assert (result.outcome, result.reason) == (PaymentOutcome.MATCHED, UnmatchedReason.OVERPAID)
    assert shop.entry_lines("tx-1") == {CLEARING: -paid, wallet(): paid}
    assert shop.payments.get(tx_id("tx-1")).credited_micros == 5_000_000
    assert shop.queue.enqueued == [(order.order_id, "WALLET_TOP_UP")]


@pytest.mark.parametrize("delta", [+500, -500])
def test_an_amount_off_the_suffix_grid_names_no_order(shop, delta):
    """15.0015 could be 15.001 and a bit, or 15.002 short of a fee: it is told to nobody but the operator."""
    order = shop.order()
    result = shop.pay(order.amount_micros + delta)
    assert (result.outcome, result.reason, result.order_id) == (PaymentOutcome.UNMATCHED, UnmatchedReason.NO_ORDER,
                                                                None)
    assert shop.balances() == {CLEARING: -(order.amount_micros + delta), SUSPENSE: order.amount_micros + delta}


def test_a_zero_value_transfer_is_unmatched_and_makes_no_entry(shop):
    """Address poisoning sends 0 USDT to every busy address: recorded for the operator, nothing booked."""
    shop.order()

    result = shop.pay(0)

    assert (result.outcome, result.reason) == (PaymentOutcome.UNMATCHED, UnmatchedReason.NO_ORDER)
    assert shop.payments.get(tx_id("tx-1")).outcome == "UNMATCHED"
    assert shop.ledger.entries == {} and shop.queue.enqueued == []


@pytest.mark.parametrize("changes,outcome", [
    ({"token": "TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj"}, PaymentOutcome.REJECTED_TOKEN),
    ({"to": STRANGER}, PaymentOutcome.REJECTED_ADDRESS),
])
def test_another_token_or_address_is_rejected_and_pays_nothing(shop, changes, outcome):
    order = shop.order()

    result = shop.pay(order.amount_micros, **changes)

    assert result.outcome == outcome and result.reason
    assert shop.payments.get(tx_id("tx-1")).outcome == outcome.value
    assert shop.status(order) == OrderStatus.PENDING and shop.queue.enqueued == []
    assert shop.counted.of("PaymentsRejected") == 1
    assert shop.ledger.entries == {}      # not ours to book


def test_an_unconfirmed_transfer_waits_then_its_confirmed_copy_pays(shop):
    order = shop.order()

    waiting = shop.pay(order.amount_micros, confirmed=False)
    assert waiting.outcome == PaymentOutcome.PENDING_CONFIRMATION
    assert shop.status(order) == OrderStatus.PENDING and shop.queue.enqueued == []
    assert shop.ledger.entries == {}
    assert shop.pay(order.amount_micros, confirmed=False).replayed is True

    confirmed = shop.pay(order.amount_micros, confirmed=True)

    assert (confirmed.outcome, confirmed.replayed) == (PaymentOutcome.MATCHED, False)
    assert shop.status(order) == OrderStatus.PAID
    assert shop.payments.get(tx_id("tx-1")).outcome == "MATCHED" and shop.payments.get(tx_id("tx-1")).confirmed is True
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    late_unconfirmed = shop.pay(order.amount_micros, confirmed=False)  # a stale copy arriving last
    assert (late_unconfirmed.outcome, late_unconfirmed.replayed) == (PaymentOutcome.MATCHED, True)
    assert shop.payments.get(tx_id("tx-1")).outcome == "MATCHED" and len(shop.queue.enqueued) == 1
    assert list(shop.ledger.entries) == [f"pay:{tx_id('tx-1')}"]


def run_together(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    [thread.start() for thread in threads]
    [thread.join(10) for thread in threads]
    assert errors == [] and all(not thread.is_alive() for thread in threads)
    return results


def test_eight_threads_settling_the_same_transfer_queue_the_order_once(shop):
    order = shop.order()

    results = run_together(8, lambda index: shop.pay(order.amount_micros, "tx-race"))

    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    assert all(result.outcome == PaymentOutcome.MATCHED for result in results)
    assert sum(1 for result in results if not result.replayed) == 1
    assert list(shop.payments.records) == [tx_id("tx-race")] and shop.orders.pending["user:1001"] == 0
    assert shop.counted.of("OrdersPaid") == 1
    assert list(shop.ledger.entries) == [f"pay:{tx_id('tx-race')}"]
    assert shop.balances() == {CLEARING: -order.amount_micros, PREMIUM_REVENUE: order.amount_micros}


@pytest.mark.parametrize("delta", [-1_000_000, +3_000_000])
def test_eight_threads_settling_the_same_odd_transfer_credit_it_once_and_tell_once(shop, delta):
    order = shop.order()
    paid = order.amount_micros + delta

    results = run_together(8, lambda index: shop.pay(paid, "tx-odd"))

    assert sum(1 for result in results if not result.replayed) == 1
    assert list(shop.ledger.entries) == [f"pay:{tx_id('tx-odd')}"]
    assert shop.ledger.balance(wallet()) == (paid if delta < 0 else delta)
    assert len(shop.heard) == 1


def test_eight_different_transfers_for_one_order_pay_it_once(shop):
    order = shop.order()

    results = run_together(8, lambda index: shop.pay(order.amount_micros, f"tx-{index}"))

    outcomes = sorted(result.outcome for result in results)
    assert outcomes == [PaymentOutcome.DUPLICATE] * 7 + [PaymentOutcome.MATCHED]
    winner = next(result.transaction_id for result in results if result.outcome == PaymentOutcome.MATCHED)
    assert shop.orders.get(order.order_id).payment_tx == winner
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")] and shop.orders.pending["user:1001"] == 0
    assert len(shop.ledger.entries) == 8
    assert shop.ledger.balance(PREMIUM_REVENUE) == order.amount_micros
    assert shop.ledger.balance(wallet()) == 7 * order.amount_micros   # each duplicate is its buyer's money
    assert shop.ledger.balance(CLEARING) == -8 * order.amount_micros


def test_a_payment_racing_the_expiry_job_pays_late(shop):
    """The slot says PENDING (no read); the order expired meanwhile: the first write is STALE, the second
    round pays it late without freeing the owner's place a second time."""
    order = shop.order()
    shop.clock.advance(minutes=30)
    shop.orders.apply(order, EXPIRE, shop.clock.now())

    result = shop.settlement.settle(
        PaymentRecord(transaction_id="tx-1", received_at=shop.clock.now(), from_address=STRANGER,
                      to_address=ADDRESS, token_contract=USDT, token_symbol="USDT",
                      amount_micros=order.amount_micros, block_timestamp_ms=None, confirmed=True,
                      outcome="RECEIVED"),
        order.order_id, shop.clock.now(),
        hint=OrderRef(order.order_id, "user:1001", "PREMIUM_GIFT", order.amount_micros))

    assert result.outcome == PaymentOutcome.LATE_MATCHED and shop.status(order) == OrderStatus.PAID_LATE
    assert shop.orders.pending["user:1001"] == 0 and len(shop.queue.enqueued) == 1
    assert list(shop.ledger.entries) == ["pay:tx-1"] and shop.ledger.balance(PREMIUM_REVENUE) == order.amount_micros


# ---------------------------------------------------------------------------------------------- chain time
def test_a_transfer_mined_before_the_order_existed_pays_nothing(shop):
    shop.clock.advance(minutes=5)
    order = shop.order()

    result = shop.pay(order.amount_micros, mined_at=order.created_at - timedelta(seconds=1))

    assert (result.outcome, result.reason) == (PaymentOutcome.UNMATCHED, UnmatchedReason.NO_ORDER)
    assert shop.status(order) == OrderStatus.PENDING and shop.queue.enqueued == []
    assert shop.ledger.balance(SUSPENSE) == order.amount_micros and shop.ledger.balance(wallet()) == 0


def test_a_transfer_pays_the_holder_at_its_block_time_not_the_fractions_latest_holder(shop):
    first = shop.order(1)
    shop.clock.advance(minutes=31)
    shop.orders.apply(first, EXPIRE, shop.clock.now())
    shop.clock.advance(minutes=60)
    second = shop.order(2)
    assert second.amount_micros == first.amount_micros and second.pay_to == first.pay_to

    result = shop.pay(first.amount_micros, "late", mined_at=first.created_at + timedelta(minutes=29))

    assert (result.outcome, result.order_id) == (PaymentOutcome.LATE_MATCHED, first.order_id)
    assert shop.status(first) == OrderStatus.PAID_LATE and shop.status(second) == OrderStatus.PENDING
    assert shop.orders.pending["user:2"] == 1


def test_a_transfer_between_two_holders_windows_pays_neither_and_is_credited_to_the_earlier_holder(shop):
    first = shop.order(1)
    shop.clock.advance(minutes=90, seconds=30)
    mined = shop.clock.now()
    shop.clock.advance(minutes=1)
    second = shop.order(2)

    result = shop.pay(second.amount_micros, mined_at=mined)

    assert (result.outcome, result.reason, result.order_id) == (PaymentOutcome.CREDITED, UnmatchedReason.TOO_LATE,
                                                                first.order_id)
    assert shop.status(first) == shop.status(second) == OrderStatus.PENDING
    assert shop.ledger.balance(wallet(1)) == second.amount_micros and shop.ledger.balance(wallet(2)) == 0


def test_a_transfer_without_a_block_time_waits(shop):
    order = shop.order()
    raw = {"transaction_id": tx_id("unmined"), "token_info": {"symbol": "USDT", "address": USDT, "decimals": 6},
           "from": STRANGER, "to": ADDRESS, "type": "Transfer", "value": str(order.amount_micros), "confirmed": True}

    result = shop.transfers.handle(Transfer.model_validate(raw), raw)

    assert (result.outcome, result.reason) == (PaymentOutcome.PENDING_CONFIRMATION, "no block time yet")
    assert shop.status(order) == OrderStatus.PENDING and shop.heard == [] and shop.ledger.entries == {}


# ---------------------------------------------------------------------------------------------- canonical input
def test_usdt_with_other_decimals_is_rejected_keeping_the_amount_usdt_really_moved(shop):
    order = shop.order()

    result = shop.pay(0, decimals=18, value=str(order.amount_micros * 10 ** 12))

    assert result.outcome == PaymentOutcome.REJECTED_TOKEN and "decimals is 18" in result.reason
    assert shop.payments.get(tx_id("tx-1")).amount_micros == order.amount_micros * 10 ** 12
    assert shop.status(order) == OrderStatus.PENDING


def test_a_foreign_tokens_amount_is_kept_by_its_own_decimals_cut_to_micro_units(shop):
    result = shop.pay(0, token="TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj", decimals=18, value="15001000999999999999")
    assert result.outcome == PaymentOutcome.REJECTED_TOKEN
    assert shop.payments.get(tx_id("tx-1")).amount_micros == 15_001_000


def test_a_transaction_id_is_stored_in_lower_case():
    raw = {"transaction_id": tx_id("x").upper(), "token_info": {"address": USDT, "decimals": 6},
           "block_timestamp": 1_764_072_000_000, "from": STRANGER, "to": ADDRESS, "value": "1"}
    assert Transfer.model_validate(raw).transaction_id == tx_id("x")


# ---------------------------------------------------------------------------------------------- who hears
def test_only_the_write_that_records_a_credited_payment_hands_it_on(shop):
    order = shop.order()
    shop.pay(order.amount_micros, "paid")
    shop.pay(order.amount_micros, "again")
    shop.pay(order.amount_micros, "again")      # a replay
    shop.pay(order.amount_micros, "waiting", confirmed=False)

    assert [(record.outcome, record.order_id, record.credited_micros) for record in shop.heard] == [
        ("DUPLICATE", order.order_id, order.amount_micros)]
    assert shop.ledger.balance(wallet()) == order.amount_micros
