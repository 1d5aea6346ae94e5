"""The composition root: builds adapters and services lazily, once per container (Lambda or test)."""
from __future__ import annotations

import time
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

from chalicelib.container_codes import CodesParts
from chalicelib.container_deferred import BuiltOnFirstUse
from chalicelib.container_money import MoneyParts
from chalicelib.container_panel import PanelParts, install_text_overrides
from chalicelib.container_stars import StarsParts
from chalicelib.container_tron import TronParts
from chalicelib.observability import configure, count, logger

if TYPE_CHECKING:
    from chalicelib.config import Settings


class Container(CodesParts, MoneyParts, PanelParts, StarsParts, TronParts):
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
        """The container's client of `service`, from the one botocore session every client shares."""
        from chalicelib.adapters import aws
        return aws.client(service, self.settings.aws_region, self.settings.aws_endpoint_url)

    @cached_property
    def telegram(self):
        from chalicelib.adapters.telegram import TelegramClient
        from chalicelib.adapters.telegram_dry_run import DryRunGifts
        from chalicelib.observability import trace_http_clients
        client = TelegramClient(self.settings.telegram_api_base_url,
                                self.settings.telegram_bot_token.get_secret_value(),
                                timeout_seconds=self.settings.telegram_timeout_seconds,
                                retry_budget_seconds=self.settings.telegram_retry_budget_seconds,
                                transport=self._telegram_transport, sleep=self._sleep,
                                before_first_call=trace_http_clients)
        return DryRunGifts(client) if self.settings.gifts_dry_run else client  # dry run: nothing spends Stars

    @cached_property
    def orders(self):
        from chalicelib.adapters.dynamodb.orders import DynamoOrderStore
        return DynamoOrderStore()

    @cached_property
    def slots(self):
        from chalicelib.adapters.dynamodb.slots import DynamoPaymentSlotStore
        return DynamoPaymentSlotStore()

    @cached_property
    def payments(self):
        from chalicelib.adapters.dynamodb.payments import DynamoPaymentStore
        return DynamoPaymentStore()

    @cached_property
    def settings_store(self):
        from chalicelib.adapters.dynamodb.settings import DynamoSettingsStore
        return DynamoSettingsStore()

    @cached_property
    def guards(self):
        from chalicelib.adapters.dynamodb.guards import DynamoGuardStore
        return DynamoGuardStore()

    @cached_property
    def users(self):
        from chalicelib.adapters.dynamodb.accounts import DynamoUserStore
        return DynamoUserStore()

    @cached_property
    def conversations(self):
        from chalicelib.adapters.dynamodb.conversations import DynamoConversationStore
        return DynamoConversationStore()

    @cached_property
    def distributor_store(self):
        from chalicelib.adapters.dynamodb.distributors import DynamoDistributorStore
        return DynamoDistributorStore()

    @cached_property
    def code_store(self):
        from chalicelib.adapters.dynamodb.codes import DynamoCodeStore
        return DynamoCodeStore(sleep=self._sleep)

    @cached_property
    def redemption_store(self):
        from chalicelib.adapters.dynamodb.redemptions import DynamoRedemptionStore
        return DynamoRedemptionStore(sleep=self._sleep)

    @cached_property
    def sqs(self):
        from chalicelib.adapters.sqs import SqsQueues
        return SqsQueues(lambda: self.boto3_client("sqs"), self.settings.resource_prefix)

    @cached_property
    def queue(self):
        from chalicelib.adapters.sqs import SqsOrderQueue
        return SqsOrderQueue(self.sqs, self.products.queue_of)

    @cached_property
    def idempotency_store(self):
        from chalicelib.adapters.dynamodb import models
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
        return DynamoDBPersistenceLayer(table_name=f"{self.settings.resource_prefix}-idempotency",
                                        boto3_client=models.connection().client)

    @cached_property
    def send_bucket(self):
        """The bucket every Lambda's bulk notifications share (about 25 messages a second)."""
        from chalicelib.adapters.dynamodb.throttle import SharedSendBucket
        return SharedSendBucket(self.clock.now, self._sleep)

    @cached_property
    def messenger(self):
        from chalicelib.adapters.notifier import TelegramMessenger
        from chalicelib.bot.views import clip, render_notice
        places, dry_run = self.settings.amount_suffix_decimals, self.settings.gifts_dry_run
        return TelegramMessenger(self.telegram, self.users, self.clock, lambda n: render_notice(n, places, dry_run),
                                 clip, bucket=self.send_bucket)

    # ------------------------------------------------------------------ products and payment methods
    @cached_property
    def live_settings(self):
        from chalicelib.domain.live_settings import LiveSettings
        return LiveSettings(self.settings_store, self.clock)

    @cached_property
    def premium(self):
        from chalicelib.domain.products.premium import PremiumGift
        return PremiumGift(self.live_settings)

    @cached_property
    def code_pack(self):
        from chalicelib.domain.products.code_pack import CodePack
        return CodePack(self.live_settings, self.settings.max_codes_per_order)

    @cached_property
    def products(self):
        """Every product the shop sells, one entry each, built on the first lookup of its kind (the kind its module
        declares; the registry checks they agree)."""
        from chalicelib.domain.products import ProductRegistry

        def redemption_gift():
            from chalicelib.domain.products.redemption_gift import RedemptionGift
            return RedemptionGift()
        return ProductRegistry(built_on_lookup={
            "PREMIUM_GIFT": lambda: self.premium, "CODE_PACK": lambda: self.code_pack,
            "REDEMPTION_GIFT": redemption_gift, "WALLET_TOP_UP": lambda: self.top_up, **self.tron_products})

    @cached_property
    def fulfilment(self):
        """What carries each product's paid orders on, one entry each."""
        from chalicelib.domain.products import FulfilmentRouter

        def premium():
            from chalicelib.domain.products.premium import PremiumGiftFulfiller
            return PremiumGiftFulfiller(self.gifts)

        def redemption_gift():
            from chalicelib.domain.products.redemption_gift import RedemptionGiftFulfiller
            return RedemptionGiftFulfiller(self.gifts, self.redemptions)

        builders = {"PREMIUM_GIFT": premium, "CODE_PACK": lambda: self.fulfillment,
                    "REDEMPTION_GIFT": redemption_gift, "WALLET_TOP_UP": lambda: self.top_up_fulfiller,
                    **self.tron_fulfillers}
        return FulfilmentRouter(builders)

    @cached_property
    def payment_methods(self):
        """Every way to pay, one entry each, built on the first lookup of its name."""
        from chalicelib.domain.payment_methods import PaymentMethodRegistry

        def trc20():
            from chalicelib.domain.payment_methods.trc20 import Trc20UniqueAmount, UniqueAmountPolicy
            s = self.settings
            policy = UniqueAmountPolicy(self.payment_addresses.live, s.amount_suffix_decimals,
                                        s.surcharge_cap_micros, timedelta(minutes=s.order_expiry_minutes),
                                        timedelta(minutes=s.monitoring_window_minutes), s.max_pending_orders)
            return Trc20UniqueAmount(self.orders, self.slots, policy, count)
        return PaymentMethodRegistry(built_on_lookup={"trc20": trc20, "balance": lambda: self.balance_method,
                                                      "stars": lambda: self.stars_method})

    # ------------------------------------------------------------------ services
    @cached_property
    def notices(self):
        from chalicelib.domain.alerts import panel_link
        from chalicelib.domain.notices import Notices
        return Notices(self.users, self.messenger, self.guards, self.clock, self.settings.admin_chat_id,
                       self.settings.alert_cooldown_minutes * 60, logger,
                       link_for=lambda key: panel_link(self.settings.panel_base_url, key))

    @cached_property
    def ordering(self):
        from chalicelib.domain.ordering import OrderingService
        return OrderingService(self.orders, self.products, self.payment_methods, self.clock, self.ids, count)

    @cached_property
    def payment_addresses(self):
        """The live and retired USDT addresses; the deployment's PAYMENT_ADDRESSES until an owner saves a list."""
        from chalicelib.domain.payment_addresses import PaymentAddresses
        return PaymentAddresses(self.live_settings, self.settings.payment_addresses)

    @cached_property
    def trc20_transfers(self):
        from chalicelib.domain.payment_methods.trc20_transfers import PaymentRules, Trc20Transfers
        s = self.settings
        rules = PaymentRules(self.payment_addresses.known, s.usdt_contract, s.amount_suffix_decimals)
        return Trc20Transfers(self.settlement, self.slots, self.clock, rules)

    @cached_property
    def upkeep(self):
        from chalicelib.domain.upkeep import RepairPolicy, UpkeepService
        policy = RepairPolicy(paid_stuck_after=timedelta(minutes=self.settings.paid_stuck_minutes),
                              delivering_stuck_after=timedelta(minutes=self.settings.delivering_stuck_minutes))
        return UpkeepService(self.orders, self.products, self.queue, self.notices, self.clock, policy, count,
                             payment_review=self.payment_review)

    @cached_property
    def bot(self):
        """The bot; what only some flows use (the shop, the wallet, redemptions, TRON) is built on first use."""
        from chalicelib.bot.conversation import Conversation
        from chalicelib.bot.limits import FloodPolicy
        from chalicelib.bot.service import BotService
        settings = self.settings

        def shop():
            from chalicelib.bot.shop import ShopFacade
            return ShopFacade(self.premium, self.ordering, self.orders, self.products, self.stars_payments)

        def wallet():
            from chalicelib.bot.shop import WalletFacade
            return WalletFacade(self.wallets, self.top_up, self.ordering)
        conversation = Conversation(BuiltOnFirstUse(shop), BuiltOnFirstUse(wallet), self.users,
                                    BuiltOnFirstUse(lambda: self.redemptions),
                                    lambda key, ttl: self.guards.claim(key, ttl, self.clock.now()),
                                    amount_places=settings.amount_suffix_decimals,
                                    surcharge_cap_micros=settings.surcharge_cap_micros,
                                    store_url=settings.miniapp_url, tron=BuiltOnFirstUse(lambda: self.tron_shop))
        flood = FloodPolicy(burst=settings.bot_flood_burst, per_minute=settings.bot_flood_per_minute)
        return BotService(conversation, self.conversations, self.users, self.guards, self.telegram, self.clock,
                          flood, count, logger)

    @cached_property
    def dead_letter_watch(self):
        from chalicelib.adapters.dead_letters import SqsDeadLetters
        from chalicelib.domain.alerts import DeadLetterWatch
        queues = SqsDeadLetters(self.sqs, tuple(f"{queue}-dlq" for queue in sorted(self.products.queues())))
        return DeadLetterWatch(queues.depths, self.notices)


_container: Container | None = None


def get_container() -> Container:
    global _container
    if _container is None:
        from chalicelib.config import get_settings
        settings = get_settings()
        configure(settings.metrics_namespace, settings.secret_values())
        _container = Container(settings)
        install_text_overrides(_container)
    return _container


def set_container(container: Container | None) -> None:
    """Tests and the local stack install a container built with their own clock or transport."""
    global _container
    _container = container
    install_text_overrides(container)
    if container is not None:
        configure(container.settings.metrics_namespace, container.settings.secret_values())

