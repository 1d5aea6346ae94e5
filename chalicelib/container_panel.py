"""The composition root's panel half: operators and their sessions, the sign-in limit, and the desks the operator
panel and the distributor portal act through. Mixed into `Container` (chalicelib/container.py), built lazily
once per container like the rest."""
from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any


class PanelParts:
    settings: Any
    clock: Any
    orders: Any
    payments: Any
    queue: Any
    products: Any
    notices: Any
    settings_store: Any
    live_settings: Any
    distributors: Any
    sqs: Any
    telegram: Any
    payment_addresses: Any
    payout_desk: Any
    swap_address: Any

    @cached_property
    def operators_limiter(self):
        """Failed sign-ins of the panel (per name and per address) and of the portal (per address)."""
        from chalicelib.adapters.dynamodb.distributors import DynamoBucketStore
        from chalicelib.domain.attempt_limits import AttemptLimiter, BucketPolicy
        from chalicelib.domain.operators import LIMITER_NAMESPACE
        s = self.settings
        return AttemptLimiter(DynamoBucketStore(), {
            "name": BucketPolicy(s.sign_in_burst, s.sign_in_refill_seconds),
            "ip": BucketPolicy(s.sign_in_burst * 4, s.sign_in_refill_seconds)}, LIMITER_NAMESPACE)

    @cached_property
    def operators(self):
        from chalicelib.adapters.dynamodb.operators import DynamoOperatorStore, DynamoSessionStore
        from chalicelib.domain.operators import OperatorService
        return OperatorService(DynamoOperatorStore(), DynamoSessionStore(), self.operators_limiter, self.clock,
                               timedelta(minutes=self.settings.panel_session_minutes), self.distributors)

    @cached_property
    def panel_reads(self):
        from chalicelib.adapters.dynamodb.panel_reads import DynamoPanelReads
        return DynamoPanelReads()

    @cached_property
    def order_desk(self):
        from chalicelib.domain.order_desk import OrderDesk
        return OrderDesk(self.orders, self.queue, self.products, self.notices, self.clock, self.distributors,
                         self.payment_methods)   # a refund goes back the way the order was paid

    @cached_property
    def payment_desk(self):
        from chalicelib.adapters.dynamodb.payment_desk import DynamoReviewStore
        from chalicelib.domain.payment_desk import PaymentDesk
        return PaymentDesk(self.payments, DynamoReviewStore(), self.orders, self.queue, self.products.settles_to,
                           self.clock, self.distributors)

    @cached_property
    def catalog_desk(self):
        from chalicelib.domain.catalog_desk import CatalogDesk
        return CatalogDesk(self.settings_store, self.live_settings, self.settings.max_codes_per_order,
                           self.distributors)

    @cached_property
    def address_desk(self):
        from chalicelib.domain.payment_addresses import AddressDesk
        reserved = frozenset({self.swap_address}) - {None}
        return AddressDesk(self.settings_store, self.payment_addresses, self.catalog_desk, reserved)

    @cached_property
    def tron_settings_desk(self):
        from chalicelib.domain.tron_settings_desk import TronSettingsDesk
        return TronSettingsDesk(self.settings_store, self.catalog_desk)

    @cached_property
    def tron_desk(self):
        from chalicelib.domain.tron_desk import TronDesk
        return TronDesk(self.payout_desk, self.panel_reads.payouts, self.clock, self.distributors)

    @cached_property
    def bot_texts(self):
        from chalicelib.container_deferred import BuiltOnFirstUse
        from chalicelib.domain.bot_texts import BotTexts
        # Reading a text (every message sent) needs no distributor service: only an operator's edit audits.
        return BotTexts(self.live_settings, self.settings_store, BuiltOnFirstUse(lambda: self.distributors))

    def queue_depths(self) -> dict[str, int | None]:
        """Messages waiting in each product queue and its dead-letter queue (None: SQS did not answer)."""
        from chalicelib.adapters.dead_letters import SqsDeadLetters

        names = sorted(self.products.queues())
        depths: dict[str, int | None] = {}
        for name in [*names, *(f"{queue}-dlq" for queue in names)]:
            try:
                depths.update(SqsDeadLetters(self.sqs, (name,)).depths())
            except Exception:  # noqa: BLE001 - the dashboard shows the rest
                depths[name] = None
        return depths

    def star_report(self) -> Any:
        """The bot's Stars for the dashboard: balance, income, refunds and gift spending (domain/star_inventory),
        or None when Telegram did not answer."""
        from chalicelib.domain.ports.telegram import TelegramError, TelegramOutcomeUnknown, TelegramUnreachable
        try:
            return self.star_inventory.report()
        except (TelegramError, TelegramOutcomeUnknown, TelegramUnreachable):   # the dashboard shows the rest
            return None


def install_text_overrides(container: Any) -> None:
    """The bot's texts an operator changed in the panel, read through this container's settings cache."""
    from chalicelib.i18n import use_overrides

    def lookup(language: str, key: str) -> str | None:
        try:
            return container.bot_texts.lookup(language, key)
        except Exception:  # noqa: BLE001 - a settings read that fails leaves the catalog's text, never no message
            return None

    use_overrides(None if container is None else lookup)
