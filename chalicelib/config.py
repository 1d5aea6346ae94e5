"""Settings, parsed once per container from the environment into one pydantic model.

Deployed stages keep secrets out of the repo: each of SSM_SETTINGS `X` may instead be given as
`X_SSM_PARAMETER`, the name of an SSM (SecureString) parameter read once through Powertools parameters.
Each of FILE_SETTINGS `X` may be given as `X_FILE`, a file holding the value (relative paths are the
project's): the local stage reads the emulator's URL from the file the running local stack writes, so no
port is pinned in .chalice/config.json. A value in the environment itself always wins.
"""
from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from pydantic import (BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator,
                      model_validator)
from pydantic_core import PydanticCustomError

from chalicelib.domain.errors import ConfigurationError
from chalicelib.domain.money import MICROS_PER_UNIT
from chalicelib.domain.tron import is_valid_tron_address

# Settings that deployed stages may read from SSM (`<NAME>_SSM_PARAMETER`) instead of the environment.
SSM_SETTINGS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "PAYMENT_WEBHOOK_SECRET", "ADMIN_API_KEY",
                "CODE_SECRET_KEY", "PAYMENT_ADDRESSES")

# Settings that may be read from a file named by `<NAME>_FILE`.
FILE_SETTINGS = ("AWS_ENDPOINT_URL",)
PROJECT_DIR = Path(__file__).resolve().parent.parent

DEFAULT_USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
# Stages that never face real buyers. Every other stage name counts as deployed, so a new one is strict.
UNDEPLOYED_STAGES = frozenset({"local", "test"})


def is_deployed(stage: object) -> bool:
    return isinstance(stage, str) and stage not in UNDEPLOYED_STAGES


def _required_in_stage(reason: str) -> PydanticCustomError:
    return PydanticCustomError("required_in_stage", reason)


