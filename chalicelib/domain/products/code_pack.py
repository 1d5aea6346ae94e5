"""Packs of Premium redeem codes bought by a distributor (kind CODE_PACK), sold by the plans in the
"plans" setting and fulfilled in chunks on the fulfillment queue (code_pack_fulfilment.py beside this module)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.money import to_micros
from chalicelib.domain.orders import Order, OrderKind, OrderStatus
from chalicelib.domain.products import DISTRIBUTORS, Offer, OrderDraft, Product
from chalicelib.domain.products.premium import PREMIUM_TERMS
from chalicelib.domain.queues import FULFILLMENT_QUEUE
from chalicelib.domain.users import owner_for_distributor


def fulfillment_status(order: Order) -> str:
    if order.status == OrderStatus.DELIVERING:
        return "processing"
    if order.status == OrderStatus.DELIVERED:
        return "completed"
    if order.status in (OrderStatus.FAILED, OrderStatus.NEEDS_REVIEW):
        return "failed"
    return "pending"


def holds_codes(order: Order) -> bool:
    """An order of the code-pack kind with codes written (a distributor may own orders of other kinds)."""
    return order.kind == CodePack.kind and (order.fulfillment_done or 0) > 0


def distributor_of(order: Order) -> str | None:
    prefix, _, distributor_id = order.owner_id.partition(":")
    return distributor_id if prefix == "dist" and distributor_id else None


PLANS_SETTING = "plans"
DEFAULT_MAX_USES = 1
DEFAULT_VALID_DAYS = 180


@dataclass(frozen=True)
class Plan:
    plan_id: str
    product_id: str
    month_count: int
    star_count: int
    codes_per_pack: int
    unit_price_micros: int          # one code, whatever its max_uses
    max_uses: int
    valid_days: int
    max_quantity: int               # packs per order

    def codes_for(self, quantity: int) -> int:
        return quantity * self.codes_per_pack

    def price_for(self, quantity: int) -> int:
        return self.codes_for(quantity) * self.unit_price_micros



def default_plan_setting() -> dict[str, dict[str, Any]]:
    """Wholesale plans every environment starts with; operators edit the "plans" setting later."""
    return {
        "codes_3m_x10": {"product_id": "premium_3m", "codes_per_pack": 10, "unit_price": "12"},
        "codes_6m_x10": {"product_id": "premium_6m", "codes_per_pack": 10, "unit_price": "18"},
        "codes_12m_x10": {"product_id": "premium_12m", "codes_per_pack": 10, "unit_price": "30"},
        "codes_3m_x1000": {"product_id": "premium_3m", "codes_per_pack": 1000, "unit_price": "11"},
        "codes_3m_shared10": {"product_id": "premium_3m", "codes_per_pack": 1, "unit_price": "115",
                              "max_uses": 10},
    }


def parse_plan(plan_id: str, raw: Any, max_codes_per_order: int) -> Plan:
    """A plan from its settings entry; ValueError names what is wrong."""
    if not isinstance(raw, Mapping):
        raise ValueError("a plan must be an object")
    product = PREMIUM_TERMS.get(str(raw.get("product_id")))
    if product is None:
        raise ValueError(f"product_id {raw.get('product_id')!r} is not in the catalog")

    def whole(name: str, default: int | None, low: int, high: int) -> int:
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}")
        return value

    codes_per_pack = whole("codes_per_pack", None, 1, max_codes_per_order)
    unit_price = to_micros(Decimal(str(raw.get("unit_price"))))
    if unit_price <= 0:
        raise ValueError("unit_price must be positive")
    largest = max_codes_per_order // codes_per_pack
    return Plan(plan_id=plan_id, product_id=product.product_id, month_count=product.month_count,
                star_count=product.star_count, codes_per_pack=codes_per_pack, unit_price_micros=unit_price,
                max_uses=whole("max_uses", DEFAULT_MAX_USES, 1, 1_000_000),
                valid_days=whole("valid_days", DEFAULT_VALID_DAYS, 1, 3650),
                max_quantity=min(whole("max_quantity", largest, 1, largest), largest))


def _parse_plans(stored: Any, max_codes_per_order: int) -> tuple[dict[str, Plan], dict[str, str]]:
    """An entry an operator broke is left out (and reported) rather than breaking every plan."""
    raw = stored if isinstance(stored, Mapping) else default_plan_setting()
    plans: dict[str, Plan] = {}
    problems: dict[str, str] = {}
    for plan_id, entry in raw.items():
        try:
            plans[plan_id] = parse_plan(plan_id, entry, max_codes_per_order)
        except (ValueError, ArithmeticError) as error:
            problems[plan_id] = str(error)
    return plans, problems


class CodePack(Product):
    kind = OrderKind.CODE_PACK
    queue = FULFILLMENT_QUEUE
    audience = DISTRIBUTORS
    resumable = True     # fulfilment is idempotent and resumes where it stopped
    # Distributors hear about their packs from the fulfilment worker (the CSV document), not as notices.

    def __init__(self, settings: LiveSettings, max_codes_per_order: int) -> None:
        self._settings = settings
        self._max_codes = max_codes_per_order

    def _load(self) -> tuple[dict[str, Plan], dict[str, str]]:
        return self._settings.get(PLANS_SETTING, lambda stored: _parse_plans(stored, self._max_codes))

    def plans(self) -> list[Plan]:
        return sorted(self._load()[0].values(), key=lambda plan: (plan.month_count, plan.max_uses,
                                                                  plan.codes_per_pack, plan.plan_id))

    def problems(self) -> dict[str, str]:
        return dict(self._load()[1])

    def plan(self, plan_id: str) -> Plan:
        plan = self._load()[0].get(plan_id)
        if plan is None:
            raise NotFound(f"plan_id {plan_id!r} is not an offered plan", code="PLAN_NOT_FOUND", field="plan_id")
        return plan

    def offers(self) -> list[Offer]:
        return [Offer(plan.plan_id, self.kind, plan.price_for(1), facts={"month_count": plan.month_count,
                                                                         "codes_per_pack": plan.codes_per_pack})
                for plan in self.plans()]

    def default_settings(self) -> dict[str, Any]:
        return {PLANS_SETTING: default_plan_setting()}

    def draft_pack(self, distributor_id: str, plan_id: str, quantity: int) -> OrderDraft:
        plan = self.plan(plan_id)
        if not 1 <= quantity <= plan.max_quantity:
            raise ValidationFailed(f"quantity must be from 1 to {plan.max_quantity} packs for plan {plan_id}",
                                   code="QUANTITY_OUT_OF_RANGE", field="quantity")
        return OrderDraft(kind=self.kind, owner_id=owner_for_distributor(distributor_id),
                          product_id=plan.product_id, base_micros=plan.price_for(quantity),
                          attributes={"plan_id": plan.plan_id, "quantity": quantity,
                                      "month_count": plan.month_count, "star_count": plan.star_count,
                                      "fulfillment_total": plan.codes_for(quantity), "fulfillment_done": 0,
                                      "code_max_uses": plan.max_uses, "code_valid_days": plan.valid_days})
