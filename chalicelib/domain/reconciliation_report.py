"""What a reconciliation finds: the kinds of difference it reports and the stored report of a day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.shared import iso

DIFFERENCES_KEPT = 100               # a report counts all differences, keeps the first (an item holds 400 KB)


class Mismatch(StrEnum):
    """What a difference breaks; `expected` and `actual` are amounts in micros unless the rule says otherwise."""

    ENTRY_UNBALANCED = "entry_unbalanced"            # an entry's lines sum to `actual`, not zero
    ENTRY_CURRENCY = "entry_currency"                # a line's account is in another currency than its entry
    CURRENCY_UNBALANCED = "currency_unbalanced"      # a currency's movements of the day sum to `actual`
    ACCOUNT_LINE = "account_line"                    # the account's line of an entry is not the entry's line
    BALANCE = "balance"                              # live balance is not the closing plus the later lines
    CLEARING = "clearing"                            # an address took in other than its clearing account moved
    PAYMENT_WITHOUT_ENTRY = "payment_without_entry"  # a booked payment of the day has no entry that day
    PAYMENT_AMOUNT = "payment_amount"                # its entry takes another amount from the address's clearing
    PAYMENT_NOT_SETTLING = "payment_not_settling"    # a paying transfer's entry pays another order (ids)
    ENTRY_WITHOUT_PAYMENT = "entry_without_payment"  # an entry of a transfer has no booked payment that day
    ORDER_MISSING = "order_missing"                  # an entry names no order, or one that does not exist
    ORDER_STATUS = "order_status"                    # a paid order is not paid or later (statuses)
    ORDER_PAID_AMOUNT = "order_paid_amount"          # the order's paid_micros is not what its entry moved
    ORDER_SETTLED_TWICE = "order_settled_twice"      # more than one settling entry (counts)
    ORDER_SETTLEMENT = "order_settlement"            # the entry is not the one the order names (entry ids)
    REFUND_STATUS = "refund_status"                  # a refunded order is not FAILED (statuses)
    REFUND_AMOUNT = "refund_amount"                  # a refund is not what the order was paid, up to its price
    FAILED_WITHOUT_REFUND = "failed_without_refund"  # an order paid that day has FAILED and has no refund
    PAYOUT_WITHOUT_ENTRY = "payout_without_entry"    # a payout that landed that day lacks its entry (moved)
    PAYOUT_FEE_WITHOUT_ENTRY = "payout_fee_without_entry"  # one that burned TRX lacks its fee's entry (moved)
    PAYOUT_ACCOUNT = "payout_account"                # its entry books other accounts than the payout (accounts)
    PAYOUT_AMOUNT = "payout_amount"                  # its entry books other amounts (lines: account -> amount)
    ENTRY_WITHOUT_PAYOUT = "entry_without_payout"    # a payout entry of the day no payout settled that day books


@dataclass(frozen=True)
class Difference:
    kind: Mismatch
    expected: Any
    actual: Any
    account: str | None = None
    currency: str | None = None
    order_id: str | None = None
    entry_id: str | None = None
    transaction_id: str | None = None
    payout_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        about = {"account": self.account, "currency": self.currency, "order_id": self.order_id,
                 "entry_id": self.entry_id, "transaction_id": self.transaction_id, "payout_id": self.payout_id}
        return {"kind": self.kind.value, **{name: value for name, value in about.items() if value is not None},
                "expected": self.expected, "actual": self.actual}

    def summary(self) -> str:
        subject = self.account or self.payout_id or self.order_id or self.transaction_id or self.entry_id \
            or self.currency
        return f"{self.kind.value} {subject}: expected {self.expected}, found {self.actual}"


@dataclass
class Report:
    day: date
    generated_at: datetime
    until: datetime                    # what was posted before this moment was checked
    complete: bool                     # the day had ended: its closings are saved
    counts: dict[str, int]
    totals: dict[str, dict[str, int]]  # per currency
    differences: list[Difference]
    unsettled_accounts: list[str]      # written to throughout the balance check: checked again next run

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "generated_at": iso(self.generated_at), "until": iso(self.until),
                "complete": self.complete, "ok": self.ok, "counts": self.counts, "totals": self.totals,
                "differences_total": len(self.differences),
                "differences": [difference.as_dict() for difference in self.differences[:DIFFERENCES_KEPT]],
                "unsettled_accounts": self.unsettled_accounts[:DIFFERENCES_KEPT]}
