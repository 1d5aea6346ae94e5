"""TRX for USDT (kind TRX_EXCHANGE): the buyer names the TRX to receive or the USDT to pay and the TRON
address to receive it; the operator's rate (USDT per TRX) plus the spread is quoted and locked on the order
until it expires. The TRX leaves the shop's hot wallet through the exactly-once payout (payouts.py).

A payment that arrives after the order expired (PAID_LATE) gets the locked amount or what the current rate
gives for the price, whichever is less: a late payer cannot pick the better of two rates."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.money import MICROS_PER_UNIT, format_amount, to_micros
from chalicelib.domain.orders import Order
from chalicelib.domain.ports.tron import PayoutAction, PayoutOrder
from chalicelib.domain.products import Buyer, NoticeRules, Offer, OrderDraft, Product
from chalicelib.domain.tron import is_valid_tron_address
from chalicelib.domain.users import owner_for_user

if TYPE_CHECKING:
    # The payout machinery loads with the first order to pay out, not with the catalog every container builds.
    from chalicelib.domain.order_payouts import OrderPayouts, PayoutPlan

KIND = "TRX_EXCHANGE"
PRODUCT_ID = "trx_exchange"
SETTING = "trx_exchange"
DEFAULTS = {"rate": "0.25", "spread_percent": "3", "min_trx": "1", "max_trx": "2000",
            "swap_min_usdt": "1", "swap_max_usdt": "500"}
CENT = 10_000


@dataclass(frozen=True)
class ExchangeTerms:
    rate_micros: int            # USDT micros per TRX, as the operator posts it
    spread_percent: Decimal
    min_sun: int
    max_sun: int
    swap_min_micros: int        # the automatic swap address's bounds
    swap_max_micros: int

    @property
    def sell_rate(self) -> Decimal:
        """USDT micros the buyer pays per TRX: the posted rate plus the spread."""
        return Decimal(self.rate_micros) * (1 + self.spread_percent / 100)

    def price_of(self, sun: int) -> int:
        """What `sun` costs, rounded up to the cent."""
        micros = int((Decimal(sun) * self.sell_rate / MICROS_PER_UNIT).to_integral_value(ROUND_CEILING))
        return -(-micros // CENT) * CENT

    def sun_for(self, micros: int) -> int:
        """The TRX (in sun) that `micros` of USDT buys, rounded down."""
        return int((Decimal(micros) * MICROS_PER_UNIT / self.sell_rate).to_integral_value(ROUND_FLOOR))


def parse_terms(stored: Any) -> ExchangeTerms:
    values = {**DEFAULTS, **(stored if isinstance(stored, dict) else {})}
    return ExchangeTerms(to_micros(values["rate"]), Decimal(str(values["spread_percent"])),
                         to_micros(values["min_trx"]), to_micros(values["max_trx"]),
                         to_micros(values["swap_min_usdt"]), to_micros(values["swap_max_usdt"]))


def checked_address(value: str) -> str:
    if not is_valid_tron_address(value):
        raise ValueError("is not a valid TRON address (base58check, starting with T)")
    return value


class ExchangeChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    address: str = Field(min_length=1, max_length=64, description="the TRON address that receives the TRX")
    trx_amount: Decimal | None = Field(default=None, gt=0, decimal_places=6)
    usdt_amount: Decimal | None = Field(default=None, gt=0, decimal_places=2)

    @field_validator("address")
    @classmethod
    def _valid_address(cls, value: str) -> str:
        return checked_address(value)

    @model_validator(mode="after")
    def _one_amount(self) -> ExchangeChoice:
        if (self.trx_amount is None) == (self.usdt_amount is None):
            raise ValueError("give exactly one of trx_amount and usdt_amount")
        return self


class TrxExchange(Product):
    kind = KIND
    resumable = True             # a stuck payout is driven again: the payout protocol makes that harmless
    notices = NoticeRules(announced=frozenset({"paid", "delivered", "expired", "failed"}), edits_payment_message=True,
                          texts="exchange")
    choice = ExchangeChoice

    def __init__(self, settings: LiveSettings) -> None:
        self._settings = settings

    def terms(self) -> ExchangeTerms:
        return self._settings.get(SETTING, parse_terms)

    def offers(self) -> list[Offer]:
        terms = self.terms()
        return [Offer(PRODUCT_ID, self.kind, terms.price_of(MICROS_PER_UNIT), facts={
            "rate": format_amount(terms.rate_micros), "spread_percent": str(terms.spread_percent),
            "min_trx": format_amount(terms.min_sun, 0), "max_trx": format_amount(terms.max_sun, 0)})]

    def draft(self, buyer: Buyer, offer: Offer, choice: BaseModel) -> OrderDraft:
        assert isinstance(choice, ExchangeChoice)
        terms = self.terms()
        if choice.trx_amount is not None:
            sun = to_micros(choice.trx_amount)
            price = terms.price_of(sun)
        else:
            price = to_micros(choice.usdt_amount)
            sun = terms.sun_for(price)
        if not terms.min_sun <= sun <= terms.max_sun:
            field = "trx_amount" if choice.trx_amount is not None else "usdt_amount"
            raise ValidationFailed(f"{field}: the TRX must be between {format_amount(terms.min_sun, 0)} and "
                                   f"{format_amount(terms.max_sun, 0)}", code="AMOUNT_OUT_OF_RANGE", field=field)
        details = {"to_address": choice.address, "trx_sun": sun, "rate_micros": terms.rate_micros,
                   "spread_percent": str(terms.spread_percent)}
        attributes = {"buyer_user_id": buyer.user_id, "notify_chat_id": buyer.user_id, "language": buyer.language,
                      "details": details}
        return OrderDraft(kind=self.kind, owner_id=owner_for_user(buyer.user_id), product_id=PRODUCT_ID,
                          base_micros=price, attributes=attributes)

    def payout_sun(self, order: Order) -> int:
        locked = int(order.details["trx_sun"])
        if not order.paid_late:
            return locked
        return min(locked, self.terms().sun_for(order.amount_micros - (order.surcharge_micros or 0)))

    def default_settings(self) -> dict[str, Any]:
        return {SETTING: dict(DEFAULTS)}

    def facts(self, order: Order) -> dict[str, Any]:
        facts = {"to_address": order.details.get("to_address"),
                 "trx": format_amount(int(order.details.get("trx_sun", 0)))}
        if order.details.get("payout_tx"):
            facts["payout_tx"] = order.details["payout_tx"]
        return facts


class TrxExchangeFulfiller:
    def __init__(self, product: TrxExchange, payouts: OrderPayouts) -> None:
        self._product = product
        self._payouts = payouts

    def fulfil(self, order_id: str) -> Order | None:
        return self._payouts.fulfil(order_id, TrxExchange.notices, self._plan)

    def _plan(self, order: Order) -> PayoutPlan:
        from chalicelib.domain.order_payouts import PayoutPlan

        sun = self._product.payout_sun(order)
        return PayoutPlan(PayoutOrder(PayoutAction.TRANSFER, order.details["to_address"], sun), sun, KIND)
