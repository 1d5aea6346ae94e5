"""Withdrawing wallet balance to a TRON address (kind WITHDRAWAL): the buyer names an amount of USDT and an
address; the amount plus the fee is taken from the wallet by the balance payment (one conditional write:
never more than the wallet holds), and the amount leaves the hot wallet as a USDT (TRC20) transfer through
the exactly-once payout. Limits and the fee come from the live setting "withdrawals"; the payout limits
(payout_limits.py) apply on top. A withdrawal the hot wallet cannot pay now waits (WAITING_FUNDS)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.money import format_amount, to_micros
from chalicelib.domain.orders import Order
from chalicelib.domain.ports.tron import PayoutAction, PayoutOrder
from chalicelib.domain.products import Buyer, NoticeRules, Offer, OrderDraft, Product
from chalicelib.domain.products.trx_exchange import checked_address
from chalicelib.domain.users import owner_for_user

if TYPE_CHECKING:
    # The payout machinery loads with the first order to pay out, not with the catalog every container builds.
    from chalicelib.domain.order_payouts import OrderPayouts, PayoutPlan

KIND = "WITHDRAWAL"
PRODUCT_ID = "withdrawal"
SETTING = "withdrawals"
DEFAULTS = {"fee": "1", "min": "5", "max": "1000"}
CENT = 10_000


@dataclass(frozen=True)
class WithdrawalTerms:
    fee_micros: int
    min_micros: int
    max_micros: int


def parse_terms(stored: Any) -> WithdrawalTerms:
    values = {**DEFAULTS, **(stored if isinstance(stored, dict) else {})}
    return WithdrawalTerms(to_micros(values["fee"]), to_micros(values["min"]), to_micros(values["max"]))


class WithdrawalChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    address: str = Field(min_length=1, max_length=64, description="the TRON address that receives the USDT")
    amount: Decimal = Field(gt=0, decimal_places=2, description="USDT to receive; the fee is taken on top")

    @field_validator("address")
    @classmethod
    def _valid_address(cls, value: str) -> str:
        return checked_address(value)


class Withdrawal(Product):
    kind = KIND
    resumable = True
    notices = NoticeRules(announced=frozenset({"delivered", "failed"}), edits_payment_message=True,
                          texts="withdrawal")
    choice = WithdrawalChoice
    payment_methods = frozenset({"balance"})      # it is the balance that is withdrawn

    def __init__(self, settings: LiveSettings) -> None:
        self._settings = settings

    def terms(self) -> WithdrawalTerms:
        return self._settings.get(SETTING, parse_terms)

    def offers(self) -> list[Offer]:
        terms = self.terms()
        return [Offer(PRODUCT_ID, self.kind, terms.min_micros + terms.fee_micros, facts={
            "fee": format_amount(terms.fee_micros, 2), "min": format_amount(terms.min_micros, 2),
            "max": format_amount(terms.max_micros, 2)})]

    def draft(self, buyer: Buyer, offer: Offer, choice: BaseModel) -> OrderDraft:
        assert isinstance(choice, WithdrawalChoice)
        terms = self.terms()
        amount = to_micros(choice.amount)
        if not terms.min_micros <= amount <= terms.max_micros:
            raise ValidationFailed(f"amount: must be between {format_amount(terms.min_micros, 2)} and "
                                   f"{format_amount(terms.max_micros, 2)} USDT", code="AMOUNT_OUT_OF_RANGE",
                                   field="amount")
        details = {"to_address": choice.address, "amount_micros": amount, "fee_micros": terms.fee_micros}
        attributes = {"buyer_user_id": buyer.user_id, "notify_chat_id": buyer.user_id, "language": buyer.language,
                      "details": details}
        return OrderDraft(kind=self.kind, owner_id=owner_for_user(buyer.user_id), product_id=PRODUCT_ID,
                          base_micros=amount + terms.fee_micros, attributes=attributes)

    def default_settings(self) -> dict[str, Any]:
        return {SETTING: dict(DEFAULTS)}

    def facts(self, order: Order) -> dict[str, Any]:
        facts = {"to_address": order.details.get("to_address"),
                 "amount": format_amount(int(order.details.get("amount_micros", 0)), 2),
                 "fee": format_amount(int(order.details.get("fee_micros", 0)), 2)}
        if order.details.get("payout_tx"):
            facts["payout_tx"] = order.details["payout_tx"]
        return facts


class WithdrawalFulfiller:
    def __init__(self, payouts: OrderPayouts) -> None:
        self._payouts = payouts

    def fulfil(self, order_id: str) -> Order | None:
        return self._payouts.fulfil(order_id, Withdrawal.notices, self._plan)

    @staticmethod
    def _plan(order: Order) -> PayoutPlan:
        from chalicelib.domain.order_payouts import PayoutPlan

        amount = int(order.details["amount_micros"])
        return PayoutPlan(PayoutOrder(PayoutAction.TOKEN_TRANSFER, order.details["to_address"], amount), amount, KIND)