def _refused_in_stage(reason: str) -> PydanticCustomError:
    return PydanticCustomError("refused_in_stage", reason)


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: str = Field(alias="STAGE")
    version: str = Field(default="0.1.0", alias="APP_VERSION")
    resource_prefix: str = Field(alias="RESOURCE_PREFIX", min_length=1)
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(default=None, alias="AWS_ENDPOINT_URL", validate_default=True)
    metrics_namespace: str = Field(default="tgshop", alias="POWERTOOLS_METRICS_NAMESPACE")

    telegram_bot_token: SecretStr = Field(alias="TELEGRAM_BOT_TOKEN")
    # Given only to the functions that use them (infra/resources.yaml): read through `granted`.
    telegram_webhook_secret: SecretStr | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
    payment_webhook_secrets: tuple[SecretStr, ...] = Field(default=(), alias="PAYMENT_WEBHOOK_SECRET")
    admin_api_key: SecretStr | None = Field(default=None, alias="ADMIN_API_KEY")
    code_secret_key: SecretStr | None = Field(default=None, alias="CODE_SECRET_KEY")
    telegram_api_base_url: str = Field(default="https://api.telegram.org", alias="TELEGRAM_API_BASE_URL")
    # Required in deployed stages: operator alerts (reviews, failed gifts, low Stars, dead letters) go there.
    admin_chat_id: int | None = Field(default=None, alias="ADMIN_CHAT_ID", validate_default=True)
    # Local real-bot mode only: gifts are logged and answered as sent, none is bought (adapters/telegram_dry_run.py).
    gifts_dry_run: bool = Field(default=False, alias="GIFTS_DRY_RUN")

    payment_addresses: tuple[str, ...] = Field(alias="PAYMENT_ADDRESSES", min_length=1)
    usdt_contract: str = Field(default=DEFAULT_USDT_CONTRACT, alias="USDT_CONTRACT")
    # The unique amount: a suffix step of 0.001 (3) or 0.0001 (4) USDT, never adding more than the cap.
    amount_suffix_decimals: int = Field(default=3, ge=3, le=4, alias="AMOUNT_SUFFIX_DECIMALS")
    amount_surcharge_cap: Decimal = Field(default=Decimal("0.1"), gt=0, lt=1, alias="AMOUNT_SURCHARGE_CAP")
    unconfirmed_review_minutes: int = Field(default=30, ge=1, alias="UNCONFIRMED_REVIEW_MINUTES")
    order_expiry_minutes: int = Field(default=30, ge=1, alias="ORDER_EXPIRY_MINUTES")
    monitoring_window_minutes: int = Field(default=60, ge=0, alias="MONITORING_WINDOW_MINUTES")
    max_pending_orders: int = Field(default=3, ge=1, alias="MAX_PENDING_ORDERS")
    init_data_max_age_seconds: int = Field(default=86400, ge=1, alias="INIT_DATA_MAX_AGE_SECONDS")
    signature_tolerance_seconds: int = Field(default=300, ge=1, alias="SIGNATURE_TOLERANCE_SECONDS")
    paid_stuck_minutes: int = Field(default=5, ge=1, alias="PAID_STUCK_MINUTES")
    delivering_stuck_minutes: int = Field(default=15, ge=1, alias="DELIVERING_STUCK_MINUTES")
    alert_cooldown_minutes: int = Field(default=10, ge=1, alias="ALERT_COOLDOWN_MINUTES")
    telegram_timeout_seconds: float = Field(default=10.0, gt=0, alias="TELEGRAM_TIMEOUT_SECONDS")
    telegram_retry_budget_seconds: float = Field(default=20.0, gt=0, alias="TELEGRAM_RETRY_BUDGET_SECONDS")
    bot_flood_burst: int = Field(default=8, ge=1, alias="BOT_FLOOD_BURST")
    bot_flood_per_minute: int = Field(default=30, ge=1, alias="BOT_FLOOD_PER_MINUTE")
    # Redeem codes (issue 4): one chunk of codes per fulfillment message; failed-redemption token buckets.
    code_chunk_size: int = Field(default=5000, ge=1, le=50_000, alias="CODE_CHUNK_SIZE")
    max_codes_per_order: int = Field(default=100_000, ge=1, le=1_000_000, alias="MAX_CODES_PER_ORDER")
    redeem_user_burst: int = Field(default=10, ge=1, alias="REDEEM_USER_BURST")
    redeem_user_refill_seconds: int = Field(default=60, ge=1, alias="REDEEM_USER_REFILL_SECONDS")
    redeem_ip_burst: int = Field(default=30, ge=1, alias="REDEEM_IP_BURST")
    redeem_ip_refill_seconds: int = Field(default=10, ge=1, alias="REDEEM_IP_REFILL_SECONDS")
    # The operator panel and the distributor portal (chalicelib/api/panel*.py, portal.py).
    panel_base_url: str | None = Field(default=None, alias="PANEL_BASE_URL")
    panel_session_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60, alias="PANEL_SESSION_MINUTES")
    sign_in_burst: int = Field(default=5, ge=1, alias="SIGN_IN_BURST")
    sign_in_refill_seconds: int = Field(default=60, ge=1, alias="SIGN_IN_REFILL_SECONDS")
    bot_username: str = Field(default="your_bot", pattern=r"^[A-Za-z0-9_]{3,64}$", alias="BOT_USERNAME")

    @field_validator("payment_webhook_secrets", "payment_addresses", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("payment_webhook_secrets")
    @classmethod
    def _at_least_one_secret(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        if not value:
            raise ValueError("at least one secret is required")
        return value

    @field_validator("payment_addresses")
    @classmethod
    def _valid_tron_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if not is_valid_tron_address(address):
                raise ValueError(f"{address!r} is not a valid TRON base58check address")
        if len(set(value)) != len(value):
            raise ValueError("addresses must be distinct")
        return value

    @field_validator("aws_endpoint_url")
    @classmethod
    def _emulator_for_the_local_stage(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value and info.data.get("stage") == "local":
            raise _required_in_stage("the local stage talks only to the emulator: start it (`make aws` or "
                                     "`make run` write its URL to AWS_ENDPOINT_URL_FILE) or export it")
        return value or None

    @field_validator("admin_chat_id")
    @classmethod
    def _admin_chat_when_deployed(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and is_deployed(info.data.get("stage")):
            raise _required_in_stage("deployed stages send operator alerts to this chat")
        return value

    @field_validator("gifts_dry_run")
    @classmethod
    def _real_gifts_when_deployed(cls, value: bool, info: ValidationInfo) -> bool:
        if value and is_deployed(info.data.get("stage")):
            raise _refused_in_stage("a deployed stage gifts for real (a dry run completes paid orders with no gift)")
        return value

    @field_validator("usdt_contract")
    @classmethod
    def _valid_contract(cls, value: str) -> str:
        if not is_valid_tron_address(value):
            raise ValueError(f"{value!r} is not a valid TRON base58check address")
        return value

    @model_validator(mode="after")
    def _cap_on_the_step(self) -> Settings:
        if self.surcharge_cap_micros % self.suffix_step_micros or \
                self.amount_surcharge_cap * MICROS_PER_UNIT != self.surcharge_cap_micros:
            raise ValueError(f"AMOUNT_SURCHARGE_CAP must be a multiple of the suffix step "
                             f"{Decimal(self.suffix_step_micros) / MICROS_PER_UNIT} USDT")
        return self

    @property
    def suffix_step_micros(self) -> int:
        return MICROS_PER_UNIT // 10 ** self.amount_suffix_decimals

    @property
    def surcharge_cap_micros(self) -> int:
        return int(self.amount_surcharge_cap * MICROS_PER_UNIT)

    def secret_values(self) -> list[str]:
        """Every secret, for the log masking filter."""
        values = [self.telegram_bot_token, self.telegram_webhook_secret, self.admin_api_key,
                  self.code_secret_key, *self.payment_webhook_secrets]
        return [secret.get_secret_value() for secret in values if secret is not None and secret.get_secret_value()]

    def granted(self, name: str) -> Any:
        """A secret that only some functions are given (each function's role reads only its own): a function
        that asks for one it was not given is misconfigured, and this names the variable."""
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"{type(self).model_fields[name].alias} is not given to this function")
        return value


def _resolve_ssm_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    resolved = dict(environ)
    wanted = {name: environ[f"{name}_SSM_PARAMETER"] for name in SSM_SETTINGS
              if not environ.get(name) and environ.get(f"{name}_SSM_PARAMETER")}
    if wanted:
        from aws_lambda_powertools.utilities import parameters

        for name, parameter_name in wanted.items():
            resolved[name] = parameters.get_parameter(parameter_name, decrypt=True)
    return resolved


def _resolve_files(environ: Mapping[str, str]) -> dict[str, str]:
    resolved = dict(environ)
    for name in FILE_SETTINGS:
        if environ.get(name) or not environ.get(f"{name}_FILE"):
            continue
        path = Path(environ[f"{name}_FILE"])
        try:
            resolved[name] = (path if path.is_absolute() else PROJECT_DIR / path).read_text().strip()
        except FileNotFoundError:
            pass  # as if unset: a required setting is then named as missing
    return resolved


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    try:
        return Settings.model_validate(_resolve_ssm_secrets(_resolve_files(environ)))
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            name = str(issue["loc"][0]) if issue["loc"] else "?"
            field = Settings.model_fields.get(name)  # a defaulted value is reported by field name
            name = field.alias if field is not None and field.alias else name
            if issue["type"] == "missing":
                problems.append(f"{name} is missing")
            elif issue["type"] == "required_in_stage":
                problems.append(f"{name} is missing: {issue['msg']}")
            elif issue["type"] == "refused_in_stage":
                problems.append(f"{name} is refused: {issue['msg']}")
            else:
                problems.append(f"{name} is malformed: {issue['msg']}")
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
