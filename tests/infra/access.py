"""What each Lambda function really reaches in AWS, observed: every AWS call the app makes (boto3 and
pynamodb both end in botocore's `_make_api_call`) is recorded as the IAM actions it needs on the resource
it names, attributed to the function running. The scenario runs every function through the states that
make it work: the API through a walk over all its routes, the workers on the messages that walk queues,
each schedule on something to do, and the alarm forwarder on an alarm."""
from __future__ import annotations

import json
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from tests.api_walk import walk
from tests.infra.access_panel import use_the_panel, use_the_portal, use_the_tron_panel

Usage = dict[str, dict[tuple[str, str], set[str]]]  # function -> (service, resource) -> IAM actions

_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _dynamodb(operation: str, params: dict) -> list[tuple[str, str]]:
    """(resource, action) pairs; a resource is a table name or "<table>/index" for an index."""
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [(item[kind]["TableName"], f"dynamodb:{_TRANSACT_ACTIONS[kind]}")
                for item in params["TransactItems"] for kind in item]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(table, f"dynamodb:{operation}") for table in params["RequestItems"]]
    table = params["TableName"]
    pairs = [(table, f"dynamodb:{operation}")]
    if params.get("IndexName"):
        pairs = [(f"{table}/index", f"dynamodb:{operation}")]
    return pairs


def _sqs(operation: str, params: dict) -> list[tuple[str, str]]:
    name = params.get("QueueName") or params.get("QueueUrl", "").rsplit("/", 1)[-1]
    return [(name, f"sqs:{operation}")]


class Recorder:
    """Only calls made while a function runs count: the test's own look at the emulator does not."""

    def __init__(self, withheld: Callable[[str], dict[str, Any]]) -> None:
        self.usage: Usage = defaultdict(lambda: defaultdict(set))
        self.secrets_asked: dict[str, set[str]] = defaultdict(set)
        self.function: str | None = None
        self._withheld = withheld

    def record(self, service: str, operation: str, params: dict) -> None:
        if self.function is None:
            return
        if service == "dynamodb":
            pairs = _dynamodb(operation, params)
        elif service == "sqs":
            pairs = _sqs(operation, params)
        else:
            pairs = [(params.get("Name", "*"), f"{service}:{operation}")]
        for resource, action in pairs:
            self.usage[self.function][(service, resource)].add(action)

    @contextmanager
    def running(self, function: str | None) -> Iterator[None]:
        """Each invocation in a fresh container, as a cold Lambda: nothing one function looked up (a queue
        URL, cached settings) hides a call another function would have to make itself."""
        from chalicelib import container as composition

        shared = composition.get_container()
        previous, self.function = self.function, function
        # Chunks of 4 codes: a pack of 10 is fulfilled in three messages, each queueing the next.
        # Each function runs without the secrets it is not given.
        settings = shared.settings.model_copy(update={"code_chunk_size": 4, **self._withheld(function or "")})
        composition.set_container(_cold_container(shared, settings))
        try:
            yield
        finally:
            self.function = previous
            composition.set_container(shared)


def _cold_container(shared: Any, settings: Any) -> Any:
    """A container with none of `shared`'s built adapters, services or caches. Built without `__init__`:
    re-binding the table models would only drop their botocore clients (no AWS call, and slow to rebuild)."""
    from chalicelib.container import Container

    cold = Container.__new__(Container)
    cold.settings = settings
    cold._telegram_transport, cold._clock, cold._sleep = shared._telegram_transport, shared._clock, shared._sleep
    cold.use_tron_transport(shared._tron_transport)
    return cold


@contextmanager
def recording(monkeypatch: Any, client: Any,
              withheld: Callable[[str], dict[str, Any]] = lambda function: {}) -> Iterator[Recorder]:
    """Records while the app's functions run through `client`; `withheld(function)` names the settings a
    function runs without (the secrets its role may not read)."""
    import botocore.client

    from chalicelib.config import Settings

    from chalicelib.tron_config import TronSettings

    recorder = Recorder(withheld)
    original_granted = Settings.granted

    def granted(settings: Any, name: str) -> Any:
        if recorder.function is not None:
            recorder.secrets_asked[recorder.function].add(Settings.model_fields[name].alias)
        return original_granted(settings, name)
    original_call = botocore.client.BaseClient._make_api_call
    original_invoke = client.lambda_.invoke
    original_request = client.http.request

    def make_api_call(self: Any, operation: str, params: dict) -> Any:
        recorder.record(self.meta.service_model.service_name, operation, params)
        return original_call(self, operation, params)

    def invoke(function: str, *args: Any, **kwargs: Any) -> Any:
        with recorder.running(function):
            return original_invoke(function, *args, **kwargs)

    def request(*args: Any, **kwargs: Any) -> Any:
        with recorder.running("api_handler"):
            return original_request(*args, **kwargs)

    original_key_reader = TronSettings.key_reader

    def key_reader(settings: Any, read_parameter: Callable[[str], str]) -> Callable[[], str]:
        if recorder.function is not None:
            recorder.secrets_asked[recorder.function].add("TRON_PRIVATE_KEY")
        return original_key_reader(settings, read_parameter)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
    monkeypatch.setattr(Settings, "granted", granted)
    monkeypatch.setattr(TronSettings, "key_reader", key_reader)
    monkeypatch.setattr(client.lambda_, "invoke", invoke)
    monkeypatch.setattr(client.http, "request", request)
    yield recorder


