"""The buyer's wallet: topping it up by transfer, paying from it, and the purchase a top-up may carry.

Paying from the balance writes the order PAID with its entry in one step that holds only while the wallet
covers the price; a top-up's price settles to the buyer's own wallet; a purchase carried by a top-up is
placed once, by the write that delivers the top-up."""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.api.http import STATUS_BY_ERROR
from chalicelib.domain import ledger
from chalicelib.domain.errors import Conflict, DomainError, ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.notices import Notices
from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import START_DELIVERY, OrderStatus
from chalicelib.domain.payment_methods import PaymentMethodRegistry
from chalicelib.domain.payment_methods.balance import InsufficientBalance, WalletBalance
from chalicelib.domain.payment_methods.trc20 import Trc20UniqueAmount, UniqueAmountPolicy
from chalicelib.domain.ports.common import WriteResult
from chalicelib.domain.ports.payments import PaymentRecord
from chalicelib.domain.products import Buyer, ProductRegistry
from chalicelib.domain.products.premium import PremiumGift
from chalicelib.domain.products.wallet_top_up import (
    PRODUCT_ID as TOP_UP,
    FollowOn,
    TopUpChoice,
    WalletTopUp,
    WalletTopUpFulfiller,
)
from chalicelib.domain.settlement import Settlement
from chalicelib.domain.wallet import WalletService
from tests.fakes import (
    Counted,
    FixedClock,
    InMemoryGuardStore,
    InMemoryOrderStore,
    InMemoryPaymentSlotStore,
    InMemoryPaymentStore,
    InMemorySettingsStore,
    InMemoryUserStore,
    RecordingMessenger,
    RecordingQueue,
    SequentialIds,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADDRESS = "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt"
USER = 1001
OWNER = f"user:{USER}"
BUYER = Buyer(USER, "en")
WALLET = ledger.wallet(OWNER, "USDT")
PREMIUM_REVENUE = ledger.revenue("PREMIUM_GIFT", "USDT")
PRICE = 15_000_000          # premium_3m at its default price: paid from the balance, it carries no suffix


class Shop:
    def __init__(self, settings: dict | None = None) -> None:
        self.clock = FixedClock(NOW)
        self.slots = InMemoryPaymentSlotStore()
        self.orders = InMemoryOrderStore(self.slots)
        self.ledger = self.orders.ledger
        self.payments = InMemoryPaymentStore(self.orders)
        self.queue = RecordingQueue()
        self.counted = Counted()
        self.settings = InMemorySettingsStore(settings)
        self.live = live = LiveSettings(self.settings, self.clock)
        self.premium, self.top_up = PremiumGift(live), WalletTopUp(live)
        self.products = ProductRegistry((self.premium, self.top_up))
        trc20 = Trc20UniqueAmount(
            self.orders, self.slots,
            UniqueAmountPolicy(addresses=lambda: (ADDRESS,), suffix_decimals=3, surcharge_cap_micros=100_000,
                               expiry=timedelta(minutes=30), monitoring_window=timedelta(minutes=60), max_pending=3),
            self.counted.append)
        self.balance = WalletBalance(self.orders, self.ledger, self.queue, self.products.settles_to,
                                     self.counted.append)
        self.ordering = OrderingService(self.orders, self.products, PaymentMethodRegistry((trc20, self.balance)),
                                        self.clock, SequentialIds(), self.counted.append)
        self.settlement = Settlement(self.payments, self.orders, self.queue, self.products.settles_to,
                                     self.counted.append)
        self.users = InMemoryUserStore()
        self.messenger = RecordingMessenger()
        self.notices = Notices(self.users, self.messenger, InMemoryGuardStore(), self.clock, 999, 600,
                               logging.getLogger("tests.wallet"))
        self.bought: list[str] = []
        self.fulfiller = WalletTopUpFulfiller(self.orders, self.notices, self.clock, self._buy, self.counted.append,
                                              logging.getLogger("tests.wallet"))
        self.wallets = WalletService(self.ledger, self.clock)

    def _buy(self, top_up, follow_on: FollowOn):
        """What the container wires: the carried purchase, placed by the top-up's buyer, paid from the balance."""
        order = self.ordering.place(Buyer(top_up.buyer_user_id, top_up.language), follow_on.product_id,
                                    follow_on.choice, "balance")
        self.bought.append(order.order_id)
        return order

    def credit(self, amount_micros: int, request_id: str = "seed") -> None:
        """Money already in the wallet (an operator's adjustment is the shortest way to put it there)."""
        assert self.wallets.adjust(OWNER, amount_micros, "test money", request_id) == WriteResult.APPLIED

    def pay_from_balance(self, product_id: str = "premium_3m", choice: dict | None = None):
        return self.ordering.place(BUYER, product_id, choice or {}, "balance")

    def top_up_by_transfer(self, amount: str, then_buy: dict | None = None, tx: str = "tx-top-up"):
        choice = {"amount": amount, **({"then_buy": then_buy} if then_buy else {})}
        order = self.ordering.place(BUYER, TOP_UP, choice, "trc20")
        record = PaymentRecord(transaction_id=tx, received_at=NOW, from_address="T-payer", to_address=ADDRESS,
                               token_contract="USDT", token_symbol="USDT", amount_micros=order.amount_micros,
                               block_timestamp_ms=None, confirmed=True, outcome="RECEIVED")
        assert self.settlement.settle(record, order.order_id, self.clock.now()).outcome == "MATCHED"
        return order

    def told(self) -> list[tuple[str, int | None]]:
        return [(notice.event, notice.paid_micros) for notice in self.messenger.notices]


@pytest.fixture
def shop() -> Shop:
    return Shop()


def http_status(error: DomainError) -> int:
    return next(status for kind, status in STATUS_BY_ERROR.items() if isinstance(error, kind))


# ---------------------------------------------------------------------------------------------- paying from balance
def test_paying_from_a_balance_that_covers_the_price_writes_the_order_paid_and_queues_it_once(shop):
    shop.credit(20_000_000)

    order = shop.pay_from_balance()

    stored = shop.orders.get(order.order_id)
    assert (stored.status, stored.payment_method, stored.amount_micros, stored.paid_micros) == (
        OrderStatus.PAID, "balance", PRICE, PRICE)
    assert stored.paid_at == NOW and stored.pay_to is None and stored.network is None
    assert shop.queue.enqueued == [(order.order_id, "PREMIUM_GIFT")]
    assert shop.ledger.balance(WALLET) == 5_000_000 and shop.ledger.balance(PREMIUM_REVENUE) == PRICE
    entry = shop.ledger.entries[f"balance:{order.order_id}"]
    assert {line.account: line.amount_micros for line in entry.lines} == {WALLET: -PRICE, PREMIUM_REVENUE: PRICE}
    assert shop.counted.of("OrdersPaid") == 1 and shop.orders.pending[OWNER] == 0   # never PENDING
    assert shop.balance.instructions(order) == {"method": "balance", "amount": "15.00", "currency": "USDT",
                                                "paid_from": WALLET}


def test_a_balance_of_exactly_the_price_pays_and_leaves_nothing(shop):
    shop.credit(PRICE)
    shop.pay_from_balance()
    assert shop.ledger.balance(WALLET) == 0


def test_a_balance_short_of_the_price_is_refused_and_nothing_is_written(shop):
    shop.credit(PRICE - 1)
    entries_before = dict(shop.ledger.entries)

    with pytest.raises(InsufficientBalance) as refused:
        shop.pay_from_balance()

    error = refused.value
    assert (error.code, error.field, http_status(error)) == ("INSUFFICIENT_BALANCE", "payment_method", 409)
    assert error.short_micros == 1 and error.details["price"] == "15.00"
    assert shop.orders.orders == {} and shop.ledger.entries == entries_before
    assert shop.ledger.balance(WALLET) == PRICE - 1 and shop.ledger.balance(PREMIUM_REVENUE) == 0
    assert shop.queue.enqueued == [] and shop.counted.of("OrdersPaid") == 0


def test_an_empty_wallet_is_refused(shop):
    with pytest.raises(InsufficientBalance) as refused:
        shop.pay_from_balance()
    assert refused.value.short_micros == PRICE and shop.orders.orders == {}


def test_a_top_up_cannot_be_paid_from_the_balance_it_tops_up(shop):
    shop.credit(50_000_000)
    with pytest.raises(ValidationFailed) as refused:
        shop.pay_from_balance(TOP_UP, {"amount": "10"})
    assert refused.value.code == "PAYMENT_METHOD_NOT_ACCEPTED" and shop.orders.orders == {}


def test_threads_racing_to_spend_one_balance_never_take_it_below_zero(shop):
    shop.credit(PRICE * 5 // 2)      # room for two purchases, not three
    barrier = threading.Barrier(8)
    paid, refused, errors = [], [], []

    def spend() -> None:
        barrier.wait()
        try:
            paid.append(shop.pay_from_balance().order_id)
        except InsufficientBalance:
            refused.append(True)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    [thread.start() for thread in threads]
    [thread.join(10) for thread in threads]

    assert errors == [] and (len(paid), len(refused)) == (2, 6)
    assert shop.ledger.balance(WALLET) == PRICE // 2 >= 0
    assert sorted(order_id for order_id, _ in shop.queue.enqueued) == sorted(paid)
    assert shop.ledger.balance(PREMIUM_REVENUE) == 2 * PRICE


# ---------------------------------------------------------------------------------------------- top-up: the choice
@pytest.mark.parametrize("amount,micros", [("1", 1_000_000), ("20", 20_000_000), ("12.34", 12_340_000),
                                           ("5000", 5_000_000_000), ("5000.00", 5_000_000_000)])
def test_a_top_up_takes_any_amount_in_whole_cents_between_the_limits(shop, amount, micros):
    order = shop.ordering.place(BUYER, TOP_UP, {"amount": amount}, "trc20")
    assert (order.kind, order.product_id, order.owner_id) == ("WALLET_TOP_UP", TOP_UP, OWNER)
    assert order.amount_micros - (order.surcharge_micros or 0) == micros
    assert (order.notify_chat_id, order.details) == (USER, {})


@pytest.mark.parametrize("amount,code", [
    ("0.99", "AMOUNT_OUT_OF_RANGE"), ("0", "AMOUNT_OUT_OF_RANGE"), ("-5", "AMOUNT_OUT_OF_RANGE"),
    ("5000.01", "AMOUNT_OUT_OF_RANGE"), ("12.345", "VALIDATION_FAILED"), ("10.000001", "VALIDATION_FAILED"),
    ("1e999999", "VALIDATION_FAILED"), ("9" * 15, "AMOUNT_OUT_OF_RANGE"), ("9" * 40, "VALIDATION_FAILED"),
])
def test_a_top_up_outside_the_limits_or_finer_than_a_cent_is_refused(shop, amount, code):
    with pytest.raises(ValidationFailed) as refused:
        shop.ordering.place(BUYER, TOP_UP, {"amount": amount}, "trc20")
    assert (refused.value.code, refused.value.field) == (code, "amount")
    assert shop.orders.orders == {}


def test_a_huge_exponent_is_refused_without_building_a_huge_number(shop):
    """`1e999990` is 15 characters of JSON; turned into micro-units it is a million-digit integer."""
    started = datetime.now()
    with pytest.raises(ValidationFailed):
        shop.top_up.checked_amount(Decimal("1e999990"))
    assert datetime.now() - started < timedelta(seconds=1)


def test_the_limits_are_live_settings(shop):
    shop.settings.put("wallet_top_up", {"min": "5", "max": "100"})
    with pytest.raises(ValidationFailed, match="between 5.00 and 100.00"):
        shop.top_up.checked_amount(Decimal("4.99"))
    assert shop.top_up.checked_amount(Decimal("100")) == 100_000_000
    [offer] = shop.top_up.offers()
    assert (offer.price_micros, dict(offer.facts)) == (5_000_000, {"min": "5.00", "max": "100.00"})


def test_the_difference_for_a_purchase_may_be_below_the_minimum_but_not_below_a_cent(shop):
    then_buy = {"product_id": "premium_3m", "choice": {}}
    order = shop.ordering.place(BUYER, TOP_UP, {"amount": "0.25", "then_buy": then_buy}, "trc20")
    assert order.amount_micros - (order.surcharge_micros or 0) == 250_000
    assert order.details == {"then_buy": then_buy}
    assert shop.top_up.facts(order) == {"then_buy": then_buy}
    with pytest.raises(ValidationFailed, match="between 0.01 and"):
        shop.ordering.place(BUYER, TOP_UP, {"amount": "0", "then_buy": then_buy}, "trc20")
    with pytest.raises(ValidationFailed, match="then_buy"):
        shop.ordering.place(BUYER, TOP_UP, {"amount": "2", "then_buy": {"product_id": ""}}, "trc20")


def test_a_top_up_choice_knows_only_its_own_fields():
    with pytest.raises(ValueError):
        TopUpChoice.model_validate({"amount": "5", "bonus": "100"})


# ---------------------------------------------------------------------------------------------- top-up: fulfilment
def test_a_paid_top_up_is_in_the_wallet_and_delivering_it_closes_the_order_and_tells_the_buyer(shop):
    order = shop.top_up_by_transfer("20")
    assert shop.ledger.balance(WALLET) == order.amount_micros          # the price settled to the wallet
    assert shop.queue.enqueued == [(order.order_id, "WALLET_TOP_UP")]

    done = shop.fulfiller.fulfil(order.order_id)

    assert done.status == OrderStatus.DELIVERED and done.delivered_at == NOW
    assert shop.ledger.balance(WALLET) == order.amount_micros          # delivering moves no money
    assert shop.told() == [("delivered", None)] and shop.counted.of("WalletTopUps") == 1
    assert shop.fulfiller.fulfil(order.order_id) is None and shop.told() == [("delivered", None)]


def test_a_top_up_left_delivering_by_a_dead_worker_is_finished_by_the_next(shop):
    order = shop.top_up_by_transfer("20")
    shop.orders.claim(order.order_id, START_DELIVERY, NOW)     # the worker died after its first write

    assert shop.fulfiller.fulfil(order.order_id).status == OrderStatus.DELIVERED
    assert shop.counted.of("WalletTopUps") == 1


def test_a_top_up_carrying_a_purchase_places_it_once_from_the_balance(shop):
    shop.credit(10_000_000)                        # the buyer had 10, the purchase costs 15
    order = shop.top_up_by_transfer("5", then_buy={"product_id": "premium_3m", "choice": {}})

    shop.fulfiller.fulfil(order.order_id)
    shop.fulfiller.fulfil(order.order_id)          # a redelivered message

    [bought] = shop.bought
    assert shop.orders.get(bought).status == OrderStatus.PAID and shop.orders.get(bought).payment_method == "balance"
    assert shop.queue.enqueued == [(order.order_id, "WALLET_TOP_UP"), (bought, "PREMIUM_GIFT")]
    assert shop.ledger.balance(WALLET) == 10_000_000 + order.amount_micros - PRICE
    assert shop.ledger.balance(PREMIUM_REVENUE) == PRICE


def test_a_purchase_the_balance_no_longer_covers_is_refused_the_buyer_is_told_and_the_money_stays(shop):
    order = shop.top_up_by_transfer("5", then_buy={"product_id": "premium_3m", "choice": {}})

    done = shop.fulfiller.fulfil(order.order_id)

    assert done.status == OrderStatus.DELIVERED and shop.bought == []
    assert shop.ledger.balance(WALLET) == order.amount_micros
    assert shop.told() == [("delivered", None), ("follow_on_refused", order.amount_micros)]
    assert [order.kind for order in shop.orders.orders.values()] == ["WALLET_TOP_UP"]


def test_a_purchase_whose_price_rose_meanwhile_is_refused_and_the_money_stays(shop):
    shop.credit(10_000_000)
    order = shop.top_up_by_transfer("5", then_buy={"product_id": "premium_3m", "choice": {}})
    shop.settings.put("prices", {"premium_3m": "16"})
    shop.live.forget()

    shop.fulfiller.fulfil(order.order_id)

    assert shop.bought == [] and shop.ledger.balance(WALLET) == 10_000_000 + order.amount_micros
    assert ("follow_on_refused", order.amount_micros) in shop.told()


# ---------------------------------------------------------------------------------------------- the wallet service
def test_an_adjustment_is_written_once_per_request_and_never_takes_a_wallet_below_zero(shop):
    assert shop.wallets.adjust(OWNER, 3_000_000, "goodwill", "req-1") == WriteResult.APPLIED
    assert shop.wallets.adjust(OWNER, 3_000_000, "goodwill", "req-1") == WriteResult.DUPLICATE

    with pytest.raises(Conflict) as refused:
        shop.wallets.adjust(OWNER, -3_000_001, "too much", "req-2")

    assert refused.value.code == "INSUFFICIENT_BALANCE"
    assert shop.wallets.balance(OWNER).balance_micros == 3_000_000
    [line] = shop.wallets.history(OWNER, 10).items
    assert (line.entry_id, line.amount_micros, line.memo) == ("adjust:req-1", 3_000_000, "goodwill")
