"""The real local stack (`python -m devstack run`) as a person runs it: separate processes, real sockets,
free non-default ports. A Premium order goes from creation to a delivered gift over HTTP, and Ctrl-C
stops every process the stack started."""
from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from tests.local_stack import PROJECT_DIR, START_TIMEOUT, LocalStack, group_alive

pytestmark = pytest.mark.smoke

LOCAL_BOT_TOKEN = "123456:LOCAL-TOKEN"
LOCAL_PAYMENT_SECRET = "local-payment-secret"
USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
STOP_TIMEOUT = 8.0


@pytest.fixture
def stack():
    started = LocalStack()
    yield started
    started.stop()


def test_local_stack_serves_the_premium_flow_and_stops_on_ctrl_c(stack):
    import httpx

    from chalicelib.domain.signatures import build_init_data, sign_payload

    http = httpx.Client(timeout=10.0)

    # Given the stack, started the way `make run` starts it, answering within the time the issue allows
    began = time.monotonic()
    answer = stack.wait_until(stack.healthy, START_TIMEOUT, "/health")
    assert answer.json()["checks"]["dynamodb"] == "ok"
    assert time.monotonic() - began < START_TIMEOUT
    assert http.get(f"{stack.sandbox}/").status_code == 200
    # the stack sets the storefront's menu button as `make set-webhook` does, and sends nothing else
    def menu_button_set():
        calls = http.get(f"{stack.sandbox}/_sandbox/calls").json()
        return calls or None

    calls = stack.wait_until(menu_button_set, START_TIMEOUT, "the menu button")
    assert [call["method"] for call in calls] == ["setChatMenuButton"]
    assert calls[0]["params"]["menu_button"]["web_app"]["url"].endswith("/store")

    # When a buyer orders Premium for a friend and pays the exact amount
    init_data = build_init_data(LOCAL_BOT_TOKEN, {"id": 1001, "first_name": "Smoke", "language_code": "en"},
                                int(time.time()))
    created = http.post(f"{stack.api}/orders", headers={"X-Telegram-Init-Data": init_data},
                        json={"product_id": "premium_3m", "recipient_user_id": 2002})
    assert created.status_code == 201, created.text
    order = created.json()
    raw = json.dumps({"transaction_id": secrets.token_hex(32),
                      "token_info": {"symbol": "USDT", "address": USDT_CONTRACT, "decimals": 6},
                      "block_timestamp": int(time.time() * 1000), "from": "TRti6rsth1hHz15vYyFhvfSmyGJZ1avj5p",
                      "to": order["pay_to"], "type": "Transfer",
                      "value": str(int(Decimal(order["amount"]) * 1_000_000)), "confirmed": True}).encode()
    paid = http.post(f"{stack.api}/webhooks/payments/trc20", content=raw,
                     headers={"Content-Type": "application/json",
                              "X-Signature": sign_payload(LOCAL_PAYMENT_SECRET, int(time.time()), raw)})
    assert paid.status_code == 200, paid.text
    assert paid.json()["results"][0]["outcome"] == "MATCHED"

    # Then the SQS worker delivers it: one gift through the sandbox, and the order is DELIVERED
    def delivered():
        view = http.get(f"{stack.api}/orders/{order['order_id']}", headers={"X-Telegram-Init-Data": init_data})
        return view.json() if view.json().get("status") == "DELIVERED" else None

    stack.wait_until(delivered, 20.0, "the order to be DELIVERED")
    gifts = http.get(f"{stack.sandbox}/_sandbox/calls", params={"method": "giftPremiumSubscription"}).json()
    assert len(gifts) == 1
    assert gifts[0]["params"]["user_id"] == 2002

    # And a scheduled job runs on demand against the same stack, from a shell that names no port
    tick = subprocess.run([sys.executable, "-m", "devstack", "tick", "expire_orders"], cwd=PROJECT_DIR,
                          env=stack.helper_env, capture_output=True, text=True, timeout=60)
    assert tick.returncode == 0, tick.stderr[-3000:]
    # And the payment helper prints a curl for the port the stack really listens on
    signed = subprocess.run([sys.executable, "-m", "devstack", "sign-payment", "1.5", order["pay_to"]],
                            cwd=PROJECT_DIR, env=stack.helper_env, capture_output=True, text=True, timeout=60)
    assert signed.returncode == 0, signed.stderr[-3000:]
    assert signed.stdout.startswith(f"curl -X POST {stack.api}/webhooks/payments/trc20 ")

    # When Ctrl-C reaches the runner, every process of the stack is gone within seconds
    stack.process.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    try:
        stack.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the runner did not stop within {STOP_TIMEOUT} s:\n{stack.log_tail()}")
    assert stack.process.returncode == 0, stack.log_tail()
    while group_alive(stack.process.pid) and time.monotonic() - stopped < STOP_TIMEOUT:
        time.sleep(0.1)
    assert not group_alive(stack.process.pid), "a child of the stack outlived Ctrl-C"
    http.close()
