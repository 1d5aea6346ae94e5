"""The bodies the webhooks receive, for the OpenAPI document: the payment webhook validates each transfer with
the domain's own `Transfer` model (chalicelib/api/payments.py); a Telegram update is Telegram's object, of which
the bot reads only what it needs."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictInt

from chalicelib.api.payments import MAX_TRANSFERS_PER_CALL
from chalicelib.domain.payment_methods.trc20_transfers import Transfer


class TransferList(BaseModel):
    model_config = ConfigDict(extra="allow")

    data: list[Transfer] = Field(min_length=1, max_length=MAX_TRANSFERS_PER_CALL)


class TransferBatch(RootModel[TransferList | Transfer]):
    """One transfer, or `{"data": [transfers]}` (at most 100)."""


class TelegramUpdate(BaseModel):
    """https://core.telegram.org/bots/api#update"""

    model_config = ConfigDict(extra="allow")

    update_id: StrictInt = Field(ge=0, lt=2**53)