def buy_through_the_bot(api: Any, codes: Any, clock: Any, telegram: Any) -> None:
    """The bot's flows through the webhook: buy by transfer, check and cancel, top up, buy from the balance,
    the orders list, the language, redeeming a code."""
    from tests.telegram_updates import ChatDriver, user_json

    ann = ChatDriver(api.client, telegram, user_json(5001, first_name="Ann"), clock, pace_seconds=2)

    def newest() -> Any:
        return codes.container.ordering.list_owned("user:5001", 1, None).items[0]

    def buy_premium() -> None:
        ann.say("/start")
        for button in ("Buy Premium", "3 months", "Myself"):
            ann.tap(ann.button(button))

    buy_premium()
    ann.tap(ann.button("Confirm"))
    order = newest()
    ann.tap(f"chk:{order.order_id}")
    ann.tap(f"cx:{order.order_id}")
    ann.say("/balance")
    ann.tap(ann.button("Top up"))
    ann.say("20")
    ann.tap(ann.button("Confirm"))
    top_up = newest()
    api.pay({"amount": f"{top_up.amount_micros / 1_000_000:.3f}", "pay_to": top_up.pay_to})
    api.drain("delivery", "deliver_orders")
    buy_premium()
    ann.tap(ann.button("Pay with balance"))
    api.drain("delivery", "deliver_orders")
    ann.say("/orders")
    ann.say("/language")
    distributor, token = codes.create_distributor(name="Bot codes", telegram_user_id=None)
    pack = codes.buy(token)
    ann.say(f"/redeem {codes.codes_of(token, pack['order_id'])[0]}")
    api.drain("delivery", "deliver_orders")


def run_every_function(api: Any, codes: Any, clock: Any, sandbox: Any, node: Any) -> None:
    """Every function of the app, each doing the work it exists for, on its good and its bad paths."""
    from devstack.sandbox.state import FaultRule
    from tests.infra.access_paths import take_the_paths_the_walk_misses

    telegram = sandbox.extensions["sandbox"]
    walk(api, codes, lambda method, template, response: None)
    buy_through_the_bot(api, codes, clock, telegram)
    use_the_panel(api, codes)
    use_the_portal(api, codes)
    # an idempotent retry answers the stored result; a refused keyed request leaves no record behind
    for product_id in ("premium_12m", "premium_12m", "premium_99m"):
        api.client.http.post("/orders", headers=api.buyer_headers(4010, **{"Idempotency-Key": product_id}),
                             body=json.dumps({"product_id": product_id}))

    # deliver_orders: a gift refused for good is refunded, one whose outcome is unknown needs review, a gift
    # with too few Stars waits, a redemption's gift refused for good gives its use back; a top-up credits
    for user_id, fault in [(4001, (400, "Bad Request: USER_ID_INVALID")), (4002, (500, "Internal Server Error"))]:
        telegram.add_fault(FaultRule(method="giftPremiumSubscription", error_code=fault[0], description=fault[1]))
        api.pay(json.loads(api.create_order(user_id=user_id).body))
        api.drain("delivery", "deliver_orders")
    stars_gift_refused_for_good(api, telegram)
    telegram.set_star_balance(0)
    api.pay(json.loads(api.create_order(user_id=4003).body))
    api.drain("delivery", "deliver_orders")
    telegram.set_star_balance(1_000_000)
    distributor, token = codes.create_distributor(name="Scenario", telegram_user_id=None)
    pack = codes.buy(token)
    telegram.add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                 description="Bad Request: USER_ID_INVALID"))
    codes.redeem(4004, codes.codes_of(token, pack["order_id"])[0])
    codes.deliver()
    top_up = json.loads(api.create_order(user_id=4005, product_id="wallet_top_up", amount="15.00",
                                         then_buy={"product_id": "premium_3m", "choice": {}}).body)
    api.pay(top_up)
    api.drain("delivery", "deliver_orders")
    api.drain("delivery", "deliver_orders")  # the Premium it bought from the balance

    # expire_orders: an unpaid order expires
    api.create_order(user_id=4006)
    clock.advance(minutes=31)
    api.tick("expire_orders")
    # repair_orders: a paid order whose message was lost is queued again, an order waiting for Stars is
    # retried, a transfer never confirmed is surfaced for review
    api.pay(json.loads(api.create_order(user_id=4007).body))
    api.pay(json.loads(api.create_order(user_id=4008).body), confirmed=False)
    stuck = json.loads(api.create_order(user_id=4009).body)
    api.pay(stuck)
    api.aws["sqs"].purge_queue(QueueUrl=api.aws["queues"]["tgshop-test-delivery"])
    from chalicelib.domain.orders import START_DELIVERY  # a worker died after claiming it

    codes.container.orders.claim(stuck["order_id"], START_DELIVERY, clock.now())
    clock.advance(minutes=40)
    api.tick("repair_orders")
    api.drain("delivery", "deliver_orders")

    api.aws["sqs"].send_message(QueueUrl=api.aws["queues"]["tgshop-test-delivery-dlq"], MessageBody="{}")
    api.tick("watch_dead_letters")
    clock.advance(days=1)
    api.tick("reconcile_ledger")
    tron_payouts(api, codes, clock)
    use_the_tron_panel(api, codes)
    alarm = {"AlarmName": "probe", "NewStateValue": "ALARM", "NewStateReason": "probe"}
    api.client.lambda_.invoke("forward_alarms", api.client.events.generate_sns_event(message=json.dumps(alarm)))
    take_the_paths_the_walk_misses(api, codes, clock, telegram, node)


