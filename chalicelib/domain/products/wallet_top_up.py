"""Topping the wallet up (kind WALLET_TOP_UP): an order for any amount between the configured minimum and
maximum, paid by a unique transfer like any order. Its price settles to the buyer's own wallet in the
payment's journal entry, so delivering it only closes the order and tells the buyer.

A top-up may carry a purchase to make once the money is in (`then_buy`): the bot's "pay the difference"
when the balance is short. That purchase is placed, paid from the balance, by the write that marks the
top-up delivered, so a redelivered message never buys twice."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain import ledger
from chalicelib.domain.errors import DomainError, ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.money import format_amount, to_micros
from chalicelib.domain.notices import Notices
from chalicelib.domain.orders import MARK_DELIVERED, START_DELIVERY, Order, OrderStatus
from chalicelib.domain.ports.common import Clock
from chalicelib.domain.ports.orders import OrderStore
from chalicelib.domain.products import BUYERS, Buyer, NoticeRules, Offer, OrderDraft, Product
from chalicelib.domain.users import owner_for_user

KIND = "WALLET_TOP_UP"
PRODUCT_ID = "wallet_top_up"
LIMITS_SETTING = "wallet_top_up"
DEFAULT_LIMITS = {"min": "1", "max": "5000"}
CENT_MICROS = 10_000


class FollowOn(BaseModel):
    """What to buy from the balance once the top-up is in."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    product_id: str = Field(min_length=1, max_length=64)
    choice: dict[str, Any] = Field(default_factory=dict)


class TopUpChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    amount: Decimal = Field(decimal_places=2, description="USDT, at most two decimal places")
    then_buy: FollowOn | None = None


def _parse_limits(stored: Any) -> tuple[int, int]:
    stored = stored if isinstance(stored, dict) else {}
    return (to_micros(stored.get("min", DEFAULT_LIMITS["min"])), to_micros(stored.get("max", DEFAULT_LIMITS["max"])))


class WalletTopUp(Product):
    kind = KIND
    audience = BUYERS
    resumable = True             # delivering only closes the order: doing it again is harmless
    notices = NoticeRules(announced=frozenset({"delivered", "expired"}), edits_payment_message=True,
                          texts="top_up")
    choice = TopUpChoice
    payment_methods = frozenset({"trc20"})   # topping up from the balance itself moves nothing

    def __init__(self, settings: LiveSettings) -> None:
        self._settings = settings

    def limits(self) -> tuple[int, int]:
        return self._settings.get(LIMITS_SETTING, _parse_limits)

    def offers(self) -> list[Offer]:
        low, high = self.limits()
        return [Offer(PRODUCT_ID, self.kind, low, facts={"min": format_amount(low, 2), "max": format_amount(high, 2)})]

    def draft(self, buyer: Buyer, offer: Offer, choice: BaseModel) -> OrderDraft:
        assert isinstance(choice, TopUpChoice)
        amount = self.checked_amount(choice.amount, waive_minimum=choice.then_buy is not None)
        details = {"then_buy": choice.then_buy.model_dump()} if choice.then_buy is not None else {}
        return self.draft_for(owner_for_user(buyer.user_id), amount, buyer_user_id=buyer.user_id,
                              notify_chat_id=buyer.user_id, language=buyer.language, details=details)

    def draft_for(self, owner_id: str, amount_micros: int, **attributes: Any) -> OrderDraft:
        return OrderDraft(kind=self.kind, owner_id=owner_id, product_id=PRODUCT_ID, base_micros=amount_micros,
                          attributes=attributes)

    def checked_amount(self, amount: Decimal, *, waive_minimum: bool = False) -> int:
        """The amount in micros, refused outside the limits or finer than a cent. Paying a purchase's
        difference may be below the minimum: it is exactly what is missing."""
        low, high = self.limits()
        try:
            micros = to_micros(amount)
        except ValueError as error:
            raise ValidationFailed(f"amount: {error}", field="amount") from None
        if micros % CENT_MICROS:
            raise ValidationFailed("amount: at most two decimal places", field="amount")
        floor = CENT_MICROS if waive_minimum else low
        if not floor <= micros <= high:
            raise ValidationFailed(f"amount: must be between {format_amount(floor, 2)} and {format_amount(high, 2)} "
                                   "USDT", code="AMOUNT_OUT_OF_RANGE", field="amount")
        return micros

    def settles_to(self, owner_id: str, currency: str) -> str:
        return ledger.wallet(owner_id, currency)

    def default_settings(self) -> dict[str, Any]:
        return {LIMITS_SETTING: dict(DEFAULT_LIMITS)}

    def facts(self, order: Order) -> dict[str, Any]:
        then = order.details.get("then_buy")
        return {"then_buy": then} if then else {}


class WalletTopUpFulfiller:
    """PAID -> DELIVERING -> DELIVERED; the money went to the wallet when the payment settled."""

    def __init__(self, orders: OrderStore, notices: Notices, clock: Clock,
                 buy: Callable[[Order, FollowOn], Order], count: Callable[[str], None], log: Any) -> None:
        self._orders = orders
        self._notices = notices
        self._clock = clock
        self._buy = buy
        self._count = count
        self._log = log

    def fulfil(self, order_id: str) -> Order | None:
        now = self._clock.now()
        claimed = self._orders.claim(order_id, START_DELIVERY, now)
        if claimed is not None:
            order = claimed[1]
        else:  # a worker that died between the two writes left it DELIVERING: finishing it is harmless
            order = self._orders.get(order_id)
            if order is None or order.status != OrderStatus.DELIVERING:
                return None
        done = self._orders.apply(order, MARK_DELIVERED, now, delivered_at=now)
        if done is None:
            return None
        self._count("WalletTopUps")
        self._notices.order_event(done, "delivered", WalletTopUp.notices)
        then = done.details.get("then_buy")
        if then:
            self._follow_on(done, FollowOn.model_validate(then))
        return done

    def _follow_on(self, top_up: Order, follow_on: FollowOn) -> None:
        """At most once: only the write that delivered the top-up gets here. A purchase that cannot be made
        (the price rose, the balance was spent) leaves the money in the wallet and tells the buyer."""
        try:
            self._buy(top_up, follow_on)
        except DomainError as refused:
            self._notices.payment_event(top_up, "follow_on_refused", top_up.paid_micros, WalletTopUp.notices)
            self._log.info("purchase after top-up refused", extra={"order_id": top_up.order_id,
                                                                    "code": refused.code})
