"""Live settings an operator changes from the panel: Premium prices, wholesale plans, the wallet top-up limits.
Each change is validated as a whole before anything is written, names the version of the setting the operator
saw (a change made meanwhile by someone else makes it a 409), is audited with the value before and after, and is
taken up everywhere within the settings cache time (live_settings.CACHE_SECONDS)."""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.live_settings import LiveSettings
from chalicelib.domain.ports.panel import VersionedSettingsStore
from chalicelib.domain.products.code_pack import PLANS_SETTING, parse_plan
from chalicelib.domain.products.premium import PREMIUM_TERMS, PRICES_SETTING, default_price_setting
from chalicelib.domain.products.wallet_top_up import DEFAULT_LIMITS, LIMITS_SETTING

MAX_PRICE = Decimal("10000")
MAX_PLANS = 50


def _amount(field: str, raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{field}: must be an amount like 15 or 15.50", code="AMOUNT_INVALID",
                               field=field) from None
    if not value.is_finite() or value <= 0 or value > MAX_PRICE or value.as_tuple().exponent < -2:
        raise ValidationFailed(f"{field}: more than 0, at most {MAX_PRICE}, at most two decimal places",
                               code="AMOUNT_INVALID", field=field)
    return value


class CatalogDesk:
    def __init__(self, store: VersionedSettingsStore, live: LiveSettings, max_codes_per_order: int, audit: Any) -> None:
        self._store = store
        self._live = live
        self._max_codes = max_codes_per_order
        self._audit = audit

    def prices(self) -> tuple[dict[str, str], str]:
        """The prices and their version."""
        stored, version = self._store.versioned(PRICES_SETTING)
        return {**default_price_setting(), **(stored if isinstance(stored, dict) else {})}, version

    def plans_text(self) -> tuple[str, str]:
        stored, version = self._store.versioned(PLANS_SETTING)
        return json.dumps(stored or {}, indent=2, sort_keys=True), version

    def limits(self) -> tuple[dict[str, str], str]:
        stored, version = self._store.versioned(LIMITS_SETTING)
        return {**DEFAULT_LIMITS, **(stored if isinstance(stored, dict) else {})}, version

    def set_prices(self, actor: AdminActor, prices: dict[str, str], version: str) -> dict[str, str]:
        unknown = sorted(set(prices) - set(PREMIUM_TERMS))
        if unknown:
            raise ValidationFailed(f"{unknown[0]}: not a product in the catalog", code="PRODUCT_NOT_FOUND",
                                   field=unknown[0])
        value = {**self.prices()[0], **{product: str(_amount(product, raw)) for product, raw in prices.items()}}
        return self.write(actor, PRICES_SETTING, value, version)

    def set_plans(self, actor: AdminActor, text: str, version: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except ValueError:
            raise ValidationFailed("plans: not valid JSON", code="PLANS_INVALID", field="plans") from None
        if not isinstance(value, dict) or not value or len(value) > MAX_PLANS:
            raise ValidationFailed(f"plans: an object of 1 to {MAX_PLANS} plans by id", code="PLANS_INVALID",
                                   field="plans")
        for plan_id, raw in value.items():
            if not (0 < len(plan_id) <= 64 and plan_id.replace("_", "").isalnum()):
                raise ValidationFailed(f"plans.{plan_id}: an id of letters, digits and '_'", code="PLANS_INVALID",
                                       field="plans")
            try:
                parse_plan(plan_id, raw, self._max_codes)
            except (ValueError, ArithmeticError) as error:
                raise ValidationFailed(f"plans.{plan_id}: {error}", code="PLANS_INVALID", field="plans") from None
        return self.write(actor, PLANS_SETTING, value, version)

    def set_limits(self, actor: AdminActor, low: str, high: str, version: str) -> dict[str, str]:
        low_value, high_value = _amount("min", low), _amount("max", high)
        if low_value > high_value:
            raise ValidationFailed("min: must not be above max", code="LIMITS_INVALID", field="min")
        return self.write(actor, LIMITS_SETTING, {"min": str(low_value), "max": str(high_value)}, version)

    def write(self, actor: AdminActor, setting_id: str, value: Any, version: str, shown_before: Any = None) -> Any:
        """The one way a panel change is written: on condition of the version the operator saw, then audited
        with the value before (`shown_before` when the setting was never stored: the default it stood for)."""
        before, current = self._store.versioned(setting_id)
        if version != current or not self._store.replace(setting_id, value, version):
            raise Conflict(f"{setting_id} was changed by someone else meanwhile; reload the page and redo your change",
                           code="SETTING_CHANGED", field="version")
        self._live.forget()
        self._audit.record_action(actor, "settings.change", f"setting:{setting_id}",
                                  before=shown_before if before is None else before, after=value)
        return value
