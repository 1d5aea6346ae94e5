"""The composition root's redeem-code parts: distributors, code packs' fulfilment and redemptions."""
from __future__ import annotations

from functools import cached_property

from chalicelib.observability import count


class CodesParts:
    """Mixed into `Container`, which provides the stores, clock, queue, notices and settings these use."""

    @cached_property
    def distributors(self):
        from chalicelib.adapters.dynamodb.distributors import DynamoAuditStore
        from chalicelib.domain.distributors import DistributorService
        return DistributorService(self.distributor_store, DynamoAuditStore(), self.clock, self.ids)

    @cached_property
    def distributor_desk(self):
        from chalicelib.adapters.dynamodb.figures import DynamoFigureStore
        from chalicelib.domain.distributor_desk import DistributorDesk
        return DistributorDesk(self.code_pack, self.top_up, self.ordering, self.code_store, self.redemption_store,
                               DynamoFigureStore(sleep=self._sleep), self.clock, self._code_secret, count,
                               sleep=self._sleep)

    @cached_property
    def fulfillment(self):
        from chalicelib.domain.products.code_pack_fulfilment import FulfillmentPolicy, FulfillmentService
        return FulfillmentService(self.orders, self.code_store, self.guards, self.telegram, self.notices,
                                  self.clock, self._code_secret,
                                  FulfillmentPolicy(chunk_size=self.settings.code_chunk_size),
                                  queue=self.queue, count=count, distributors=self.distributor_store)

    @cached_property
    def redemptions(self):
        """The one redemption service: POST /redeem and the bot's redeem command (see its `redeem`)."""
        from chalicelib.adapters.dynamodb.distributors import DynamoBucketStore
        from chalicelib.domain.attempt_limits import AttemptLimiter, BucketPolicy
        from chalicelib.domain.redemptions import LIMITER_NAMESPACE, RedemptionService
        settings = self.settings
        limiter = AttemptLimiter(DynamoBucketStore(), {
            "user": BucketPolicy(settings.redeem_user_burst, settings.redeem_user_refill_seconds),
            "ip": BucketPolicy(settings.redeem_ip_burst, settings.redeem_ip_refill_seconds)}, LIMITER_NAMESPACE)
        return RedemptionService(self.code_store, self.redemption_store, self.orders, limiter, self.premium,
                                 self.clock, self._code_secret, self.queue, self.notices, count, sleep=self._sleep)

    @property
    def _code_secret(self) -> bytes:
        return self.settings.granted("code_secret_key").get_secret_value().encode()
