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


@pytest.mark.parametrize("env,named", [
    ({"AMOUNT_SUFFIX_DECIMALS": "2"}, "AMOUNT_SUFFIX_DECIMALS"),
    ({"AMOUNT_SUFFIX_DECIMALS": "5"}, "AMOUNT_SUFFIX_DECIMALS"),
    ({"AMOUNT_SURCHARGE_CAP": "0.0015"}, "AMOUNT_SURCHARGE_CAP"),
    ({"AMOUNT_SURCHARGE_CAP": "1"}, "AMOUNT_SURCHARGE_CAP"),
    ({"AMOUNT_SURCHARGE_CAP": "0"}, "AMOUNT_SURCHARGE_CAP"),
    ({"AMOUNT_SURCHARGE_CAP": "abc"}, "AMOUNT_SURCHARGE_CAP"),
    ({"AMOUNT_SUFFIX_DECIMALS": "3", "AMOUNT_SURCHARGE_CAP": "0.0005"}, "AMOUNT_SURCHARGE_CAP"),
])
def test_a_suffix_step_or_surcharge_cap_that_cannot_work_stops_start_up(env, named):
    with pytest.raises(ConfigurationError) as stopped:
        load_settings({**TEST_ENV, **env})
    assert named in str(stopped.value)


def test_the_suffix_step_and_surcharge_cap():
    default = load_settings(TEST_ENV)
    assert (default.suffix_step_micros, default.surcharge_cap_micros) == (1_000, 100_000)
    fine = load_settings({**TEST_ENV, "AMOUNT_SUFFIX_DECIMALS": "4", "AMOUNT_SURCHARGE_CAP": "0.0125"})
    assert (fine.suffix_step_micros, fine.surcharge_cap_micros) == (100, 12_500)
