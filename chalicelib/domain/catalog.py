"""What we sell and for how much. Prices live in the settings table so operators change them live."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.domain.errors import NotFound
from chalicelib.domain.money import format_amount, to_micros
from chalicelib.domain.ports import Clock, SettingsRepository

PRICES_SETTING = "prices"
PRICE_CACHE_SECONDS = 30


@dataclass(frozen=True)
class Product:
    product_id: str
    month_count: int
    star_count: int
    default_price: Decimal


PRODUCTS: dict[str, Product] = {
    product.product_id: product
    for product in (
        Product("premium_3m", 3, 1000, Decimal("15")),
        Product("premium_6m", 6, 1500, Decimal("22")),
        Product("premium_12m", 12, 2500, Decimal("36")),
    )
}


def product_for_months(month_count: int) -> Product:
    for product in PRODUCTS.values():
        if product.month_count == month_count:
            return product
    raise NotFound(f"no Premium product lasts {month_count} months", code="PRODUCT_NOT_FOUND")


def default_price_setting() -> dict[str, str]:
    return {product_id: str(product.default_price) for product_id, product in PRODUCTS.items()}


@dataclass(frozen=True)
class Offer:
    product: Product
    price_micros: int

    def as_dict(self) -> dict:
        return {"product_id": self.product.product_id, "month_count": self.product.month_count,
                "price": format_amount(self.price_micros, 2), "currency": "USDT"}


class Catalog:
    """Reads prices at most every PRICE_CACHE_SECONDS per container: a price change is live within that."""

    def __init__(self, settings: SettingsRepository, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._cached: tuple[datetime, dict[str, int]] | None = None

    def _prices(self) -> dict[str, int]:
        now = self._clock.now()
        if self._cached and now - self._cached[0] < timedelta(seconds=PRICE_CACHE_SECONDS):
            return self._cached[1]
        stored = self._settings.get(PRICES_SETTING) or {}
        prices = {product_id: to_micros(stored.get(product_id, product.default_price))
                  for product_id, product in PRODUCTS.items()}
        self._cached = (now, prices)
        return prices

    def offers(self) -> list[Offer]:
        prices = self._prices()
        return [Offer(product, prices[product_id]) for product_id, product in PRODUCTS.items()]

    def offer(self, product_id: str) -> Offer:
        product = PRODUCTS.get(product_id)
        if product is None:
            raise NotFound(f"product_id {product_id!r} is not in the catalog", code="PRODUCT_NOT_FOUND",
                           field="product_id")
        return Offer(product, self._prices()[product_id])
