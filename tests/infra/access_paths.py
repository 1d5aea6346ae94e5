"""Paths of the functions that the walk and the happy scenarios do not take, each with AWS calls of its own:
a gift to a @username two accounts have held, the language chosen, money that pays nothing (credited, sent
back in Stars, a stray transfer attached, returned or dismissed in the panel), a buyer who blocked the bot,
codes redeemed twice or after their deactivation, a code pack whose queue message was lost, code packs sent,
refused and failed, payouts the node refuses and that expire unlanded, a payout two sweeps land at once, a
TRON payout waiting for funds, books that disagree, and dead letters on the fulfilment queue."""
from __future__ import annotations

import json
from typing import Any

from tests.telegram_updates import ChatDriver, user_json

BLOCKED = "Forbidden: bot was blocked by the user"


def take_the_paths_the_walk_misses(api: Any, codes: Any, clock: Any, telegram: Any, node: Any) -> None:
    gift_to_a_username(api, clock, telegram)
    money_that_pays_nothing_and_strays(api, codes, telegram)
    notice_to_a_buyer_who_blocked_the_bot(api, telegram)
    codes_redeemed_twice_and_deactivated(codes)
    code_pack_whose_message_was_lost(api, codes, clock)
    code_packs_told_refused_and_failed(codes, telegram)
    payouts_refused_then_expired(api, clock, node)
    payout_landed_first_by_another_sweep(api, clock, node)
    trx_payout_waiting_for_funds(api, clock, node)
    dead_letters_of_fulfilment(api)
    books_that_disagree(api, codes, clock)


def gift_to_a_username(api: Any, clock: Any, telegram: Any) -> None:
    """api_handler: the username index (Query), and with two holders of the name, their profiles (BatchGetItem);
    the language a buyer picks (UpdateItem of the account)."""
    def chat(user_id: int, **user: Any) -> ChatDriver:
        return ChatDriver(api.client, telegram, user_json(user_id, **user), clock, pace_seconds=2)

    for user_id in (5101, 5102):
        chat(user_id, first_name="Cleo", username="cleo_cat").say("/start")
    ann = chat(5103, first_name="Ann")
    ann.say("/start")
    for button in ("Buy Premium", "3 months", "Someone else"):
        ann.tap(ann.button(button))
    ann.say("@cleo_cat")
    ann.tap(ann.button("Confirm"))
    ann.say("/language")
    ann.tap(ann.button("Русский"))


def money_that_pays_nothing_and_strays(api: Any, codes: Any, telegram: Any) -> None:
    """api_handler: an underpayment and a second transfer credited to the buyer, a replayed transfer, a Stars
    payment of an order paid already sent back; in the panel a stray transfer attached to an order, one sent
    back by hand and a foreign token's dismissed."""
    from devstack.tron_node.local import BUYER_ADDRESSES
    from tests.e2e.panel_support import Browser, make_operator
    from tests.support import ADDRESSES, tx_id

    order = json.loads(api.create_order(user_id=5107).body)
    api.pay(order, amount="1.5")
    for tx in (tx_id("scenario-exact"), tx_id("scenario-exact"), tx_id("scenario-second")):
        api.pay(order, tx=tx)
    starred = json.loads(api.create_order(user_id=5108, payment_method="stars").body)
    for update_id in (5108, 5109):
        _pay_in_stars(api, telegram, 5108, starred["order_id"], update_id)

    make_operator(codes.container, "paths-ops")
    panel = Browser(api.client)
    panel.sign_in("paths-ops")
    covered = json.loads(api.create_order(user_id=5110).body)
    strays = {verb: tx_id(f"scenario-stray-{verb}") for verb in ("attach", "returned", "dismiss")}
    api.pay(amount="20", to=ADDRESSES[0], tx=strays["attach"])
    api.pay(amount="4", to=ADDRESSES[0], tx=strays["returned"])
    api.pay(amount="4", to=ADDRESSES[0], tx=strays["dismiss"], token=BUYER_ADDRESSES[2])
    panel.get("/panel/payments")
    forms = {"attach": {"order_id": covered["order_id"]}, "returned": {"return_tx": "ab" * 32}, "dismiss": {}}
    for verb, tx in strays.items():
        done = panel.post(f"/panel/payments/{tx}/{verb}", {"reason": "scenario", **forms[verb]})
        assert done.status_code == 303, (verb, done.body)


def _pay_in_stars(api: Any, telegram: Any, user_id: int, order_id: str, update_id: int) -> None:
    from devstack.sandbox.stars import stars_of
    from tests.support import TEST_ENV

    charge = stars_of(telegram).charge(user_id, 1300, order_id)
    payment = {"currency": "XTR", "total_amount": 1300, "invoice_payload": order_id,
               "telegram_payment_charge_id": charge, "provider_payment_charge_id": charge}
    api.client.http.post("/telegram/webhook", headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TEST_ENV["TELEGRAM_WEBHOOK_SECRET"]},
        body=json.dumps({"update_id": update_id, "message": {
            "message_id": 1, "date": 1_795_000_000, "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Star"}, "successful_payment": payment}}))


def notice_to_a_buyer_who_blocked_the_bot(api: Any, telegram: Any) -> None:
    """deliver_orders: Telegram answers 403 to the buyer's notice, so the account is marked blocked."""
    from devstack.sandbox.state import FaultRule

    api.pay(json.loads(api.create_order(user_id=5104).body))
    telegram.add_fault(FaultRule(method="sendMessage", error_code=403, description=BLOCKED))
    api.drain("delivery", "deliver_orders")


