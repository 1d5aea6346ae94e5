"""The composition root: builds adapters and services lazily, once per container (Lambda or test)."""
from __future__ import annotations

import time
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

from chalicelib.adapters.sqs import DELIVERY_QUEUE, FULFILLMENT_QUEUE
from chalicelib.observability import configure, count, logger

if TYPE_CHECKING:
    from chalicelib.config import Settings


class Container:
    def __init__(self, settings: Settings, *, telegram_transport: Any = None, clock: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from chalicelib.adapters.dynamodb import models

        self.settings = settings
        self._telegram_transport = telegram_transport
        self._clock = clock
        self._sleep = sleep
        models.bind(settings.resource_prefix, settings.aws_region, settings.aws_endpoint_url)

    # ------------------------------------------------------------------ adapters
    @cached_property
    def clock(self):
        from chalicelib.adapters.system import SystemClock

        return self._clock or SystemClock()

    @cached_property
    def ids(self):
        from chalicelib.adapters.system import SortableIds

        return SortableIds()

    def boto3_client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=self.settings.aws_region,
                            endpoint_url=self.settings.aws_endpoint_url)

    @cached_property
    def telegram(self):
        from chalicelib.adapters.telegram import TelegramClient

        return TelegramClient(self.settings.telegram_api_base_url,
                              self.settings.telegram_bot_token.get_secret_value(),
                              timeout_seconds=self.settings.telegram_timeout_seconds,
                              retry_budget_seconds=self.settings.telegram_retry_budget_seconds,
                              transport=self._telegram_transport, sleep=self._sleep)

    @cached_property
    def orders(self):
        from chalicelib.adapters.dynamodb.orders import DynamoOrderRepository

        return DynamoOrderRepository()

    @cached_property
    def slots(self):
        from chalicelib.adapters.dynamodb.orders import DynamoPaymentSlotRepository

        return DynamoPaymentSlotRepository()

    @cached_property
    def payments(self):
        from chalicelib.adapters.dynamodb.payments import DynamoPaymentRepository

        return DynamoPaymentRepository()

    @cached_property
    def settings_store(self):
        from chalicelib.adapters.dynamodb.settings import DynamoSettingsRepository

        return DynamoSettingsRepository()

    @cached_property
    def guards(self):
        from chalicelib.adapters.dynamodb.guards import DynamoGuards

        return DynamoGuards()

    @cached_property
    def queue(self):
        from chalicelib.adapters.sqs import SqsWorkQueue

        return SqsWorkQueue(lambda: self.boto3_client("sqs"), self.settings.resource_prefix)

    @cached_property
    def idempotency_store(self):
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(table_name=f"{self.settings.resource_prefix}-idempotency",
                                        boto3_client=self.boto3_client("dynamodb"))

    @cached_property
    def notifier(self):
        from chalicelib.adapters.notifier import TelegramNotifier

        return TelegramNotifier(self.telegram, self.guards, self.clock, self.settings.admin_chat_id,
                                self.settings.alert_cooldown_minutes * 60, directory=self.directory,
                                bucket=self.send_bucket, amount_places=self.settings.amount_suffix_decimals)

    @cached_property
    def directory(self):
        from chalicelib.adapters.dynamodb.accounts import DynamoDirectory

        return DynamoDirectory()

    @cached_property
    def conversations(self):
        from chalicelib.adapters.dynamodb.conversations import DynamoConversationStore

        return DynamoConversationStore()

    @cached_property
    def send_bucket(self):
        """The bucket every Lambda's bulk notifications share (about 25 messages a second)."""
        from chalicelib.adapters.dynamodb.throttle import SharedSendBucket

        return SharedSendBucket(self.clock.now, self._sleep)

    # ------------------------------------------------------------------ services
    @cached_property
    def catalog(self):
        from chalicelib.domain.catalog import Catalog

        return Catalog(self.settings_store, self.clock)

    @cached_property
    def ordering(self):
        from chalicelib.domain.ordering import OrderingService, PaymentPolicy

        policy = PaymentPolicy(addresses=self.settings.payment_addresses,
                               suffix_decimals=self.settings.amount_suffix_decimals,
                               expiry=timedelta(minutes=self.settings.order_expiry_minutes),
                               monitoring_window=timedelta(minutes=self.settings.monitoring_window_minutes),
                               max_pending=self.settings.max_pending_orders)
        return OrderingService(self.orders, self.slots, self.clock, self.ids, policy, count)

    @cached_property
    def premium(self):
        from chalicelib.domain.premium import PremiumOrders

        return PremiumOrders(self.catalog, self.ordering)

    @cached_property
    def payment_service(self):
        from chalicelib.domain.payments import PaymentRules, PaymentService

        rules = PaymentRules(addresses=frozenset(self.settings.payment_addresses),
                             usdt_contract=self.settings.usdt_contract,
                             suffix_decimals=self.settings.amount_suffix_decimals)
        return PaymentService(self.payments, self.slots, self.orders, self.clock, rules,
                              on_paid=self.enqueue_order, count=count)

    @cached_property
    def delivery(self):
        from chalicelib.domain.delivery import DeliveryService

        return DeliveryService(self.orders, self.telegram, self.notifier, self.clock, count,
                               listeners=self.delivery_listeners)

    @cached_property
    def delivery_listeners(self) -> dict:
        from chalicelib.domain.orders import OrderKind

        return {OrderKind.REDEMPTION_GIFT: self.redemptions}

    @cached_property
    def upkeep(self):
        from chalicelib.domain.upkeep import RepairPolicy, UpkeepService

        policy = RepairPolicy(paid_stuck_after=timedelta(minutes=self.settings.paid_stuck_minutes),
                              delivering_stuck_after=timedelta(minutes=self.settings.delivering_stuck_minutes))
        return UpkeepService(self.orders, self.clock, self.notifier, policy, requeue=self.enqueue_paid,
                             count=count)

    @cached_property
    def bot(self):
        from chalicelib.domain.bot.conversation import Conversation
        from chalicelib.domain.bot.limits import FloodPolicy
        from chalicelib.domain.bot.service import BotService
        from chalicelib.domain.bot.shop import ShopFacade

        settings = self.settings
        shop = ShopFacade(self.catalog, self.premium, self.ordering, self.orders)
        conversation = Conversation(
            shop, self.directory, lambda: getattr(self, "redemptions", None),
            lambda key, ttl: self.guards.claim(key, ttl, self.clock.now()),
            amount_places=settings.amount_suffix_decimals)
        flood = FloodPolicy(burst=settings.bot_flood_burst, per_minute=settings.bot_flood_per_minute)
        return BotService(conversation, self.conversations, self.directory, self.guards, self.telegram, self.clock,
                          flood, count, logger)

    # ------------------------------------------------------------------ redeem codes (issue 4)
    @cached_property
    def code_store(self):
        from chalicelib.adapters.dynamodb.codes import DynamoCodeStore

        return DynamoCodeStore(sleep=self._sleep)

    @cached_property
    def redemption_store(self):
        from chalicelib.adapters.dynamodb.codes import DynamoRedemptionStore

        return DynamoRedemptionStore(sleep=self._sleep)

    @cached_property
    def distributors(self):
        from chalicelib.adapters.dynamodb.distributors import DynamoAuditLog, DynamoDistributorStore
        from chalicelib.domain.distributors import DistributorService

        return DistributorService(DynamoDistributorStore(), DynamoAuditLog(), self.clock, self.ids)

    @cached_property
    def plans(self):
        from chalicelib.domain.codes import PlanBook

        return PlanBook(self.settings_store, self.clock, self.settings.max_codes_per_order)

    @cached_property
    def distributor_desk(self):
        from chalicelib.adapters.dynamodb.codes import DynamoFigureStore
        from chalicelib.domain.distributor_desk import DistributorDesk

        return DistributorDesk(self.plans, self.ordering, self.code_store, self.redemption_store,
                               DynamoFigureStore(sleep=self._sleep), self.clock, self._code_secret, count,
                               sleep=self._sleep)

    @cached_property
    def fulfillment(self):
        from chalicelib.domain.fulfillment import FulfillmentPolicy, FulfillmentService

        def telegram_user_of(distributor_id: str):
            distributor = self.distributors.get_by_id(distributor_id)
            return distributor.telegram_user_id if distributor else None

        return FulfillmentService(self.orders, self.code_store, self.guards, self.telegram, self.notifier,
                                  self.clock, self._code_secret,
                                  FulfillmentPolicy(chunk_size=self.settings.code_chunk_size),
                                  continue_later=self.enqueue_paid, count=count, telegram_user_of=telegram_user_of)

    @cached_property
    def redemptions(self):
        """The one redemption service: POST /redeem and the bot's redeem command (see its `redeem`)."""
        from chalicelib.adapters.dynamodb.distributors import DynamoBucketStore
        from chalicelib.domain.attempt_limits import BucketPolicy, FailureLimiter
        from chalicelib.domain.redemptions import LIMITER_NAMESPACE, RedemptionService

        settings = self.settings
        limiter = FailureLimiter(DynamoBucketStore(), {
            "user": BucketPolicy(settings.redeem_user_burst, settings.redeem_user_refill_seconds),
            "ip": BucketPolicy(settings.redeem_ip_burst, settings.redeem_ip_refill_seconds)}, LIMITER_NAMESPACE)
        return RedemptionService(self.code_store, self.redemption_store, self.orders, limiter, self.catalog,
                                 self.clock, self._code_secret, enqueue=self.enqueue_paid, notifier=self.notifier,
                                 count=count, sleep=self._sleep)

    @property
    def _code_secret(self) -> bytes:
        return self.settings.code_secret_key.get_secret_value().encode()

    @cached_property
    def dead_letter_watch(self):
        from chalicelib.adapters.dead_letters import SqsDeadLetters
        from chalicelib.domain.alerts import DeadLetterWatch

        queues = SqsDeadLetters(lambda: self.boto3_client("sqs"), self.settings.resource_prefix)
        return DeadLetterWatch(queues.depths, self.notifier)

    # ------------------------------------------------------------------ wiring between services
    def enqueue_paid(self, order) -> None:
        self.enqueue_order(order.order_id, order.kind)

    def enqueue_order(self, order_id: str, kind) -> None:
        """After the PAID write commits. A failed send leaves the order PAID for the repair job."""
        from chalicelib.domain.orders import OrderKind

        queue = FULFILLMENT_QUEUE if kind == OrderKind.CODE_PACK else DELIVERY_QUEUE
        try:
            self.queue.send(queue, {"order_id": order_id})
        except Exception:
            logger.exception("enqueue failed; the repair job will retry", extra={"order_id": order_id})


_container: Container | None = None


def get_container() -> Container:
    global _container
    if _container is None:
        from chalicelib.config import get_settings

        settings = get_settings()
        configure(settings.metrics_namespace, settings.secret_values())
        _container = Container(settings)
    return _container


def set_container(container: Container | None) -> None:
    """Tests and the local stack install a container built with their own clock or transport."""
    global _container
    _container = container
    if container is not None:
        configure(container.settings.metrics_namespace, container.settings.secret_values())
