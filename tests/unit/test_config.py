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


def without(environ: dict, *names: str) -> dict:
    return {key: value for key, value in environ.items() if key not in names}


@pytest.mark.parametrize("stage", ["dev", "prod", "staging"])
def test_a_deployed_stage_without_an_admin_chat_stops_start_up_naming_it(stage):
    # Given a deployed stage whose ADMIN_CHAT_ID was never set (every operator alert would be dropped)
    environ = {**without(TEST_ENV, "ADMIN_CHAT_ID"), "STAGE": stage}
    # When the settings are read, Then start-up stops and names the variable
    with pytest.raises(ConfigurationError) as stopped:
        load_settings(environ)
    assert "ADMIN_CHAT_ID is missing" in str(stopped.value)
    assert load_settings({**environ, "ADMIN_CHAT_ID": "-1001234"}).admin_chat_id == -1001234


@pytest.mark.parametrize("stage", ["local", "test"])
def test_local_and_test_stages_may_leave_the_admin_chat_unset(stage):
    environ = {**without(TEST_ENV, "ADMIN_CHAT_ID"), "STAGE": stage, "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}
    assert load_settings(environ).admin_chat_id is None


def test_the_local_stage_reads_the_emulator_url_from_the_file_the_running_stack_writes(tmp_path):
    endpoint = tmp_path / "aws-endpoint-url"
    endpoint.write_text("http://127.0.0.1:15000\n")
    local = {**TEST_ENV, "STAGE": "local", "AWS_ENDPOINT_URL_FILE": str(endpoint)}
    assert load_settings(local).aws_endpoint_url == "http://127.0.0.1:15000"
    # An exported AWS_ENDPOINT_URL takes precedence over the file
    exported = {**local, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    assert load_settings(exported).aws_endpoint_url == "http://127.0.0.1:4566"


def test_the_local_stage_without_an_emulator_stops_naming_the_endpoint(tmp_path):
    # Given no emulator running (no file) and nothing exported: the local stage must not reach real AWS
    environ = {**TEST_ENV, "STAGE": "local", "AWS_ENDPOINT_URL_FILE": str(tmp_path / "absent")}
    with pytest.raises(ConfigurationError) as stopped:
        load_settings(environ)
    assert "AWS_ENDPOINT_URL is missing" in str(stopped.value)


def test_gifts_are_dry_run_only_where_no_real_buyer_pays():
    assert load_settings(TEST_ENV).gifts_dry_run is False
    assert load_settings({**TEST_ENV, "GIFTS_DRY_RUN": "true"}).gifts_dry_run is True
    with pytest.raises(ConfigurationError) as stopped:
        load_settings({**TEST_ENV, "STAGE": "prod", "GIFTS_DRY_RUN": "true"})
    assert "GIFTS_DRY_RUN is refused" in str(stopped.value)


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


def test_a_function_not_given_an_api_secret_starts_and_asking_for_it_names_the_variable():
    # Given a worker's environment: its role may read the bot token, not the API's secrets
    environ = without(TEST_ENV, "TELEGRAM_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET", "ADMIN_API_KEY",
                      "CODE_SECRET_KEY")
    settings = load_settings({**environ, "STAGE": "prod"})
    assert settings.telegram_bot_token.get_secret_value() == TEST_ENV["TELEGRAM_BOT_TOKEN"]
    for name, variable in [("admin_api_key", "ADMIN_API_KEY"),
                           ("payment_webhook_secrets", "PAYMENT_WEBHOOK_SECRET"),
                           ("telegram_webhook_secret", "TELEGRAM_WEBHOOK_SECRET"),
                           ("code_secret_key", "CODE_SECRET_KEY")]:
        with pytest.raises(ConfigurationError, match=f"{variable} is not given to this function"):
            settings.granted(name)
    assert load_settings(TEST_ENV).granted("admin_api_key").get_secret_value() == TEST_ENV["ADMIN_API_KEY"]


def test_a_payment_webhook_secret_given_empty_still_stops_start_up():
    with pytest.raises(ConfigurationError, match="PAYMENT_WEBHOOK_SECRET is malformed"):
        load_settings({**TEST_ENV, "PAYMENT_WEBHOOK_SECRET": " , "})