def codes_redeemed_twice_and_deactivated(codes: Any) -> None:
    """api_handler: a code its user redeems again, and a deactivated code, are answered from the redemption
    already made (GetItem on the redemptions table)."""
    distributor, token = codes.create_distributor(name="Redeemed twice", telegram_user_id=None)
    first, second = codes.codes_of(token, codes.buy(token)["order_id"])[:2]
    for user_id, code in ((5111, first), (5111, first), (5112, second)):
        codes.redeem(user_id, code)
    codes.post(token, f"/distributors/me/codes/{second}/deactivate")
    codes.redeem(5112, second)
    codes.deliver()


def code_pack_whose_message_was_lost(api: Any, codes: Any, clock: Any) -> None:
    """repair_orders: a paid pack whose fulfilment message was lost is queued again on the fulfilment queue."""
    distributor, token = codes.create_distributor(name="Lost message", telegram_user_id=None)
    codes.buy(token, fulfil=False)
    api.aws["sqs"].purge_queue(QueueUrl=api.aws["queues"]["tgshop-test-fulfillment"])
    clock.advance(minutes=40)
    api.tick("repair_orders")
    codes.fulfil()


def code_packs_told_refused_and_failed(codes: Any, telegram: Any) -> None:
    """fulfill_code_orders: a distributor with a chat gets the codes as a document; a document Telegram refuses
    alerts the operators; a pack that lost its code terms fails and is refunded to the distributor's wallet."""
    from chalicelib.adapters.dynamodb.models import OrderItem
    from devstack.sandbox.state import FaultRule

    distributor, token = codes.create_distributor(name="With a chat", telegram_user_id=7101)
    codes.buy(token)
    telegram.add_fault(FaultRule(method="sendDocument", error_code=400, description="Bad Request: file is empty"))
    codes.buy(token)
    broken = codes.buy(token, fulfil=False)
    OrderItem(broken["order_id"]).update(actions=[OrderItem.code_max_uses.remove()])
    codes.fulfil()


def payouts_refused_then_expired(api: Any, clock: Any, node: Any) -> None:
    """drive_payouts: an automatic swap's payout sent but never landed expires; signed again, the node refuses
    it (the hot wallet has no TRX: noted, the operators alerted); expired again, it is signed, sent and lands."""
    from chalicelib.tron_config import LOCAL_SHOP_ADDRESS, LOCAL_SWAP_ADDRESS

    funds = node.account(LOCAL_SHOP_ADDRESS).balance_sun
    node.inject("drop")
    api.pay(amount="10", to=LOCAL_SWAP_ADDRESS)
    node.fund(LOCAL_SHOP_ADDRESS, balance_sun=0)
    clock.advance(minutes=10)
    api.tick("drive_payouts")
    node.fund(LOCAL_SHOP_ADDRESS, balance_sun=funds)
    clock.advance(minutes=10)
    api.tick("drive_payouts")


def payout_landed_first_by_another_sweep(api: Any, clock: Any, node: Any) -> None:
    """drive_payouts: two overlapping sweeps drive one automatic swap's payout; the slower one's landing write
    finds it landed already and reads the payout back (GetItem). The other sweep's write is made just before
    ours, in the same run, so the interleaving is the same every time."""
    from chalicelib.adapters.dynamodb.payouts import DynamoPayoutStore
    from chalicelib.tron_config import LOCAL_SWAP_ADDRESS

    node.inject("hold")
    api.pay(amount="10", to=LOCAL_SWAP_ADDRESS)
    node.mine()
    clock.advance(minutes=2)
    land = DynamoPayoutStore.land

    def landed_by_the_other_sweep_first(store: Any, *args: Any) -> bool:
        assert land(store, *args), "the other sweep lands it"
        return land(store, *args)

    DynamoPayoutStore.land = landed_by_the_other_sweep_first
    try:
        api.tick("drive_payouts")
    finally:
        DynamoPayoutStore.land = land


def trx_payout_waiting_for_funds(api: Any, clock: Any, node: Any) -> None:
    """deliver_orders: a TRX exchange the hot wallet cannot pay waits for funds (operators alerted);
    repair_orders queues it again once a run is due, and the worker pays it out."""
    from chalicelib.tron_config import LOCAL_SHOP_ADDRESS
    from devstack.tron_node.local import BUYER_ADDRESSES

    funds = node.account(LOCAL_SHOP_ADDRESS).balance_sun
    node.fund(LOCAL_SHOP_ADDRESS, balance_sun=0)
    api.pay(json.loads(api.create_order(user_id=5106, product_id="trx_exchange", address=BUYER_ADDRESSES[0],
                                        trx_amount="20").body))
    api.drain("delivery", "deliver_orders")
    node.fund(LOCAL_SHOP_ADDRESS, balance_sun=funds)
    clock.advance(minutes=10)
    api.tick("repair_orders")
    api.drain("delivery", "deliver_orders")


def dead_letters_of_fulfilment(api: Any) -> None:
    api.aws["sqs"].send_message(QueueUrl=api.aws["queues"]["tgshop-test-fulfillment-dlq"], MessageBody="{}")
    api.tick("watch_dead_letters")


def books_that_disagree(api: Any, codes: Any, clock: Any) -> None:
    """reconcile_ledger: a wallet's balance item that disagrees with its lines is a difference, alerted."""
    from chalicelib.adapters.dynamodb.models import LedgerItem

    codes.container.wallets.adjust("user:5105", 1_000_000, "scenario", "scenario-drift")
    LedgerItem("acct#wallet:user:5105:USDT", "balance").update(actions=[LedgerItem.balance.add(1)])
    clock.advance(days=1)
    api.tick("reconcile_ledger")
