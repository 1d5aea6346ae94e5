"""Placing and cancelling orders: the product validates the choice, the payment method opens the order."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.api.http import STATUS_BY_ERROR
from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    NotFound,
    RateLimited,
    Unavailable,
    ValidationFailed,
)
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.ordering import OrderingService
from chalicelib.domain.orders import MARK_PAID, OrderStatus
from chalicelib.domain.payment_methods import PaymentMethodRegistry
from chalicelib.domain.payment_methods.trc20 import (
    Trc20UniqueAmount,
    UniqueAmountPolicy,
)
from chalicelib.domain.ports.payments import PaymentSlot
from chalicelib.domain.products import Buyer, OrderDraft, ProductRegistry
from chalicelib.domain.products.premium import PremiumGift
from tests.fakes import (
    Counted,
    FixedClock,
    InMemoryOrderStore,
    InMemoryPaymentSlotStore,
    InMemorySettingsStore,
    SequentialIds,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ADDRESS = "TVsSFc5FS3zR17vKwPx29AZaxkcZWBprGt"
BASE = 15_000_000          # premium_3m at its default price
BUYER = Buyer(1001, "en")


class Shop:
    def __init__(self, *, cap_micros: int = 100_000, max_pending: int = 3,
                 addresses: tuple[str, ...] = (ADDRESS,)) -> None:
        self.clock = FixedClock(NOW)
        self.slots = InMemoryPaymentSlotStore()
        self.orders = InMemoryOrderStore(self.slots)
        self.counted = Counted()
        self.policy = UniqueAmountPolicy(addresses=lambda: addresses, suffix_decimals=3,
                                         surcharge_cap_micros=cap_micros,
                                         expiry=timedelta(minutes=30), monitoring_window=timedelta(minutes=60),
                                         max_pending=max_pending)
        self.method = method = Trc20UniqueAmount(self.orders, self.slots, self.policy, self.counted.append)
        products = ProductRegistry((PremiumGift(LiveSettings(InMemorySettingsStore(), self.clock)),))
        self.ordering = OrderingService(self.orders, products, PaymentMethodRegistry((method,)), self.clock,
                                        SequentialIds(), self.counted.append)

    def place(self, choice: dict | None = None, *, buyer: Buyer = BUYER, product_id: str = "premium_3m",
              payment_method: str = "trc20"):
        return self.ordering.place(buyer, product_id, choice or {}, payment_method)

    def hold(self, amount_micros: int, order_id: str = "someone-else", *, address: str = ADDRESS,
             held_until: datetime = NOW + timedelta(minutes=90)) -> None:
        self.slots.hold(PaymentSlot(address=address, fraction_micros=amount_micros % 1_000_000,
                                    amount_micros=amount_micros, order_id=order_id,
                                    held_from=held_until - timedelta(minutes=90), held_until=held_until,
                                    owner_id="user:7", kind="PREMIUM_GIFT"))


def http_status(error: DomainError) -> int:
    return next(status for kind, status in STATUS_BY_ERROR.items() if isinstance(error, kind))


@pytest.fixture
def shop() -> Shop:
    return Shop()


# ---------------------------------------------------------------------------------------------- place
def test_an_order_is_pending_with_a_unique_amount_its_slot_and_an_open_order_place(shop):
    order = shop.place({"recipient_user_id": 2002})

    assert order.status == OrderStatus.PENDING and shop.orders.get(order.order_id) == order
    assert (order.kind, order.owner_id, order.product_id) == ("PREMIUM_GIFT", "user:1001", "premium_3m")
    assert (order.buyer_user_id, order.recipient_user_id, order.month_count, order.star_count) == (1001, 2002, 3, 1000)
    assert (order.amount_micros, order.surcharge_micros) == (BASE + 1_000, 1_000)
    assert order.pay_to == ADDRESS and order.expires_at == NOW + timedelta(minutes=30)
    assert order.payable_until == NOW + timedelta(minutes=90)
    slot = shop.slots.holder(ADDRESS, 1_000)
    assert slot.order_id == order.order_id and slot.amount_micros == order.amount_micros
    assert (slot.held_from, slot.held_until) == (NOW, order.payable_until)
    assert (slot.owner_id, slot.kind) == ("user:1001", "PREMIUM_GIFT")
    assert shop.orders.pending["user:1001"] == 1 and shop.counted.of("OrdersCreated") == 1


def test_without_a_recipient_the_buyer_is_the_recipient(shop):
    assert shop.place().recipient_user_id == 1001


@pytest.mark.parametrize("choice,field", [
    ({"colour": "red"}, "colour"),
    ({"recipient_user_id": 2002, "colour": "red"}, "colour"),
    ({"recipient_user_id": "2002"}, "recipient_user_id"),
    ({"recipient_user_id": -5}, "recipient_user_id"),
    ({"recipient_user_id": 0}, "recipient_user_id"),
    ({"recipient_user_id": 2 ** 53}, "recipient_user_id"),
])
def test_the_product_validates_the_choice_and_names_the_field(shop, choice, field):
    with pytest.raises(ValidationFailed) as refused:
        shop.place(choice)
    assert refused.value.field == field and http_status(refused.value) == 400
    assert refused.value.message.startswith(f"{field}: ")
    assert shop.orders.orders == {} and shop.slots.slots == {} and shop.counted.of("OrdersCreated") == 0


def test_an_unknown_field_is_called_unknown(shop):
    with pytest.raises(ValidationFailed) as refused:
        shop.place({"colour": "red"})
    assert refused.value.message == "colour: is not a known field"


def test_an_unknown_product_is_404_naming_product_id(shop):
    with pytest.raises(NotFound) as refused:
        shop.place(product_id="premium_99m")
    error = refused.value
    assert (error.code, error.field, http_status(error)) == ("PRODUCT_NOT_FOUND", "product_id", 404)
    assert shop.orders.orders == {}


def test_an_unknown_payment_method_is_400_naming_payment_method(shop):
    with pytest.raises(ValidationFailed) as refused:
        shop.place(payment_method="paypal")
    error = refused.value
    assert (error.code, error.field, http_status(error)) == ("PAYMENT_METHOD_UNKNOWN", "payment_method", 400)
    assert "trc20" in error.message
    assert shop.orders.orders == {} and shop.orders.pending["user:1001"] == 0
    assert shop.counted.of("OrdersCreated") == 0


# ---------------------------------------------------------------------------------------------- TRC20 unique amounts
def test_the_smallest_free_suffix_is_taken():
    shop = Shop()
    for suffix in (1, 2, 4):
        shop.hold(BASE + suffix * 1_000, order_id=f"other-{suffix}")

    assert shop.place().amount_micros == BASE + 3_000
    assert shop.place(buyer=Buyer(2)).amount_micros == BASE + 5_000


def test_a_fraction_another_price_holds_on_the_address_is_skipped():
    shop = Shop()
    shop.hold(22_001_000, order_id="six-months")   # 22.001: the fraction .001 is taken at this address

    order = shop.place()

    assert order.amount_micros == BASE + 2_000
    assert shop.slots.holder(ADDRESS, 1_000).order_id == "six-months"


def test_each_address_has_its_own_fractions_and_the_smallest_suffix_wins():
    second = "TGwce4B39QH7SywH6xi2B27r4GU8b5FyL2"
    shop = Shop(addresses=(ADDRESS, second))
    for suffix in (1, 2):
        shop.hold(BASE + suffix * 1_000, order_id=f"other-{suffix}")

    order = shop.place()

    assert (order.pay_to, order.amount_micros) == (second, BASE + 1_000)


def test_amounts_of_orders_placed_together_never_collide():
    shop = Shop(cap_micros=9_000, max_pending=1)
    orders = [shop.place(buyer=Buyer(2000 + n)) for n in range(9)]
    assert [order.amount_micros for order in orders] == [BASE + n * 1_000 for n in range(1, 10)]


def test_a_lost_race_takes_the_next_smallest_suffix():
    shop = Shop()
    create = shop.orders.create_pending

    def someone_was_faster(order, max_pending, slot=None):
        if slot is not None and slot.fraction_micros == 1_000:
            shop.hold(BASE + 1_000, order_id="faster")
        return create(order, max_pending, slot)

    shop.orders.create_pending = someone_was_faster  # type: ignore[method-assign]
    assert shop.place().amount_micros == BASE + 2_000


def test_a_slot_whose_late_window_closed_is_free_again():
    shop = Shop()
    shop.hold(BASE + 1_000, order_id="long-gone", held_until=NOW - timedelta(seconds=1))
    order = shop.place()
    assert order.amount_micros == BASE + 1_000
    assert shop.slots.holder(ADDRESS, 1_000).order_id == order.order_id


def test_a_suffix_never_makes_a_whole_amount_and_may_pass_one():
    policy = UniqueAmountPolicy(addresses=lambda: (ADDRESS,), suffix_decimals=3, surcharge_cap_micros=3_000,
                                expiry=timedelta(minutes=30), monitoring_window=timedelta(minutes=60), max_pending=3)
    assert policy.suffixes(15_999_000) == [2_000, 3_000]           # 16.000 is what strangers send
    shop = Shop(cap_micros=3_000)
    shop.hold(16_001_000, order_id="sixteen")
    draft = OrderDraft(kind="PREMIUM_GIFT", owner_id="user:1", product_id="premium_3m", base_micros=15_999_000)
    assert shop.method.open(draft, "odd-price", NOW).amount_micros == 16_002_000


def test_a_full_pool_is_503_no_payment_slot_and_writes_nothing():
    shop = Shop(cap_micros=9_000)
    for suffix in range(1, 10):
        shop.hold(BASE + suffix * 1_000, order_id=f"other-{suffix}")

    with pytest.raises(Unavailable) as refused:
        shop.place()

    error = refused.value
    assert (error.code, error.retry_after, http_status(error)) == ("NO_PAYMENT_SLOT", 60, 503)
    assert shop.orders.orders == {} and shop.orders.pending["user:1001"] == 0
    assert shop.counted.of("OrdersCreated") == 0


def test_the_open_order_limit_is_429_with_the_limit_and_a_cancel_frees_a_place():
    shop = Shop(max_pending=2)
    first, _ = shop.place(), shop.place()

    with pytest.raises(RateLimited) as refused:
        shop.place()

    error = refused.value
    assert (error.code, error.details, error.retry_after, http_status(error)) == (
        "TOO_MANY_OPEN_ORDERS", {"limit": 2}, 60, 429)
    assert len(shop.orders.orders) == 2 and len(shop.slots.slots) == 2
    assert shop.place(buyer=Buyer(1002)).owner_id == "user:1002"  # the limit is per owner

    shop.ordering.cancel(first.order_id, "user:1001")
    assert shop.orders.pending["user:1001"] == 1
    assert shop.place().status == OrderStatus.PENDING


# ---------------------------------------------------------------------------------------------- cancel
def test_a_pending_order_is_cancelled_and_frees_its_place(shop):
    order = shop.place()
    shop.clock.advance(minutes=2)

    cancelled = shop.ordering.cancel(order.order_id, "user:1001")

    assert cancelled.status == OrderStatus.CANCELLED and cancelled.status_changed_at == NOW + timedelta(minutes=2)
    assert shop.orders.get(order.order_id).status == OrderStatus.CANCELLED
    assert shop.orders.pending["user:1001"] == 0


def test_only_a_pending_order_can_be_cancelled(shop):
    order = shop.place()
    shop.ordering.cancel(order.order_id, "user:1001")
    with pytest.raises(Conflict) as twice:
        shop.ordering.cancel(order.order_id, "user:1001")
    assert twice.value.code == "ORDER_NOT_CANCELLABLE" and "CANCELLED" in twice.value.message

    paid = shop.place()
    shop.orders.apply(paid, MARK_PAID, NOW)
    with pytest.raises(Conflict) as refused:
        shop.ordering.cancel(paid.order_id, "user:1001")
    assert refused.value.code == "ORDER_NOT_CANCELLABLE" and http_status(refused.value) == 409
    assert shop.orders.get(paid.order_id).status == OrderStatus.PAID


def test_a_cancel_that_loses_to_a_payment_is_a_conflict_naming_the_new_status(shop):
    order = shop.place()
    read = shop.orders.get

    def paid_right_after_the_read(order_id):
        found = read(order_id)
        if found is not None and found.status == OrderStatus.PENDING:
            shop.orders.apply(found, MARK_PAID, NOW)
        return found

    shop.orders.get = paid_right_after_the_read  # type: ignore[method-assign]
    with pytest.raises(Conflict) as refused:
        shop.ordering.cancel(order.order_id, "user:1001")
    assert "PAID" in refused.value.message
    assert read(order.order_id).status == OrderStatus.PAID and shop.orders.pending["user:1001"] == 0


def test_someone_elses_order_cannot_be_read_or_cancelled(shop):
    order = shop.place()
    with pytest.raises(NotFound) as refused:
        shop.ordering.cancel(order.order_id, "user:666")
    assert refused.value.code == "ORDER_NOT_FOUND"
    assert shop.orders.get(order.order_id).status == OrderStatus.PENDING


@pytest.mark.parametrize("order_id", ["", "x" * 3000, "é" * 30, "a/b", " "])
def test_an_id_no_order_can_have_is_not_found_without_a_read(shop, order_id):
    """DynamoDB refuses an empty key or one over 2 KB with a ValidationException (a 500 to the caller)."""
    def no_read(order_id):
        raise AssertionError(f"read {order_id!r}")

    shop.orders.get = no_read  # type: ignore[method-assign]
    for call in (shop.ordering.get_owned, shop.ordering.cancel):
        with pytest.raises(NotFound) as refused:
            call(order_id, "user:1001")
        assert refused.value.code == "ORDER_NOT_FOUND"


def test_a_buyer_lists_their_own_orders_newest_first(shop):
    first = shop.place()
    shop.clock.advance(minutes=1)
    second = shop.place()
    shop.place(buyer=Buyer(1002))

    page = shop.ordering.list_owned("user:1001", 1, None)
    assert [order.order_id for order in page.items] == [second.order_id] and page.cursor
    rest = shop.ordering.list_owned("user:1001", 1, page.cursor)
    assert [order.order_id for order in rest.items] == [first.order_id] and rest.cursor is None
