"""CloudWatch alarms reach the operators' chat: the alarm topic's messages, turned into one alert each. The
runbook for every alarm is docs/operations.md; the alert says which alarm and why, so the operator knows
where to look before opening AWS."""
from __future__ import annotations

import json
from typing import Any

RUNBOOK = "docs/operations.md#alarms"
_STATE_WORDS = {"ALARM": "ALARM", "OK": "resolved", "INSUFFICIENT_DATA": "no data"}


def alarm_alert(message: str) -> tuple[str, str]:
    """(alert key, text) of one SNS message from CloudWatch. Anything else on the topic (a test message, a
    subscription note) is still passed on, as it came, rather than dropped."""
    try:
        alarm: Any = json.loads(message)
    except ValueError:
        alarm = None
    if not isinstance(alarm, dict) or "AlarmName" not in alarm:
        return "alarm-topic:other", f"Alarm topic: {message[:500]}"
    name = str(alarm["AlarmName"])
    state = str(alarm.get("NewStateValue", "ALARM"))
    description = str(alarm.get("AlarmDescription") or "").strip()
    reason = str(alarm.get("NewStateReason") or "").strip()
    text = f"{_STATE_WORDS.get(state, state)}: {name}"
    if description:
        text += f" — {description}"
    if reason and state == "ALARM":
        text += f"\n{reason[:400]}"
    if state == "ALARM":
        text += f"\nWhat to do: {RUNBOOK}"
    return f"alarm:{name}:{state}", text