def stars_gift_refused_for_good(api: Any, telegram: Any) -> None:
    """A gift paid in Stars refused for good: its Stars go back with refundStarPayment, marked sent (guards)."""
    from devstack.sandbox.state import FaultRule
    from devstack.sandbox.stars import stars_of
    from tests.support import TEST_ENV

    order = json.loads(api.create_order(user_id=4011, payment_method="stars").body)
    charge = stars_of(telegram).charge(4011, 1300, order["order_id"])
    payment = {"currency": "XTR", "total_amount": 1300, "invoice_payload": order["order_id"],
               "telegram_payment_charge_id": charge, "provider_payment_charge_id": charge}
    api.client.http.post("/telegram/webhook", headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TEST_ENV["TELEGRAM_WEBHOOK_SECRET"]},
        body=json.dumps({"update_id": 4011, "message": {
            "message_id": 1, "date": 1_795_000_000, "chat": {"id": 4011, "type": "private"},
            "from": {"id": 4011, "is_bot": False, "first_name": "Star"}, "successful_payment": payment}}))
    telegram.add_fault(FaultRule(method="giftPremiumSubscription", error_code=400,
                                 description="Bad Request: USER_ID_INVALID"))
    api.drain("delivery", "deliver_orders")


def tron_payouts(api: Any, codes: Any, clock: Any) -> None:
    """The TRON products (issue 12): energy and TRX paid and paid out, a withdrawal, an automatic swap, a
    rental taken back by drive_payouts, and the operators' TRON routes."""
    from chalicelib.tron_config import LOCAL_SWAP_ADDRESS
    from devstack.tron_node.local import BUYER_ADDRESSES

    for user_id, choice in [(4101, {"product_id": "energy_65k_1h", "address": BUYER_ADDRESSES[1]}),
                            (4102, {"product_id": "trx_exchange", "address": BUYER_ADDRESSES[0], "trx_amount": "20"})]:
        api.pay(json.loads(api.create_order(user_id=user_id, **choice).body))
    api.drain("delivery", "deliver_orders")
    codes.container.wallets.adjust("user:4103", 20_000_000, "scenario", "scenario-credit")
    api.create_order(user_id=4103, product_id="withdrawal", payment_method="balance", address=BUYER_ADDRESSES[2],
                     amount="10")
    api.drain("delivery", "deliver_orders")
    api.pay(amount="10", to=LOCAL_SWAP_ADDRESS)
    clock.advance(hours=2)
    api.tick("drive_payouts")
    headers = {"X-Api-Key": "test-admin-key", "Content-Type": "application/json"}
    for path in ("/admin/tron/hot-wallet", "/admin/payouts", "/tron/exchange/quote?trx_amount=5"):
        api.client.http.get(path, headers={**headers, **api.buyer_headers(4104)})
    api.client.http.post("/admin/tron/stock", headers=headers, body=json.dumps(
        {"asset": "TRX", "amount": "10", "reason": "scenario", "request_id": "scenario-stock"}))
