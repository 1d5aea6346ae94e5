"""Energy for a TRON address for a while (kind ENERGY_RENTAL): packages of energy x duration priced in the
live setting "energy_packages"; delivered by delegating energy from the shop's staked TRX (Stake 2.0
DelegateResource) and taken back when the rental ends (UnDelegateResource), each an exactly-once payout.

The receiving address must exist on chain: TRON refuses to delegate to an address that was never activated,
and activating one costs the shop 1.1 TRX for a buyer who may never come back, so such an order is refused
with a message that says why. The energy is checked when the order is placed (refused when the shop has too
little to lend) and again before it is delegated (too little then: WAITING_FUNDS and an operator alert)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.errors import Unavailable, ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.money import MICROS_PER_UNIT, to_micros
from chalicelib.domain.orders import Order
from chalicelib.domain.ports.tron import ChainOutcomeUnknown, ChainUnreachable, PayoutAction, PayoutOrder, TronChain
from chalicelib.domain.products import Buyer, NoticeRules, Offer, OrderDraft, Product
from chalicelib.domain.products.trx_exchange import checked_address
from chalicelib.domain.users import owner_for_user

if TYPE_CHECKING:
    # The payout machinery loads with the first order to pay out, not with the catalog every container builds.
    from chalicelib.domain.order_payouts import OrderPayouts, PayoutPlan
    from chalicelib.domain.ports.payouts import Payout

KIND = "ENERGY_RENTAL"
SETTING = "energy_packages"
# A USDT transfer to an address that holds USDT takes about 65,000 energy; to one that never held any, twice.
DEFAULT_PACKAGES = {
    "energy_65k_1h": {"energy": 65_000, "hours": 1, "price": "2.5"},
    "energy_131k_1h": {"energy": 131_000, "hours": 1, "price": "4.5"},
    "energy_65k_1d": {"energy": 65_000, "hours": 24, "price": "5"},
    "energy_131k_1d": {"energy": 131_000, "hours": 24, "price": "9"},
}


@dataclass(frozen=True)
class EnergyPackage:
    product_id: str
    energy: int
    hours: int
    price_micros: int


def parse_packages(stored: Any) -> dict[str, EnergyPackage]:
    packages = stored if isinstance(stored, dict) and stored else DEFAULT_PACKAGES
    return {product_id: EnergyPackage(product_id, int(terms["energy"]), int(terms["hours"]), to_micros(terms["price"]))
            for product_id, terms in packages.items()}


def staked_sun_for(energy: int, energy_per_trx_micros: int) -> int:
    """The staked TRX (in sun, whole TRX) whose energy covers `energy` at the network's current ratio."""
    if energy_per_trx_micros <= 0:
        raise ValueError("the chain gives no energy per staked TRX")
    whole_trx = -(-energy * MICROS_PER_UNIT // energy_per_trx_micros)
    return whole_trx * MICROS_PER_UNIT


class EnergyChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    address: str = Field(min_length=1, max_length=64, description="the TRON address that receives the energy")

    @field_validator("address")
    @classmethod
    def _valid_address(cls, value: str) -> str:
        return checked_address(value)


class EnergyRental(Product):
    kind = KIND
    resumable = True
    notices = NoticeRules(announced=frozenset({"paid", "delivered", "expired", "failed"}), edits_payment_message=True,
                          texts="energy")
    choice = EnergyChoice

    def __init__(self, settings: LiveSettings, chain: Callable[[], TronChain]) -> None:
        self._settings = settings
        self._chain = chain          # built on first use: the catalog never needs the node

    def packages(self) -> dict[str, EnergyPackage]:
        return self._settings.get(SETTING, parse_packages)

    def offers(self) -> list[Offer]:
        return [Offer(package.product_id, self.kind, package.price_micros,
                      facts={"energy": package.energy, "hours": package.hours})
                for package in self.packages().values()]

    def draft(self, buyer: Buyer, offer: Offer, choice: BaseModel) -> OrderDraft:
        assert isinstance(choice, EnergyChoice)
        package = self.packages()[offer.product_id]
        try:
            chain = self._chain()
            receiver = chain.account(choice.address)
            shop = chain.account(chain.shop_address)
        except (ChainUnreachable, ChainOutcomeUnknown):
            raise Unavailable("the TRON network cannot be reached; try again in a minute",
                              code="CHAIN_UNAVAILABLE", retry_after=60) from None
        if not receiver.activated:
            raise ValidationFailed("address: this address is not activated on TRON yet; send it any TRX first",
                                   code="ADDRESS_NOT_ACTIVATED", field="address")
        if shop.energy_per_trx_micros <= 0 or \
                shop.delegatable_energy_sun < staked_sun_for(package.energy, shop.energy_per_trx_micros):
            raise Unavailable("energy is sold out for now; try again later", code="ENERGY_SOLD_OUT",
                              retry_after=600)
        details = {"to_address": choice.address, "energy": package.energy, "hours": package.hours}
        attributes = {"buyer_user_id": buyer.user_id, "notify_chat_id": buyer.user_id, "language": buyer.language,
                      "details": details}
        return OrderDraft(kind=self.kind, owner_id=owner_for_user(buyer.user_id), product_id=offer.product_id,
                          base_micros=offer.price_micros, attributes=attributes)

    def default_settings(self) -> dict[str, Any]:
        return {SETTING: {product_id: dict(terms) for product_id, terms in DEFAULT_PACKAGES.items()}}

    def facts(self, order: Order) -> dict[str, Any]:
        facts = {key: order.details.get(key) for key in ("to_address", "energy", "hours") if key in order.details}
        for key in ("payout_tx", "rental_ends_at"):
            if order.details.get(key):
                facts[key] = order.details[key]
        return facts


def return_payout_id(order_id: str) -> str:
    return f"order:{order_id}:return"


class EnergyRentalFulfiller:
    """Delegate on delivery; the landing also schedules the return (a SCHEDULED payout due at the rental's
    end, written in the same transaction), which the `end_rentals` schedule signs and drives."""

    def __init__(self, payouts: OrderPayouts, chain: TronChain) -> None:
        self._payouts = payouts
        self._chain = chain

    def fulfil(self, order_id: str) -> Order | None:
        return self._payouts.fulfil(order_id, EnergyRental.notices, self._plan, self._landed)

    def _plan(self, order: Order) -> PayoutPlan:
        from chalicelib.domain.order_payouts import PayoutPlan

        ratio = self._chain.account(self._chain.shop_address).energy_per_trx_micros
        sun = staked_sun_for(int(order.details["energy"]), ratio)
        return PayoutPlan(PayoutOrder(PayoutAction.DELEGATE, order.details["to_address"], sun),
                          int(order.details["energy"]), KIND)

    @staticmethod
    def _landed(order: Order, payout: Payout, now: datetime) -> tuple[dict[str, Any], Payout]:
        from chalicelib.domain.ports.payouts import scheduled_payout

        ends_at = now + timedelta(hours=int(order.details["hours"]))
        back = PayoutOrder(PayoutAction.UNDELEGATE, payout.to_address, payout.amount_sun)
        return ({"delegated_sun": payout.amount_sun, "rental_ends_at": ends_at.isoformat()},
                scheduled_payout(return_payout_id(order.order_id), back, payout.booked_amount, KIND, ends_at,
                                 order.order_id))
