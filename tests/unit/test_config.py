import pytest

from chalicelib.config import load_settings
from chalicelib.domain.errors import ConfigurationError
from tests.support import TEST_ENV


def test_settings_parse_lists_and_defaults():
    settings = load_settings({**TEST_ENV, "PAYMENT_WEBHOOK_SECRET": "a, b"})
    assert [s.get_secret_value() for s in settings.payment_webhook_secrets] == ["a", "b"]
    assert settings.order_expiry_minutes == 30 and settings.monitoring_window_minutes == 60


@pytest.mark.parametrize("change,named", [
    ({"TELEGRAM_BOT_TOKEN": None}, "TELEGRAM_BOT_TOKEN is missing"),
    ({"PAYMENT_ADDRESSES": "TNotAnAddress"}, "PAYMENT_ADDRESSES is malformed"),
    ({"ORDER_EXPIRY_MINUTES": "soon"}, "ORDER_EXPIRY_MINUTES is malformed"),
])
def test_a_bad_setting_stops_start_up_naming_it(change, named):
    environ = {**TEST_ENV, **{k: v for k, v in change.items() if v is not None}}
    for key, value in change.items():
        if value is None:
            environ.pop(key)
    with pytest.raises(ConfigurationError) as stopped:
        load_settings(environ)
    assert named in str(stopped.value)
