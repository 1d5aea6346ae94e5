"""The composition root's money half: settlement and payment review, the ledger and its reconciliation,
wallets, the top-up product and paying from balance. Mixed into `Container` (chalicelib/container.py), built
lazily once per container like the rest."""
from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from chalicelib.observability import count, logger


class MoneyParts:
    settings: Any
    payments: Any
    orders: Any
    queue: Any
    clock: Any
    notices: Any
    products: Any
    live_settings: Any
    ordering: Any
    payout_store: Any

    @cached_property
    def settlement(self):
        from chalicelib.domain.settlement import Settlement
        return Settlement(self.payments, self.orders, self.queue, self.products.settles_to, count,
                          heard=self.payment_review.heard)

    @cached_property
    def payment_review(self):
        from chalicelib.domain.payment_review import PaymentReview
        s = self.settings
        return PaymentReview(self.payments, self.orders, self.products, self.notices, self.clock,
                             timedelta(minutes=s.unconfirmed_review_minutes), s.amount_suffix_decimals, count, logger)

    @cached_property
    def ledger(self):
        from chalicelib.adapters.dynamodb.ledger import DynamoLedgerStore
        return DynamoLedgerStore()

    @cached_property
    def wallets(self):
        from chalicelib.domain.wallet import WalletService
        return WalletService(self.ledger, self.clock)

    @cached_property
    def top_up(self):
        from chalicelib.domain.products.wallet_top_up import WalletTopUp
        return WalletTopUp(self.live_settings)

    @cached_property
    def top_up_fulfiller(self):
        from chalicelib.domain.products import Buyer
        from chalicelib.domain.products.wallet_top_up import WalletTopUpFulfiller

        def buy(top_up, follow_on):
            return self.ordering.place(Buyer(top_up.buyer_user_id, top_up.language), follow_on.product_id,
                                       follow_on.choice, "balance")
        return WalletTopUpFulfiller(self.orders, self.notices, self.clock, buy, count, logger)

    @cached_property
    def balance_method(self):
        from chalicelib.domain.payment_methods.balance import WalletBalance
        return WalletBalance(self.orders, self.ledger, self.queue, self.products.settles_to, count)

    @cached_property
    def reconciliation(self):
        from chalicelib.domain.reconciliation import Reconciliation
        return Reconciliation(self.ledger, self.payments, self.orders, self.notices, self.clock, count,
                              payouts=self.payout_store)
