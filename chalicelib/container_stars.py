"""The composition root's Stars half: the Stars payment method, Telegram's payment updates, gift delivery (its
refunds and low-Stars alert) and the operator's view of the Star inventory. Mixed into `Container`
(chalicelib/container.py)."""
from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from chalicelib.observability import count


class StarsParts:
    settings: Any
    orders: Any
    telegram: Any
    clock: Any
    notices: Any
    settlement: Any
    live_settings: Any
    ledger: Any
    payment_methods: Any
    guards: Any
    products: Any

    @cached_property
    def gifts(self):
        """Gift delivery: a failed gift refunded the way its order was paid, the operator told of low Stars."""
        from chalicelib.domain.gifting import GiftDelivery
        return GiftDelivery(self.orders, self.telegram, self.notices, self.clock, count, self.payment_methods,
                            self.settings.stars_low_balance,
                            once=lambda key, ttl: self.guards.claim(key, ttl, self.clock.now()))

    @cached_property
    def stars_method(self):
        from chalicelib.domain.payment_methods.stars import STAR_PRICES_SETTING, StarsInvoice, parse_star_prices
        s = self.settings
        return StarsInvoice(self.orders, lambda: self.live_settings.get(STAR_PRICES_SETTING, parse_star_prices),
                            self.telegram, timedelta(minutes=s.order_expiry_minutes), s.max_pending_orders)

    @cached_property
    def stars_payments(self):
        from chalicelib.domain.payment_methods.stars_payments import StarsPayments
        from chalicelib.i18n import text
        return StarsPayments(self.orders, self.settlement, self.stars_method, self.telegram, self.clock,
                             lambda key, lang: text(lang, f"stars.{key}"), count, self.notices.alert,
                             self._invoice_words)

    def _invoice_words(self, order, name: str) -> str:
        """`stars.<name>` in the order's language, in its product's own words where the catalog has them
        (`stars.<texts>.<name>`), filled with the order's facts."""
        from chalicelib.bot.order_facts import detail_values
        from chalicelib.bot.views import worded
        from chalicelib.i18n import normalize, text
        try:
            texts = self.products.by_kind(order.kind).notices.texts
        except LookupError:        # an order of a kind this deployment no longer sells
            texts = None
        lang = normalize(order.language)
        return text(lang, worded(lang, f"stars.{name}", texts), months=order.month_count or "",
                    **detail_values(order))

    @cached_property
    def star_inventory(self):
        from chalicelib.domain.star_inventory import StarInventory
        return StarInventory(self.ledger, self.telegram, self.settings.stars_low_balance)
