"""The TRON settings, parsed once per container from the environment, apart from the shop's other settings.

A deployed stage names its node (TRON_NODE_URL), its hot wallet (TRON_SHOP_ADDRESS) and the wallet's key,
best as TRON_PRIVATE_KEY_SSM_PARAMETER (a SecureString read on the first signature, never at import). The
local and test stages sign with a fixed key that guards nothing real and talk to the fake node of the
local stack (devstack/tron_node) unless told otherwise."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from chalicelib.domain.errors import ConfigurationError
from chalicelib.domain.tron import is_valid_tron_address, tron_address_from_account_bytes

# The local and test stages' hot wallet: a fixed key anyone may read, on a chain that exists only here.
LOCAL_PRIVATE_KEY = "5f1c0ffee0ddba11ca5ecafe0b0e5eed5f1c0ffee0ddba11ca5ecafe0b0e5eed"
LOCAL_SHOP_ADDRESS = tron_address_from_account_bytes(b"tgshop-local-hot-wl1")
LOCAL_NODE_URL = "http://127.0.0.1:8091"
LOCAL_SWAP_ADDRESS = tron_address_from_account_bytes(b"tgshop-local-swap-01")
UNDEPLOYED_STAGES = frozenset({"local", "test"})


class TronSettings(BaseModel):
    # Built when first read, not at import: the payment webhook imports this module for swap_address alone.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    stage: str = Field(alias="STAGE")
    node_url: str = Field(default=LOCAL_NODE_URL, alias="TRON_NODE_URL")
    shop_address: str = Field(default=LOCAL_SHOP_ADDRESS, alias="TRON_SHOP_ADDRESS")
    private_key: SecretStr | None = Field(default=None, alias="TRON_PRIVATE_KEY")
    private_key_parameter: str | None = Field(default=None, alias="TRON_PRIVATE_KEY_SSM_PARAMETER")
    api_key: SecretStr | None = Field(default=None, alias="TRON_API_KEY")
    timeout_seconds: float = Field(default=10.0, alias="TRON_TIMEOUT_SECONDS", gt=0, le=30)
    # How long a signed payout may wait to land; a new one is signed only after the chain passed this.
    lifetime_seconds: int = Field(default=300, alias="TRON_TX_LIFETIME_SECONDS", ge=60, le=3600)

    @field_validator("shop_address")
    @classmethod
    def _valid_address(cls, value: str) -> str:
        if not is_valid_tron_address(value):
            raise ValueError(f"{value!r} is not a valid TRON base58check address")
        return value

    @property
    def deployed(self) -> bool:
        return self.stage not in UNDEPLOYED_STAGES

    def check(self) -> None:
        """A deployed stage must name everything: a default here is only right for the local chain."""
        if not self.deployed:
            return
        missing = [name for name, given in (("TRON_NODE_URL", self.node_url != LOCAL_NODE_URL),
                                            ("TRON_SHOP_ADDRESS", self.shop_address != LOCAL_SHOP_ADDRESS),
                                            ("TRON_PRIVATE_KEY_SSM_PARAMETER",
                                             bool(self.private_key or self.private_key_parameter))) if not given]
        if missing:
            raise ConfigurationError("invalid configuration: " + "; ".join(f"{name} is missing" for name in missing))

    def key_reader(self, read_parameter: Callable[[str], str]) -> Callable[[], str]:
        """Where the key comes from: the environment, SSM, or (undeployed) the fixed local key."""
        def read() -> str:
            if self.private_key is not None:
                return self.private_key.get_secret_value()
            if self.private_key_parameter:
                return read_parameter(self.private_key_parameter)
            return LOCAL_PRIVATE_KEY
        return read


def load_tron_settings(environ: Mapping[str, str]) -> TronSettings:
    try:
        settings = TronSettings.model_validate(dict(environ))
    except ValidationError as error:
        problems = [f"{issue['loc'][0] if issue['loc'] else '?'} is malformed: {issue['msg']}"
                    for issue in error.errors()]
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
    settings.check()
    return settings


def swap_address(environ: Mapping[str, str], stage: str) -> str | None:
    """The automatic exchange address (TRON_SWAP_ADDRESS), read apart from the rest so that the payment
    webhook of a stage that sells nothing on TRON never needs the TRON settings; the local and test stages
    have a fixed one."""
    configured = environ.get("TRON_SWAP_ADDRESS")
    if configured:
        if not is_valid_tron_address(configured):
            raise ConfigurationError("invalid configuration: TRON_SWAP_ADDRESS is not a valid TRON address")
        return configured
    return None if stage not in UNDEPLOYED_STAGES else LOCAL_SWAP_ADDRESS
