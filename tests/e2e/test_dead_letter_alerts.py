"""A message in a dead-letter queue reaches the operators' chat, once per cooldown."""
from __future__ import annotations

import json


def test_a_dead_letter_is_reported_to_the_admin_chat(api, aws, calls, clock):
    quiet = api.tick("watch_dead_letters")
    assert quiet == {"delivery-dlq": 0, "fulfillment-dlq": 0}
    assert calls("sendMessage") == []

    aws["sqs"].send_message(QueueUrl=aws["queues"]["tgshop-test-delivery-dlq"],
                            MessageBody=json.dumps({"order_id": "X"}))
    for _ in range(2):
        api.tick("watch_dead_letters")
    alerts = calls("sendMessage")
    assert len(alerts) == 1
    assert alerts[0]["params"]["chat_id"] == 999 and "delivery-dlq" in alerts[0]["params"]["text"]
    clock.advance(minutes=11)
    api.tick("watch_dead_letters")
    assert len(calls("sendMessage")) == 2
