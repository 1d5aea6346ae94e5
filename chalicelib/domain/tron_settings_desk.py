"""The TRON products' live settings as an operator changes them from the panel: the energy packages and their
prices, the TRX exchange (rate, spread, per-order bounds, the automatic swap's bounds), withdrawals (fee and
limits) and the payout limits (per payout, per day, the hot wallet's reserve). Each change is checked as a
whole against the bounds below and written through the catalog desk's versioned, audited path, so it is live
everywhere within the settings cache time."""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.errors import NotFound, ValidationFailed
from chalicelib.domain.payout_limits import DEFAULTS as LIMIT_DEFAULTS
from chalicelib.domain.payout_limits import SETTING as LIMITS_SETTING
from chalicelib.domain.ports.panel import VersionedSettingsStore
from chalicelib.domain.products.energy_rental import DEFAULT_PACKAGES
from chalicelib.domain.products.energy_rental import SETTING as PACKAGES_SETTING
from chalicelib.domain.products.trx_exchange import DEFAULTS as EXCHANGE_DEFAULTS
from chalicelib.domain.products.trx_exchange import SETTING as EXCHANGE_SETTING
from chalicelib.domain.products.withdrawal import DEFAULTS as WITHDRAWAL_DEFAULTS
from chalicelib.domain.products.withdrawal import SETTING as WITHDRAWAL_SETTING

MAX_PACKAGES = 20


@dataclass(frozen=True)
class Bound:
    """A number an operator types: above `low` (or equal, when `low_included`), at most `high`, at most
    `places` decimal places."""

    high: Decimal
    places: int
    low: Decimal = Decimal(0)
    low_included: bool = False


USDT = Bound(Decimal("100000"), 2)
TRX = Bound(Decimal("10000000"), 6)
SETTINGS: dict[str, dict[str, Bound]] = {
    EXCHANGE_SETTING: {"rate": Bound(Decimal("100"), 6), "spread_percent": Bound(Decimal("50"), 2, low_included=True),
                       "min_trx": TRX, "max_trx": TRX, "swap_min_usdt": USDT, "swap_max_usdt": USDT},
    WITHDRAWAL_SETTING: {"fee": Bound(Decimal("1000"), 2, low_included=True), "min": USDT, "max": USDT},
    LIMITS_SETTING: {"per_payout_max_trx": TRX, "daily_max_trx": TRX,
                     "hot_wallet_reserve_trx": Bound(TRX.high, 6, low_included=True),
                     "daily_max_energy": Bound(Decimal("10000000000"), 0), "per_payout_max_usdt": USDT,
                     "daily_max_usdt": USDT},
}
DEFAULTS = {EXCHANGE_SETTING: EXCHANGE_DEFAULTS, WITHDRAWAL_SETTING: WITHDRAWAL_DEFAULTS,
            LIMITS_SETTING: LIMIT_DEFAULTS}
# (smaller, larger): the first must not be above the second.
ORDERED = {EXCHANGE_SETTING: (("min_trx", "max_trx"), ("swap_min_usdt", "swap_max_usdt")),
           WITHDRAWAL_SETTING: (("min", "max"),),
           LIMITS_SETTING: (("per_payout_max_trx", "daily_max_trx"), ("per_payout_max_usdt", "daily_max_usdt"))}
PACKAGE_FIELDS = {"energy": Bound(Decimal("100000000"), 0), "hours": Bound(Decimal("720"), 0), "price": USDT}


def checked_number(field: str, raw: Any, bound: Bound) -> str:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{field}: must be a number like 15 or 0.25", code="SETTING_INVALID",
                               field=field) from None
    low_ok = value >= bound.low if bound.low_included else value > bound.low
    if not value.is_finite() or not low_ok or value > bound.high or value.as_tuple().exponent < -bound.places:
        floor = f"at least {bound.low}" if bound.low_included else f"more than {bound.low}"
        raise ValidationFailed(f"{field}: {floor}, at most {bound.high}, at most {bound.places} decimal places",
                               code="SETTING_INVALID", field=field)
    return format(value, "f")


class TronSettingsDesk:
    def __init__(self, store: VersionedSettingsStore, writer: Any) -> None:
        self._store = store
        self._writer = writer          # CatalogDesk: the versioned, audited write

    def current(self) -> dict[str, tuple[Any, str]]:
        """Each TRON setting as it applies now (the defaults filled in) and its version."""
        shown = {}
        for setting_id, defaults in DEFAULTS.items():
            stored, version = self._store.versioned(setting_id)
            shown[setting_id] = ({**defaults, **(stored if isinstance(stored, dict) else {})}, version)
        stored, version = self._store.versioned(PACKAGES_SETTING)
        packages = stored if isinstance(stored, dict) and stored else DEFAULT_PACKAGES
        shown[PACKAGES_SETTING] = (json.dumps(packages, indent=2, sort_keys=True), version)
        return shown

    def change(self, actor: AdminActor, setting_id: str, values: dict[str, str], version: str) -> dict[str, str]:
        """Set some fields of one of the flat settings; the rest keep their current values."""
        if setting_id not in SETTINGS:
            raise NotFound(f"no TRON setting {setting_id!r}", code="SETTING_NOT_FOUND")
        bounds = SETTINGS[setting_id]
        unknown = sorted(set(values) - set(bounds))
        if unknown:
            raise ValidationFailed(f"{unknown[0]}: not a field of {setting_id}", code="SETTING_INVALID",
                                   field=unknown[0])
        before = self.current()[setting_id][0]
        value = {**before, **{name: checked_number(name, raw, bounds[name]) for name, raw in values.items()}}
        for smaller, larger in ORDERED.get(setting_id, ()):
            if Decimal(value[smaller]) > Decimal(value[larger]):
                raise ValidationFailed(f"{smaller}: must not be above {larger}", code="SETTING_INVALID",
                                       field=smaller)
        return self._writer.write(actor, setting_id, value, version, shown_before=before)

    def set_packages(self, actor: AdminActor, text: str, version: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except ValueError:
            raise ValidationFailed("packages: not valid JSON", code="SETTING_INVALID", field="packages") from None
        if not isinstance(value, dict) or not value or len(value) > MAX_PACKAGES:
            raise ValidationFailed(f"packages: an object of 1 to {MAX_PACKAGES} packages by product id",
                                   code="SETTING_INVALID", field="packages")
        packages = {}
        for product_id, terms in value.items():
            if not (0 < len(product_id) <= 64 and product_id.replace("_", "").isalnum()):
                raise ValidationFailed(f"packages.{product_id}: an id of letters, digits and '_'",
                                       code="SETTING_INVALID", field="packages")
            if not isinstance(terms, dict) or set(terms) != set(PACKAGE_FIELDS):
                raise ValidationFailed(f"packages.{product_id}: exactly {', '.join(PACKAGE_FIELDS)}",
                                       code="SETTING_INVALID", field="packages")
            checked = {name: checked_number(f"packages.{product_id}.{name}", terms[name], bound)
                       for name, bound in PACKAGE_FIELDS.items()}
            packages[product_id] = {"energy": int(Decimal(checked["energy"])), "hours": int(Decimal(checked["hours"])),
                                    "price": checked["price"]}
        before = self._store.versioned(PACKAGES_SETTING)[0] or DEFAULT_PACKAGES
        return self._writer.write(actor, PACKAGES_SETTING, packages, version, shown_before=before)
