"""CloudWatch alarms published to the alarm topic reach the operators' chat, once per cooldown per alarm
state, with the runbook named."""
from __future__ import annotations

import json

from chalicelib.domain.alarms import alarm_alert

ALARM = {"AlarmName": "tgshop-prod-UnmatchedPaymentsAlarm", "NewStateValue": "ALARM",
         "AlarmDescription": "A transfer fits no order and waits for an operator.",
         "NewStateReason": "Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.0).",
         "StateChangeTime": "2026-11-25T12:00:00.000+0000"}


def publish(api, message: str):
    event = api.client.events.generate_sns_event(message=message, subject="ALARM")
    return api.client.lambda_.invoke("forward_alarms", event)


def test_an_alarm_reaches_the_admin_chat_once_per_cooldown_and_its_recovery_too(api, calls, clock):
    publish(api, json.dumps(ALARM))
    publish(api, json.dumps(ALARM))
    sent = calls("sendMessage")
    assert len(sent) == 1 and sent[0]["params"]["chat_id"] == 999
    text = sent[0]["params"]["text"]
    assert "ALARM: tgshop-prod-UnmatchedPaymentsAlarm" in text and "fits no order" in text
    assert "Threshold Crossed" in text and "docs/operations.md#alarms" in text

    publish(api, json.dumps({**ALARM, "NewStateValue": "OK", "NewStateReason": "back to normal"}))
    assert "resolved: tgshop-prod-UnmatchedPaymentsAlarm" in calls("sendMessage")[-1]["params"]["text"]
    clock.advance(minutes=11)
    publish(api, json.dumps(ALARM))
    assert len(calls("sendMessage")) == 3


def test_anything_else_on_the_topic_is_passed_on_not_dropped():
    assert alarm_alert("hello from the console") == ("alarm-topic:other", "Alarm topic: hello from the console")
    assert alarm_alert(json.dumps([1, 2]))[0] == "alarm-topic:other"
    key, text = alarm_alert(json.dumps({"AlarmName": "X", "NewStateValue": "INSUFFICIENT_DATA"}))
    assert key == "alarm:X:INSUFFICIENT_DATA" and text == "no data: X"
