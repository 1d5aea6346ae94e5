"""The alarm topic (infra/resources.yaml, AlarmTopic) to the operators' chat: every CloudWatch alarm that
e-mail receives also reaches Telegram, through the same alert path (and cooldown) as the app's own alerts."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.observability import logger

alarms = Blueprint(__name__)

# The deployed topic is the stack's; the merge template points this subscription at it.
ALARM_TOPIC = "tgshop-alarms"


@alarms.on_sns_message(topic=ALARM_TOPIC, name="forward_alarms")
def forward_alarms(event):
    from chalicelib.container import get_container
    from chalicelib.domain.alarms import alarm_alert

    key, text = alarm_alert(event.message)
    logger.info("alarm forwarded", extra={"alert": key})
    get_container().notices.alert(key, text)
