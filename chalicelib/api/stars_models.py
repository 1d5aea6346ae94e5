"""Typed answers of the Stars routes (imported where used: pydantic is not loaded when app.py is)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.responses import Answer, Offer


class StoreOffer(Offer):
    star_price: str | None = Field(default=None, description="whole Stars; absent: not payable in Stars")


class StoreCatalog(Answer):
    products: list[StoreOffer]


class StarsInvoiceAnswer(Answer):
    order_id: str
    invoice_link: str = Field(description="https://t.me/$... for Telegram.WebApp.openInvoice")


class StarInventoryView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = "XTR"
    balance: int = Field(description="Stars the bot holds now (Telegram's getMyStarBalance)")
    received: int = Field(description="every Star buyers paid, from the ledger")
    sent_back: int = Field(description="Stars refunded to buyers, from the ledger")
    spent_on_gifts: int = Field(description="Stars Premium gifts cost, from Telegram's Star history")
    gifts: int
    refunded_by_telegram: int = Field(description="Stars Telegram's history shows sent back to buyers")
    refunds_unsent: int | None = Field(description="refunds the books hold that Telegram never sent; "
                                                   "null when the history was not read to its end")
    history_complete: bool = Field(description="false when the history is longer than the report reads")
    low_threshold: int
    low: bool
